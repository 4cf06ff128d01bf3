/**
 * The gateway of the dashboard scenario, which needs what src/server.ts does not offer: the
 * loaders switched off (`BENCH_LOADERS=off`, the naive resolvers). Otherwise it is built like
 * src/server.ts builds it from the same environment with no other setting: one credential from
 * OPENAI_API_KEY/OPENAI_BASE_URL, default policy and limits, info logs (one line per request) on
 * stdout, metrics on. Both modes of the scenario run this same entry.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';

const apiKey = process.env.OPENAI_API_KEY;
if (!apiKey) throw new Error('OPENAI_API_KEY is required');
const app = createApp({
  credentials: new Map([['default', { apiKey, baseURL: process.env.OPENAI_BASE_URL }]]),
  batching: process.env.BENCH_LOADERS !== 'off',
  log: { level: 'info' },
});
const server = createServer(app.handle);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`GraphQL endpoint and GraphiQL: http://127.0.0.1:${port}/graphql`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
