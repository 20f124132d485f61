import { randomUUID } from 'node:crypto';
import { signPayload } from '../lib/crypto';
import { AppError } from '../lib/errors';

/** How an HTTP adapter reaches its party. */
export interface HttpClientOptions {
  baseUrl: string;
  secret: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Extra attempts after a network error, a timeout or a 5xx. */
  retries?: number;
  /** Pause before retry n (1-based). */
  backoffMs?: (attempt: number) => number;
}

/**
 * A small JSON client for outside parties: every request is signed like the parties sign ours
 * (X-Timestamp, X-Signature = HMAC-SHA256 of `${timestamp}.${body}`) and carries an
 * X-Request-Id that stays the same across retries, so the party can de-duplicate. Timeouts,
 * network errors and 5xx are retried with backoff; 4xx are not. Failures become
 * SERVICE_UNAVAILABLE (retryable).
 */
export class SignedHttpClient {
  constructor(private readonly opts: HttpClientOptions) {}

  async post<T>(path: string, payload: unknown, requestId: string = randomUUID()): Promise<T> {
    const body = JSON.stringify(payload);
    const retries = this.opts.retries ?? 2;
    let lastError = 'no attempt';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0)
        await new Promise((r) =>
          setTimeout(r, this.opts.backoffMs?.(attempt) ?? 200 * 2 ** (attempt - 1)),
        );
      // The party checks our timestamp against its own clock: the system time, not ours.
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const res = await fetch(new URL(path, this.opts.baseUrl), {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-Request-Id': requestId,
            'X-Timestamp': timestamp,
            'X-Signature': signPayload(this.opts.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000),
        });
        const text = await res.text();
        if (res.status >= 500) {
          lastError = `HTTP ${res.status}`;
          continue;
        }
        if (res.status >= 400) {
          throw new AppError(
            'SERVICE_UNAVAILABLE',
            `${path} refused the request (HTTP ${res.status})`,
            [],
            {
              retryable: false,
            },
          );
        }
        return (text ? JSON.parse(text) : {}) as T;
      } catch (err) {
        if (err instanceof AppError) throw err;
        lastError = (err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message;
      }
    }
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `${path} failed after ${retries + 1} attempts: ${lastError}`,
    );
  }
}
