import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gateway-config-')), 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function keyFile(key: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gateway-key-')), 'key');
  writeFileSync(path, `${key}\n`);
  return path;
}

describe('configuration', () => {
  it('defaults to the embedded emulator when no key is configured', () => {
    const config = loadConfig({});
    expect(config.settings.PORT).toBe(4000);
    expect([...config.credentials]).toEqual([['default', { kind: 'emulator' }]]);
    expect(config.tokens).toEqual([]);
  });

  it('uses the OPENAI_* variables as the default credential', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-env', OPENAI_PROJECT_ID: 'proj_1', PORT: '8080' });
    expect(config.settings.PORT).toBe(8080);
    expect(config.credentials.get('default')).toEqual({
      kind: 'openai',
      apiKey: 'sk-env',
      project: 'proj_1',
    });
  });

  it('reads named credentials and tokens from a file, secrets from env variables and key files', () => {
    const path = configFile({
      credentials: {
        research: {
          apiKey: { file: keyFile('sk-from-file') },
          project: 'proj_r',
          baseURL: 'https://example.test/v1',
        },
        support: { apiKey: { env: 'SUPPORT_KEY' } },
        demo: { emulator: true },
      },
      defaultCredential: 'support',
      tokens: [{ name: 'frontend', token: { env: 'FRONTEND_TOKEN' }, credentials: ['support', 'demo'] }],
      settings: { PORT: 5000, MAX_UPLOAD_FILES: 5 },
    });
    const config = loadConfig({
      GATEWAY_CONFIG: path,
      SUPPORT_KEY: 'sk-support',
      FRONTEND_TOKEN: 'tok',
      PORT: '5001',
    });
    expect(config.credentials.get('research')).toEqual({
      kind: 'openai',
      apiKey: 'sk-from-file',
      project: 'proj_r',
      baseURL: 'https://example.test/v1',
    });
    expect(config.credentials.get('support')).toEqual({ kind: 'openai', apiKey: 'sk-support' });
    expect(config.credentials.get('demo')).toEqual({ kind: 'emulator' });
    expect(config.defaultCredential).toBe('support');
    expect(config.tokens).toEqual([{ name: 'frontend', secret: 'tok', credentials: ['support', 'demo'] }]);
    // The environment wins over the file.
    expect(config.settings.PORT).toBe(5001);
    expect(config.settings.MAX_UPLOAD_FILES).toBe(5);
  });

  it('takes the browser origins and hosts from the environment, over the file', () => {
    const file = configFile({ corsOrigins: ['https://file.example'], allowedHosts: ['file.internal'] });
    expect(loadConfig({ GATEWAY_CONFIG: file })).toMatchObject({
      corsOrigins: ['https://file.example'],
      allowedHosts: ['file.internal'],
    });
    expect(
      loadConfig({
        GATEWAY_CONFIG: file,
        CORS_ORIGINS: 'https://a.example, http://localhost:5173',
        ALLOWED_HOSTS: 'gw.internal',
      }),
    ).toMatchObject({
      corsOrigins: ['https://a.example', 'http://localhost:5173'],
      allowedHosts: ['gw.internal'],
    });
    expect(loadConfig({})).toMatchObject({ corsOrigins: [], allowedHosts: [] });
  });

  it('stops with one line naming the setting for each kind of mistake', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ PORT: 'eighty' }, /^Invalid configuration: PORT: /],
      [{ MAX_UPLOAD_FILE_BYTES: '600000000' }, /^Invalid configuration: MAX_UPLOAD_FILE_BYTES: /],
      [{ UPSTREAM_READ_RETRIES: '-1' }, /^Invalid configuration: UPSTREAM_READ_RETRIES: /],
      [{ OPENAI_BASE_URL: 'ftp://x' }, /^Invalid configuration: OPENAI_BASE_URL: /],
      [{ REDIS_URL: 'http://127.0.0.1:6379' }, /^Invalid configuration: REDIS_URL: /],
      [
        { RESPONSE_CACHE_TTL_MS: '1000' },
        /^Invalid configuration: RESPONSE_CACHE_TTL_MS: .*needs REDIS_URL$/,
      ],
      [
        { GATEWAY_CONFIG: '/no/such/file.json' },
        /^Invalid configuration: GATEWAY_CONFIG: cannot read \/no\/such\/file.json \(ENOENT\)$/,
      ],
      [
        { GATEWAY_CONFIG: configFile('{ not json') },
        /^Invalid configuration: GATEWAY_CONFIG: .* is not valid JSON$/,
      ],
      [
        {
          GATEWAY_CONFIG: configFile({
            credentials: { a: { emulator: true } },
            tokens: [{ name: 't', token: { env: 'T' }, credentials: ['b'] }],
          }),
          T: 'x',
        },
        /^Invalid configuration: tokens\[0\]\.credentials: no credential named 'b'$/,
      ],
      [
        { GATEWAY_CONFIG: configFile({ credentials: { a: { apiKey: { file: '/no/such/key' } } } }) },
        /^Invalid configuration: credentials\.a\.apiKey: cannot read key file \/no\/such\/key \(ENOENT\)$/,
      ],
      [
        { GATEWAY_CONFIG: configFile({ credentials: { a: { apiKey: { env: 'MISSING_KEY' } } } }) },
        /^Invalid configuration: credentials\.a\.apiKey: environment variable MISSING_KEY is not set$/,
      ],
      [
        { GATEWAY_CONFIG: configFile({ credentials: { a: { emulator: true, extra: 1 } } }) },
        /^Invalid configuration: config file: credentials\.a/,
      ],
      [
        { GATEWAY_CONFIG: configFile({ credentials: { a: { emulator: true } }, defaultCredential: 'b' }) },
        /^Invalid configuration: defaultCredential: no credential named 'b'$/,
      ],
      [
        { CORS_ORIGINS: 'https://app.example.com/app, https://b.example' },
        /^Invalid configuration: CORS_ORIGINS: an origin has no path, query or credentials: "https:\/\/app\.example\.com\/app"$/,
      ],
      [
        { GATEWAY_CONFIG: configFile({ corsOrigins: ['https://a.example', 'app.example'] }) },
        /^Invalid configuration: corsOrigins\[1\]: not an origin: "app\.example"/,
      ],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
  });

  it('makes the server exit non-zero with that one line and no stack', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Invalid configuration: PORT: /),
    ]);
  });
});
