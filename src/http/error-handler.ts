import type { Middleware } from 'koa';
import { AppError, isAppError } from '../lib/errors';
import type { Logger } from '../lib/logger';

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** Maps errors thrown by Koa's body parser and friends onto the closed code set. */
function fromHttpError(err: HttpishError): AppError | undefined {
  const status = err.status ?? err.statusCode;
  if (!status) return undefined;
  if (status === 413 || err.type === 'entity.too.large')
    return new AppError('PAYLOAD_TOO_LARGE', 'request body is too large');
  if (status === 415)
    return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send JSON (Content-Type: application/json)');
  if (
    status === 400 &&
    (err.type === 'entity.parse.failed' || /JSON|parse|Unexpected token/i.test(err.message ?? ''))
  ) {
    return new AppError('MALFORMED_JSON', 'request body is not valid JSON');
  }
  if (status === 404) return new AppError('NOT_FOUND', 'not found');
  if (status === 401)
    return new AppError(
      'UNAUTHORIZED',
      err.expose && err.message ? err.message : 'authentication required',
    );
  if (status === 403) return new AppError('FORBIDDEN', 'forbidden');
  if (status === 405) return new AppError('NOT_FOUND', 'no such route for this method');
  if (status < 500)
    return new AppError(
      'VALIDATION_ERROR',
      err.expose && err.message ? err.message : 'bad request',
    );
  return undefined;
}

/** Redis or PostgreSQL unreachable: 503, so that clients retry instead of reporting a bug. */
function fromDependencyError(err: unknown): AppError | undefined {
  const e = err as { name?: string; message?: string };
  const redisDown =
    e?.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed/.test(e?.message ?? '');
  const pgDown = [
    'SequelizeConnectionError',
    'SequelizeConnectionRefusedError',
    'SequelizeConnectionAcquireTimeoutError',
  ].includes(e?.name ?? '');
  if (redisDown || pgDown) {
    return new AppError(
      'SERVICE_UNAVAILABLE',
      `${redisDown ? 'Redis' : 'the database'} is unavailable; try again shortly`,
      [],
      {
        operational: false,
        retryAfter: 5,
      },
    );
  }
  return undefined;
}

/**
 * Renders every error, and every unmatched route, in the SPEC's shape:
 * {"error":{"code","message","details":[{path,message}]}}. Unexpected errors are logged in
 * full and answered with a generic 500 that leaks nothing.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('NOT_FOUND', `no route ${ctx.method} ${ctx.path}`);
      }
    } catch (raw) {
      const err = isAppError(raw)
        ? raw
        : (fromHttpError(raw as HttpishError) ?? fromDependencyError(raw));
      const log = (ctx.state.log as Logger | undefined) ?? logger;
      if (!err) {
        log.error({ err: raw }, 'unhandled error');
        const internal = new AppError('INTERNAL_ERROR', 'internal error');
        ctx.status = internal.status;
        ctx.body = internal.toBody();
        return;
      }
      if (!err.operational) log.error({ err }, 'non-operational error');
      ctx.status = err.status;
      ctx.body = err.toBody();
      if (err.options.retryAfter) ctx.set('Retry-After', String(err.options.retryAfter));
      if (err.code === 'UNAUTHORIZED' && ctx.state.wwwAuthenticate)
        ctx.set('WWW-Authenticate', ctx.state.wwwAuthenticate);
    }
  };
}
