import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { launchBrowser } from './support.ts';

/** GraphiQL as a person meets it: the page, its split-out assets, and a query run from it. */

let browser: Browser;
let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startGateway({ app: { defaultQuery: '{ vectorStores(first: 5) { nodes { name } } }' } });
  await gateway.openai.vectorStores.create({ name: 'shown-in-graphiql' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

describe('GraphiQL in Chromium', () => {
  it('loads from the gateway and runs its query with the run button', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(String(error)));
    page.on('requestfailed', (request) => failures.push(`${request.url()} ${request.failure()?.errorText}`));
    await page.goto(gateway.url, { waitUntil: 'load' });

    const run = await page.waitForSelector('.graphiql-execute-button', { timeout: 20_000 });
    await run!.click();
    // The answer shows in the result pane, an editor that renders spaces as its own and wraps
    // long lines: compared without white space.
    const shown = () =>
      page.$eval('.graphiql-response', (pane) => (pane.textContent ?? '').replace(/\s+/g, ''));
    await page.waitForFunction(
      () => document.querySelector('.graphiql-response')?.textContent?.includes('shown-in-graphiql'),
      { timeout: 20_000 },
    );
    expect(await shown()).toContain('{"data":{"vectorStores":{"nodes":[{"name":"shown-in-graphiql"}]}}');
    expect(failures).toEqual([]);
    await page.close();
  });
});
