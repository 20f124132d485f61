import type { Redis } from 'ioredis';
import { randomToken, sha256Hex } from '../../lib/crypto';

/** Who a session belongs to. */
export interface Session {
  userId: string;
  role: 'investor' | 'admin';
  createdAt: string;
}

const sessionKey = (token: string) => `session:${sha256Hex(token)}`;
const userSessionsKey = (role: string, userId: string) => `user-sessions:${role}:${userId}`;

/**
 * Opaque session tokens in Redis (only their SHA-256 is stored), with sliding expiry: every
 * use extends the session by its TTL. Each user's sessions are indexed so that a password
 * change can end all of them.
 */
export class SessionStore {
  constructor(private readonly redis: Redis) {}

  async create(userId: string, role: Session['role'], ttlSeconds: number): Promise<string> {
    const token = randomToken();
    const session: Session = { userId, role, createdAt: new Date().toISOString() };
    const hash = sha256Hex(token);
    await this.redis
      .multi()
      .set(`session:${hash}`, JSON.stringify({ ...session, ttl: ttlSeconds }), 'EX', ttlSeconds)
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
    const s = JSON.parse(raw) as Session & { ttl: number };
    await this.redis
      .multi()
      .expire(key, s.ttl)
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
}
