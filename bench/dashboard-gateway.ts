/**
 * The gateway of the dashboard scenario, which needs what src/server.ts does not offer: the
 * loaders switched off (`BENCH_LOADERS=off`, the naive resolvers). Otherwise it is built like
 * src/server.ts builds it from the same environment with no other setting but that: one credential from
 * OPENAI_API_KEY/OPENAI_BASE_URL, default policy and limits, info logs (one line per request) on
 * stdout, metrics on. Both modes of the scenario run this same entry.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plugin } from 'graphql-yoga';
import { createApp } from '../src/app.ts';
import type { Context } from '../src/context.ts';

/** Runs after the query limits' own `onExecute`, which set the budget to the price. */
const liftBudget: Plugin = {
  onExecute({ args }) {
    (args.contextValue as unknown as Context).budget.setLimit(Number.POSITIVE_INFINITY);
  },
};

const apiKey = process.env.OPENAI_API_KEY;
if (!apiKey) throw new Error('OPENAI_API_KEY is required');
const naive = process.env.BENCH_LOADERS === 'off';
const app = createApp({
  credentials: new Map([['default', { apiKey, baseURL: process.env.OPENAI_BASE_URL }]]),
  batching: !naive,
  log: { level: 'info' },
  // The price is what the loaders cost, and becomes the operation's budget: the naive resolvers
  // make ten times as many calls, so without the loaders the budget is lifted (the price still
  // shows in `extensions.cost`), or the query would stop at its 41st call.
  ...(naive ? { plugins: [liftBudget] } : {}),
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
