import type { Redis } from 'ioredis';
import svgCaptcha from 'svg-captcha';
import { randomToken } from '../../lib/crypto';

const key = (id: string) => `captcha:${id}`;

/** A new image captcha; its answer is kept in Redis for `ttlSeconds`, to be checked once. */
export async function issueCaptcha(
  redis: Redis,
  ttlSeconds: number,
): Promise<{ captchaId: string; svg: string; answer: string }> {
  const captcha = svgCaptcha.create({ size: 5, noise: 2, ignoreChars: '0oO1iIlL', color: true });
  const captchaId = randomToken(16);
  await redis.set(key(captchaId), captcha.text.toLowerCase(), 'EX', ttlSeconds);
  return { captchaId, svg: captcha.data, answer: captcha.text };
}

/** Checks a captcha answer once: the captcha is spent whether the answer is right or wrong. */
export async function consumeCaptcha(
  redis: Redis,
  captchaId: string,
  answer: string,
): Promise<boolean> {
  const expected = await redis.getdel(key(captchaId));
  return expected !== null && expected === answer.trim().toLowerCase();
}
