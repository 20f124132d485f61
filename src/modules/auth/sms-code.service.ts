import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../../../config';
import type { SmsPort, SmsPurpose } from '../../adapters/sms';
import type { PiiCipher } from '../../lib/crypto';
import { jakartaDate, now, nowMs } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import { maskMobile } from '../../lib/masking';
import { hitLimits, secondsLeft } from '../../lib/rate-limit';
import { mobileLookup } from '../users/user.model';
import { consumeCaptcha } from './captcha.service';

/** A code lives 5 minutes and dies after 5 wrong tries. */
export const SMS_CODE_TTL_SECONDS = 300;
export const SMS_CODE_MAX_TRIES = 5;

// Redis keys name a mobile by its keyed hash, never in clear (PII at rest).
const codeKey = (purpose: SmsPurpose, mobile: string) =>
  `sms-code:${purpose}:${mobileLookup(mobile)}`;

export interface SmsCodeDeps {
  redis: Redis;
  config: Readonly<Config>;
  sms: SmsPort;
  cipher: PiiCipher;
}

/**
 * Sends a one-time SMS code (seed 000 item 2): the captcha is checked (and spent) first, then
 * the per-mobile-per-minute, per-mobile-per-day and per-IP-per-day limits are counted
 * atomically; the code is kept in Redis as a keyed hash, never in clear. The answer never
 * depends on whether the mobile has an account (for either purpose): a register code goes to
 * a registered mobile too, and only its owner, with that code, learns from POST
 * /api/v1/auth/register that the mobile is taken (no account enumeration).
 */
export async function issueSmsCode(
  deps: SmsCodeDeps,
  input: {
    mobile: string;
    purpose: SmsPurpose;
    captchaId: string;
    captchaText: string;
    ip: string;
    now?: Date;
  },
): Promise<{ code: string; expiresIn: number }> {
  if (!(await consumeCaptcha(deps.redis, input.captchaId, input.captchaText))) {
    throw new AppError(
      'CAPTCHA_INVALID',
      'the captcha answer is wrong or the captcha has expired; get a new one',
      [{ path: 'captchaText', message: 'wrong or expired captcha' }],
    );
  }
  const day = jakartaDate(input.now ?? now());
  const { sms } = deps.config;
  const who = mobileLookup(input.mobile);
  const limits = [
    {
      key: `sms-limit:min:${who}`,
      limit: sms.perMinutePerMobile,
      windowSeconds: 60,
      what: 'per minute for this mobile',
    },
    {
      key: `sms-limit:day:${day}:${who}`,
      limit: sms.perDayPerMobile,
      windowSeconds: 2 * 86_400,
      what: 'per day for this mobile',
    },
    {
      key: `sms-limit:ip:${day}:${input.ip}`,
      limit: sms.perDayPerIp,
      windowSeconds: 2 * 86_400,
      what: 'per day from this address',
    },
  ];
  const full = await hitLimits(deps.redis, limits);
  if (full) {
    const retryAfter = secondsLeft(full);
    const what = limits.find((l) => l.key === full.key)!.what;
    throw new AppError(
      'RATE_LIMITED',
      `too many SMS codes ${what} (at most ${full.limit}); try again later`,
      [{ path: 'mobile', message: `limit of ${full.limit} ${what} reached` }],
      { retryAfter },
    );
  }
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const key = codeKey(input.purpose, input.mobile);
  await deps.redis
    .multi()
    .del(key)
    .hset(
      key,
      'h',
      deps.cipher.lookupHash(`${input.mobile}:${code}`),
      't',
      '0',
      'e',
      String(nowMs() + SMS_CODE_TTL_SECONDS * 1000),
    )
    .expire(key, SMS_CODE_TTL_SECONDS)
    .exec();
  try {
    await deps.sms.sendCode(input.mobile, code, input.purpose);
  } catch (err) {
    await deps.redis.del(key);
    throw err instanceof AppError
      ? err
      : new AppError('SERVICE_UNAVAILABLE', `SMS to ${maskMobile(input.mobile)} could not be sent`);
  }
  return { code, expiresIn: SMS_CODE_TTL_SECONDS };
}

// 1 = right (code spent), 0 = wrong (a try counted; the code dies at the limit), -1 = none or
// expired on the clock (ARGV[3], ms; Redis's own expiry only cleans up).
const CONSUME = `
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return -1 end
local e = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
if e > 0 and tonumber(ARGV[3]) > e then redis.call('DEL', KEYS[1]) return -1 end
if h == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
local t = redis.call('HINCRBY', KEYS[1], 't', 1)
if t >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) end
return 0`;

/** Checks an SMS code once; throws SMS_CODE_INVALID when wrong, expired, spent or tried too often. */
export async function consumeSmsCode(
  deps: Pick<SmsCodeDeps, 'redis' | 'cipher'>,
  mobile: string,
  purpose: SmsPurpose,
  code: string,
): Promise<void> {
  const res = Number(
    await deps.redis.eval(
      CONSUME,
      1,
      codeKey(purpose, mobile),
      deps.cipher.lookupHash(`${mobile}:${code}`),
      String(SMS_CODE_MAX_TRIES),
      String(nowMs()),
    ),
  );
  if (res !== 1) {
    throw new AppError(
      'SMS_CODE_INVALID',
      res === 0
        ? 'the SMS code is wrong'
        : 'the SMS code has expired or was not requested; request a new one',
      [{ path: 'smsCode', message: res === 0 ? 'wrong code' : 'expired or not requested' }],
    );
  }
}
