import { randomInt } from 'node:crypto';
import { checkContract, isWatched } from './contract';

/** A JSON response as tests look at it. */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny JSON client for one base URL. */
export function apiClient(baseUrl: string) {
  async function call<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    // Apps started in this process are checked by the fetch wrapper; others (child processes) here.
    if (!isWatched(baseUrl)) checkContract(method, path, res, parsed);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  return {
    call,
    get: <T = any>(path: string, opts?: Parameters<typeof call>[2]) => call<T>('GET', path, opts),
    post: <T = any>(path: string, body?: unknown, opts: Parameters<typeof call>[2] = {}) =>
      call<T>('POST', path, { ...opts, body }),
  };
}

export type Api = ReturnType<typeof apiClient>;

/** A fresh Indonesian mobile number in 08… form. */
export const randomMobile = () => `0812${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;

/** A random address for X-Forwarded-For (the test app trusts the proxy header). */
export const randomIp = () => `10.${randomInt(0, 255)}.${randomInt(0, 255)}.${randomInt(1, 254)}`;

/** A fresh valid NIK (random province and birth day, 1995) with the given serial. */
export const randomNik = (serial = String(randomInt(1001, 9998))) =>
  `${randomInt(11, 95)}7506${String(randomInt(1, 28) + (randomInt(0, 2) ? 40 : 0)).padStart(2, '0')}0195${serial}`;

/** Captcha → SMS code → register; returns the token, user and mobile. */
export async function registerInvestor(api: Api, mobile = randomMobile(), password = 'secret123') {
  const ip = randomIp();
  const cap = await api.get('/api/v1/captcha');
  const sms = await api.post(
    '/api/v1/sms-codes',
    { mobile, captchaId: cap.body.captchaId, captchaText: cap.body.devAnswer, purpose: 'register' },
    { headers: { 'X-Forwarded-For': ip } },
  );
  if (sms.status !== 201) throw new Error(`sms-codes: ${sms.status} ${JSON.stringify(sms.body)}`);
  const reg = await api.post('/api/v1/auth/register', {
    mobile,
    smsCode: sms.body.devCode,
    password,
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  return { token: reg.body.token as string, userId: reg.body.user.id as string, mobile, password };
}

/** Polls until `fn` returns true (jobs run asynchronously). */
export async function eventually(fn: () => Promise<boolean>, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh 16-digit card number: BIN + random middle + the given last four digits. */
export const randomCard = (bin: string, last4 = String(randomInt(1000, 9999))) =>
  `${bin}${String(randomInt(0, 1_000_000)).padStart(16 - bin.length - 4, '0')}${last4}`;
