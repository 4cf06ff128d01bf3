/**
 * OpenAI's error envelope and the wording it uses. Messages follow the real API wherever it is
 * known (openai/openai-dotnet tests/SessionRecords, quoted where used) because client code in the
 * wild matches on these texts.
 */

export interface ErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    message: string,
    options: {
      type?: string;
      param?: string | null;
      code?: string | null;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = options.type ?? 'invalid_request_error';
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toJSON(): { error: ErrorBody } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /**
   * The Files API's form since 2026: the same envelope plus a top-level `detail`, e.g.
   * `{"error":{...},"detail":{"message":"No such File object: fake_id","code":null}}` (openai-dotnet
   * FilesTests/GetFileCanParseServiceError at 386d6f1a; the 2025 recordings had no `detail`).
   */
  toJSONWithDetail(): { error: ErrorBody; detail: { message: string; code: string | null } } {
    return { ...this.toJSON(), detail: { message: this.message, code: this.code } };
  }
}

export type JsonKind =
  | 'a string'
  | 'an integer'
  | 'a number'
  | 'a boolean'
  | 'an object'
  | 'an array'
  | 'null';

export function describeKind(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return 'an object';
}

export const badRequest = (
  message: string,
  param: string | null = null,
  code: string | null = null,
): ApiError => new ApiError(400, message, { param, code });

export const invalidType = (param: string, expected: JsonKind, value: unknown): ApiError =>
  badRequest(
    `Invalid type for '${param}': expected ${expected}, but got ${describeKind(value)} instead.`,
    param,
    'invalid_type',
  );

export const invalidValue = (param: string, message: string): ApiError =>
  badRequest(`Invalid '${param}': ${message}`, param, 'invalid_value');

export const invalidEnum = (param: string, value: string, allowed: readonly string[]): ApiError => {
  const quoted = allowed.map((v) => `'${v}'`);
  const list =
    quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}` : (quoted[0] ?? '');
  return badRequest(`Invalid value: '${value}'. Supported values are: ${list}.`, param, 'invalid_value');
};

export const integerOutOfRange = (
  param: string,
  value: number,
  bound: { min?: number; max?: number },
): ApiError =>
  bound.max !== undefined && value > bound.max
    ? badRequest(
        `Invalid '${param}': integer above maximum value. Expected a value <= ${bound.max}, but got ${value} instead.`,
        param,
        'integer_above_max_value',
      )
    : badRequest(
        `Invalid '${param}': integer below minimum value. Expected a value >= ${bound.min}, but got ${value} instead.`,
        param,
        'integer_below_min_value',
      );

export const numberOutOfRange = (
  param: string,
  value: number,
  bound: { min: number; max: number },
): ApiError =>
  value > bound.max
    ? badRequest(
        `Invalid '${param}': number above maximum value. Expected a value <= ${bound.max}, but got ${value} instead.`,
        param,
        'decimal_above_max_value',
      )
    : badRequest(
        `Invalid '${param}': number below minimum value. Expected a value >= ${bound.min}, but got ${value} instead.`,
        param,
        'decimal_below_min_value',
      );

export const stringTooLong = (param: string, max: number, length: number): ApiError =>
  badRequest(
    `Invalid '${param}': string too long. Expected a string with maximum length ${max}, but got a string with length ${length} instead.`,
    param,
    'string_above_max_length',
  );

export const arrayTooLong = (param: string, max: number, length: number): ApiError =>
  badRequest(
    `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${length} instead.`,
    param,
    'array_above_max_length',
  );

export const emptyArray = (param: string): ApiError =>
  badRequest(
    `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
    param,
    'empty_array',
  );

export const missingParameter = (param: string): ApiError =>
  badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');

export const unknownParameter = (param: string): ApiError =>
  badRequest(`Unknown parameter: '${param}'.`, param, 'unknown_parameter');

export const wrongIdPrefix = (param: string, value: string, prefix: string): ApiError =>
  invalidValue(param, `'${value}'. Expected an ID that begins with '${prefix}'.`);

export const invalidJson = (): ApiError =>
  badRequest(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
  );

export const invalidUrl = (method: string, path: string): ApiError =>
  new ApiError(404, `Invalid URL (${method} ${path})`);

export const missingApiKey = (): ApiError =>
  new ApiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
  );

/**
 * The real API echoes a masked key. We do the same on purpose: a gateway test can then prove that
 * the gateway never forwards this text (and the key fragment in it) to its own clients.
 */
export const incorrectApiKey = (key: string): ApiError =>
  new ApiError(
    401,
    `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    { code: 'invalid_api_key' },
  );

export function maskKey(key: string): string {
  if (key.length < 12) return '*'.repeat(key.length);
  return `${key.slice(0, 5)}${'*'.repeat(key.length - 9)}${key.slice(-4)}`;
}

export const rateLimited = (retryAfterSeconds: number): ApiError =>
  new ApiError(429, 'Rate limit reached for requests', {
    type: 'requests',
    code: 'rate_limit_exceeded',
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

const SERVER_ERROR_MESSAGES: Record<500 | 502 | 503, string> = {
  500: 'The server had an error while processing your request. Sorry about that!',
  502: 'Bad gateway.',
  503: 'The server is overloaded or not ready yet.',
};

export const serverError = (status: 500 | 502 | 503 = 500): ApiError =>
  new ApiError(status, SERVER_ERROR_MESSAGES[status], { type: 'server_error' });

export const payloadTooLarge = (message: string, param: string | null = null): ApiError =>
  new ApiError(413, message, { param, code: 'payload_too_large' });
