import type { LeftoverSharing, LoggedLeftover } from '../upstream/index.ts';
import type { SharedRedis } from './redis.ts';

/**
 * How replicas learn that one of them died, and undo what it left upstream. Each replica keeps a
 * key alive (`PX`, refreshed); its leftovers are a hash of its own. Every replica looks, now and
 * then, for replicas whose key expired; one of them (the first to set the sweep's `NX` key) undoes
 * their leftovers. A replica killed mid-upload is found within `aliveMs + sweepEveryMs` and its
 * files deleted and uploads cancelled well within 30 s.
 */
export const REPLICA_LIFE = {
  /** How long a replica counts as alive after it last said so. */
  aliveMs: 12_000,
  refreshEveryMs: 3_000,
  sweepEveryMs: 5_000,
  /** How long one survivor has a dead replica's leftovers to itself while it undoes them. */
  sweepHoldMs: 60_000,
  /** Leftovers that could not be undone (upstream failing) are tried again after this. */
  retryAfterMs: 15_000,
  /** A dead replica's leftovers undone at once. */
  undoConcurrency: 4,
} as const;

const KNOWN = 'vsg:replicas';
const ALIVE = 'vsg:alive:';
const LEFT = 'vsg:leftovers:';
const SWEEP = 'vsg:sweep:';

export function redisLeftovers(redis: SharedRedis): LeftoverSharing & { stop(): Promise<void> } {
  const { commands, replicaId: me } = redis;
  const timers: NodeJS.Timeout[] = [];
  let sweeping: Promise<void> = Promise.resolve();
  // Said at once, so a replica that dies right after it started is still found.
  const sayAlive = () =>
    commands
      .multi()
      .set(`${ALIVE}${me}`, '1', 'PX', REPLICA_LIFE.aliveMs)
      .sadd(KNOWN, me)
      .exec()
      .catch(() => {});
  void sayAlive();
  timers.push(setInterval(sayAlive, REPLICA_LIFE.refreshEveryMs).unref());

  return {
    log: {
      async put(id, entry) {
        await commands.hset(`${LEFT}${me}`, id, JSON.stringify(entry)).catch(() => {});
      },
      remove(id) {
        void commands.hdel(`${LEFT}${me}`, id).catch(() => {});
      },
    },
    sweep(undo) {
      const tick = () => {
        sweeping = sweeping.then(() => sweepDead(redis, undo)).catch(() => {});
      };
      timers.push(setInterval(tick, REPLICA_LIFE.sweepEveryMs).unref());
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await sweeping;
      // Gone on purpose: what it could not undo itself is the survivors' at their next look.
      await commands.del(`${ALIVE}${me}`).catch(() => {});
    },
  };
}

async function sweepDead(
  redis: SharedRedis,
  undo: (entry: LoggedLeftover) => Promise<boolean | null>,
): Promise<void> {
  const { commands, replicaId: me } = redis;
  for (const id of await commands.smembers(KNOWN)) {
    if (id === me || (await commands.exists(`${ALIVE}${id}`))) continue;
    const held = await commands.set(`${SWEEP}${id}`, me, 'PX', REPLICA_LIFE.sweepHoldMs, 'NX');
    if (held !== 'OK') continue;
    const entries = Object.entries(await commands.hgetall(`${LEFT}${id}`));
    const pending = [...entries];
    const worker = async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const [field, value] = next;
        const entry = parsed(value);
        if (!entry || (await undo(entry))) await commands.hdel(`${LEFT}${id}`, field);
      }
    };
    await Promise.all(Array.from({ length: REPLICA_LIFE.undoConcurrency }, worker));
    // All undone: the replica is forgotten. Otherwise (upstream failing, or a credential this
    // replica does not hold) the entries wait for the next sweep, by whichever replica.
    if ((await commands.hlen(`${LEFT}${id}`)) === 0) {
      await commands.srem(KNOWN, id);
      await commands.del(`${SWEEP}${id}`);
    } else {
      await commands.pexpire(`${SWEEP}${id}`, REPLICA_LIFE.retryAfterMs);
    }
  }
}

function parsed(value: string): LoggedLeftover | null {
  try {
    const entry = JSON.parse(value) as LoggedLeftover;
    return typeof entry === 'object' && entry !== null && typeof entry.credential === 'string' ? entry : null;
  } catch {
    return null;
  }
}
