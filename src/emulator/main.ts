/**
 * Standalone emulator: `npm run emulator`. Configuration comes from the environment:
 *   EMULATOR_PORT                  default 4010 (listens on 127.0.0.1 only)
 *   EMULATOR_API_KEYS              comma-separated accepted keys; unset accepts any non-empty key
 *   EMULATOR_PROCESSING_DELAY_MS   attach -> completed delay, default 500 so polling is observable
 *   EMULATOR_MAX_STORED_BYTES      cap on stored file bytes, default 1 GiB
 *   EMULATOR_POLL_AFTER_MS         send openai-poll-after-ms with this value; unset sends none
 *   EMULATOR_TIE_ORDER             'reverse' (default, as the real API) or 'stable'
 *   EMULATOR_SDK_FIXTURES          '1' seeds the ids of openai-node's generated tests (upload_abc123),
 *                                  e.g. for TEST_API_BASE_URL=http://127.0.0.1:4010/v1 in openai-node
 */
import { createEmulator, type EmulatorOptions } from './index.ts';

class ConfigError extends Error {}

function integerFromEnv(name: string, fallback: number, bound: { min: number; max: number }): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < bound.min || value > bound.max) {
    throw new ConfigError(`${name} must be an integer from ${bound.min} to ${bound.max}, got '${raw}'.`);
  }
  return value;
}

function optionalIntegerFromEnv(name: string, bound: { min: number; max: number }): number | undefined {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' ? undefined : integerFromEnv(name, 0, bound);
}

function flagFromEnv(name: string): boolean {
  const raw = process.env[name]?.trim() ?? '';
  if (raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigError(`${name} must be '1' or '0', got '${raw}'.`);
}

function tieOrderFromEnv(): 'reverse' | 'stable' {
  const raw = process.env.EMULATOR_TIE_ORDER?.trim() || 'reverse';
  if (raw !== 'reverse' && raw !== 'stable') {
    throw new ConfigError(`EMULATOR_TIE_ORDER must be 'reverse' or 'stable', got '${raw}'.`);
  }
  return raw;
}

function readConfig(): { port: number; options: EmulatorOptions } {
  const apiKeys = (process.env.EMULATOR_API_KEYS ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  return {
    port: integerFromEnv('EMULATOR_PORT', 4010, { min: 0, max: 65_535 }),
    options: {
      apiKeys,
      processingDelayMs: integerFromEnv('EMULATOR_PROCESSING_DELAY_MS', 500, { min: 0, max: 3_600_000 }),
      maxStoredBytes: integerFromEnv('EMULATOR_MAX_STORED_BYTES', 1024 ** 3, {
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
      }),
      pollAfterMs: optionalIntegerFromEnv('EMULATOR_POLL_AFTER_MS', { min: 0, max: 3_600_000 }),
      tieOrder: tieOrderFromEnv(),
      sdkFixtures: flagFromEnv('EMULATOR_SDK_FIXTURES'),
    },
  };
}

async function main(): Promise<void> {
  const config = readConfig();
  const emulator = createEmulator(config.options);
  const { baseURL } = await emulator.listen({ port: config.port, host: '127.0.0.1' });
  console.log(`OpenAI emulator listening at ${baseURL}`);

  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigError
      ? error.message
      : error instanceof Error && 'code' in error && error.code === 'EADDRINUSE'
        ? `Port already in use: set EMULATOR_PORT to a free port. (${error.message})`
        : error instanceof Error
          ? error.message
          : String(error);
  console.error(`emulator: ${message}`);
  process.exit(1);
});
