import fs from 'node:fs';
import path from 'node:path';
import Koa from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import { adminBasicAuth, type AdminThrottle } from './http/admin-auth';
import { adminAttemptKeys, attemptGivenBack, countAttempt } from './modules/auth/auth.service';
import type { ApiRouter, RouteGuards, RouteSpec } from './http/api-router';
import { bearerToken, requireMetricsToken, requireSession } from './http/auth';
import { idempotency } from './http/idempotency';
import { verifySignature } from './http/signature';
import { loansRoutes } from './modules/loans/loans.routes';
import { ordersRoutes } from './modules/orders/orders.routes';
import { paymentsRoutes } from './modules/payments/payments.routes';
import { repaymentsRoutes } from './modules/repayments/repayments.routes';
import { studentLoansRoutes } from './modules/student-loans/student-loans.routes';
import { transfersRoutes } from './modules/transfers/transfers.routes';
import { assetsRoutes } from './modules/assets/assets.routes';
import { autoInvestRoutes } from './modules/auto-invest/auto-invest.routes';
import { walletRoutes } from './modules/wallet/wallet.routes';
import { errorHandler } from './http/error-handler';
import { createMetrics } from './http/metrics';
import { requestContext } from './http/request-id';
import { adminRoutes } from './modules/admin/admin.routes';
import { authRoutes } from './modules/auth/auth.routes';
import { banksRoutes } from './modules/banks/banks.routes';
import { docsRoutes } from './modules/docs/docs.routes';
import { buildOpenApi } from './modules/docs/openapi';
import { kycRoutes } from './modules/kyc/kyc.routes';
import { meRoutes } from './modules/users/me.routes';
import type { Runtime } from './runtime';
import { healthRoutes } from './modules/health/health.routes';
import { ApiRouter as Router } from './http/api-router';
import { PROJECT_ROOT } from './lib/project-root';

/** What the web app needs from the process: configuration, connections, ports. */
export type AppDeps = Pick<
  Runtime,
  'config' | 'logger' | 'sequelize' | 'redis' | 'queues' | 'cipher' | 'sessions' | 'ports'
>;

/** The guards every router shares: one per kind of caller, and the idempotency layer. */
function buildGuards(deps: AppDeps): RouteGuards {
  return {
    auth: {
      investor: requireSession(deps.sessions, 'investor'),
      admin: requireSession(deps.sessions, 'admin'),
      partner: verifySignature('partner', deps.config.partner.secret, deps.redis),
      gateway: verifySignature('gateway', deps.config.gateway.secret, deps.redis),
      metrics: requireMetricsToken(deps.config.metricsToken),
      adminBasic: adminBasicAuth(
        deps.config.admin,
        async (authorization) => isAdminToken(deps, authorization),
        adminThrottle(deps),
      ),
    },
    idempotency: idempotency(deps.sequelize, deps.cipher),
  };
}

/**
 * Every admin credential check counts against the admin-login throttle. A right Basic header
 * only gives its own count back: the board polls with it every few seconds, and clearing the
 * counter at each poll would let guesses from elsewhere go on without end.
 */
const adminThrottle = (deps: AppDeps): AdminThrottle => ({
  count: (username, ip) => countAttempt(deps, adminAttemptKeys(username, ip)),
  succeeded: (username, ip) => attemptGivenBack(deps, adminAttemptKeys(username, ip)),
});

async function isAdminToken(deps: AppDeps, authorization: string | undefined): Promise<boolean> {
  const token = bearerToken(authorization);
  return token ? (await deps.sessions.touch(token))?.role === 'admin' : false;
}

/** Body limits: JSON only, small. */
const BODY_LIMIT = '64kb';

// Read from the project root: the compiled app runs from dist/, which has no package.json.
const VERSION: string = JSON.parse(
  fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'),
).version;

/** Every router of the API, in mounting order (the OpenAPI document is built from these). */
export function buildRouters(
  deps: AppDeps,
  metrics: ReturnType<typeof createMetrics>,
): ApiRouter[] {
  const guards = buildGuards(deps);
  const routers: ApiRouter[] = [
    healthRoutes(deps),
    authRoutes(deps, guards),
    meRoutes(deps, guards),
    kycRoutes(deps, guards),
    banksRoutes(deps, guards),
    adminRoutes(deps, guards),
    loansRoutes(deps, guards),
    ordersRoutes(deps, guards),
    walletRoutes(deps, guards),
    paymentsRoutes(guards),
    repaymentsRoutes(deps, guards),
    studentLoansRoutes(guards),
    assetsRoutes(deps, guards),
    transfersRoutes(deps, guards),
    autoInvestRoutes(deps, guards),
  ];
  const metricsRouter = new Router(guards).route(
    {
      method: 'get',
      path: '/metrics',
      summary:
        'Prometheus metrics: HTTP, jobs (all workers), queue depths; Bearer METRICS_TOKEN when set',
      tags: ['health'],
      auth: 'metrics',
      responses: {
        200: { description: 'Prometheus text format', contentType: 'text/plain' },
      },
    },
    async (ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  );
  routers.push(metricsRouter);
  routers.push(docsRoutes(() => openApiOf(routers)));
  return routers;
}

/** The OpenAPI document of these routers, as GET /openapi.json serves it. */
export const openApiOf = (routers: ApiRouter[]): Record<string, unknown> =>
  buildOpenApi(routers.flatMap((r) => r.specs).concat(BULL_BOARD_SPEC), { version: VERSION });

/** Bull Board is a mounted sub-app, not a router: documented here so that /openapi.json lists it. */
const BULL_BOARD_SPEC: RouteSpec = {
  method: 'get',
  path: '/admin/queues',
  summary:
    'Bull Board (queues dashboard) for ops; admin token or HTTP Basic with the admin credentials',
  tags: ['admin'],
  auth: 'adminBasic',
  responses: {
    200: { description: 'HTML dashboard', contentType: 'text/html' },
    401: { description: 'no or wrong credentials' },
    429: { description: 'RATE_LIMITED: too many wrong credentials from this address' },
  },
};

/** The Koa application (no listen): error handling → body → routers → Bull Board. */
export function createApp(
  deps: AppDeps,
  opts: { extraRouters?: ApiRouter[] } = {},
): { app: Koa; routers: ApiRouter[] } {
  const app = new Koa({ proxy: deps.config.trustProxy, maxIpsCount: deps.config.trustProxyHops });
  const metrics = createMetrics({
    redis: deps.redis,
    queues: deps.queues,
    prefix: deps.config.queuePrefix,
  });
  const routers = [...buildRouters(deps, metrics), ...(opts.extraRouters ?? [])];

  app.use(requestContext(deps.logger));
  app.use(metrics.middleware);
  app.use(errorHandler(deps.logger));
  app.use(
    koaBody({
      json: true,
      jsonLimit: BODY_LIMIT,
      urlencoded: false,
      text: false,
      multipart: false,
      jsonStrict: true,
      // Signed partner and gateway routes verify the exact bytes received.
      includeUnparsed: true,
      parsedMethods: [
        HttpMethodEnum.POST,
        HttpMethodEnum.PUT,
        HttpMethodEnum.PATCH,
        HttpMethodEnum.DELETE,
      ],
      onError: (err: Error) => {
        throw err;
      },
    }),
  );

  const board = new KoaAdapter();
  createBullBoard({
    queues: [...deps.queues.values()].map((q) => new BullMQAdapter(q)),
    serverAdapter: board,
  });
  board.setBasePath('/admin/queues');
  const guard = adminBasicAuth(
    deps.config.admin,
    (authorization) => isAdminToken(deps, authorization),
    adminThrottle(deps),
  );
  const boardMiddleware = board.registerPlugin();
  app.use(async (ctx, next) => {
    if (ctx.path === '/admin/queues' || ctx.path.startsWith('/admin/queues/')) {
      await guard(ctx, () => boardMiddleware(ctx, next));
      return;
    }
    await next();
  });

  for (const r of routers) {
    app.use(r.router.routes());
    app.use(r.router.allowedMethods({ throw: true }));
  }
  return { app, routers };
}
