import type { Middleware } from 'koa';
import { safeEqual } from '../lib/crypto';
import { AppError } from '../lib/errors';

/** The user name and password of an HTTP Basic header, or undefined when there is none. */
export function basicCredentials(
  header: string | undefined,
): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return undefined;
  return { user: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
}

/** True when the Basic credentials match the admin's (ADMIN_USER / ADMIN_PASSWORD). */
export function checkBasicAuth(
  header: string | undefined,
  admin: { user: string; password: string },
): boolean {
  const c = basicCredentials(header);
  if (!c) return false;
  // Evaluate both comparisons, always.
  const userOk = safeEqual(c.user, admin.user);
  const passOk = safeEqual(c.password, admin.password);
  return userOk && passOk;
}

/** The throttle of admin credential checks (the admin login's): count first, give back on success. */
export interface AdminThrottle {
  count(username: string, ip: string): Promise<void>;
  succeeded(username: string, ip: string): Promise<void>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards browser-facing admin pages (Bull Board). An admin bearer token (`extra`) is accepted
 * as it is. HTTP Basic with the admin credentials is counted against the admin-login throttle
 * before it is checked (so the password cannot be guessed without end), and, because browsers
 * resend Basic credentials on their own, a state-changing request authenticated by Basic must
 * come from the app's own pages: its `Origin` (or, without one, its `Referer`) must be this
 * app's origin, else 403 (no cross-site request can retry, clean or pause a queue).
 */
export function adminBasicAuth(
  admin: { user: string; password: string },
  extra?: (authorization: string | undefined) => Promise<boolean>,
  throttle?: AdminThrottle,
): Middleware {
  return async (ctx, next) => {
    const authorization = ctx.get('Authorization') || undefined;
    if (extra && (await extra(authorization))) return next();
    const basic = basicCredentials(authorization);
    if (basic && throttle) await throttle.count(basic.user, ctx.ip);
    if (!basic || !checkBasicAuth(authorization, admin)) {
      ctx.state.wwwAuthenticate = 'Basic realm="p2p admin", charset="UTF-8"';
      throw new AppError('UNAUTHORIZED', 'admin credentials required');
    }
    if (throttle) await throttle.succeeded(basic.user, ctx.ip);
    if (
      !SAFE_METHODS.has(ctx.method) &&
      // (Koa 3's ctx.origin is the Origin header itself: our own is built from the Host.)
      !sameOrigin(ctx.get('Origin'), ctx.get('Referer'), `${ctx.protocol}://${ctx.host}`)
    )
      throw new AppError(
        'FORBIDDEN',
        'a state-changing admin request authenticated by HTTP Basic must come from this app (Origin or Referer); use the admin token otherwise',
      );
    await next();
  };
}

function sameOrigin(originHeader: string, referer: string, own: string): boolean {
  const claimed = originHeader || referer;
  if (!claimed || claimed === 'null') return false;
  try {
    return new URL(claimed).origin === own;
  } catch {
    return false;
  }
}
