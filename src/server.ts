import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DEFAULT_QUERY, seedDemo } from './demo.ts';
import { createEmulator, type Emulator } from './emulator/index.ts';
import type { UpstreamCredential } from './upstream/index.ts';

/** The key the SDK needs even against the emulator, which accepts any. */
const EMULATOR_KEY = 'sk-emulator-local';

async function main(): Promise<void> {
  const config = loadConfig();
  let emulator: Emulator | undefined;
  let credential: UpstreamCredential;
  if (config.OPENAI_API_KEY) {
    credential = {
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL,
      organization: config.OPENAI_ORG_ID,
      project: config.OPENAI_PROJECT_ID,
    };
    console.log(`Upstream: ${config.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'} (OPENAI_API_KEY is set)`);
  } else {
    emulator = createEmulator({ processingDelayMs: config.EMULATOR_PROCESSING_DELAY_MS });
    const { baseURL } = await emulator.listen({ port: 0, host: '127.0.0.1' });
    credential = { apiKey: EMULATOR_KEY, baseURL };
    await seedDemo(new OpenAI({ apiKey: EMULATOR_KEY, baseURL }));
    console.log(
      `Upstream: the embedded OpenAI emulator at ${baseURL}, with demo data (no OPENAI_API_KEY is set)`,
    );
  }

  const app = createApp({
    credential,
    defaultQuery: DEFAULT_QUERY,
    policy: {
      callTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
      readRetries: config.UPSTREAM_READ_RETRIES,
      maxRetryAfterSeconds: config.UPSTREAM_MAX_RETRY_AFTER_SECONDS,
    },
    uploads: { maxFileBytes: config.MAX_UPLOAD_FILE_BYTES, maxFiles: config.MAX_UPLOAD_FILES },
  });
  const server = createServer(app.handle);
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`GraphQL endpoint and GraphiQL: http://${config.HOST}:${port}/graphql`);

  const shutdown = () => {
    server.close(() => void emulator?.close().finally(() => process.exit(0)));
    server.closeIdleConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError
      ? error.message
      : `Failed to start: ${error instanceof Error ? error.message : error}`,
  );
  process.exit(1);
});
