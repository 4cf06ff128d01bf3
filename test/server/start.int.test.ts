import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY } from '../../src/demo.ts';

/**
 * `npm start` as a new user runs it: no key, no config, just the command. On a fresh checkout it
 * compiles src/ first (scripts/build.mjs), which takes a while on a loaded machine.
 */
const START_TIMEOUT_MS = 120_000;

describe('npm start on a fresh checkout', () => {
  let child: ChildProcess;
  let output = '';
  let url: string;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', EMULATOR_PROCESSING_DELAY_MS: '0' };
    for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'GATEWAY_CONFIG']) delete env[name];
    child = spawn('npm', ['start'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const started = Date.now();
    while (!/GraphiQL: (http:\S+)/.test(output)) {
      if (Date.now() - started > START_TIMEOUT_MS || child.exitCode !== null || child.signalCode !== null)
        throw new Error(`did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    url = /GraphiQL: (http:\S+)/.exec(output)![1]!;
  }, START_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
      await once(child, 'exit');
    }
  });

  it('runs the compiled JavaScript, built into dist/', () => {
    expect(output).toContain('node dist/server.js');
    expect(existsSync(new URL('../../dist/.built', import.meta.url))).toBe(true);
  });

  it('says which upstream it uses', () => {
    expect(output).toContain("Credential 'default': the embedded OpenAI emulator at http://127.0.0.1:");
  });

  it('serves GraphiQL with the default query, and that query returns the demo data', async () => {
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
    // GraphiQL's script, with the query it opens with, is an asset of the page (use-graphiql.ts).
    const scripts = [...html.matchAll(/<script[^>]+src="(\/graphiql\/[^"]+)"/g)].map((match) => match[1]!);
    const texts = await Promise.all(scripts.map(async (path) => (await fetch(new URL(path, url))).text()));
    expect(texts.some((text) => text.includes('vectorStores(first: 10)'))).toBe(true);

    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: DEFAULT_QUERY }),
    });
    const body = (await response.json()) as {
      errors?: unknown;
      data: { vectorStores: { nodes: Array<{ name: string; fileCounts: { total: number } }> } };
    };
    expect(body.errors).toBeUndefined();
    const stores = body.data.vectorStores.nodes.map((store) => [store.name, store.fileCounts.total]);
    expect(stores.sort()).toEqual([
      ['Engineering notes', 2],
      ['Product handbook', 3],
    ]);
  });

  it('drains and exits on SIGTERM', async () => {
    const closed = once(child, 'close');
    process.kill(-child.pid!, 'SIGTERM');
    // npm may exit before the server it started: wait until every process let go of the output.
    await closed;
    expect(output).toContain('SIGTERM: draining in-flight requests');
  });
});
