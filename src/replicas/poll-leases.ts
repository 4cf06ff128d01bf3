import { randomUUID } from 'node:crypto';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { turnOf } from '../concurrency.ts';
import type { PollMember, PollMembership, PollSharing, SharedPollEvent } from '../live/sharing.ts';
import type { SharedRedis } from './redis.ts';

/**
 * The lease on polling one object. A holder that dies stops renewing, so its lease lapses after
 * `ttlMs` and another replica takes it at its next try (`renewMs` later at most): a takeover
 * within about 5 s. Renewing three times per lifetime keeps a holder whose event loop is
 * busy for a second or two from losing it.
 */
export const POLL_LEASE = { ttlMs: 4_000, renewMs: 1_000 } as const;

const PREFIX = 'vsg:live:';

/**
 * Redis's documented single-instance lock (`SET key value NX PX ttl`, released and renewed only
 * by the holder of that value). Taking it also draws a fencing number, increasing with every
 * holder, which travels with each published event: a replica hears no event from an older holder
 * than one it has already heard.
 */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0`;
/** Renews the lease, and the last state with it, while it is still this holder's. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0`;
/** Releases the lease, and the last state with it: nobody vouches for it once nobody polls. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2]) end
return 0`;

interface Envelope {
  fence: number;
  event: SharedPollEvent;
}

/**
 * Shared pollers through Redis: a lease per object, its events on a channel of its own, and its
 * last state kept (as long as the lease) so a replica that starts watching later hears it at once.
 */
export function redisPollSharing(redis: SharedRedis): PollSharing {
  const { commands, subscriber } = redis;
  const handlers = new Map<string, Set<(envelope: Envelope) => void>>();
  subscriber.on('message', (channel: string, text: string) => {
    const listeners = handlers.get(channel);
    if (!listeners) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    for (const listener of [...listeners]) listener(envelope);
  });

  // One counter per rate (the setting is one per process, so in practice one).
  const windows = new Map<number, RateLimiterRedis>();
  return {
    async turn(credentialId, perSecond, signal) {
      let window = windows.get(perSecond);
      if (!window) {
        window = new RateLimiterRedis({
          storeClient: commands,
          keyPrefix: `${PREFIX}polls`,
          points: perSecond,
          duration: 1,
        });
        windows.set(perSecond, window);
      }
      await turnOf(window, credentialId, Number.POSITIVE_INFINITY, signal);
    },
    join(key: string, member: PollMember): PollMembership {
      const keys = {
        lease: `${PREFIX}lease:${key}`,
        fence: `${PREFIX}fence:${key}`,
        state: `${PREFIX}state:${key}`,
        channel: `${PREFIX}events:${key}`,
      };
      const token = `${redis.replicaId}:${randomUUID()}`;
      /** This replica's fencing number while it holds the lease; 0 when it does not. */
      let fence = 0;
      /** The newest holder heard from. */
      let newestFence = 0;
      let left = false;
      let timer: NodeJS.Timeout | undefined;

      const onEnvelope = (envelope: Envelope) => {
        if (left || envelope.fence < newestFence) return;
        if (fence > 0) {
          if (envelope.fence <= fence) return;
          // A newer holder: this replica's lease lapsed without its knowing (a long pause).
          fence = 0;
          member.unlead();
        }
        newestFence = envelope.fence;
        member.hear(envelope.event);
      };

      const tick = async () => {
        if (left) return;
        try {
          if (fence > 0) {
            const held = await commands.eval(RENEW, 2, keys.lease, keys.state, token, POLL_LEASE.ttlMs);
            if (!left && held !== 1 && fence > 0) {
              fence = 0;
              member.unlead();
            }
          } else {
            const drawn = Number(
              await commands.eval(ACQUIRE, 2, keys.lease, keys.fence, token, POLL_LEASE.ttlMs),
            );
            if (drawn > 0) {
              if (left) {
                await commands.eval(RELEASE, 2, keys.lease, keys.state, token);
                return;
              }
              fence = drawn;
              newestFence = Math.max(newestFence, drawn);
              member.lead();
            }
          }
        } catch {
          // Redis unreachable for now: a holder cannot know it still holds the lease, so it stops
          // polling (another replica may take over); everyone tries again at the next tick.
          if (fence > 0 && !left) {
            fence = 0;
            member.unlead();
          }
        }
      };

      const start = async () => {
        let listeners = handlers.get(keys.channel);
        if (!listeners) {
          listeners = new Set();
          handlers.set(keys.channel, listeners);
          await subscriber.subscribe(keys.channel);
        }
        listeners.add(onEnvelope);
        // Subscribed first, read second: an event published in between is heard twice at worst,
        // and the poller ignores a state it already has.
        const last = await commands.get(keys.state);
        if (last && !left) onEnvelope(JSON.parse(last) as Envelope);
        await tick();
        if (!left) timer = setInterval(() => void tick(), POLL_LEASE.renewMs);
      };
      void start().catch(() => {
        // Retried by the ticks, which a failed subscription did not get to start.
        if (!left) timer = setInterval(() => void tick(), POLL_LEASE.renewMs);
      });

      return {
        publish(event) {
          if (left || fence === 0) return;
          const text = JSON.stringify({ fence, event } satisfies Envelope);
          const ends = event.type === 'error' || event.terminal;
          // The last state outlives no lease: a replica that comes later polls for itself. An
          // ending is not kept, since the same object can start over (files added to a store).
          const pipeline = commands.multi();
          if (ends) pipeline.del(keys.state);
          else pipeline.set(keys.state, text, 'PX', POLL_LEASE.ttlMs);
          pipeline.publish(keys.channel, text);
          void pipeline.exec().catch(() => {});
        },
        leave() {
          if (left) return;
          left = true;
          clearInterval(timer);
          const listeners = handlers.get(keys.channel);
          listeners?.delete(onEnvelope);
          if (listeners && listeners.size === 0) {
            handlers.delete(keys.channel);
            void subscriber.unsubscribe(keys.channel).catch(() => {});
          }
          if (fence > 0) {
            fence = 0;
            void commands.eval(RELEASE, 2, keys.lease, keys.state, token).catch(() => {});
          }
        },
      };
    },
  };
}
