import OpenAI, { toFile } from 'openai';
import { mapConcurrent } from '../src/concurrency.ts';
import { defaultLiveLimits } from '../src/live/registry.ts';
import { defaultUpstreamPolicy } from '../src/upstream/index.ts';
import { type FirstEvent, openSse, type SseStream } from './sse.ts';
import {
  type EmulatorProcess,
  type Headline,
  load,
  median,
  mib,
  ms,
  processCpuSeconds,
  processMemory,
  type ScenarioResult,
  sleep,
  startEmulatorProcess,
  startGatewayProcess,
} from './support.ts';

const API_KEY = 'bench-key';
const SUBSCRIPTIONS = 500;
const STORES = 5;
const LATENCY_MS = 300;
/** The other caller: a few connections, as a dashboard or a service would hold. */
const CONNECTIONS = 4;
/** Streams whose response headers are awaited at once while opening. */
const OPEN_CONCURRENCY = 16;
/** The target: query p50 with the subscriptions open over query p50 on the idle gateway. */
const TARGET_RATIO = 2;
/** How long every stream may take to get its first event before the scenario fails. */
const FIRST_EVENT_TIMEOUT_MS = 180_000;
/** Long enough that no stream reaches its deadline while the bench holds it. */
const DEADLINE_SECONDS = 1800;
const STORE_NAME = 'subscriptions-query-store';
const QUERY = 'query Name($id: ID!) { vectorStore(id: $id) { name } }';
const SUBSCRIPTION = `subscription Watch($id: ID!, $store: ID!) {
  vectorStoreFile(id: $id, vectorStoreId: $store, deadlineSeconds: ${DEADLINE_SECONDS}) { status }
}`;
/** The emulator's stats key of the status read every store-file poller makes. */
const POLL_ROUTE = 'GET /v1/vector_stores/{vector_store_id}/files/{file_id}';
/** The caps raised to admit exactly the bench's subscriptions: one more is refused. */
const GATEWAY_ENV = {
  MAX_SUBSCRIPTIONS_PER_CREDENTIAL: String(SUBSCRIPTIONS),
  MAX_SUBSCRIPTIONS_PER_TOKEN: String(SUBSCRIPTIONS),
  MAX_POLLED_OBJECTS_PER_CREDENTIAL: String(SUBSCRIPTIONS),
};

type Kind = 'idle' | 'loaded';

interface Target {
  vectorStoreId: string;
  fileId: string;
}

interface Round {
  kind: Kind;
  p50: number;
  p99: number;
  requestsPerSecond: number;
  responses: number;
  requestsSent: number;
  errors: number;
  /** Store-file status reads per second at the emulator over the measured window. */
  pollsPerSecond: number;
  /** Gateway CPU over the measured window, as a share of one core. */
  cpuShare: number;
  rss: number;
  heapUsed: number;
  /** Loaded rounds: the streams and what happened to them. */
  streams?: StreamCounts;
}

interface StreamCounts {
  opened: number;
  admitted: number;
  refused: number;
  served: number;
  /** Streams that ended (by the gateway or the network) before the bench closed them. */
  endedEarly: number;
  /** From the first request to the last response headers, and to the last first event. */
  openSeconds: number;
  allFirstSeconds: number;
  /** Status reads per second at the emulator from the first request to the last first event. */
  openingPollsPerSecond: number;
  medianFirstMs: number;
  /** After the bench closed them: how long until the emulator saw no more status reads. */
  pollsStoppedSeconds: number;
}

async function emulatorControl(emulator: EmulatorProcess, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(new URL(`/__emulator/${path}`, emulator.url), {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`emulator ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

async function pollCount(emulator: EmulatorProcess): Promise<number> {
  const stats = (await emulatorControl(emulator, 'stats')) as { byRoute: Record<string, number> };
  return stats.byRoute[POLL_ROUTE] ?? 0;
}

/** `pending`, or `failure` once `ms` have passed; the timer is cleared either way, so none outlives the bench. */
async function within<T>(pending: Promise<T>, ms: number, failure: string): Promise<T | { failure: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ failure: string }>((resolve) => {
    timer = setTimeout(() => resolve({ failure }), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the emulator has seen no status read for a second; the seconds that took. */
async function pollsStopped(emulator: EmulatorProcess, limitMs: number): Promise<number> {
  const started = performance.now();
  let count = await pollCount(emulator);
  let quietSince = performance.now();
  while (performance.now() - started < limitMs) {
    await sleep(250);
    const now = await pollCount(emulator);
    if (now !== count) {
      count = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= 1000) {
      return (quietSince - started) / 1000;
    }
  }
  return Number.NaN;
}

/** A latency, or what stands in for one when no query was answered in the window. */
const latency = (value: number) => (Number.isFinite(value) ? ms(value) : 'none answered');

function codeOf(event: FirstEvent): string | undefined {
  return event.errors?.[0]?.extensions?.code;
}

function isServed(event: FirstEvent): boolean {
  const file = event.data?.vectorStoreFile as { status?: string } | null | undefined;
  return !event.errors && file?.status === 'IN_PROGRESS';
}

/** One subscription per target, `OPEN_CONCURRENCY` waiting for their response headers at a time. */
async function openAll(url: string, targets: readonly Target[]): Promise<SseStream[]> {
  const streams: SseStream[] = [];
  await mapConcurrent(targets, OPEN_CONCURRENCY, async (target) => {
    const stream = openSse(url, SUBSCRIPTION, { id: target.fileId, store: target.vectorStoreId });
    streams.push(stream);
    // A stream whose headers never come is not waited on for ever; its first event says why.
    await within(stream.opened, FIRST_EVENT_TIMEOUT_MS, 'no response headers');
  });
  return streams;
}

/**
 * Opens a subscription on every target, waits for every first event, and fails loudly unless
 * every one was admitted and served. The streams are closed on failure; on success the caller
 * closes them.
 */
async function openAndServe(
  emulator: EmulatorProcess,
  url: string,
  targets: readonly Target[],
): Promise<{ streams: SseStream[]; counts: Omit<StreamCounts, 'endedEarly' | 'pollsStoppedSeconds'> }> {
  const pollsBefore = await pollCount(emulator);
  const started = performance.now();
  const streams = await openAll(url, targets);
  const openSeconds = (performance.now() - started) / 1000;
  // One deadline for all of them, its timer cleared once they have settled.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<{ failure: string }>((resolve) => {
    timer = setTimeout(
      () => resolve({ failure: `no first event within ${FIRST_EVENT_TIMEOUT_MS / 1000} s` }),
      FIRST_EVENT_TIMEOUT_MS,
    );
  });
  const firsts = await Promise.all(streams.map((stream) => Promise.race([stream.first, deadline])));
  clearTimeout(timer);
  const allFirstSeconds = (performance.now() - started) / 1000;
  const openingPollsPerSecond = ((await pollCount(emulator)) - pollsBefore) / allFirstSeconds;
  const opens = await Promise.all(streams.map((stream) => stream.opened));
  const opened = opens.filter(
    (open) => 'status' in open && open.status === 200 && open.contentType.startsWith('text/event-stream'),
  ).length;
  let refused = 0;
  let served = 0;
  const failures = new Map<string, number>();
  const firstMs: number[] = [];
  for (const first of firsts) {
    if ('failure' in first) {
      failures.set(first.failure, (failures.get(first.failure) ?? 0) + 1);
      continue;
    }
    if (codeOf(first.event) === 'TOO_MANY_SUBSCRIPTIONS') refused++;
    if (isServed(first.event)) {
      served++;
      firstMs.push(first.afterMs);
    } else if (codeOf(first.event) !== 'TOO_MANY_SUBSCRIPTIONS') {
      const what = first.event.errors?.[0]?.message ?? JSON.stringify(first.event).slice(0, 200);
      failures.set(what, (failures.get(what) ?? 0) + 1);
    }
  }
  const counts = {
    opened,
    admitted: opened - refused,
    refused,
    served,
    openSeconds,
    allFirstSeconds,
    openingPollsPerSecond,
    medianFirstMs: median(firstMs),
  };
  if (served < targets.length) {
    for (const stream of streams) stream.close();
    const reasons = [...failures].map(([reason, count]) => `${count} x ${reason}`).join('; ');
    throw new Error(
      `subscriptions: only ${served} of ${targets.length} subscriptions were admitted and served (${opened} event streams opened, ${refused} refused with TOO_MANY_SUBSCRIPTIONS${reasons ? `; others: ${reasons}` : ''}). The gateway ran with ${Object.entries(
        GATEWAY_ENV,
      )
        .map(([name, value]) => `${name}=${value}`)
        .join(', ')}.`,
    );
  }
  return { streams, counts };
}

/**
 * 500 SSE subscriptions on distinct in-progress files of vector stores (held in progress at the
 * emulator), and meanwhile another caller's `vectorStore(id) { name }` at low concurrency,
 * compared with the same query on the idle gateway, in interleaved rounds, with the emulator
 * adding 300 ms to every upstream call.
 */
export async function subscriptionsScenario(options: { quick: boolean }): Promise<ScenarioResult> {
  const windowSeconds = options.quick ? 3 : 10;
  const warmupSeconds = options.quick ? 1 : 2;
  const kinds: Kind[] = options.quick
    ? ['idle', 'loaded', 'idle']
    : ['idle', 'loaded', 'idle', 'loaded', 'idle', 'loaded', 'idle'];
  const scenarioStarted = performance.now();
  const emulator = await startEmulatorProcess({ apiKey: API_KEY });
  let gateway: Awaited<ReturnType<typeof startGatewayProcess>> | undefined;
  let streams: SseStream[] = [];
  const rounds: Round[] = [];
  let probe: string | undefined;
  try {
    // Hold first, so every file attached from now on stays in progress until released.
    await emulatorControl(emulator, 'processing', { hold: true });
    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    const seedStarted = performance.now();
    const { id: queryStoreId } = await openai.vectorStores.create({ name: STORE_NAME });
    const perStore = SUBSCRIPTIONS / STORES;
    const targets: Target[] = [];
    for (let store = 0; store < STORES; store++) {
      const { id: vectorStoreId } = await openai.vectorStores.create({ name: `subscriptions-${store}` });
      const fileIds = await mapConcurrent(
        Array.from({ length: perStore }, (_, i) => i),
        8,
        async (file) => {
          const upload = await toFile(Buffer.from(`store ${store} file ${file}`), `s${store}-f${file}.txt`);
          return (await openai.files.create({ file: upload, purpose: 'assistants' })).id;
        },
      );
      const batch = await openai.vectorStores.fileBatches.create(vectorStoreId, { file_ids: fileIds });
      if (batch.file_counts.in_progress !== perStore) {
        throw new Error(`subscriptions setup: batch not held in progress: ${JSON.stringify(batch)}`);
      }
      for (const fileId of fileIds) targets.push({ vectorStoreId, fileId });
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    gateway = await startGatewayProcess({
      name: 'subscriptions-gateway',
      upstream: { baseURL: emulator.baseURL, apiKey: API_KEY },
      env: GATEWAY_ENV,
    });
    const url = gateway.url;
    const gatewayPid = gateway.pid;
    const body = JSON.stringify({ query: QUERY, variables: { id: queryStoreId } });
    const named = (text: string) => text.includes(`"name":"${STORE_NAME}"`) && !text.includes('"errors"');
    const drive = (seconds: number) =>
      load({
        url,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        verify: named,
      });
    const answer = await (
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    ).text();
    if (!named(answer)) throw new Error(`subscriptions: the gateway answered ${answer.slice(0, 500)}`);
    // JIT and pools, with no added latency so it takes thousands of requests in a few seconds.
    await load({
      url,
      connections: 16,
      durationSeconds: options.quick ? 2 : 5,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      verify: named,
    });
    await emulator.setFaults({ latencyMs: LATENCY_MS });
    const rssAtRest = processMemory(gatewayPid).rss;

    for (const [index, kind] of kinds.entries()) {
      let counts: StreamCounts | undefined;
      let opening: Omit<StreamCounts, 'endedEarly' | 'pollsStoppedSeconds'> | undefined;
      if (kind === 'loaded') {
        const served = await openAndServe(emulator, url, targets);
        streams = served.streams;
        opening = served.counts;
        if (probe === undefined) {
          // One more than the caps admit, on a file already watched: the cap must refuse it.
          const extra = openSse(url, SUBSCRIPTION, {
            id: targets[0]?.fileId,
            store: targets[0]?.vectorStoreId,
          });
          const first = await within(extra.first, 30_000, 'no first event in 30 s');
          extra.close();
          probe =
            'failure' in first
              ? `no answer (${first.failure})`
              : codeOf(first.event) === 'TOO_MANY_SUBSCRIPTIONS'
                ? 'refused with TOO_MANY_SUBSCRIPTIONS'
                : `**not refused**: ${JSON.stringify(first.event).slice(0, 200)}`;
        }
      }
      await drive(warmupSeconds);
      const pollsBefore = await pollCount(emulator);
      const cpuBefore = processCpuSeconds(gatewayPid);
      const windowStarted = performance.now();
      const run = await drive(windowSeconds);
      const windowElapsed = (performance.now() - windowStarted) / 1000;
      const cpuSeconds = processCpuSeconds(gatewayPid) - cpuBefore;
      const polls = (await pollCount(emulator)) - pollsBefore;
      const rss = processMemory(gatewayPid).rss;
      const heapUsed = (await gateway.heapAfterGc()).heapUsed;
      if (opening) {
        const endedEarly = streams.filter((stream) => stream.ended).length;
        for (const stream of streams) stream.close();
        streams = [];
        const pollsStoppedSeconds = await pollsStopped(emulator, 30_000);
        counts = { ...opening, endedEarly, pollsStoppedSeconds };
        if (endedEarly > 0) {
          throw new Error(
            `subscriptions: ${endedEarly} of ${SUBSCRIPTIONS} streams ended during the measured window, before the bench closed them`,
          );
        }
      }
      const round: Round = {
        kind,
        // A round in which no query was answered is as slow as can be, not a gap in the figures.
        p50: run.responses > 0 ? run.p50 : Number.POSITIVE_INFINITY,
        p99: run.responses > 0 ? run.p99 : Number.POSITIVE_INFINITY,
        requestsPerSecond: run.responses / run.durationSeconds,
        responses: run.responses,
        requestsSent: run.requestsSent,
        errors: run.errors,
        pollsPerSecond: polls / windowElapsed,
        cpuShare: cpuSeconds / windowElapsed,
        rss,
        heapUsed,
        ...(counts ? { streams: counts } : {}),
      };
      rounds.push(round);
      const streamText = counts
        ? ` | ${counts.served}/${SUBSCRIPTIONS} served (${counts.refused} refused), headers in ${counts.openSeconds.toFixed(1)} s, all first events in ${counts.allFirstSeconds.toFixed(1)} s (${counts.openingPollsPerSecond.toFixed(1)} status reads/s meanwhile), polls stopped ${counts.pollsStoppedSeconds.toFixed(1)} s after close`
        : '';
      console.log(
        `  round ${index + 1} ${kind}: p50 ${latency(round.p50)} p99 ${latency(round.p99)} ${round.requestsPerSecond.toFixed(1)}/s errors ${round.errors} polls ${round.pollsPerSecond.toFixed(1)}/s cpu ${(100 * round.cpuShare).toFixed(0)}% rss ${mib(round.rss)}${streamText}`,
      );
    }
    const peakRss = processMemory(gatewayPid).peakRss;

    const idle = rounds.filter((round) => round.kind === 'idle');
    const loaded = rounds.filter((round) => round.kind === 'loaded');
    const of = (list: Round[], pick: (round: Round) => number) => median(list.map(pick));
    const idleP50 = of(idle, (r) => r.p50);
    const loadedP50 = of(loaded, (r) => r.p50);
    const ratio = loadedP50 / idleP50;
    // Each loaded round against the idle rounds either side of it.
    const pairRatios = rounds.flatMap((round, i) => {
      if (round.kind !== 'loaded') return [];
      const around = [rounds[i - 1], rounds[i + 1]].filter((r): r is Round => r?.kind === 'idle');
      return [round.p50 / (around.reduce((sum, r) => sum + r.p50, 0) / around.length)];
    });
    const counts = loaded.map((round) => round.streams as StreamCounts);
    const minServed = Math.min(...counts.map((c) => c.served));
    const totalErrors = rounds.reduce((sum, round) => sum + round.errors, 0);
    const pollRate = of(loaded, (r) => r.pollsPerSecond);
    const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'unbounded');
    const minutes = (performance.now() - scenarioStarted) / 60_000;

    const headlines: Headline[] = [
      {
        measure: `Subscriptions: SSE subscriptions on distinct in-progress files admitted and served (first event), of ${SUBSCRIPTIONS}`,
        value: `${counts.map((c) => `${c.admitted} admitted, ${c.refused} refused, ${c.served} served`).join('; ')} (per loaded round); a ${SUBSCRIPTIONS + 1}st: ${probe}`,
        ...(options.quick ? {} : { target: `all ${SUBSCRIPTIONS}`, met: minServed >= SUBSCRIPTIONS }),
      },
      {
        measure: `Subscriptions: \`vectorStore(id) { name }\` p50 with ${SUBSCRIPTIONS} subscriptions open / idle, ${CONNECTIONS} connections, +${LATENCY_MS} ms upstream`,
        value: `${times(ratio)} (${latency(loadedP50)} vs ${latency(idleP50)}; each loaded round against the idle rounds beside it: ${pairRatios.map(times).join('; ')})`,
        ...(options.quick ? {} : { target: `<= ${TARGET_RATIO}`, met: ratio <= TARGET_RATIO }),
      },
    ];

    const rows = rounds.map((round, i) => [
      String(i + 1),
      round.kind === 'idle' ? 'idle' : `${round.streams?.served ?? 0} subscriptions open`,
      latency(round.p50),
      latency(round.p99),
      `${round.requestsPerSecond.toFixed(1)} (${round.responses} of ${round.requestsSent} sent)`,
      String(round.errors),
      round.pollsPerSecond.toFixed(1),
      `${(100 * round.cpuShare).toFixed(0)}%`,
      mib(round.rss),
      mib(round.heapUsed),
    ]);
    const streamRows = loaded.map((round, i) => {
      const c = round.streams as StreamCounts;
      return [
        String(i + 1),
        String(c.opened),
        String(c.admitted),
        String(c.refused),
        String(c.served),
        `${c.openSeconds.toFixed(1)} s`,
        `${(c.medianFirstMs / 1000).toFixed(1)} s / ${c.allFirstSeconds.toFixed(1)} s`,
        c.openingPollsPerSecond.toFixed(1),
        String(c.endedEarly),
        Number.isFinite(c.pollsStoppedSeconds)
          ? `${c.pollsStoppedSeconds.toFixed(1)} s`
          : '**still reading 30 s after**',
      ];
    });
    const summaryRows = [
      [
        'admitted / refused / served, each loaded round',
        counts.map((c) => `${c.admitted} / ${c.refused} / ${c.served}`).join('; '),
      ],
      [`a ${SUBSCRIPTIONS + 1}st subscription with ${SUBSCRIPTIONS} open`, probe ?? 'not tried'],
      ['idle p50 / p99 (median of rounds)', `${latency(idleP50)} / ${latency(of(idle, (r) => r.p99))}`],
      [
        `p50 / p99 with ${SUBSCRIPTIONS} subscriptions open (median of rounds)`,
        `${latency(loadedP50)} / ${latency(of(loaded, (r) => r.p99))}`,
      ],
      [
        'p50 ratio, open / idle',
        `**${times(ratio)}** (target <= ${TARGET_RATIO}); per loaded round against its neighbours: ${pairRatios.map(times).join('; ')}`,
      ],
      ['query errors, all rounds', String(totalErrors)],
      [
        'store-file status reads at the emulator while open (median of rounds)',
        `${pollRate.toFixed(1)}/s (idle rounds: ${of(idle, (r) => r.pollsPerSecond).toFixed(1)}/s)`,
      ],
      [
        'gateway CPU (share of one core, median of rounds)',
        `idle ${(100 * of(idle, (r) => r.cpuShare)).toFixed(0)}%, open ${(100 * of(loaded, (r) => r.cpuShare)).toFixed(0)}%`,
      ],
      [
        'gateway RSS',
        `at rest ${mib(rssAtRest)}; idle rounds ${mib(of(idle, (r) => r.rss))}; with ${SUBSCRIPTIONS} open ${mib(of(loaded, (r) => r.rss))}; peak ${mib(peakRss)}`,
      ],
      [
        'gateway heap used after GC',
        `idle ${mib(of(idle, (r) => r.heapUsed))}, with ${SUBSCRIPTIONS} open ${mib(of(loaded, (r) => r.heapUsed))}`,
      ],
      ['scenario time', `${minutes.toFixed(1)} minutes (seeding ${seedSeconds.toFixed(1)} s)`],
    ];

    return {
      scenario: `Subscriptions: ${SUBSCRIPTIONS} live-status streams beside another caller's query`,
      setup: [
        `One gateway (the compiled dist/server.js, info logs to a file) over one emulator process. The caps are raised to admit exactly ${SUBSCRIPTIONS} (gateway env ${Object.entries(
          GATEWAY_ENV,
        )
          .map(([name, value]) => `\`${name}=${value}\``)
          .join(
            ', ',
          )}; defaults ${defaultLiveLimits.watchesPerCredential}, ${defaultLiveLimits.watchesPerToken} and ${defaultLiveLimits.pollersPerCredential}). Everything else is at its default, notably \`POLLS_PER_SECOND_PER_CREDENTIAL=${defaultLiveLimits.pollsPerSecond}\` and \`UPSTREAM_CONCURRENCY=${defaultUpstreamPolicy.concurrency}\`; no gateway tokens, so the per-token cap does not apply.`,
        `Seeded through the emulator's API before the gateway starts: ${STORES} stores of ${SUBSCRIPTIONS / STORES} small text files each, attached with one file batch per store while processing is held (\`POST /__emulator/processing {"hold": true}\`), so all ${SUBSCRIPTIONS} store files stay \`in_progress\` for the whole run; plus one empty store for the query. Then the emulator adds ${LATENCY_MS} ms to every /v1 call (\`latencyMs\` fault).`,
        `**Subscriptions**: \`subscription { vectorStoreFile(id: <file id>, vectorStoreId: <store id>, deadlineSeconds: ${DEADLINE_SECONDS}) { status } }\`, one POST with \`accept: text/event-stream\` per file (bench/sse.ts), ${SUBSCRIPTIONS} distinct files, from the bench process, ${OPEN_CONCURRENCY} awaiting their response headers at a time. **Admitted**: an event stream whose first event is not a TOO_MANY_SUBSCRIPTIONS refusal; **served**: its first event is the file with status IN_PROGRESS; the scenario fails unless all ${SUBSCRIPTIONS} are, within ${FIRST_EVENT_TIMEOUT_MS / 1000} s. After the first loaded round's streams are all served, one more on an already-watched file checks that the cap refuses it. The bench checks that none ended by itself during the window, then closes all of them, and waits until the emulator has seen no status read for 1 s.`,
        `**Query**: another caller's \`${QUERY}\` (one \`GET /v1/vector_stores/{id}\` per request), autocannon with ${CONNECTIONS} connections, ${warmupSeconds} s unmeasured then ${windowSeconds} s measured per round. Rounds alternate ${kinds.join(', ')}: an idle round has no subscription open; a loaded round opens the ${SUBSCRIPTIONS}, waits for every first event, then measures. Figures are the median of the rounds of each kind; the ratio is loaded median p50 / idle median p50. p50/p99 are exact percentiles of a round's 2xx latencies (autocannon per-response timings); errors are connection errors, non-2xx and answers without the store name.`,
        `**Poll rate**: the emulator's count for \`${POLL_ROUTE}\` (/__emulator/stats) across the measured window, per second (and, per loaded round, from the first subscription request to the last first event). **Gateway CPU**: user + system time of the gateway process (/proc/PID/stat) over the window, as a share of one core. **RSS**: VmRSS at the end of the window; peak is VmHWM since start. **Heap**: \`process.memoryUsage().heapUsed\` after a full GC in the gateway (IPC probe), after the window, streams still open.`,
      ],
      table: {
        columns: [
          'round',
          'gateway',
          'p50',
          'p99',
          'requests/s (answered of sent)',
          'errors',
          'status reads/s at emulator',
          'gateway CPU',
          'gateway RSS',
          'heap after GC',
        ],
        rows,
      },
      moreTables: [
        {
          title: 'Streams, per loaded round',
          columns: [
            'loaded round',
            'event streams opened',
            'admitted',
            'refused',
            'served',
            'all headers after',
            'first event: median / all after',
            'status reads/s until then',
            'ended early',
            'status reads stopped after close',
          ],
          rows: streamRows,
        },
        { title: 'Summary', columns: ['measure', 'value'], rows: summaryRows },
      ],
      headlines,
    };
  } finally {
    for (const stream of streams) stream.close();
    await gateway?.close();
    await emulator.close();
  }
}
