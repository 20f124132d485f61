import type { Redis } from 'ioredis';
import { nowMs } from './clock';

/** One fixed-window counter: at most `limit` hits per `windowSeconds` under `key`. */
export interface Limit {
  key: string;
  limit: number;
  windowSeconds: number;
}

// Checks every counter first and counts a hit on all of them only when none is full, atomically.
const SCRIPT = `
for i = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  if v >= tonumber(ARGV[2 * i - 1]) then return i end
end
for i = 1, #KEYS do
  local v = redis.call('INCR', KEYS[i])
  if v == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 * i]) end
end
return 0`;

/** The window a limit counts in now (windows follow the clock; Redis only cleans up). */
const windowOf = (l: Limit, at: number) => Math.floor(at / 1000 / l.windowSeconds);

/**
 * Counts one hit against every limit, or none when any is full. Returns the first full limit
 * (nothing counted), or undefined when the hit was allowed and counted.
 */
export async function hitLimits(redis: Redis, limits: Limit[]): Promise<Limit | undefined> {
  const at = nowMs();
  const args = limits.flatMap((l) => [String(l.limit), String(2 * l.windowSeconds)]);
  const keys = limits.map((l) => `${l.key}:${windowOf(l, at)}`);
  const full = Number(await redis.eval(SCRIPT, limits.length, ...keys, ...args));
  return full > 0 ? limits[full - 1] : undefined;
}

/** Seconds until a limit's current window ends (for Retry-After). */
export function secondsLeft(limit: Limit): number {
  const at = nowMs();
  const end = (windowOf(limit, at) + 1) * limit.windowSeconds * 1000;
  return Math.max(1, Math.ceil((end - at) / 1000));
}
