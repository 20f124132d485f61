import type { Middleware } from 'koa';
import { safeEqual } from '../lib/crypto';
import { AppError } from '../lib/errors';
import type { Session, SessionStore } from '../modules/auth/session.service';

/** The bearer token of a request, if any. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+([A-Za-z0-9_-]{20,200})$/.exec(authorization ?? '');
  return m?.[1];
}

/**
 * Requires a live session of the given role; puts it on ctx.state.session (and the token on
 * ctx.state.token). 401 without a valid token, 403 with a token of another role.
 */
export function requireSession(sessions: SessionStore, role: Session['role']): Middleware {
  return async (ctx, next) => {
    const token = bearerToken(ctx.get('Authorization') || undefined);
    if (!token) throw new AppError('UNAUTHORIZED', 'a Bearer token is required');
    const session = await sessions.touch(token);
    if (!session) throw new AppError('UNAUTHORIZED', 'the session is unknown or has expired');
    if (session.role !== role) throw new AppError('FORBIDDEN', `this route is for ${role}s`);
    ctx.state.session = session;
    ctx.state.token = token;
    await next();
  };
}

/**
 * Guards /metrics with METRICS_TOKEN when it is set (a scraper sends it as a Bearer token);
 * without a token configured the route stays open, as it is on a private network.
 */
export function requireMetricsToken(token: string | undefined): Middleware {
  return async (ctx, next) => {
    if (token) {
      const m = /^Bearer\s+(\S+)$/.exec(ctx.get('Authorization'));
      if (!m || !safeEqual(m[1], token))
        throw new AppError('UNAUTHORIZED', 'the metrics token is required');
    }
    await next();
  };
}
