import { createHash } from 'node:crypto';
import { type ReadCache, sharedCredentialId } from '../upstream/index.ts';
import type { SharedRedis } from './redis.ts';

/** Larger answers (long lists) are not kept: the cache is for the small reads a dashboard repeats. */
export const READ_CACHE_MAX_BYTES = 256 * 1024;

const PREFIX = 'vsg:cache:';

/**
 * An object still changing is never kept: a status in progress (or cancelling), or files still
 * in progress in a store's or batch's counts, whose status OpenAI derives separately.
 */
const CHANGING = /"status"\s*:\s*"(in_progress|cancelling)"|"in_progress"\s*:\s*[1-9]/;

/**
 * Successful JSON answers to a credential's GETs, kept `ttlMs` in Redis for every replica. Any
 * other call of the credential (a write) drops all of its entries before it is sent and again
 * once answered, so a read after a mutation is fresh; a read that raced the write may be kept
 * stale for at most `ttlMs`.
 */
export function redisReadCache(redis: SharedRedis, ttlMs: number): ReadCache {
  const { commands } = redis;
  const clearOf = async (id: string) => {
    const index = `${PREFIX}${id}:keys`;
    const keys = await commands.smembers(index);
    if (keys.length > 0) await commands.del(...keys, index);
  };
  return {
    forget: (credential) => clearOf(sharedCredentialId(credential)).catch(() => {}),
    wrap(transport, credential) {
      const id = sharedCredentialId(credential);
      const index = `${PREFIX}${id}:keys`;
      const clear = () => clearOf(id);
      return async (input, init) => {
        const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
        if (method !== 'GET') {
          await clear().catch(() => {});
          try {
            return await transport(input, init);
          } finally {
            await clear().catch(() => {});
          }
        }
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        const key = `${PREFIX}${id}:${createHash('sha256').update(url).digest('base64url')}`;
        const hit = await commands.get(key).catch(() => null);
        if (hit !== null) {
          const { body, requestId } = JSON.parse(hit) as { body: string; requestId: string | null };
          const headers = new Headers({ 'content-type': 'application/json' });
          if (requestId) headers.set('x-request-id', requestId);
          return new Response(body, { status: 200, headers });
        }
        const response = await transport(input, init);
        const type = response.headers.get('content-type') ?? '';
        const length = Number(response.headers.get('content-length') ?? '0');
        if (response.status !== 200 || !type.includes('application/json') || length > READ_CACHE_MAX_BYTES) {
          return response;
        }
        const body = await response.text();
        if (body.length <= READ_CACHE_MAX_BYTES && !CHANGING.test(body)) {
          const entry = JSON.stringify({ body, requestId: response.headers.get('x-request-id') });
          await commands
            .multi()
            .set(key, entry, 'PX', ttlMs)
            .sadd(index, key)
            .pexpire(index, ttlMs * 2)
            .exec()
            .catch(() => {});
        }
        return new Response(body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      };
    },
  };
}
