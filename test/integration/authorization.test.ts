import { expect } from 'chai';
import { apiClient, randomMobile, registerInvestor, type Api } from '../helpers/api';
import { startApp, testRuntime } from '../helpers/context';
import { loanBody, signedPost } from '../helpers/market';
import { signPayload } from '../../src/lib/crypto';
import type { ApiRouter } from '../../src/http/api-router';

const rt = testRuntime('authz');

describe('authorization of every route', () => {
  let api: Api;
  let url: string;
  let routers: ApiRouter[];
  let close: () => Promise<void>;
  let investor: { token: string; userId: string; mobile: string };
  let other: { token: string; userId: string };
  let admin: string;

  before(async () => {
    const app = await startApp(rt);
    ({ routers, close, url } = app);
    api = apiClient(app.url);
    investor = await registerInvestor(api);
    other = await registerInvestor(api);
    admin = (
      await api.post('/admin/v1/auth/login', {
        username: rt.config.admin.user,
        password: rt.config.admin.password,
      })
    ).body.token;
  });
  after(async () => close());

  const specs = () => routers.flatMap((r) => r.specs);
  const pathOf = (p: string) => p.replace(/:[A-Za-z]+/g, '1');

  it('when an investor route is called without a token, with a bad token or with an admin token, then 401, 401, 403', async () => {
    const investorRoutes = specs().filter((s) => s.auth === 'investor');
    expect(investorRoutes.length).to.be.greaterThan(6);
    for (const s of investorRoutes) {
      const label = `${s.method.toUpperCase()} ${s.path}`;
      const body = s.method === 'get' ? undefined : {};
      expect(
        (await api.call(s.method.toUpperCase(), pathOf(s.path), { body })).status,
        `${label} no token`,
      ).to.equal(401);
      expect(
        (await api.call(s.method.toUpperCase(), pathOf(s.path), { body, token: 'x'.repeat(43) }))
          .status,
        `${label} bad token`,
      ).to.equal(401);
      const asAdmin = await api.call(s.method.toUpperCase(), pathOf(s.path), {
        body,
        token: admin,
      });
      expect(asAdmin.status, `${label} admin token`).to.equal(403);
      expect(asAdmin.body.error.code).to.equal('FORBIDDEN');
    }
  });

  it('when an admin route is called without a token or with an investor token, then 401 and 403', async () => {
    const adminRoutes = specs().filter((s) => s.auth === 'admin');
    expect(adminRoutes.length).to.be.greaterThan(4);
    for (const s of adminRoutes) {
      const label = `${s.method.toUpperCase()} ${s.path}`;
      const body = s.method === 'get' ? undefined : {};
      expect(
        (await api.call(s.method.toUpperCase(), pathOf(s.path), { body })).status,
        `${label} no token`,
      ).to.equal(401);
      expect(
        (await api.call(s.method.toUpperCase(), pathOf(s.path), { body, token: investor.token }))
          .status,
        `${label} investor token`,
      ).to.equal(403);
    }
  });

  it("when an investor reads /me routes, then only their own data comes back, never another investor's", async () => {
    const mine = await api.get('/api/v1/me', { token: investor.token });
    const theirs = await api.get('/api/v1/me', { token: other.token });
    expect(mine.body.id).to.equal(investor.userId);
    expect(theirs.body.id).to.equal(other.userId);
    expect((await api.get('/api/v1/me/account', { token: other.token })).body.userId).to.equal(
      other.userId,
    );
  });

  it('when Bull Board is opened with an admin bearer token, then it answers; with an investor token, 401', async () => {
    expect((await api.get('/admin/queues', { token: admin })).status).to.equal(200);
    expect((await api.get('/admin/queues', { token: investor.token })).status).to.equal(401);
  });

  it('when the admin logs in wrongly, then 401; logging out ends the admin token', async () => {
    const bad = await api.post('/admin/v1/auth/login', {
      username: rt.config.admin.user,
      password: 'wrong-password',
    });
    expect(bad.status).to.equal(401);
    const token = (
      await api.post('/admin/v1/auth/login', {
        username: rt.config.admin.user,
        password: rt.config.admin.password,
      })
    ).body.token;
    expect((await api.post('/admin/v1/auth/logout', undefined, { token })).status).to.equal(204);
    expect((await api.get('/admin/v1/investors', { token })).status).to.equal(401);
  });

  it('when the admin lists investors with filters, then paging, masking and filters apply', async () => {
    const intl = `+62${investor.mobile.slice(1)}`;
    const byMobile = await api.get(`/admin/v1/investors?mobile=${encodeURIComponent(intl)}`, {
      token: admin,
    });
    expect(byMobile.status).to.equal(200);
    expect(byMobile.body.total).to.equal(1);
    expect(byMobile.body.items[0]).to.include({
      id: investor.userId,
      kycStatus: 'none',
      bankCardBound: false,
    });
    expect(byMobile.body.items[0].mobile).to.equal(
      `${investor.mobile.slice(0, 4)}****${investor.mobile.slice(-4)}`,
    );
    const none = await api.get(`/admin/v1/investors?mobile=${randomMobile()}`, { token: admin });
    expect(none.body).to.deep.include({ items: [], total: 0, page: 1, pageSize: 20 });
    const future = await api.get(
      // Far ahead of any clock other files move (they advance the app clock by months).
      `/admin/v1/investors?registeredFrom=${new Date('2100-01-01').toISOString()}`,
      { token: admin },
    );
    expect(future.body.total).to.equal(0);
    const paged = await api.get('/admin/v1/investors?pageSize=1&page=2&kycStatus=none', {
      token: admin,
    });
    expect(paged.body.items).to.have.length(1);
    expect(paged.body.total).to.be.greaterThan(1);
    const bad = await api.get('/admin/v1/investors?kycStatus=bogus&extra=1', { token: admin });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal([
      'extra',
      'kycStatus',
    ]);
  });
  describe('the matrix: every route of /openapi.json against every kind of caller', () => {
    type Caller = 'anonymous' | 'investor' | 'admin' | 'partner' | 'gateway';
    const CALLERS: Caller[] = ['anonymous', 'investor', 'admin', 'partner', 'gateway'];
    /**
     * What each kind of caller gets from a route of each security class: a status, or 'through'
     * (the guard lets it pass: whatever the route answers, it is not 401 or 403). A route of a
     * class missing here fails the test, so a new class cannot skip the matrix.
     */
    const EXPECTED: Record<string, Record<Caller, number | 'through'>> = {
      none: {
        anonymous: 'through',
        investor: 'through',
        admin: 'through',
        partner: 'through',
        gateway: 'through',
      },
      // METRICS_TOKEN is not set in this runtime: open (its guard is tested in security.test.ts).
      metrics: {
        anonymous: 'through',
        investor: 'through',
        admin: 'through',
        partner: 'through',
        gateway: 'through',
      },
      investor: { anonymous: 401, investor: 'through', admin: 403, partner: 401, gateway: 401 },
      admin: { anonymous: 401, investor: 403, admin: 'through', partner: 401, gateway: 401 },
      adminBasic: { anonymous: 401, investor: 401, admin: 'through', partner: 401, gateway: 401 },
      partner: { anonymous: 401, investor: 401, admin: 401, partner: 'through', gateway: 401 },
      gateway: { anonymous: 401, investor: 401, admin: 401, partner: 401, gateway: 'through' },
    };

    const call = async (caller: Caller, method: string, path: string) => {
      const body = method === 'GET' || method === 'DELETE' ? '' : '{}';
      const headers: Record<string, string> = {};
      if (body) headers['Content-Type'] = 'application/json';
      // A fresh session per call: the logout routes end the one they are called with.
      if (caller === 'investor')
        headers.Authorization = `Bearer ${await rt.sessions.create(investor.userId, 'investor', 600)}`;
      if (caller === 'admin')
        headers.Authorization = `Bearer ${await rt.sessions.create(adminId, 'admin', 600)}`;
      if (caller === 'partner' || caller === 'gateway') {
        const ts = String(Math.floor(Date.now() / 1000));
        const secret = caller === 'partner' ? rt.config.partner.secret : rt.config.gateway.secret;
        headers['X-Timestamp'] = ts;
        headers['X-Signature'] = signPayload(secret, ts, body);
      }
      const res = await fetch(`${url}${path}`, { method, headers, body: body || undefined });
      return res.status;
    };

    let adminId: string;
    before(async () => {
      adminId = (await rt.sessions.touch(admin))!.userId;
    });

    it('when each route is called by each caller, then the status is the one its declared security class gives', async () => {
      const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
      };
      const wrong: string[] = [];
      const checked = new Set<string>();
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const schemes = (op.security ?? []).flatMap((r) => Object.keys(r));
          const cls = schemes[0] ?? 'none';
          const expected = EXPECTED[cls];
          if (!expected) {
            wrong.push(`${method.toUpperCase()} ${p}: security class ${cls} has no row`);
            continue;
          }
          const path = p.replace(/\{[^}]+\}/g, '1');
          checked.add(`${method.toUpperCase()} ${p}`);
          for (const caller of CALLERS) {
            const status = await call(caller, method.toUpperCase(), path);
            const want = expected[caller];
            const ok = want === 'through' ? status !== 401 && status !== 403 : status === want;
            if (!ok)
              wrong.push(`${method.toUpperCase()} ${p} as ${caller}: ${status}, want ${want}`);
          }
        }
      }
      expect(wrong).to.deep.equal([]);
      // Every route the app declares was in the document, and so was checked.
      const declared = new Set(
        specs().map((s) => `${s.method.toUpperCase()} ${s.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
      );
      expect([...declared].filter((r) => !checked.has(r))).to.deep.equal([]);
      expect(checked.has('GET /admin/queues')).to.equal(true);
      expect(checked.size).to.be.greaterThan(50);
    });

    it("when another investor asks for an investor's order or its agreement by id, then 404, never the resource", async () => {
      const loan = loanBody();
      const intake = await signedPost(url, '/partner/v1/loans', loan, rt.config.partner.secret);
      expect(intake.status, JSON.stringify(intake.body)).to.equal(201);
      const placed = await api.post(
        '/api/v1/orders',
        { creditorNo: loan.creditorNo, amount: 1_000_000, payWith: 'card' },
        { token: investor.token },
      );
      expect(placed.status).to.equal(202);
      const id = placed.body.id as string;
      expect((await api.get(`/api/v1/orders/${id}`, { token: investor.token })).status).to.equal(
        200,
      );
      for (const path of [`/api/v1/orders/${id}`, `/api/v1/orders/${id}/agreement`]) {
        const res = await api.get(path, { token: other.token });
        expect(res.status, path).to.be.oneOf([403, 404]);
        expect(JSON.stringify(res.body)).to.not.contain(loan.creditorNo);
      }
    });
  });
});
