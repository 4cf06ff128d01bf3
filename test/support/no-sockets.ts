/**
 * Setup of the unit tier: a test there runs in-process, so opening a socket or starting a process
 * is a mistake that fails the test at once, not a slow pass. Sockets, servers and child processes
 * belong to the integration tier (`*.int.test.ts`).
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

function refuse(what: string): never {
  throw new Error(`A unit test tried to ${what}; move it to the integration tier (*.int.test.ts).`);
}

net.Socket.prototype.connect = function connect() {
  return refuse('open a connection');
} as typeof net.Socket.prototype.connect;

net.Server.prototype.listen = function listen() {
  return refuse('listen on a port');
} as typeof net.Server.prototype.listen;

for (const name of ['spawn', 'fork', 'exec', 'execFile'] as const) {
  Object.defineProperty(childProcess, name, { value: () => refuse('start a process') });
}
// Named imports of the built-ins (`import { spawn } from ...`) see the patched functions too.
syncBuiltinESMExports();
