/**
 * Compiles src/ to dist/ with tsc (tsconfig.build.json), for `npm start`, which runs the compiled
 * JavaScript: tsx in production cost about 100 MB of RSS at rest (an esbuild service and a loader
 * thread). Plain JavaScript, since it runs before anything is compiled.
 *
 *   node scripts/build.mjs             compiles
 *   node scripts/build.mjs --if-stale  compiles only when dist/ is missing or older than what it
 *                                      is built from (`npm start` runs this first)
 *
 * dist/ is emptied first, so a source that was removed leaves no module behind. Types are not
 * checked here (`--noCheck`: every file is compiled on its own, `isolatedModules`); that is
 * `npm run typecheck`'s job, and a start should not wait for it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
/** Written last, so a build that failed or was cut short reads as stale. */
const STAMP = join(dist, '.built');
/** What the output depends on besides src/. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return [join(root, 'src'), ...INPUTS.map((file) => join(root, file))].some(
    (input) => newestMtime(input) > built,
  );
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

console.log('Compiling src/ to dist/ (tsconfig.build.json)...');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
