import { readFileSync } from 'node:fs';
import type autocannon from 'autocannon';
import OpenAI, { toFile } from 'openai';
import {
  type Headline,
  load,
  median,
  mib,
  ms,
  postGraphQL,
  processCpuSeconds,
  processMemory,
  type ScenarioResult,
  startEmulatorProcess,
  startGatewayProcess,
} from './support.ts';

const API_KEY = 'bench-key';
const STORES = 10;
const FILES_PER_STORE = 5;
const LATENCY_MS = 50;
const JITTER_MS = 20;
const RATE = 40;
const CONNECTIONS = 8;
/**
 * The target for RSS drift over the soak: growth under 10%. A leak grows; RSS that falls is
 * memory V8 gave back, so a fall meets the target however large.
 */
const TARGET_DRIFT = 0.1;

const TOPICS = ['refund policy', 'shipping times', 'warranty claims', 'account security', 'pricing tiers'];

const QUERIES = {
  lookup: 'query Lookup($id: ID!) { vectorStore(id: $id) { id name status fileCounts { total completed } } }',
  node: 'query Node($id: ID!) { node(id: $id) { id ... on VectorStore { name createdAt } } }',
  dashboardLite: `query DashboardLite {
    vectorStores(first: 5) {
      nodes { id name fileCounts { total } files(first: 5) { nodes { status file { filename bytes } } } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  search:
    'query Search($id: ID!, $q: String!) { vectorStore(id: $id) { search(query: $q, maxResults: 3) { score filename } } }',
  missing: 'query Missing($id: ID!) { vectorStore(id: $id) { id name } }',
};

/**
 * Five minutes at a steady, moderate rate of mixed queries against one gateway process, watching
 * its resident memory from outside. Start RSS is taken after a warm-up, so JIT and pools are in it.
 */
export async function soakScenario(options: { quick: boolean }): Promise<ScenarioResult> {
  const durationSeconds = options.quick ? 20 : 300;
  const warmupSeconds = options.quick ? 5 : 30;
  const windowSeconds = options.quick ? 5 : 30;
  const emulator = await startEmulatorProcess({ apiKey: API_KEY });
  const gateway = await startGatewayProcess({
    name: 'soak-gateway',
    upstream: { baseURL: emulator.baseURL, apiKey: API_KEY },
  });
  try {
    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    const storeIds: string[] = [];
    for (let store = 0; store < STORES; store++) {
      const { id } = await openai.vectorStores.create({ name: `soak-${store}` });
      const fileIds: string[] = [];
      for (let file = 0; file < FILES_PER_STORE; file++) {
        const text = TOPICS.map((topic, i) => `${topic}: note ${store}.${file}.${i} about ${topic}.`).join(
          '\n',
        );
        const upload = await toFile(Buffer.from(text), `soak-${store}-${file}.txt`);
        fileIds.push((await openai.files.create({ file: upload, purpose: 'assistants' })).id);
      }
      await openai.vectorStores.fileBatches.create(id, { file_ids: fileIds });
      storeIds.push(id);
    }
    const listed = (await postGraphQL(gateway.url, '{ vectorStores(first: 10) { nodes { id } } }')) as {
      data?: { vectorStores: { nodes: Array<{ id: string }> } };
    };
    const globalIds = listed.data?.vectorStores.nodes.map((node) => node.id) ?? [];
    if (globalIds.length !== STORES) throw new Error(`soak setup: ${JSON.stringify(listed)}`);
    await emulator.setFaults({ latencyMs: LATENCY_MS, jitterMs: JITTER_MS, seed: 1 });

    const request = (query: string, variables: Record<string, unknown> = {}): autocannon.Request => ({
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    // Each connection walks this list in order, round and round: 10 requests, 17 upstream calls.
    const requests: autocannon.Request[] = [
      request(QUERIES.lookup, { id: storeIds[0] }),
      request(QUERIES.dashboardLite),
      request(QUERIES.node, { id: globalIds[1] }),
      request(QUERIES.search, { id: storeIds[2], q: TOPICS[0] }),
      request(QUERIES.lookup, { id: storeIds[3] }),
      request(QUERIES.missing, { id: 'vs_doesnotexist0000000000000000' }),
      request(QUERIES.node, { id: globalIds[4] }),
      request(QUERIES.search, { id: storeIds[5], q: TOPICS[3] }),
      request(QUERIES.lookup, { id: storeIds[6] }),
      request(QUERIES.node, { id: globalIds[7] }),
    ];

    const samples: Array<{ t: number; rss: number }> = [];
    let heapAtStart: NodeJS.MemoryUsage | undefined;
    let heapProbe: Promise<void> | undefined;
    const callsBefore = await emulator.requestCount();
    const cpuBefore = processCpuSeconds(gateway.pid);
    const result = await load({
      url: gateway.url,
      connections: CONNECTIONS,
      overallRate: RATE,
      durationSeconds,
      requests,
      verify: (body) => body.startsWith('{"data":') && !body.includes('"errors"'),
      onSecond: (t) => {
        samples.push({ t, rss: processMemory(gateway.pid).rss });
        if (!heapProbe && t >= warmupSeconds + windowSeconds) {
          heapProbe = gateway.heapAfterGc().then((memory) => {
            heapAtStart = memory;
          });
        }
      },
    });
    await heapProbe;
    const heapAtEnd = await gateway.heapAfterGc();
    const cpuSeconds = processCpuSeconds(gateway.pid) - cpuBefore;
    const upstreamCalls = (await emulator.requestCount()) - callsBefore;

    const inWindow = (from: number, to: number) =>
      samples.filter((s) => s.t >= from && s.t < to).map((s) => s.rss);
    const startRss = median(inWindow(warmupSeconds, warmupSeconds + windowSeconds));
    const endRss = median(inWindow(durationSeconds - windowSeconds, durationSeconds + 1));
    const maxRss = Math.max(...samples.map((s) => s.rss));
    const drift = endRss / startRss - 1;
    const logged = countLoggedRequests(gateway.logFile);
    const failedText =
      logged.failed.size === 0
        ? 'none'
        : [...logged.failed].map(([reason, count]) => `${count} ${reason}`).join(', ');

    const span = durationSeconds >= 60 ? `${durationSeconds / 60} minutes` : `${durationSeconds} s`;
    const headlines: Headline[] = [
      {
        measure: `Soak: gateway RSS drift over ${span}`,
        value: `${(drift * 100).toFixed(1)}% (${mib(startRss)} -> ${mib(endRss)}, max ${mib(maxRss)}), ${result.errors} errors in ${result.responses} requests`,
        ...(options.quick ? {} : { target: `growth < ${TARGET_DRIFT * 100}%`, met: drift < TARGET_DRIFT }),
      },
    ];
    const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
    return {
      scenario: `Soak: ${span} of mixed queries at ${RATE} requests/s`,
      setup: [
        `One gateway (src/server.ts, default settings, info logs to a file) over one emulator process holding ${STORES} stores of ${FILES_PER_STORE} text files; the emulator adds ${LATENCY_MS} ms + 0-${JITTER_MS} ms (seeded) to every /v1 call.`,
        `autocannon, ${CONNECTIONS} connections, a fixed overall rate of ${RATE} requests/s for ${durationSeconds} s. Each connection cycles through 10 requests: 3 \`vectorStore(id)\` lookups, 3 \`node(id)\` lookups by global id, 2 searches, 1 dashboard-lite (\`vectorStores(first: 5)\` with 5 files each and their details) and 1 lookup of a store that does not exist (\`null\`).`,
        `RSS: the gateway process's VmRSS from /proc/PID/status once a second. **Start** is the median of the samples from ${warmupSeconds} s to ${warmupSeconds + windowSeconds} s (the first ${warmupSeconds} s are warm-up), **end** the median of the last ${windowSeconds} s; drift = end / start - 1. Medians, because one sample can land on either side of a GC.`,
        `Heap after GC: \`process.memoryUsage()\` in the gateway right after a full GC through the IPC probe, at ${warmupSeconds + windowSeconds} s and after the last request.`,
        '**Errors**: connection errors, timeouts, non-2xx answers, and answers that are not `{"data":...}` or carry `errors`, as autocannon counts them; cross-checked with the request lines of the gateway log.',
      ],
      table: {
        columns: ['measure', 'value'],
        rows: [
          ['requests answered', `${result.responses} (${result.requestsPerSecond.toFixed(1)}/s)`],
          [
            'request lines in the gateway log',
            `${logged.total}; not a clean 200: ${failedText} (autocannon closes its ${CONNECTIONS} connections at the end without waiting for the requests on them, which the gateway logs as cancelled)`,
          ],
          ['errors', String(result.errors)],
          ['latency p50 / p99', `${ms(result.p50)} / ${ms(result.p99)}`],
          [
            'upstream calls',
            `${upstreamCalls} (${(upstreamCalls / result.responses).toFixed(2)} per request)`,
          ],
          [
            'gateway CPU',
            `${cpuSeconds.toFixed(1)} s (${pct(cpuSeconds / durationSeconds)} of one core, ${((cpuSeconds * 1000) / result.responses).toFixed(2)} ms per request)`,
          ],
          [`RSS at start (median ${warmupSeconds}-${warmupSeconds + windowSeconds} s)`, mib(startRss)],
          [`RSS at end (median of the last ${windowSeconds} s)`, mib(endRss)],
          ['RSS max (any sample)', mib(maxRss)],
          ['RSS drift', `${drift >= 0 ? '+' : ''}${pct(drift)} (target: growth < ${pct(TARGET_DRIFT)})`],
          [
            'heap used after GC, start -> end',
            heapAtStart ? `${mib(heapAtStart.heapUsed)} -> ${mib(heapAtEnd.heapUsed)}` : 'not taken',
          ],
        ],
      },
      headlines,
    };
  } finally {
    await gateway.close();
    await emulator.close();
  }
}

const OPERATIONS = new Set(['Lookup', 'Node', 'DashboardLite', 'Search', 'Missing']);

/**
 * The gateway's `request completed` lines of the soak: how many, and the error codes (or statuses)
 * of those that were not a clean 200.
 */
function countLoggedRequests(logFile: string): { total: number; failed: Map<string, number> } {
  let total = 0;
  const failed = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"request completed"')) continue;
    const entry = JSON.parse(line) as { operationName?: string; status?: number; errors?: string[] };
    if (!OPERATIONS.has(entry.operationName ?? '')) continue;
    total += 1;
    if (entry.status === 200 && !entry.errors?.length) continue;
    const reason = entry.errors?.length ? entry.errors.join('+') : `HTTP ${entry.status}`;
    failed.set(reason, (failed.get(reason) ?? 0) + 1);
  }
  return { total, failed };
}
