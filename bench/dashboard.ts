import OpenAI, { toFile } from 'openai';
import {
  type ChildServer,
  type Headline,
  median,
  ms,
  percentile,
  postGraphQL,
  type ScenarioResult,
  startEmulatorProcess,
  startGatewayProcess,
} from './support.ts';

const API_KEY = 'bench-key';
const STORES = 20;
const FILES_PER_STORE = 10;

/** The read-side issue's dashboard: 20 stores x 10 files x their file details. */
const DASHBOARD = `query Dashboard {
  vectorStores(first: 20) {
    edges { node { id name fileCounts { total } files(first: 10) { edges { node { id status file { filename bytes } } } } } }
  }
}`;

type Mode = 'on' | 'off';

/**
 * The dashboard through two gateways over one emulator, one with the loaders and one with the
 * naive resolvers, at each of `latenciesMs` of added upstream latency.
 */
export async function dashboardScenario(options: {
  quick: boolean;
  latenciesMs: number[];
}): Promise<ScenarioResult> {
  const runs = options.quick ? 3 : 15;
  const emulator = await startEmulatorProcess({ apiKey: API_KEY });
  const upstream = { baseURL: emulator.baseURL, apiKey: API_KEY };
  const gateways: Record<Mode, ChildServer> = {
    on: await startGatewayProcess({
      name: 'dashboard-loaders-on',
      upstream,
      entry: 'bench/dashboard-gateway.ts',
      env: { BENCH_LOADERS: 'on' },
    }),
    off: await startGatewayProcess({
      name: 'dashboard-loaders-off',
      upstream,
      entry: 'bench/dashboard-gateway.ts',
      env: { BENCH_LOADERS: 'off' },
    }),
  };
  const rows: string[][] = [];
  const headlines: Headline[] = [];
  try {
    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    for (let store = 0; store < STORES; store++) {
      const { id } = await openai.vectorStores.create({ name: `store-${store}` });
      const fileIds: string[] = [];
      for (let file = 0; file < FILES_PER_STORE; file++) {
        const upload = await toFile(Buffer.from(`store ${store} file ${file}`), `s${store}-f${file}.txt`);
        fileIds.push((await openai.files.create({ file: upload, purpose: 'assistants' })).id);
      }
      await openai.vectorStores.fileBatches.create(id, { file_ids: fileIds });
    }

    const query = async (mode: Mode): Promise<{ calls: number; ms: number }> => {
      const before = await emulator.requestCount();
      const started = performance.now();
      const result = await postGraphQL(gateways[mode].url, DASHBOARD);
      const elapsed = performance.now() - started;
      if (result.errors) throw new Error(`dashboard query failed: ${JSON.stringify(result.errors)}`);
      return { calls: (await emulator.requestCount()) - before, ms: elapsed };
    };

    for (const latencyMs of options.latenciesMs) {
      await emulator.setFaults(latencyMs > 0 ? { latencyMs } : {});
      // Two unmeasured queries each warm modules, JIT and connection pools.
      for (const mode of ['on', 'off'] as const) for (let i = 0; i < 2; i++) await query(mode);
      const measured: Record<Mode, { calls: number[]; times: number[] }> = {
        on: { calls: [], times: [] },
        off: { calls: [], times: [] },
      };
      // Interleaved, so drift on a noisy machine hits both alike.
      for (let run = 0; run < runs; run++) {
        for (const mode of ['on', 'off'] as const) {
          const { calls, ms: elapsed } = await query(mode);
          measured[mode].calls.push(calls);
          measured[mode].times.push(elapsed);
        }
      }
      const calls = { on: median(measured.on.calls), off: median(measured.off.calls) };
      const spread = (mode: Mode) =>
        Math.min(...measured[mode].calls) === Math.max(...measured[mode].calls)
          ? String(calls[mode])
          : `${calls[mode]} (${Math.min(...measured[mode].calls)}-${Math.max(...measured[mode].calls)})`;
      const p50 = { on: percentile(measured.on.times, 50), off: percentile(measured.off.times, 50) };
      rows.push([
        `+${latencyMs} ms`,
        spread('on'),
        spread('off'),
        `${(calls.off / calls.on).toFixed(1)}x`,
        ms(p50.on),
        ms(p50.off),
        `${(p50.off / p50.on).toFixed(2)}x`,
      ]);
      headlines.push({
        measure: `Dashboard: upstream calls per query, loaders on vs off (+${latencyMs} ms upstream)`,
        value: `${calls.on} vs ${calls.off}; p50 ${ms(p50.on)} vs ${ms(p50.off)}`,
      });
      console.log(`  dashboard +${latencyMs} ms: ${JSON.stringify(rows.at(-1))}`);
    }
  } finally {
    await Promise.all([gateways.on.close(), gateways.off.close()]);
    await emulator.close();
  }
  return {
    scenario: 'Dashboard: loaders on and off',
    setup: [
      `The dashboard query of the read-side issue (README: ${STORES} stores, ${FILES_PER_STORE} files each, with their names and sizes), sent one at a time (no concurrency) with \`fetch\` from the bench process.`,
      `Two gateways in their own processes (bench/dashboard-gateway.ts, built as src/server.ts builds the gateway, info logs) over one emulator process holding ${STORES} stores of ${FILES_PER_STORE} files: one with the loaders, one with the naive resolvers (one upstream call per lookup, no cache).`,
      `Per latency: 2 unmeasured queries per gateway, then ${runs} measured queries per gateway, interleaved on/off. The emulator adds the latency to every /v1 call.`,
      '**upstream calls**: the emulator request counter (`GET /__emulator/stats`, not itself counted) before and after each query; the median over the runs (the range if they differ).',
      '**p50 wall time**: from sending the request to the parsed answer, median over the runs.',
    ],
    table: {
      columns: [
        'upstream latency',
        'calls, loaders on',
        'calls, loaders off',
        'calls off/on',
        'p50, loaders on',
        'p50, loaders off',
        'p50 off/on',
      ],
      rows,
    },
    headlines,
  };
}
