import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Sequelize } from 'sequelize-typescript';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/lib/logger';
import { QueryTypes } from 'sequelize';
import { sha256Hex } from '../../src/lib/crypto';
import { expect } from 'chai';
import { ApiRouter } from '../../src/http/api-router';
import { advanceClock, setClock } from '../../src/lib/clock';
import { withTransaction } from '../../src/lib/db';
import { BankCard } from '../../src/modules/banks/bank-card.model';
import { KycStatus } from '../../src/modules/kyc/kyc.states';
import {
  AccountType,
  investorAccount,
  platformAccount,
} from '../../src/modules/ledger/ledger.accounts';
import { LedgerKind } from '../../src/modules/ledger/ledger.kinds';
import { postTransaction } from '../../src/modules/ledger/ledger.service';
import { User } from '../../src/modules/users/user.model';
import { assertSuperInvestor } from '../../src/modules/users/users.service';
import { RESERVED_USER_IDS, seedDemoData } from '../../src/seed';
import { Withdrawal } from '../../src/modules/wallet/wallet.model';
import { apiClient, randomCard, randomIp, registerInvestor, type Api } from '../helpers/api';
import { startApp, testDb, testRuntime } from '../helpers/context';

/** A route mounted only here: answers with the address the app took for the caller. */
const whoAmI = new ApiRouter().route(
  {
    method: 'get',
    path: '/test/ip',
    summary: 'the caller address as the app sees it',
    tags: ['test'],
    auth: 'none',
    responses: { 200: { description: 'ip' } },
  },
  async (ctx) => {
    ctx.body = { ip: ctx.ip };
  },
);

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('security: who may act, from where, how often', () => {
  afterEach(() => setClock());

  describe('admin credentials on Bull Board', () => {
    // Its own admin user name: the throttle keys it fills are this file's alone.
    const admin = { ...testRuntime.defaults().admin, user: `ops-${randomUUID().slice(0, 8)}` };
    const rt = testRuntime('sec-board', {
      admin,
      auth: { ...testRuntime.defaults().auth, loginMaxFailures: 3 },
    });
    let url: string;
    let close: () => Promise<void>;
    before(async () => ({ url, close } = await startApp(rt)));
    after(async () => close());

    it('when HTTP Basic guesses pass the admin-login limit, then /admin/queues answers 429 even to the right password', async () => {
      const ip = randomIp();
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/admin/queues`, {
          headers: { Authorization: basic(admin.user, `guess-${i}`), 'X-Forwarded-For': ip },
        });
        expect(res.status).to.equal(401);
      }
      const right = await fetch(`${url}/admin/queues`, {
        headers: { Authorization: basic(admin.user, admin.password), 'X-Forwarded-For': ip },
      });
      expect(right.status).to.equal(429);
      expect(((await right.json()) as { error: { code: string } }).error.code).to.equal(
        'RATE_LIMITED',
      );
      await rt.redis.del(`login-fail:admin:${admin.user}`);
    });

    it("when the admin's own Basic requests succeed between guesses (the board polling), then they do not wipe the guesses' count", async () => {
      const board = (password: string, ip = randomIp()) =>
        fetch(`${url}/admin/queues/api/queues`, {
          headers: { Authorization: basic(admin.user, password), 'X-Forwarded-For': ip },
        });
      const adminIp = randomIp();
      try {
        expect((await board('guess-a')).status).to.equal(401);
        expect((await board('guess-b')).status).to.equal(401);
        for (let i = 0; i < 3; i++)
          expect((await board(admin.password, adminIp)).status).to.equal(200);
        expect(await rt.redis.get(`login-fail:admin:${admin.user}`)).to.equal('2');
        expect(Number((await rt.redis.get(`login-fail:ip:${adminIp}`)) ?? 0)).to.equal(0);
        expect((await board('guess-c')).status).to.equal(401);
        expect((await board('guess-d')).status).to.equal(429);
        expect((await board(admin.password, adminIp)).status).to.equal(429);
      } finally {
        await rt.redis.del(`login-fail:admin:${admin.user}`);
      }
    });

    it('when a state-changing Bull Board request comes with Basic from another origin or none, then 403; from the app itself or with the admin token, it passes', async () => {
      const resume = `${url}/admin/queues/api/queues/maintenance/resume`;
      const auth = basic(admin.user, admin.password);
      const foreign = await fetch(resume, {
        method: 'PUT',
        headers: { Authorization: auth, Origin: 'https://evil.example' },
      });
      expect(foreign.status).to.equal(403);
      expect(((await foreign.json()) as { error: { code: string } }).error.code).to.equal(
        'FORBIDDEN',
      );
      const bare = await fetch(resume, { method: 'PUT', headers: { Authorization: auth } });
      expect(bare.status).to.equal(403);
      const forgedReferer = await fetch(resume, {
        method: 'PUT',
        headers: { Authorization: auth, Referer: `https://evil.example/?${url}` },
      });
      expect(forgedReferer.status).to.equal(403);

      const own = await fetch(resume, {
        method: 'PUT',
        headers: { Authorization: auth, Origin: url },
      });
      expect(own.status).to.be.within(200, 299);
      const ownReferer = await fetch(resume, {
        method: 'PUT',
        headers: { Authorization: auth, Referer: `${url}/admin/queues/queue/maintenance` },
      });
      expect(ownReferer.status).to.be.within(200, 299);
      const token = await rt.sessions.create('1', 'admin', 600);
      const withToken = await fetch(resume, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(withToken.status).to.be.within(200, 299);
      // Reading stays open to Basic from anywhere a browser navigates from.
      const read = await fetch(`${url}/admin/queues/api/queues?activeQueue=maintenance`, {
        headers: { Authorization: auth, Origin: 'https://evil.example' },
      });
      expect(read.status).to.equal(200);
    });
  });

  describe('login throttle under parallel guesses', () => {
    const admin = { ...testRuntime.defaults().admin, user: `ops-${randomUUID().slice(0, 8)}` };
    const rt = testRuntime('sec-login', {
      admin,
      auth: { ...testRuntime.defaults().auth, loginMaxFailures: 3 },
    });
    let api: Api;
    let close: () => Promise<void>;
    before(async () => {
      const app = await startApp(rt);
      api = apiClient(app.url);
      close = app.close;
    });
    after(async () => close());

    it('when twelve wrong passwords arrive at once, then at most the limit are checked (401) and the rest refused (429), and the right one is refused while locked', async () => {
      const inv = await registerInvestor(api);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api.post(
            '/api/v1/auth/login',
            { mobile: inv.mobile, password: `wrong-pass-${i}` },
            { headers: { 'X-Forwarded-For': randomIp() } },
          ),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 401).length).to.be.at.most(3);
      expect(statuses.filter((s) => s === 429).length).to.be.at.least(9);
      const right = await api.post(
        '/api/v1/auth/login',
        { mobile: inv.mobile, password: inv.password },
        { headers: { 'X-Forwarded-For': randomIp() } },
      );
      expect(right.status).to.equal(429);
    });

    it('when twelve wrong admin passwords arrive at once, then at most the limit are checked', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api.post(
            '/admin/v1/auth/login',
            { username: admin.user, password: `guess-${i}` },
            { headers: { 'X-Forwarded-For': randomIp() } },
          ),
        ),
      );
      expect(answers.filter((a) => a.status === 401).length).to.be.at.most(3);
      expect(answers.filter((a) => a.status === 429).length).to.be.at.least(9);
      await rt.redis.del(`login-fail:admin:${admin.user}`);
    });

    it('when a login succeeds, then it does not count against the address', async () => {
      const inv = await registerInvestor(api);
      const ip = randomIp();
      for (let i = 0; i < 5; i++) {
        const ok = await api.post(
          '/api/v1/auth/login',
          { mobile: inv.mobile, password: inv.password },
          { headers: { 'X-Forwarded-For': ip } },
        );
        expect(ok.status).to.equal(200);
      }
      expect(Number((await rt.redis.get(`login-fail:ip:${ip}`)) ?? 0)).to.equal(0);
    });
  });

  describe('the client address behind proxies', () => {
    it('when TRUST_PROXY is on with one hop, then the address is the one our proxy saw, not what the client wrote first', async () => {
      const rt = testRuntime('sec-ip', { trustProxy: true, trustProxyHops: 1 });
      const { url, close } = await startApp(rt, [whoAmI]);
      try {
        const ip = async (xff: string) =>
          (
            (await (
              await fetch(`${url}/test/ip`, { headers: { 'X-Forwarded-For': xff } })
            ).json()) as { ip: string }
          ).ip;
        expect(await ip('1.2.3.4, 10.0.0.7')).to.equal('10.0.0.7');
        expect(await ip('5.6.7.8, 10.0.0.7')).to.equal('10.0.0.7');
        expect(await ip('10.0.0.9')).to.equal('10.0.0.9');
      } finally {
        await close();
      }
    });

    it('when two proxies of ours append (TRUST_PROXY_HOPS=2), then the address is the one the outer proxy saw', async () => {
      const rt = testRuntime('sec-ip2', { trustProxy: true, trustProxyHops: 2 });
      const { url, close } = await startApp(rt, [whoAmI]);
      try {
        const res = await fetch(`${url}/test/ip`, {
          headers: { 'X-Forwarded-For': '1.2.3.4, 203.0.113.9, 10.0.0.7' },
        });
        expect(((await res.json()) as { ip: string }).ip).to.equal('203.0.113.9');
      } finally {
        await close();
      }
    });

    it('when TRUST_PROXY is off, then X-Forwarded-For is ignored', async () => {
      const rt = testRuntime('sec-ip-off', { trustProxy: false });
      const { url, close } = await startApp(rt, [whoAmI]);
      try {
        const res = await fetch(`${url}/test/ip`, { headers: { 'X-Forwarded-For': '1.2.3.4' } });
        expect(((await res.json()) as { ip: string }).ip).to.match(/127\.0\.0\.1$/);
      } finally {
        await close();
      }
    });

    it('when a client rotates the first X-Forwarded-For entry, then the per-IP SMS limit still counts it as one address', async () => {
      const rt = testRuntime('sec-sms-ip', {
        trustProxy: true,
        trustProxyHops: 1,
        sms: { perMinutePerMobile: 5, perDayPerMobile: 50, perDayPerIp: 2 },
      });
      const app = await startApp(rt);
      const api = apiClient(app.url);
      try {
        const seen = randomIp();
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) {
          const c = await api.get('/api/v1/captcha');
          const res = await api.post(
            '/api/v1/sms-codes',
            {
              mobile: `0813${String(Date.now() + i).slice(-8)}`,
              captchaId: c.body.captchaId,
              captchaText: c.body.devAnswer,
              purpose: 'login',
            },
            { headers: { 'X-Forwarded-For': `${randomIp()}, ${seen}` } },
          );
          statuses.push(res.status);
        }
        expect(statuses).to.deep.equal([201, 201, 429]);
      } finally {
        await app.close();
      }
    });
  });

  describe('sessions', () => {
    const rt = testRuntime('sec-session', {
      auth: {
        ...testRuntime.defaults().auth,
        sessionTtlSeconds: 3600,
        sessionMaxAgeSeconds: 4 * 3600,
      },
    });
    let api: Api;
    let close: () => Promise<void>;
    before(async () => {
      const app = await startApp(rt);
      api = apiClient(app.url);
      close = app.close;
    });
    after(async () => close());

    it('when a session is used every half hour, then it still ends at SESSION_MAX_AGE after login', async () => {
      const inv = await registerInvestor(api);
      const me = () => api.get('/api/v1/me', { token: inv.token });
      for (let i = 0; i < 7; i++) {
        advanceClock(30 * 60_000);
        expect((await me()).status, `after ${(i + 1) * 30} min`).to.equal(200);
      }
      advanceClock(30 * 60_000); // four hours after login
      expect((await me()).status).to.equal(401);
    });

    it('when a session is left unused past its idle TTL, then it ends before its max age', async () => {
      const inv = await registerInvestor(api);
      advanceClock(3600_000 + 1_000);
      expect((await api.get('/api/v1/me', { token: inv.token })).status).to.equal(401);
    });
  });

  describe('a card change, then a cash-out', () => {
    const rt = testRuntime('sec-card', {
      auth: { ...testRuntime.defaults().auth, cardChangeWithdrawHoldSeconds: 24 * 3600 },
    });
    let api: Api;
    let close: () => Promise<void>;
    before(async () => {
      const app = await startApp(rt);
      api = apiClient(app.url);
      close = app.close;
    });
    after(async () => close());

    it('when a bound card is replaced, then it takes the password, ends the other sessions, and withdrawals wait the hold', async () => {
      const inv = await registerInvestor(api);
      await User.update({ kycStatus: KycStatus.Verified }, { where: { id: inv.userId } });
      await withTransaction(testDb(), (transaction) =>
        postTransaction(
          {
            kind: LedgerKind.Recharge,
            idempotencyKey: `test-fund-${inv.userId}`,
            entries: [
              { account: platformAccount(AccountType.Escrow), amount: -500_000n },
              { account: investorAccount(inv.userId, 'available'), amount: 500_000n },
            ],
          },
          { transaction },
        ),
      );
      const bind = (body: object) => api.post('/api/v1/me/bank-cards', body, { token: inv.token });
      // The first binding after KYC needs no password.
      expect((await bind({ bankCode: 'BCA', cardNo: randomCard('455633') })).status).to.equal(201);
      const other = await api.post('/api/v1/auth/login', {
        mobile: inv.mobile,
        password: inv.password,
      });
      expect(other.status).to.equal(200);

      const bri = randomCard('518828');
      const bare = await bind({ bankCode: 'BRI', cardNo: bri });
      expect(bare.status).to.equal(403);
      expect(bare.body.error.code).to.equal('REAUTH_REQUIRED');
      const wrong = await bind({ bankCode: 'BRI', cardNo: bri, password: 'not-my-pass' });
      expect(wrong.status).to.equal(403);
      expect(wrong.body.error.code).to.equal('REAUTH_REQUIRED');
      expect(await BankCard.count({ where: { userId: inv.userId, status: 'replaced' } })).to.equal(
        0,
      );
      // Nothing changed yet: withdrawing is allowed before any replacement.
      const before = await api.post(
        '/api/v1/me/withdrawals',
        { amount: 100_000 },
        { token: inv.token },
      );
      expect(before.status).to.equal(202);

      const replaced = await bind({ bankCode: 'BRI', cardNo: bri, password: inv.password });
      expect(replaced.status).to.equal(201);
      expect((await api.get('/api/v1/me', { token: other.body.token })).status).to.equal(401);
      expect((await api.get('/api/v1/me', { token: inv.token })).status).to.equal(200);

      const held = await api.post(
        '/api/v1/me/withdrawals',
        { amount: 100_000 },
        { token: inv.token },
      );
      expect(held.status).to.equal(422);
      expect(held.body.error.code).to.equal('WITHDRAWAL_ON_HOLD');
      const until = held.body.error.details.find((d: { path: string }) => d.path === 'holdUntil');
      const replacedAt = (await BankCard.findOne({
        where: { userId: inv.userId, status: 'replaced' },
      }))!.replacedAt!;
      expect(Date.parse(until.message) - replacedAt.getTime()).to.equal(24 * 3600_000);
      expect(await Withdrawal.count({ where: { userId: inv.userId } })).to.equal(1);

      advanceClock(24 * 3600_000 + 1_000);
      const later = await api.post(
        '/api/v1/me/withdrawals',
        { amount: 100_000 },
        { token: inv.token },
      );
      expect(later.status).to.equal(202);
    });

    it('when a card replacement carries an Idempotency-Key, then the stored request hash is keyed, not a bare SHA-256 of a body holding the password', async () => {
      const inv = await registerInvestor(api);
      await User.update({ kycStatus: KycStatus.Verified }, { where: { id: inv.userId } });
      const bind = (body: object, key: string) =>
        api.post('/api/v1/me/bank-cards', body, {
          token: inv.token,
          headers: { 'Idempotency-Key': key },
        });
      expect(
        (await bind({ bankCode: 'BCA', cardNo: randomCard('455633') }, randomUUID())).status,
      ).to.equal(201);
      const body = { bankCode: 'BRI', cardNo: randomCard('518828'), password: inv.password };
      const key = randomUUID();
      expect((await bind(body, key)).status).to.equal(201);
      const [row] = (await testDb().query(
        'SELECT request_hash FROM idempotency_keys WHERE key = $1',
        {
          bind: [key],
          type: QueryTypes.SELECT,
        },
      )) as { request_hash: string }[];
      expect(row.request_hash).to.not.equal(sha256Hex(JSON.stringify(body)));
      expect(row.request_hash).to.equal(rt.cipher.lookupHash(JSON.stringify(body)));
      // The replay still works.
      const again = await bind(body, key);
      expect(again.status).to.equal(201);
      expect(again.headers.get('idempotent-replayed')).to.equal('true');
    });

    it('when wrong passwords are sent to replace a card again and again, then they are throttled', async () => {
      const inv = await registerInvestor(api);
      await User.update({ kycStatus: KycStatus.Verified }, { where: { id: inv.userId } });
      const bind = (body: object) => api.post('/api/v1/me/bank-cards', body, { token: inv.token });
      expect((await bind({ bankCode: 'BCA', cardNo: randomCard('455633') })).status).to.equal(201);
      const bri = randomCard('518828');
      const statuses: number[] = [];
      for (let i = 0; i < rt.config.auth.loginMaxFailures + 1; i++)
        statuses.push(
          (await bind({ bankCode: 'BRI', cardNo: bri, password: `guess-${i}` })).status,
        );
      expect(statuses.slice(0, -1).every((s) => s === 403)).to.equal(true);
      expect(statuses.at(-1)).to.equal(429);
    });
  });

  describe('the super investor', () => {
    const rt = testRuntime('sec-super');
    let api: Api;
    let close: () => Promise<void>;
    before(async () => {
      const app = await startApp(rt);
      api = apiClient(app.url);
      close = app.close;
    });
    after(async () => close());

    it('when SUPER_INVESTOR_USER_ID is the seeded super investor, then start-up passes; when it is an investor or nobody, then start-up refuses', async () => {
      await assertSuperInvestor(rt.config);
      const inv = await registerInvestor(api);
      const refused = await assertSuperInvestor({ superInvestorUserId: Number(inv.userId) }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(refused?.message).to.match(/role investor, not the super investor/);
      const nobody = await assertSuperInvestor({ superInvestorUserId: 999 }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(nobody?.message).to.match(/no user, not the super investor/);
    });

    it('when an investor signs up, then the id is above the reserved range, and the seed refuses to make a taken id the super investor', async () => {
      const inv = await registerInvestor(api);
      expect(Number(inv.userId)).to.be.greaterThan(RESERVED_USER_IDS);
      const admin = `ops-${randomUUID().slice(0, 8)}`;
      const err = await seedDemoData(testDb(), {
        ...rt.config,
        superInvestorUserId: Number(inv.userId),
        admin: { ...rt.config.admin, user: admin },
      }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/exists with the role investor/);
      expect((await User.findByPk(inv.userId))!.role).to.equal('investor');
      // Nothing of that seed run stayed behind.
      expect(await User.count({ where: { username: admin } })).to.equal(0);
    });
  });

  describe('what the public routes tell', () => {
    it('when METRICS_TOKEN is set, then /metrics asks for it', async () => {
      const token = randomUUID();
      const rt = testRuntime('sec-metrics', { metricsToken: token });
      const { url, close } = await startApp(rt);
      try {
        expect((await fetch(`${url}/metrics`)).status).to.equal(401);
        expect(
          (await fetch(`${url}/metrics`, { headers: { Authorization: 'Bearer wrong-token' } }))
            .status,
        ).to.equal(401);
        const ok = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
        expect(ok.status).to.equal(200);
        expect(await ok.text()).to.contain('p2p_http_requests_total');
      } finally {
        await close();
      }
    });

    it("when PostgreSQL refuses the connection, then /readyz names it without the driver's error, which goes to the log only", async () => {
      const rt = testRuntime('sec-readyz-pg');
      const lines: string[] = [];
      const logger = createLogger(
        { name: 'test', level: 'warn' },
        new Writable({
          write(chunk, _enc, cb) {
            lines.push(String(chunk));
            cb();
          },
        }),
      );
      // No models: this instance only answers the readiness query (and fails it).
      const missing = `p2p_readyz_missing_${randomUUID().slice(0, 8)}`;
      const sequelize = new Sequelize(`postgres://postgres@127.0.0.1:5432/${missing}`, {
        dialect: 'postgres',
        logging: false,
      });
      const { app } = createApp({ ...rt, logger, sequelize });
      const server: Server = await new Promise((resolve) => {
        const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
      });
      try {
        const res = await fetch(
          `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`,
        );
        expect(res.status).to.equal(503);
        const body = (await res.json()) as { error: { code: string; details: unknown[] } };
        expect(body.error.code).to.equal('SERVICE_UNAVAILABLE');
        expect(body.error.details).to.deep.equal([
          { path: 'postgres', message: 'postgres is not reachable' },
        ]);
        expect(JSON.stringify(body)).to.not.contain(missing);
        expect(lines.join('')).to.contain(missing);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await sequelize.close();
      }
    });

    it('when Redis is down, then /readyz names it without the driver error', async () => {
      const rt = testRuntime('sec-readyz', { redisUrl: 'redis://127.0.0.1:1/0' });
      const { url, close } = await startApp(rt);
      try {
        const res = await fetch(`${url}/readyz`);
        expect(res.status).to.equal(503);
        const text = await res.text();
        expect(text).to.contain('redis');
        expect(text).to.not.match(/ECONNREFUSED|127\.0\.0\.1|:1\b|did not answer|Connection/i);
      } finally {
        await close();
      }
    });
  });
});
