import type { Redis } from 'ioredis';
import svgCaptcha from 'svg-captcha';
import { nowMs } from '../../lib/clock';
import { randomToken } from '../../lib/crypto';

const key = (id: string) => `captcha:${id}`;

/** A new image captcha; its answer is good for `ttlSeconds` on the clock, to be checked once. */
export async function issueCaptcha(
  redis: Redis,
  ttlSeconds: number,
): Promise<{ captchaId: string; svg: string; answer: string }> {
  const captcha = svgCaptcha.create({ size: 5, noise: 2, ignoreChars: '0oO1iIlL', color: true });
  const captchaId = randomToken(16);
  const expires = nowMs() + ttlSeconds * 1000;
  await redis.set(key(captchaId), `${expires}:${captcha.text.toLowerCase()}`, 'EX', ttlSeconds);
  return { captchaId, svg: captcha.data, answer: captcha.text };
}

/** Checks a captcha answer once: the captcha is spent whether the answer is right or wrong. */
export async function consumeCaptcha(
  redis: Redis,
  captchaId: string,
  answer: string,
): Promise<boolean> {
  const stored = await redis.getdel(key(captchaId));
  if (stored === null) return false;
  const [expires, expected] = stored.split(':');
  return nowMs() <= Number(expires) && expected === answer.trim().toLowerCase();
}
