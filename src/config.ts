import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defaultDeadlines } from './context.ts';
import { normaliseOrigin } from './http/origins.ts';
import { parseTrustedDocuments } from './http/use-persisted-operations.ts';
import { defaultQueryLimits } from './http/use-query-limits.ts';
import { defaultLiveLimits } from './live/registry.ts';
import { schema } from './schema/index.ts';
import { defaultUploadLimits } from './uploads/parse.ts';
import { defaultUpstreamPolicy, OPENAI_LIMITS } from './upstream/index.ts';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (up to 64)');

/** A secret is never written in the config itself: it is read from an env variable or a file. */
const secretSource = z
  .object({ env: z.string().min(1).optional(), file: z.string().min(1).optional() })
  .strict()
  .refine(
    (source) => (source.env === undefined) !== (source.file === undefined),
    'give exactly one of env or file',
  );

const CredentialSchema = z.union([
  z.object({ emulator: z.literal(true) }).strict(),
  z
    .object({
      apiKey: secretSource,
      baseURL: z.url({ protocol: /^https?$/ }).optional(),
      organization: z.string().min(1).optional(),
      project: z.string().min(1).optional(),
    })
    .strict(),
]);

const FileSchema = z
  .object({
    credentials: z.record(name, CredentialSchema).optional(),
    defaultCredential: name.optional(),
    tokens: z
      .array(z.object({ name, token: secretSource, credentials: z.array(name).min(1) }).strict())
      .optional(),
    corsOrigins: z.array(z.string().min(1)).optional(),
    allowedHosts: z.array(z.string().min(1)).optional(),
    settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();

/** A comma-separated list, as an environment variable holds one. */
const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

/** Every scalar setting, its default and its bounds; the README's configuration table mirrors it. */
const SettingsSchema = z.object({
  PORT: integer(0, 65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  OPENAI_ORG_ID: z.string().min(1).optional(),
  OPENAI_PROJECT_ID: z.string().min(1).optional(),
  ALLOW_CALLER_KEYS: flag.default(false),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  CORS_ORIGINS: list.optional(),
  ALLOWED_HOSTS: list.optional(),
  TRUSTED_DOCUMENTS: z.string().min(1).optional(),
  MAX_UPLOAD_FILE_BYTES: integer(1, OPENAI_LIMITS.fileBytes).default(defaultUploadLimits.maxFileBytes),
  MAX_PARTED_UPLOAD_BYTES: integer(0, OPENAI_LIMITS.upload.bytes).default(
    defaultUploadLimits.maxPartedFileBytes,
  ),
  PARTED_UPLOAD_BYTES: integer(1, OPENAI_LIMITS.upload.bytes).default(defaultUploadLimits.partedUploadBytes),
  MAX_UPLOAD_FILES: integer(1, 2000).default(defaultUploadLimits.maxFiles),
  OPERATION_TIMEOUT_MS: integer(1000, 3_600_000).default(defaultDeadlines.operationMs),
  UPLOAD_TIMEOUT_MS: integer(1000, 24 * 3_600_000).default(defaultDeadlines.uploadMs),
  UPSTREAM_TIMEOUT_MS: integer(100, 600_000).default(defaultUpstreamPolicy.callTimeoutMs),
  UPSTREAM_READ_RETRIES: integer(0, 5).default(defaultUpstreamPolicy.readRetries),
  UPSTREAM_MAX_RETRY_AFTER_SECONDS: integer(0, 600).default(defaultUpstreamPolicy.maxRetryAfterSeconds),
  UPSTREAM_CONCURRENCY: integer(1, 1000).default(defaultUpstreamPolicy.concurrency),
  STORE_WRITES_PER_MINUTE: integer(1, OPENAI_LIMITS.storeWritesPerMinute).default(
    defaultUpstreamPolicy.storeWritesPerMinute,
  ),
  MAX_QUERY_DEPTH: integer(1, 100).default(defaultQueryLimits.maxDepth),
  MAX_QUERY_ALIASES: integer(0, 1000).default(defaultQueryLimits.maxAliases),
  MAX_QUERY_TOKENS: integer(10, 100_000).default(defaultQueryLimits.maxTokens),
  MAX_QUERY_DIRECTIVES: integer(0, 1000).default(defaultQueryLimits.maxDirectives),
  MAX_UPSTREAM_CALLS_PER_OPERATION: integer(1, 100_000).default(defaultQueryLimits.maxUpstreamCalls),
  SHUTDOWN_GRACE_MS: integer(0, 600_000).default(10_000),
  SHUTDOWN_READY_DELAY_MS: integer(0, 600_000).default(2_000),
  MAX_SUBSCRIPTIONS_PER_CREDENTIAL: integer(1, 100_000).default(defaultLiveLimits.watchesPerCredential),
  MAX_SUBSCRIPTIONS_PER_TOKEN: integer(1, 100_000).default(defaultLiveLimits.watchesPerToken),
  MAX_POLLED_OBJECTS_PER_CREDENTIAL: integer(1, 100_000).default(defaultLiveLimits.pollersPerCredential),
  POLLS_PER_SECOND_PER_CREDENTIAL: integer(1, 10_000).default(defaultLiveLimits.pollsPerSecond),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Off by default: a shared cache only, so it needs REDIS_URL. */
  RESPONSE_CACHE_TTL_MS: integer(0, 60_000).default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  METRICS_CREDENTIAL_LABELS: flag.default(false),
  EMULATOR_PROCESSING_DELAY_MS: integer(0, 600_000).default(1500),
});

export type Settings = z.infer<typeof SettingsSchema>;

export type CredentialConfig =
  | { kind: 'emulator' }
  | { kind: 'openai'; apiKey: string; baseURL?: string; organization?: string; project?: string };

export interface TokenConfig {
  name: string;
  secret: string;
  credentials: readonly string[];
}

export interface Config {
  settings: Settings;
  /** Origins allowed cross-origin: CORS_ORIGINS, else the file's `corsOrigins`; none by default. */
  corsOrigins: readonly string[];
  /** Hosts a tokenless gateway answers besides loopback: ALLOWED_HOSTS, else the file's `allowedHosts`. */
  allowedHosts: readonly string[];
  credentials: ReadonlyMap<string, CredentialConfig>;
  defaultCredential: string;
  /** Empty: no gateway token is required. */
  tokens: readonly TokenConfig[];
  /** The manifest `TRUSTED_DOCUMENTS` names, checked; unset: APQ instead. */
  trustedDocuments?: Readonly<Record<string, string>>;
}

export class ConfigError extends Error {}

/**
 * Reads the environment and, when `GATEWAY_CONFIG` names one, a JSON file for what does not fit
 * in variables (named credentials, tokens). Validated once at start: a bad setting is one line
 * naming it, never a stack. Environment variables win over the file's `settings`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const file = env.GATEWAY_CONFIG ? readConfigFile(env.GATEWAY_CONFIG) : {};
  const given = {
    ...file.settings,
    ...Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')),
  };
  const settings = check(SettingsSchema, given, '');
  if (settings.RESPONSE_CACHE_TTL_MS > 0 && !settings.REDIS_URL) {
    throw new ConfigError('Invalid configuration: RESPONSE_CACHE_TTL_MS: the response cache needs REDIS_URL');
  }

  const credentials = new Map<string, CredentialConfig>();
  for (const [credentialName, spec] of Object.entries(file.credentials ?? {})) {
    credentials.set(
      credentialName,
      'emulator' in spec
        ? { kind: 'emulator' }
        : {
            kind: 'openai',
            apiKey: readSecret(spec.apiKey, `credentials.${credentialName}.apiKey`, env),
            ...(spec.baseURL ? { baseURL: spec.baseURL } : {}),
            ...(spec.organization ? { organization: spec.organization } : {}),
            ...(spec.project ? { project: spec.project } : {}),
          },
    );
  }
  if (credentials.size === 0) {
    // No named credentials: the classic OPENAI_* variables, or the embedded emulator.
    credentials.set(
      'default',
      settings.OPENAI_API_KEY
        ? {
            kind: 'openai',
            apiKey: settings.OPENAI_API_KEY,
            ...(settings.OPENAI_BASE_URL ? { baseURL: settings.OPENAI_BASE_URL } : {}),
            ...(settings.OPENAI_ORG_ID ? { organization: settings.OPENAI_ORG_ID } : {}),
            ...(settings.OPENAI_PROJECT_ID ? { project: settings.OPENAI_PROJECT_ID } : {}),
          }
        : { kind: 'emulator' },
    );
  }
  const defaultCredential = file.defaultCredential ?? [...credentials.keys()][0]!;
  if (!credentials.has(defaultCredential)) {
    throw new ConfigError(
      `Invalid configuration: defaultCredential: no credential named '${defaultCredential}'`,
    );
  }

  const tokens = (file.tokens ?? []).map((token, index): TokenConfig => {
    for (const credentialName of token.credentials) {
      if (!credentials.has(credentialName)) {
        throw new ConfigError(
          `Invalid configuration: tokens[${index}].credentials: no credential named '${credentialName}'`,
        );
      }
    }
    return {
      name: token.name,
      secret: readSecret(token.token, `tokens[${index}].token`, env),
      credentials: token.credentials,
    };
  });
  const corsOrigins = settings.CORS_ORIGINS ?? file.corsOrigins ?? [];
  for (const [index, origin] of corsOrigins.entries()) {
    try {
      normaliseOrigin(origin);
    } catch (error) {
      const where = settings.CORS_ORIGINS ? 'CORS_ORIGINS' : `corsOrigins[${index}]`;
      throw new ConfigError(`Invalid configuration: ${where}: ${(error as Error).message}`);
    }
  }
  const allowedHosts = settings.ALLOWED_HOSTS ?? file.allowedHosts ?? [];
  const config: Config = { settings, credentials, defaultCredential, tokens, corsOrigins, allowedHosts };
  if (settings.TRUSTED_DOCUMENTS) config.trustedDocuments = readTrustedDocuments(settings.TRUSTED_DOCUMENTS);
  return config;
}

function readTrustedDocuments(path: string): Record<string, string> {
  const fail = (problem: string) => new ConfigError(`Invalid configuration: TRUSTED_DOCUMENTS: ${problem}`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail(code ? `cannot read ${path} (${code})` : `${path} is not valid JSON`);
  }
  try {
    return Object.fromEntries(parseTrustedDocuments(manifest, schema));
  } catch (error) {
    throw fail(`${path}: ${(error as Error).message}`);
  }
}

function readConfigFile(path: string): z.infer<typeof FileSchema> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: GATEWAY_CONFIG: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`Invalid configuration: GATEWAY_CONFIG: ${path} is not valid JSON`);
  }
  return check(FileSchema, json, 'config file: ');
}

function readSecret(
  source: { env?: string | undefined; file?: string | undefined },
  setting: string,
  env: NodeJS.ProcessEnv,
): string {
  if (source.env !== undefined) {
    const value = env[source.env];
    if (!value)
      throw new ConfigError(
        `Invalid configuration: ${setting}: environment variable ${source.env} is not set`,
      );
    return value;
  }
  try {
    const value = readFileSync(source.file!, 'utf8').trim();
    if (value) return value;
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: ${setting}: cannot read key file ${source.file} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  throw new ConfigError(`Invalid configuration: ${setting}: key file ${source.file} is empty`);
}

function check<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${where}${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}
