import OpenAI, { toFile } from 'openai';
import { createEmulator } from '../src/emulator/index.ts';
import { listenGateway, percentile, postGraphQL, type ScenarioResult } from './support.ts';

const DASHBOARD = `{
  vectorStores(first: 20) {
    edges { node { id name fileCounts { total } files(first: 10) { edges { node { id status file { filename bytes } } } } } }
  }
}`;

/**
 * The read-side issue's dashboard (20 stores x 10 files x file details) against an emulator with
 * added upstream latency, through one gateway with the loaders and one with naive resolvers.
 */
export async function dashboardScenario(options: {
  latencyMs: number;
  runs: number;
}): Promise<ScenarioResult> {
  const emulator = createEmulator();
  const { baseURL } = await emulator.listen();
  const openai = new OpenAI({ apiKey: 'bench', baseURL });
  for (let store = 0; store < 20; store++) {
    const { id } = await openai.vectorStores.create({ name: `store-${store}` });
    const fileIds: string[] = [];
    for (let file = 0; file < 10; file++) {
      const upload = await toFile(Buffer.from(`store ${store} file ${file}`), `s${store}-f${file}.txt`);
      fileIds.push((await openai.files.create({ file: upload, purpose: 'assistants' })).id);
    }
    await openai.vectorStores.fileBatches.create(id, { file_ids: fileIds });
  }
  emulator.setFaults({ latencyMs: options.latencyMs });

  const measured: Record<'on' | 'off', { calls: number; times: number[] }> = {
    on: { calls: 0, times: [] },
    off: { calls: 0, times: [] },
  };
  const gateways = {
    on: await listenGateway({
      credentials: new Map([['bench', { apiKey: 'bench', baseURL }]]),
      batching: true,
    }),
    off: await listenGateway({
      credentials: new Map([['bench', { apiKey: 'bench', baseURL }]]),
      batching: false,
    }),
  };
  // Interleaved, so drift on a noisy machine hits both alike.
  for (let run = 0; run < options.runs; run++) {
    for (const mode of ['on', 'off'] as const) {
      emulator.resetStats();
      const started = performance.now();
      const result = await postGraphQL(gateways[mode].url, DASHBOARD);
      measured[mode].times.push(performance.now() - started);
      if (result.errors) throw new Error(`dashboard query failed: ${JSON.stringify(result.errors)}`);
      measured[mode].calls = emulator.stats().total;
    }
  }
  await gateways.on.close();
  await gateways.off.close();
  await emulator.close();

  const p50 = { on: percentile(measured.on.times, 50), off: percentile(measured.off.times, 50) };
  const method = `${options.runs} runs each, interleaved, emulator +${options.latencyMs} ms per call`;
  return {
    scenario: `dashboard (+${options.latencyMs} ms upstream)`,
    rows: [
      {
        measure: 'upstream calls, loaders on',
        value: String(measured.on.calls),
        method: 'emulator request count per query',
      },
      {
        measure: 'upstream calls, loaders off',
        value: String(measured.off.calls),
        method: 'emulator request count per query',
      },
      {
        measure: 'upstream calls off/on',
        value: `${(measured.off.calls / measured.on.calls).toFixed(1)}x`,
        method: 'ratio from the same run',
      },
      { measure: 'p50 wall time, loaders on', value: `${p50.on.toFixed(0)} ms`, method },
      { measure: 'p50 wall time, loaders off', value: `${p50.off.toFixed(0)} ms`, method },
      {
        measure: 'p50 wall time off/on',
        value: `${(p50.off / p50.on).toFixed(2)}x`,
        method: 'ratio from the same run',
      },
    ],
  };
}
