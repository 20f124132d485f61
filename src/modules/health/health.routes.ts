import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize-typescript';
import { ApiRouter } from '../../http/api-router';
import { AppError } from '../../lib/errors';
import { waitReady } from '../../lib/redis';
import { liveSchema, readySchema } from './health.schemas';

const TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what} did not answer in ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      ).unref(),
    ),
  ]);
}

/** GET /healthz (the process answers) and GET /readyz (PostgreSQL and Redis answer). */
export function healthRoutes(deps: { sequelize: Sequelize; redis: Redis }): ApiRouter {
  return new ApiRouter()
    .route(
      {
        method: 'get',
        path: '/healthz',
        summary: 'Liveness: the process is up',
        tags: ['health'],
        auth: 'none',
        responses: {
          200: { description: 'up', schema: liveSchema },
        },
      },
      async (ctx) => {
        ctx.body = { status: 'ok' };
      },
    )
    .route(
      {
        method: 'get',
        path: '/readyz',
        summary: 'Readiness: PostgreSQL and Redis are reachable; 503 names the one that is down',
        tags: ['health'],
        auth: 'none',
        responses: {
          200: { description: 'ready', schema: readySchema },
          503: { description: 'a dependency is down' },
        },
      },
      async (ctx) => {
        const [pg, redis] = await Promise.allSettled([
          withTimeout(deps.sequelize.query('SELECT 1'), 'postgres'),
          withTimeout(
            waitReady(deps.redis, TIMEOUT_MS).then(() => deps.redis.ping()),
            'redis',
          ),
        ]);
        // The answer names the dependency only; the driver's error (hosts, users, database
        // names) goes to the log, never to the caller.
        const failures = { postgres: pg, redis };
        const down = Object.entries(failures)
          .filter(([, r]) => r.status === 'rejected')
          .map(([path, r]) => {
            ctx.state.log?.warn(
              { dependency: path, err: (r as PromiseRejectedResult).reason as Error },
              'readiness check failed',
            );
            return { path, message: `${path} is not reachable` };
          });
        if (down.length > 0) {
          throw new AppError(
            'SERVICE_UNAVAILABLE',
            `not ready: ${down.map((d) => d.path).join(', ')} down`,
            down,
          );
        }
        ctx.body = { status: 'ready', checks: { postgres: 'up', redis: 'up' } };
      },
    );
}
