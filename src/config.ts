import { z } from 'zod';
import { defaultUploadLimits } from './app.ts';
import { defaultUpstreamPolicy } from './upstream/index.ts';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every setting, its default and its bounds; the README's configuration table mirrors it. */
const EnvSchema = z.object({
  PORT: integer(0, 65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  OPENAI_ORG_ID: z.string().min(1).optional(),
  OPENAI_PROJECT_ID: z.string().min(1).optional(),
  MAX_UPLOAD_FILE_BYTES: integer(1, 512 * 1024 * 1024).default(defaultUploadLimits.maxFileBytes),
  MAX_UPLOAD_FILES: integer(1, 2000).default(defaultUploadLimits.maxFiles),
  UPSTREAM_TIMEOUT_MS: integer(100, 600_000).default(defaultUpstreamPolicy.callTimeoutMs),
  UPSTREAM_READ_RETRIES: integer(0, 5).default(defaultUpstreamPolicy.readRetries),
  UPSTREAM_MAX_RETRY_AFTER_SECONDS: integer(0, 600).default(defaultUpstreamPolicy.maxRetryAfterSeconds),
  EMULATOR_PROCESSING_DELAY_MS: integer(0, 600_000).default(1500),
});

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {}

/** Parses the environment once at start; a bad setting is one line naming it, never a stack. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankAsUnset = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = EnvSchema.safeParse(blankAsUnset);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}
