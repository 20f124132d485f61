import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';

/**
 * BullMQ needs Redis to keep every key: warns when maxmemory-policy is not `noeviction`.
 * Returns the policy read (undefined when CONFIG is not allowed, as on some managed Redis).
 */
export async function warnOnEvictionPolicy(
  redis: Redis,
  logger: Logger,
): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      logger.warn(
        { policy },
        `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may evict queue keys and lose jobs`,
      );
    }
    return policy;
  } catch (err) {
    logger.warn(
      { err: (err as Error).message },
      'could not read Redis maxmemory-policy; make sure it is noeviction',
    );
    return undefined;
  }
}
