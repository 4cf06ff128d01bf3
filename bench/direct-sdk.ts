/**
 * The "direct" side of the overhead scenario: the same SDK call the gateway makes for
 * `vectorStore(id) { name }`, made by a minimal Node HTTP server with a stock `openai` client
 * (default options) and no GraphQL. `GET /vector_stores/<id>` answers `{"name": ...}`. Run as a
 * child process by bench/overhead.ts, so autocannon drives it exactly as it drives the gateway.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';

const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY, baseURL: process.env.OPENAI_BASE_URL });
const PREFIX = '/vector_stores/';

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (!url.startsWith(PREFIX)) {
    res.writeHead(404).end();
    return;
  }
  client.vectorStores.retrieve(url.slice(PREFIX.length)).then(
    (store) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: store.name }));
    },
    (error: unknown) => {
      res
        .writeHead(502, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    },
  );
});
server.listen(0, '127.0.0.1', () => {
  console.log(`direct SDK server listening at http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
