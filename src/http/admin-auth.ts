import { safeEqual } from '../lib/crypto';
import type { Middleware } from 'koa';
import { AppError } from '../lib/errors';

/** True when the Basic credentials match the admin's (ADMIN_USER / ADMIN_PASSWORD). */
export function checkBasicAuth(
  header: string | undefined,
  admin: { user: string; password: string },
): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return false;
  // Evaluate both comparisons, always.
  const userOk = safeEqual(decoded.slice(0, sep), admin.user);
  const passOk = safeEqual(decoded.slice(sep + 1), admin.password);
  return userOk && passOk;
}

/**
 * Guards browser-facing admin pages (Bull Board) with the admin credentials over HTTP Basic.
 * `extra` may accept other proofs (an admin bearer token) before Basic is asked for.
 */
export function adminBasicAuth(
  admin: { user: string; password: string },
  extra?: (authorization: string | undefined) => Promise<boolean>,
): Middleware {
  return async (ctx, next) => {
    const authorization = ctx.get('Authorization') || undefined;
    const ok = checkBasicAuth(authorization, admin) || (extra ? await extra(authorization) : false);
    if (!ok) {
      ctx.state.wwwAuthenticate = 'Basic realm="p2p admin", charset="UTF-8"';
      throw new AppError('UNAUTHORIZED', 'admin credentials required');
    }
    await next();
  };
}
