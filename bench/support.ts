import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppOptions, createApp } from '../src/app.ts';

export interface ScenarioResult {
  scenario: string;
  /** Rows of the BENCHMARKS.md table: what was measured, the figure, and how. */
  rows: Array<{ measure: string; value: string; method: string }>;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function listenGateway(options: AppOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(createApp(options).handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function postGraphQL(url: string, query: string): Promise<{ errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { errors?: unknown[] };
}
