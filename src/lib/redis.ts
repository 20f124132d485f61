import { Redis, type RedisOptions } from 'ioredis';

export { Redis };

/**
 * Redis connections by role. Workers block on Redis and must never give up a command
 * (maxRetriesPerRequest: null); producers fail fast when Redis is down (no offline queue);
 * plain clients (sessions, rate limits, readiness) fail fast too.
 */
export function createRedis(
  url: string,
  role: 'worker' | 'producer' | 'client',
  extra: RedisOptions = {},
): Redis {
  const base: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null }
      : { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 };
  return new Redis(url, { lazyConnect: false, ...base, ...extra });
}

/** Waits until a connection is ready (a fail-fast client may otherwise refuse the first command). */
export async function waitReady(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
