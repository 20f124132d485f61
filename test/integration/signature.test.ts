import { expect } from 'chai';
import Joi from 'joi';
import { ApiRouter } from '../../src/http/api-router';
import { verifySignature } from '../../src/http/signature';
import { signPayload } from '../../src/lib/crypto';
import { AppError } from '../../src/lib/errors';
import { startApp, testRuntime } from '../helpers/context';

const SECRET = 'signature-test-secret';

describe('signed routes: replays are answered, not refused (SPEC §5)', function () {
  this.timeout(20_000);
  const rt = testRuntime('signature');
  const runs: Record<string, number> = {};
  let gate: Promise<void> = Promise.resolve();
  let url: string;
  let close: () => Promise<void>;

  const count = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);
  const signed = new ApiRouter({ auth: { partner: verifySignature('partner', SECRET, rt.redis) } })
    .route(
      {
        method: 'post',
        path: '/test/signed/:what',
        summary: 'a signed test route',
        tags: ['test'],
        auth: 'partner',
        request: {
          params: Joi.object({ what: Joi.string() }),
          body: Joi.object({ n: Joi.number().integer().min(0).required() }),
        },
        responses: { 201: { description: 'counted' } },
      },
      async (ctx) => {
        const what = ctx.state.params.what as string;
        const n = count(what);
        if (what === 'slow') await gate;
        if (what === 'broken' && n === 1) throw new Error('first attempt crashes');
        if (what === 'refused') throw new AppError('LOAN_CONFLICT', `refused on run ${n}`);
        ctx.status = 201;
        ctx.body = { what, run: n, n: ctx.state.body.n };
      },
    )
    .route(
      {
        method: 'get',
        path: '/test/signed-get',
        summary: 'a signed GET test route',
        tags: ['test'],
        auth: 'partner',
        responses: { 200: { description: 'fresh' } },
      },
      async (ctx) => {
        ctx.body = { run: count('get') };
      },
    );

  before(async () => {
    ({ url, close } = await startApp(rt, [signed]));
  });
  after(async () => close());

  async function send(
    method: 'GET' | 'POST',
    path: string,
    raw: string,
    opts: { ts?: number; secret?: string } = {},
  ) {
    const ts = opts.ts ?? Math.floor(Date.now() / 1000);
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
        'X-Timestamp': String(ts),
        'X-Signature': signPayload(opts.secret ?? SECRET, ts, raw),
      },
      body: method === 'POST' ? raw : undefined,
    });
    return {
      status: res.status,
      body: (await res.json()) as any,
      replayed: res.headers.get('idempotent-replayed') === 'true',
    };
  }

  it('when a signed POST comes again byte for byte, then the first answer is given again and the handler does not run twice', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const first = await send('POST', '/test/signed/once', '{"n":1}', { ts });
    const again = await send('POST', '/test/signed/once', '{"n":1}', { ts });
    expect(first).to.deep.equal({
      status: 201,
      body: { what: 'once', run: 1, n: 1 },
      replayed: false,
    });
    expect(again).to.deep.equal({ ...first, replayed: true });
    expect(runs.once).to.equal(1);
    // Signed anew (another timestamp), the same body is a new request.
    expect((await send('POST', '/test/signed/once', '{"n":1}', { ts: ts - 1 })).body.run).to.equal(
      2,
    );
  });

  it('when the same signature is sent to another path, then that path answers for itself', async () => {
    const ts = Math.floor(Date.now() / 1000);
    await send('POST', '/test/signed/path-a', '{"n":2}', { ts });
    const other = await send('POST', '/test/signed/path-b', '{"n":2}', { ts });
    expect(other).to.deep.include({ status: 201, replayed: false });
    expect(other.body.what).to.equal('path-b');
  });

  it('when the first answer was a business error (4xx), then a replay gets that error again', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const first = await send('POST', '/test/signed/refused', '{"n":3}', { ts });
    const again = await send('POST', '/test/signed/refused', '{"n":3}', { ts });
    expect(first.status).to.equal(409);
    expect(first.body.error).to.deep.include({
      code: 'LOAN_CONFLICT',
      message: 'refused on run 1',
    });
    expect(again).to.deep.equal({ ...first, replayed: true });
    expect(runs.refused).to.equal(1);
  });

  it('when the first answer was a 5xx, then it is not kept and a replay runs the handler again', async () => {
    const ts = Math.floor(Date.now() / 1000);
    expect((await send('POST', '/test/signed/broken', '{"n":4}', { ts })).status).to.equal(500);
    const again = await send('POST', '/test/signed/broken', '{"n":4}', { ts });
    expect(again).to.deep.equal({
      status: 201,
      body: { what: 'broken', run: 2, n: 4 },
      replayed: false,
    });
  });

  it('when a replay arrives while the first is still running, then it goes through to the (idempotent) handler', async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const ts = Math.floor(Date.now() / 1000);
    const first = send('POST', '/test/signed/slow', '{"n":5}', { ts });
    const second = send('POST', '/test/signed/slow', '{"n":5}', { ts });
    while ((runs.slow ?? 0) < 2) await new Promise((r) => setTimeout(r, 10));
    open();
    const answers = await Promise.all([first, second]);
    expect(answers.map((a) => a.status)).to.deep.equal([201, 201]);
    expect(answers.every((a) => !a.replayed)).to.equal(true);
    // Later replays get the answer stored first.
    const later = await send('POST', '/test/signed/slow', '{"n":5}', { ts });
    expect(later.replayed).to.equal(true);
    expect([1, 2]).to.include(later.body.run);
  });

  it('when a signed GET comes twice, then it is verified each time and answered fresh', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const a = await send('GET', '/test/signed-get', '', { ts });
    const b = await send('GET', '/test/signed-get', '', { ts });
    expect([a.status, b.status]).to.deep.equal([200, 200]);
    expect(b.body.run).to.equal(a.body.run + 1);
    expect(b.replayed).to.equal(false);
    const forged = await send('GET', '/test/signed-get', '', { ts, secret: 'wrong' });
    expect(forged.status).to.equal(401);
  });

  it('when the signature is wrong or the timestamp stale, then 401 even for a request answered before', async () => {
    const ts = Math.floor(Date.now() / 1000);
    expect((await send('POST', '/test/signed/guarded', '{"n":6}', { ts })).status).to.equal(201);
    const forged = await send('POST', '/test/signed/guarded', '{"n":6}', { ts, secret: 'nope' });
    const stale = await send('POST', '/test/signed/guarded', '{"n":6}', { ts: ts - 301 });
    for (const r of [forged, stale]) {
      expect(r.status).to.equal(401);
      expect(r.body.error.code).to.equal('INVALID_SIGNATURE');
    }
    expect(runs.guarded).to.equal(1);
  });
});
