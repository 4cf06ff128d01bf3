/**
 * The floor under any yoga-based gateway: graphql-yoga 5 as it comes (`createYoga` with its
 * defaults, no plugin added) serving `vectorStore(id) { name }` with a resolver that awaits a
 * stock `openai` client's `vectorStores.retrieve(id)`. What it costs above the direct SDK path is
 * what yoga and graphql-js cost before the gateway does anything of its own. Run as a child
 * process by bench/overhead.ts, like the direct path.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import OpenAI from 'openai';

const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY, baseURL: process.env.OPENAI_BASE_URL });

const yoga = createYoga({
  schema: createSchema({
    typeDefs: 'type Query { vectorStore(id: ID!): VectorStore } type VectorStore { name: String }',
    resolvers: {
      Query: { vectorStore: (_root: unknown, args: { id: string }) => client.vectorStores.retrieve(args.id) },
    },
  }),
});

const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`bare yoga listening at http://127.0.0.1:${port}/graphql`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
