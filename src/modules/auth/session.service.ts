import type { Redis } from 'ioredis';
import { nowMs } from '../../lib/clock';
import { randomToken, sha256Hex } from '../../lib/crypto';

/** Who a session belongs to. */
export interface Session {
  userId: string;
  role: 'investor' | 'admin';
  createdAt: string;
}

const sessionKey = (token: string) => `session:${sha256Hex(token)}`;
const userSessionsKey = (role: string, userId: string) => `user-sessions:${role}:${userId}`;

/** What is kept per session: who, when it was last used (on the clock), its idle and absolute limits. */
interface StoredSession extends Session {
  ttl: number;
  seenAt: number;
  /** Seconds from creation after which the session is over however active (absent: none). */
  maxAge?: number;
}

/**
 * Opaque session tokens in Redis (only their SHA-256 is stored), with sliding expiry on the
 * clock: a session unused for its TTL is over, and every use extends it, but never beyond its
 * absolute maximum age from login (SESSION_MAX_AGE_HOURS). Redis expires the key too
 * (clean-up). Each user's sessions are indexed so that a password or card change can end them.
 * `maxAgeSeconds` given here bounds every session as it is used, also those stored without a
 * limit or with a longer one (created before the limit existed or was lowered).
 */
export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly maxAgeSeconds?: number,
  ) {}

  async create(
    userId: string,
    role: Session['role'],
    ttlSeconds: number,
    maxAgeSeconds?: number,
  ): Promise<string> {
    const token = randomToken();
    const at = nowMs();
    const session: StoredSession = {
      userId,
      role,
      createdAt: new Date(at).toISOString(),
      ttl: ttlSeconds,
      seenAt: at,
      ...(maxAgeSeconds ? { maxAge: maxAgeSeconds } : {}),
    };
    const hash = sha256Hex(token);
    await this.redis
      .multi()
      .set(`session:${hash}`, JSON.stringify(session), 'EX', ttlSeconds)
      .sadd(userSessionsKey(role, userId), hash)
      .expire(userSessionsKey(role, userId), ttlSeconds)
      .exec();
    return token;
  }

  /** The live session of a token, its expiry pushed back; undefined when unknown or expired. */
  async touch(token: string): Promise<Session | undefined> {
    const key = sessionKey(token);
    const raw = await this.redis.get(key);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as StoredSession;
    const at = nowMs();
    const maxAge = Math.min(s.maxAge ?? Infinity, this.maxAgeSeconds ?? Infinity);
    const tooOld = at - Date.parse(s.createdAt) >= maxAge * 1000;
    if ((s.seenAt !== undefined && at - s.seenAt > s.ttl * 1000) || tooOld) {
      await this.end(token);
      return undefined;
    }
    await this.redis
      .multi()
      .set(key, JSON.stringify({ ...s, seenAt: at }), 'EX', s.ttl)
      .expire(userSessionsKey(s.role, s.userId), s.ttl, 'GT')
      .exec();
    return { userId: s.userId, role: s.role, createdAt: s.createdAt };
  }

  async end(token: string): Promise<void> {
    const key = sessionKey(token);
    const raw = await this.redis.get(key);
    if (!raw) return;
    const s = JSON.parse(raw) as Session;
    await this.redis
      .multi()
      .del(key)
      .srem(userSessionsKey(s.role, s.userId), sha256Hex(token))
      .exec();
  }

  /** Ends every session of a user (password change). */
  async endAll(userId: string, role: Session['role']): Promise<void> {
    const setKey = userSessionsKey(role, userId);
    const hashes = await this.redis.smembers(setKey);
    await this.redis
      .multi()
      .del(...hashes.map((h) => `session:${h}`), setKey)
      .exec();
  }

  /** Ends every session of a user except the one of `keepToken` (a card replaced from it). */
  async endOthers(userId: string, role: Session['role'], keepToken: string): Promise<number> {
    const setKey = userSessionsKey(role, userId);
    const keep = sha256Hex(keepToken);
    const others = (await this.redis.smembers(setKey)).filter((h) => h !== keep);
    if (others.length === 0) return 0;
    await this.redis
      .multi()
      .del(...others.map((h) => `session:${h}`))
      .srem(setKey, ...others)
      .exec();
    return others.length;
  }
}
