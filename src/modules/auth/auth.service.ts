import type { Redis } from 'ioredis';
import { UniqueConstraintError } from 'sequelize';
import type { Config } from '../../../config';
import type { SmsPort } from '../../adapters/sms';
import { safeEqual, type PiiCipher } from '../../lib/crypto';
import { now } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import { maskMobile } from '../../lib/masking';
import { mobileLookup, User, UserRole } from '../users/user.model';
import { hashPassword, verifyPassword } from './password';
import type { SessionStore } from './session.service';
import { consumeSmsCode } from './sms-code.service';

export interface AuthDeps {
  redis: Redis;
  config: Readonly<Config>;
  sessions: SessionStore;
  cipher: PiiCipher;
  sms: SmsPort;
}

/** What register and login answer. */
export interface AuthResult {
  token: string;
  user: { id: string; mobile: string };
}

export const isRegistered = async (mobile: string) =>
  (await User.count({ where: { mobileHash: mobileLookup(mobile) } })) > 0;

const failKey = (who: string) => `login-fail:${who}`;

/**
 * Counts a login attempt before its credentials are checked, and refuses it when the mobile (or
 * the IP) is over its limit: at most LOGIN_MAX_FAILURES per LOGIN_LOCK_SECONDS for a mobile, ten
 * times that for an address. The counters are incremented first, in one MULTI, and the decision
 * is taken from the incremented values: parallel guesses cannot all read "under the limit"
 * before any of them is counted. A successful attempt gives its count back (`attemptSucceeded`).
 */
export async function countAttempt(
  deps: Pick<AuthDeps, 'redis' | 'config'>,
  who: string[],
): Promise<void> {
  const { loginMaxFailures, loginLockSeconds } = deps.config.auth;
  const multi = deps.redis.multi();
  for (const w of who) multi.incr(failKey(w)).expire(failKey(w), loginLockSeconds, 'NX');
  const replies = (await multi.exec()) ?? [];
  for (const [i, w] of who.entries()) {
    const n = Number(replies[i * 2]?.[1] ?? 0);
    if (n > loginMaxFailures * (i === 0 ? 1 : 10)) {
      const retryAfter = Math.max(1, await deps.redis.ttl(failKey(w)));
      throw new AppError('RATE_LIMITED', 'too many failed logins; try again later', [], {
        retryAfter,
        retryable: false,
      });
    }
  }
}

// The first ARGV[1] keys are cleared; the others give back one count, but only while they
// live (a DECR on an expired key would leave a -1 without a TTL: a spare guess for ever).
const GIVE_BACK = `
local clear = tonumber(ARGV[1])
for i, k in ipairs(KEYS) do
  if i <= clear then redis.call('DEL', k)
  elseif redis.call('EXISTS', k) == 1 then redis.call('DECR', k) end
end
return 0`;

/** A successful attempt: the first key's failures are forgotten, the others' count given back. */
export async function attemptSucceeded(
  deps: Pick<AuthDeps, 'redis'>,
  who: string[],
): Promise<void> {
  await deps.redis.eval(GIVE_BACK, who.length, ...who.map(failKey), '1');
}

/**
 * A successful attempt that forgets nobody's failures: each key only gives back the count this
 * attempt added. For credentials sent again and again on their own (HTTP Basic: a browser
 * resends them with every Bull Board poll), where clearing would hand a guesser a fresh
 * LOGIN_MAX_FAILURES at every poll of the real admin.
 */
export async function attemptGivenBack(
  deps: Pick<AuthDeps, 'redis'>,
  who: string[],
): Promise<void> {
  await deps.redis.eval(GIVE_BACK, who.length, ...who.map(failKey), '0');
}

async function startSession(deps: AuthDeps, user: User): Promise<AuthResult> {
  await User.update({ lastLoginAt: now() }, { where: { id: user.id } });
  const token = await deps.sessions.create(
    String(user.id),
    'investor',
    deps.config.auth.sessionTtlSeconds,
    deps.config.auth.sessionMaxAgeSeconds,
  );
  return { token, user: { id: String(user.id), mobile: maskMobile(user.mobile!) } };
}

/** Sign-up (seed 000 item 2): the SMS code proves the mobile; the password is stored hashed. */
export async function register(
  deps: AuthDeps,
  input: { mobile: string; smsCode: string; password: string },
): Promise<AuthResult> {
  // The code first: without a valid one the answer is the same for a registered mobile and a
  // new one, and the SMS step answers alike for both too, so only the holder of the phone
  // (who received the code) learns that the mobile is taken: no one can list customers.
  await consumeSmsCode(deps, input.mobile, 'register', input.smsCode);
  if (await isRegistered(input.mobile)) {
    throw new AppError(
      'MOBILE_ALREADY_REGISTERED',
      'this mobile number is already registered; log in instead',
      [{ path: 'mobile', message: 'already registered' }],
    );
  }
  const passwordHash = await hashPassword(input.password);
  let user: User;
  try {
    user = await User.create({ role: UserRole.Investor, mobile: input.mobile, passwordHash });
  } catch (err) {
    if (err instanceof UniqueConstraintError) {
      throw new AppError(
        'MOBILE_ALREADY_REGISTERED',
        'this mobile number is already registered; log in instead',
      );
    }
    throw err;
  }
  return startSession(deps, user);
}

/** Login by password or by SMS code; repeated failures are throttled per mobile and per IP. */
export async function login(
  deps: AuthDeps,
  input: { mobile: string; password?: string; smsCode?: string; ip: string },
): Promise<AuthResult> {
  // The mobile's counter is keyed by its lookup hash: no mobile number in clear in Redis.
  const who = [`mobile:${mobileLookup(input.mobile)}`, `ip:${input.ip}`];
  // Counted before anything is checked: a failure below keeps its count.
  await countAttempt(deps, who);
  const user = await User.findOne({
    where: { mobileHash: mobileLookup(input.mobile), role: UserRole.Investor },
  });
  if (input.smsCode !== undefined) {
    await consumeSmsCode(deps, input.mobile, 'login', input.smsCode);
    if (!user) throw new AppError('INVALID_CREDENTIALS', 'wrong mobile number or password');
  } else if (!(await verifyPassword(user?.passwordHash, input.password ?? '')) || !user) {
    throw new AppError('INVALID_CREDENTIALS', 'wrong mobile number or password');
  }
  await attemptSucceeded(deps, who);
  return startSession(deps, user);
}

/**
 * Fresh proof for a sensitive change from inside a session (a card replacement, a password
 * change): the account password, counted against the same per-mobile throttle as logins
 * (`login-fail:mobile:<mobile hash>`). A stolen session so gets no more guesses than the login
 * form gives, LOGIN_MAX_FAILURES per LOGIN_LOCK_SECONDS for logins and re-authentications
 * together, and then 429 RATE_LIMITED. True when the password is right.
 */
export async function reauthenticate(
  deps: Pick<AuthDeps, 'redis' | 'config'>,
  userId: string,
  password: string,
): Promise<boolean> {
  const user = await User.findByPk(userId, {
    attributes: ['id', 'mobileHash', 'passwordHash'],
  });
  const who = [user?.mobileHash ? `mobile:${user.mobileHash}` : `user:${userId}`];
  await countAttempt(deps, who);
  if (!user || !(await verifyPassword(user.passwordHash, password))) return false;
  await attemptSucceeded(deps, who);
  return true;
}

/**
 * Changes the password and ends every session of the user (the caller logs in again). The old
 * password is checked like a re-authentication: wrong ones count against the login throttle.
 */
export async function changePassword(
  deps: AuthDeps,
  userId: string,
  input: { oldPassword: string; newPassword: string },
): Promise<void> {
  if (!(await reauthenticate(deps, userId, input.oldPassword))) {
    throw new AppError('INVALID_CREDENTIALS', 'the current password is wrong', [
      { path: 'oldPassword', message: 'wrong password' },
    ]);
  }
  await User.update(
    { passwordHash: await hashPassword(input.newPassword), passwordChangedAt: now() },
    { where: { id: userId } },
  );
  await deps.sessions.endAll(userId, 'investor');
}

/** The throttle keys of an admin credential check (the login route and Bull Board's Basic). */
export const adminAttemptKeys = (username: string, ip: string) => [`admin:${username}`, `ip:${ip}`];

/** Admin login against ADMIN_USER / ADMIN_PASSWORD, throttled like investors'. */
export async function adminLogin(
  deps: AuthDeps,
  input: { username: string; password: string; ip: string },
): Promise<{ token: string }> {
  const who = adminAttemptKeys(input.username, input.ip);
  await countAttempt(deps, who);
  const userOk = safeEqual(input.username, deps.config.admin.user);
  const passOk = safeEqual(input.password, deps.config.admin.password);
  if (!userOk || !passOk) throw new AppError('INVALID_CREDENTIALS', 'wrong username or password');
  const admin = await User.findOne({ where: { username: input.username, role: UserRole.Admin } });
  if (!admin)
    throw new AppError('SERVICE_UNAVAILABLE', 'the admin user is not seeded; run the set-up');
  await attemptSucceeded(deps, who);
  return {
    token: await deps.sessions.create(
      String(admin.id),
      'admin',
      deps.config.admin.sessionTtlSeconds,
      deps.config.auth.sessionMaxAgeSeconds,
    ),
  };
}
