import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import Joi from 'joi';
import { ApiRouter } from '../../src/http/api-router';
import { toOpenApiPath } from '../../src/modules/docs/openapi';
import { Sequelize } from 'sequelize-typescript';
import { openRuntime } from '../../src/runtime';
import { silentLogger, startApp, testRuntime } from '../helpers/context';

const rt = testRuntime('http');
const ERROR_SHAPE = Joi.object({
  error: Joi.object({
    code: Joi.string()
      .pattern(/^[A-Z][A-Z0-9_]*$/)
      .required(),
    message: Joi.string().required(),
    details: Joi.array()
      .items(Joi.object({ path: Joi.string().required(), message: Joi.string().required() }))
      .required(),
  }).required(),
});

function expectError(body: unknown, code: string) {
  Joi.assert(body, ERROR_SHAPE);
  expect((body as { error: { code: string } }).error.code).to.equal(code);
}

/** A route with a body schema, mounted only in this test, to exercise the validation middleware. */
const echo = new ApiRouter()
  .route(
    {
      method: 'post',
      path: '/test/echo',
      summary: 'echo',
      tags: ['test'],
      auth: 'none',
      request: {
        body: Joi.object({
          amount: Joi.number().integer().min(1).required(),
          note: Joi.string().max(10),
        }),
      },
      responses: { 200: { description: 'echo' } },
    },
    async (ctx) => {
      ctx.body = { got: ctx.state.body };
    },
  )
  .route(
    {
      method: 'post',
      path: '/test/no-body',
      summary: 'takes no body',
      tags: ['test'],
      auth: 'none',
      responses: { 200: { description: 'ok' } },
    },
    async (ctx) => {
      ctx.body = { ok: true };
    },
  );

describe('HTTP foundation', () => {
  let url: string;
  let close: () => Promise<void>;

  before(async () => {
    ({ url, close } = await startApp(rt, [echo]));
  });
  after(async () => close());

  it('when GET /healthz, then 200 and a request id header', async () => {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'ok' });
    expect(res.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('when the caller sends a sane X-Request-Id, then it is echoed back', async () => {
    const res = await fetch(`${url}/healthz`, { headers: { 'X-Request-Id': 'client-req-12345' } });
    expect(res.headers.get('x-request-id')).to.equal('client-req-12345');
  });

  it('when PostgreSQL and Redis answer, then GET /readyz is 200', async () => {
    const res = await fetch(`${url}/readyz`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({
      status: 'ready',
      checks: { postgres: 'up', redis: 'up' },
    });
  });

  it('when a route does not exist, then 404 in the error shape', async () => {
    const res = await fetch(`${url}/api/v1/nothing-here`);
    expect(res.status).to.equal(404);
    expectError(await res.json(), 'NOT_FOUND');
  });

  it('when the method is not allowed, then an error in the error shape', async () => {
    const res = await fetch(`${url}/healthz`, { method: 'DELETE' });
    expect(res.status).to.equal(404);
    expectError(await res.json(), 'NOT_FOUND');
  });

  it('when the JSON body is malformed, then 400 MALFORMED_JSON', async () => {
    const res = await fetch(`${url}/test/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"amount": 1,',
    });
    expect(res.status).to.equal(400);
    expectError(await res.json(), 'MALFORMED_JSON');
  });

  it('when the body has an unknown field and a bad value, then 400 VALIDATION_ERROR naming both', async () => {
    const res = await fetch(`${url}/test/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ amount: 1.5, hacker: true }),
    });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as { error: { details: { path: string }[] } };
    expectError(body, 'VALIDATION_ERROR');
    expect(body.error.details.map((d) => d.path).sort()).to.deep.equal(['amount', 'hacker']);
  });

  it('when the body is valid, then the handler gets the converted values', async () => {
    const res = await fetch(`${url}/test/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"amount":"5"}',
    });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ got: { amount: 5 } });
  });

  it('when the body is larger than the limit, then 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await fetch(`${url}/test/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ amount: 1, note: 'x'.repeat(100_000) }),
    });
    expect(res.status).to.equal(413);
    expectError(await res.json(), 'PAYLOAD_TOO_LARGE');
  });

  it('when a route that takes no body gets one, then 400 VALIDATION_ERROR', async () => {
    const empty = await fetch(`${url}/test/no-body`, { method: 'POST' });
    expect(empty.status).to.equal(200);
    const res = await fetch(`${url}/test/no-body`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    expect(res.status).to.equal(400);
    expectError(await res.json(), 'VALIDATION_ERROR');
  });

  it('when the body is not JSON, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await fetch(`${url}/test/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'amount=1',
    });
    expect(res.status).to.equal(415);
    expectError(await res.json(), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('when /admin/queues is asked without or with wrong credentials, then 401 with a Basic challenge', async () => {
    const none = await fetch(`${url}/admin/queues`);
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Basic/);
    expectError(await none.json(), 'UNAUTHORIZED');
    const wrong = await fetch(`${url}/admin/queues`, {
      headers: { Authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` },
    });
    expect(wrong.status).to.equal(401);
  });

  it('when /admin/queues is asked with the admin credentials, then Bull Board answers', async () => {
    const auth = `Basic ${Buffer.from(`${rt.config.admin.user}:${rt.config.admin.password}`).toString('base64')}`;
    const page = await fetch(`${url}/admin/queues`, { headers: { Authorization: auth } });
    expect(page.status).to.equal(200);
    expect(await page.text()).to.match(/<html/i);
    const api = await fetch(`${url}/admin/queues/api/queues?activeQueue=maintenance&page=1`, {
      headers: { Authorization: auth },
    });
    expect(api.status).to.equal(200);
    const body = (await api.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name)).to.include('maintenance');
  });

  it('when GET /metrics, then HTTP counters, job counters and queue depths are exposed', async () => {
    await rt.redis.hincrby(
      `${rt.config.queuePrefix}:metrics:jobs`,
      'maintenance|ledger.audit|completed',
      3,
    );
    await fetch(`${url}/healthz`);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).to.equal(200);
    const text = await res.text();
    expect(text).to.match(
      /p2p_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
    expect(text).to.match(
      /p2p_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz"\}/,
    );
    expect(text).to.contain(
      'p2p_jobs_total{queue="maintenance",name="ledger.audit",status="completed"} 3',
    );
    expect(text).to.match(/p2p_queue_jobs\{queue="maintenance",state="waiting"\} \d+/);
  });

  it('when GET /openapi.json, then every registered route of the app is in the document', async () => {
    const { routers, close: closeDocApp, url: docUrl } = await startApp(rt);
    try {
      const doc = (await (await fetch(`${docUrl}/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
      };
      expect(doc.openapi).to.equal('3.1.0');
      const missing: string[] = [];
      for (const r of routers) {
        for (const layer of r.router.stack) {
          for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
            if (!doc.paths[toOpenApiPath(String(layer.path))]?.[method.toLowerCase()])
              missing.push(`${method} ${layer.path}`);
          }
        }
      }
      expect(missing, 'routes missing from /openapi.json').to.deep.equal([]);
      expect(doc.paths['/admin/queues']).to.have.property('get');
      // What is served is the document in the repository, the one redocly lints.
      expect(doc, 'docs/openapi.json is stale: run npm run docs').to.deep.equal(
        JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../docs/openapi.json'), 'utf8')),
      );
      expect(routers.flatMap((r) => r.router.stack).length).to.be.greaterThan(3);
    } finally {
      await closeDocApp();
    }
  });

  it('when a route is added to a router behind the spec registry, then the coverage check catches it', async () => {
    const sneaky = new ApiRouter();
    sneaky.router.get('/undocumented', async (ctx) => {
      ctx.body = {};
    });
    const documented = new Set(sneaky.specs.map((s) => `${s.method.toUpperCase()} ${s.path}`));
    const registered = sneaky.router.stack.flatMap((l) =>
      l.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(l.path)}`),
    );
    expect(registered.filter((r) => !documented.has(r))).to.deep.equal(['GET /undocumented']);
  });

  it('when GET /docs, then a readable page that loads /openapi.json', async () => {
    const res = await fetch(`${url}/docs`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/text\/html/);
    const init = await (await fetch(`${url}/docs/init.js`)).text();
    expect(init).to.include('/openapi.json');
    const css = await fetch(`${url}/docs/assets/swagger-ui.css`);
    expect(css.status).to.equal(200);
  });
});

describe('readiness with a dependency down', () => {
  it('when Redis is unreachable, then GET /readyz is 503 naming redis', async () => {
    const down = testRuntime('http-down', { redisUrl: 'redis://127.0.0.1:1/0' });
    const { url, close } = await startApp(down);
    try {
      const res = await fetch(`${url}/readyz`);
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { error: { code: string; details: { path: string }[] } };
      expectError(body, 'SERVICE_UNAVAILABLE');
      expect(body.error.details.map((d) => d.path)).to.deep.equal(['redis']);
    } finally {
      await close();
    }
  });

  it('when PostgreSQL is unreachable, then GET /readyz is 503 naming postgres', async () => {
    // A model-less instance, so that the shared one keeps the models.
    const badDb = new Sequelize('postgres://postgres@127.0.0.1:1/none', {
      dialect: 'postgres',
      logging: false,
    });
    const down = openRuntime('http-pg-down', {
      config: { ...rt.config, queuePrefix: `${rt.config.queuePrefix}-pg` },
      logger: silentLogger,
      sequelize: badDb,
    });
    const { url, close } = await startApp(down);
    try {
      const res = await fetch(`${url}/readyz`);
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { error: { details: { path: string }[] } };
      expectError(body, 'SERVICE_UNAVAILABLE');
      expect(body.error.details.map((d) => d.path)).to.deep.equal(['postgres']);
    } finally {
      await close();
      await down.close();
      await badDb.close();
    }
  });
});
