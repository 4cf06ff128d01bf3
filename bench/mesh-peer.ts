/**
 * The GraphQL Mesh peer of the overhead scenario: what a user gets by generating a GraphQL API
 * from OpenAI's OpenAPI file with GraphQL Mesh (compose) and serving it with Hive Gateway, as the
 * recipe in bench/peers/mesh sets it up, run against the bench's emulator.
 *
 * Its ~790 packages (~525 MB) stay out of the repository and out of its lockfile: they are
 * installed once into a cache folder named after the recipe's package.json and lock, which
 * later runs reuse. Each run composes the supergraph from the vendored spec into the bench's
 * temporary folder, so the only files read outside the repository are the ones the cache holds.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDir, type ChildServer, sleep, startChild } from './support.ts';

const RECIPE = fileURLToPath(new URL('./peers/mesh/', import.meta.url));
const SPEC = fileURLToPath(new URL('../vendor/openai/openapi.vector-stores.json', import.meta.url));
const LOCK_FILES = ['package.json', 'package-lock.json'] as const;
/** Written into a finished install before it is renamed into place. */
const MARKER = '.installed';

/** Mesh's field for the gateway's `vectorStore(id) { name }`: one `GET /v1/vector_stores/{id}`. */
export const MESH_QUERY =
  'query Overhead($id: String!) { getVectorStore(vector_store_id: $id) { ... on Vector_store { name } } }';

/** The versions the recipe pins, for the report. */
export function meshVersions(): string {
  const { dependencies } = JSON.parse(readFileSync(join(RECIPE, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return `Hive Gateway ${dependencies['@graphql-hive/gateway']}, Mesh compose ${dependencies['@graphql-mesh/compose-cli']}, @omnigraph/openapi ${dependencies['@omnigraph/openapi']}`;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Installs the recipe's locked dependencies, once per version of its package.json and lock, into
 * `${XDG_CACHE_HOME:-~/.cache}/vector-store-gateway/mesh-<hash>`; returns that folder.
 *
 * Crash-safe and idempotent: npm ci runs in `<folder>.tmp-<pid>`, which is renamed into place
 * only once complete (with a marker), so the folder either holds a whole install or is absent.
 * Staging folders left by processes that died are removed; when two benches race, the second
 * rename fails and that bench uses the winner's install.
 */
export function ensureMeshInstalled(): string {
  const hash = createHash('sha256');
  for (const file of LOCK_FILES) hash.update(readFileSync(join(RECIPE, file)));
  const root = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vector-store-gateway');
  const name = `mesh-${hash.digest('hex').slice(0, 12)}`;
  const dir = join(root, name);
  // Staging folders of installs whose process died (a crash, a kill): ~500 MB each.
  mkdirSync(root, { recursive: true });
  for (const entry of readdirSync(root)) {
    const pid = entry.startsWith(`${name}.tmp-`) ? Number(entry.slice(`${name}.tmp-`.length)) : Number.NaN;
    if (Number.isInteger(pid) && !isRunning(pid)) rmSync(join(root, entry), { recursive: true, force: true });
  }
  if (existsSync(join(dir, MARKER))) return dir;

  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  for (const file of LOCK_FILES) copyFileSync(join(RECIPE, file), join(staging, file));
  console.log(`  installing the GraphQL Mesh peer into ${dir} (npm ci, once; about 1-2 minutes)...`);
  const started = performance.now();
  // npm run exports npm_config_local_prefix and friends; a nested npm would take them as its own
  // config and could install into this repository. --ignore-scripts: the recipe's two postinstalls
  // only check versions, and nothing from the registry should run code at install time.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const npm = spawnSync(
    'npm',
    [
      'ci',
      '--prefix',
      staging,
      '--ignore-scripts',
      '--engine-strict=false',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: staging, env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (npm.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`npm ci of bench/peers/mesh failed (${npm.error?.message ?? `exit ${npm.status}`})`);
  }
  writeFileSync(join(staging, MARKER), `${new Date().toISOString()}\n`);
  if (existsSync(dir) && !existsSync(join(dir, MARKER))) rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another bench finished first: its install is the same, keep it.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, MARKER))) throw error;
  }
  console.log(`  installed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return dir;
}

/** The file a package's CLI runs, from its package.json, so the pid we start is Node itself. */
function bin(modules: string, pkg: string, command: string): string {
  const manifest = JSON.parse(readFileSync(join(modules, pkg, 'package.json'), 'utf8')) as {
    bin: string | Record<string, string>;
  };
  const file = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[command];
  if (!file) throw new Error(`${pkg} has no ${command} command`);
  return join(modules, pkg, file);
}

/** A port free right now: Hive Gateway given port 0 logs `:0`, so the bench picks one for it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Composes the supergraph from vendor/openai/openapi.vector-stores.json and starts Hive Gateway on
 * it as one process (`--fork 1`, so the pid is the server), pointed at `upstream` and otherwise
 * with the recipe's configuration and Hive Gateway's defaults. Ready once `GET /readiness` is 200.
 */
export async function startMeshProcess(options: {
  name: string;
  upstream: { baseURL: string; apiKey: string };
}): Promise<ChildServer> {
  const modules = join(ensureMeshInstalled(), 'node_modules');
  // The configs import the recipe's packages, which Node resolves from a node_modules next to
  // them: a symlink to the cache, which nothing here writes to.
  const work = join(benchDir(), options.name);
  mkdirSync(work, { recursive: true });
  for (const file of ['mesh.config.ts', 'gateway.config.ts'])
    copyFileSync(join(RECIPE, file), join(work, file));
  symlinkSync(modules, join(work, 'node_modules'), 'dir');

  const compose = spawnSync(
    process.execPath,
    [bin(modules, '@graphql-mesh/compose-cli', 'mesh-compose'), '-o', 'supergraph.graphql'],
    {
      cwd: work,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', OPENAI_SPEC_PATH: SPEC },
      encoding: 'utf8',
    },
  );
  if (compose.status !== 0) throw new Error(`mesh-compose failed:\n${compose.stdout}${compose.stderr}`);

  const port = await freePort();
  const child = await startChild({
    name: options.name,
    entry: bin(modules, '@graphql-hive/gateway', 'hive-gateway'),
    plainArgs: [
      'supergraph',
      'supergraph.graphql',
      '--fork',
      '1',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    cwd: work,
    // NO_COLOR: its log lines are ANSI-coloured even into a file, which the URL pattern would catch.
    env: {
      NO_COLOR: '1',
      OPENAI_BASE_URL: options.upstream.baseURL,
      OPENAI_API_KEY: options.upstream.apiKey,
    },
    urlPattern: /Listening on (http:\/\/127\.0\.0\.1:\d+)/,
    // Loading its modules takes 5-10 s of CPU on a busy 2-core machine (no compile cache on Node 20).
    startTimeoutMs: 90_000,
  });
  for (let waited = 0; ; waited += 100) {
    const ready = await fetch(`${child.url}/readiness`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (waited > 30_000) {
      await child.close();
      throw new Error(`${options.name} never became ready; see ${child.logFile}`);
    }
    await sleep(100);
  }
  return { ...child, url: `${child.url}/graphql` };
}
