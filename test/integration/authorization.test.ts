import { expect } from 'chai';
import { apiClient, randomMobile, registerInvestor, type Api } from '../helpers/api';
import { startApp, testRuntime } from '../helpers/context';
import type { ApiRouter } from '../../src/http/api-router';

const rt = testRuntime('authz');

describe('authorization of every route', () => {
  let api: Api;
  let routers: ApiRouter[];
  let close: () => Promise<void>;
  let investor: { token: string; userId: string; mobile: string };
  let other: { token: string; userId: string };
  let admin: string;

  before(async () => {
    const app = await startApp(rt);
    ({ routers, close } = app);
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
      `/admin/v1/investors?registeredFrom=${new Date(Date.now() + 86_400_000).toISOString()}`,
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
});
