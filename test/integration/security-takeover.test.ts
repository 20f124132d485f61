import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { Client } from 'pg';
import { QueryTypes } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { advanceClock, setClock } from '../../src/lib/clock';
import { createMigrator } from '../../src/lib/migrator';
import { KycStatus } from '../../src/modules/kyc/kyc.states';
import { mobileLookup, User } from '../../src/modules/users/user.model';
import { RESERVED_USER_IDS, seedDemoData } from '../../src/seed';
import {
  apiClient,
  randomCard,
  randomIp,
  randomMobile,
  registerInvestor,
  type Api,
} from '../helpers/api';
import { freePort, startApp, testRuntime } from '../helpers/context';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Starts a process entry under tsx with SUPER_INVESTOR_USER_ID overridden and waits for it to
 * exit (or to say it started, which is a failure here); answers its exit code and output.
 */
async function startRefused(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const end = Date.now() + 30_000;
  for (;;) {
    const done = await Promise.race([
      exited.then((code) => ({ code })),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
    ]);
    if (done) return { code: done.code, out };
    if (/(worker started|web listening|scheduler started)/.test(out) || Date.now() > end) {
      child.kill('SIGKILL');
      await exited;
      return { code: null, out };
    }
  }
}

describe('security: a stolen session, the super investor', () => {
  afterEach(() => setClock());

  describe('re-authentication shares the login throttle', () => {
    const rt = testRuntime('sec-reauth', {
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

    const login = (mobile: string, password: string) =>
      api.post(
        '/api/v1/auth/login',
        { mobile, password },
        { headers: { 'X-Forwarded-For': randomIp() } },
      );

    it('when wrong passwords are sent to replace a bound card, then they count against the login throttle of the mobile and the right password cannot log in either (429)', async () => {
      const inv = await registerInvestor(api);
      await User.update({ kycStatus: KycStatus.Verified }, { where: { id: inv.userId } });
      const bind = (body: object) => api.post('/api/v1/me/bank-cards', body, { token: inv.token });
      expect((await bind({ bankCode: 'BCA', cardNo: randomCard('455633') })).status).to.equal(201);
      const bri = randomCard('518828');
      for (let i = 0; i < 3; i++) {
        const res = await bind({ bankCode: 'BRI', cardNo: bri, password: `guess-${i}` });
        expect(res.status).to.equal(403);
        expect(res.body.error.code).to.equal('REAUTH_REQUIRED');
      }
      const right = await login(inv.mobile, inv.password);
      expect(right.status).to.equal(429);
      expect(right.body.error.code).to.equal('RATE_LIMITED');
      // And the other way round: locked out, the right password cannot replace the card either.
      const locked = await bind({ bankCode: 'BRI', cardNo: bri, password: inv.password });
      expect(locked.status).to.equal(429);
    });

    it('when wrong current passwords are sent to change the password, then they are throttled with logins (429), even the right one, and the password stays', async () => {
      const inv = await registerInvestor(api);
      const change = (oldPassword: string) =>
        api.post(
          '/api/v1/me/password',
          { oldPassword, newPassword: 'taken-over-1' },
          { token: inv.token },
        );
      for (let i = 0; i < 3; i++) {
        const res = await change(`guess-${i}-pass`);
        expect(res.status).to.equal(401);
        expect(res.body.error.code).to.equal('INVALID_CREDENTIALS');
      }
      const right = await change(inv.password);
      expect(right.status).to.equal(429);
      expect(right.body.error.code).to.equal('RATE_LIMITED');
      await rt.redis.del(`login-fail:mobile:${mobileLookup(inv.mobile)}`);
      expect((await login(inv.mobile, 'taken-over-1')).status).to.equal(401);
      expect((await login(inv.mobile, inv.password)).status).to.equal(200);
    });

    it('when a card is replaced with the right password, then earlier wrong guesses are forgotten for the mobile', async () => {
      const inv = await registerInvestor(api);
      await User.update({ kycStatus: KycStatus.Verified }, { where: { id: inv.userId } });
      const bind = (body: object) => api.post('/api/v1/me/bank-cards', body, { token: inv.token });
      expect((await bind({ bankCode: 'BCA', cardNo: randomCard('455633') })).status).to.equal(201);
      const bri = randomCard('518828');
      expect((await bind({ bankCode: 'BRI', cardNo: bri, password: 'guess-0' })).status).to.equal(
        403,
      );
      expect(
        (await bind({ bankCode: 'BRI', cardNo: bri, password: inv.password })).status,
      ).to.equal(201);
      expect(await rt.redis.exists(`login-fail:mobile:${mobileLookup(inv.mobile)}`)).to.equal(0);
    });
  });

  describe('absolute session age', () => {
    const rt = testRuntime('sec-maxage', {
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

    it('when a session was stored without an age limit (before SESSION_MAX_AGE_HOURS, or with a longer one), then it still ends SESSION_MAX_AGE after login however active', async () => {
      const inv = await registerInvestor(api);
      const legacy = await rt.sessions.create(inv.userId, 'investor', 3600);
      const longer = await rt.sessions.create(inv.userId, 'investor', 3600, 30 * 24 * 3600);
      const me = (token: string) => api.get('/api/v1/me', { token });
      for (let i = 0; i < 7; i++) {
        advanceClock(30 * 60_000);
        expect((await me(legacy)).status, `after ${(i + 1) * 30} min`).to.equal(200);
        expect((await me(longer)).status, `after ${(i + 1) * 30} min`).to.equal(200);
      }
      advanceClock(30 * 60_000);
      expect((await me(legacy)).status).to.equal(401);
      expect((await me(longer)).status).to.equal(401);
    });
  });

  describe('the super investor at start-up', function () {
    this.timeout(120_000);
    // An investor holding an id of the reserved range: one who signed up on a database created
    // before the range was reserved, and whom a wrong SUPER_INVESTOR_USER_ID would name.
    const squatter = 990;
    const db = () => User.sequelize!;
    before(async () => {
      await db().query('DELETE FROM users WHERE id = $1', { bind: [squatter] });
      await db().query(`INSERT INTO users (id, role, mobile_hash) VALUES ($1, 'investor', $2)`, {
        bind: [squatter, mobileLookup(randomMobile())],
      });
    });
    after(async () => db().query('DELETE FROM users WHERE id = $1', { bind: [squatter] }));

    for (const [label, entry, extra] of [
      ['web', 'src/server.ts', {}],
      ['worker', 'jobs/worker.ts', {}],
      ['scheduler', 'jobs/scheduler.ts', {}],
      // A cluster primary does not restart children that refused: the whole process type ends.
      ['web (WEB_CONCURRENCY=2)', 'src/server.ts', { WEB_CONCURRENCY: '2' }],
      ['worker (WORKER_PROCESSES=2)', 'jobs/worker.ts', { WORKER_PROCESSES: '2' }],
    ] as const) {
      it(`when SUPER_INVESTOR_USER_ID is an investor, then the ${label} process refuses to start, saying why`, async () => {
        const { code, out } = await startRefused(entry, {
          ...extra,
          SUPER_INVESTOR_USER_ID: String(squatter),
          PORT: String(await freePort()),
          QUEUE_PREFIX: `t-sec-boot-${label.split(' ')[0]}-${process.pid}`,
        });
        expect(code, out).to.be.a('number').and.not.equal(0);
        expect(out).to.contain(
          `SUPER_INVESTOR_USER_ID=${squatter} is a user with the role investor, not the super investor`,
        );
      });
    }
  });

  describe('user ids on a database that was never seeded', function () {
    this.timeout(60_000);

    it('when an investor signs up on a freshly migrated database before the seed, then the id is above the reserved range; the seed then puts the super investor at SUPER_INVESTOR_USER_ID', async () => {
      const base = new URL(rt0().config.databaseUrl);
      const name = `${base.pathname.slice(1)}_fresh_${process.pid}`;
      const adminUrl = new URL(base);
      adminUrl.pathname = '/postgres';
      const c = new Client({ connectionString: adminUrl.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${name}`);
      const freshUrl = new URL(base);
      freshUrl.pathname = `/${name}`;
      const db = new Sequelize(freshUrl.toString(), { dialect: 'postgres', logging: false });
      try {
        await createMigrator(db).up();
        const signUp = async (mobile: string) =>
          (
            await db.query<{ id: string }>(
              `INSERT INTO users (role, mobile_hash) VALUES ('investor', $1) RETURNING id`,
              { bind: [mobileLookup(mobile)], type: QueryTypes.SELECT },
            )
          )[0].id;
        const first = await signUp('081200000001');
        expect(Number(first)).to.be.greaterThan(RESERVED_USER_IDS);
        const superId = rt0().config.superInvestorUserId;
        await seedDemoData(db, rt0().config);
        const [holder] = await db.query<{ role: string }>('SELECT role FROM users WHERE id = $1', {
          bind: [superId],
          type: QueryTypes.SELECT,
        });
        expect(holder.role).to.equal('super_investor');
        expect(Number(await signUp('081200000002'))).to.be.greaterThan(Number(first));
      } finally {
        await db.close();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      }
    });
  });
});

let shared: ReturnType<typeof testRuntime> | undefined;
/** A runtime for tests that only read its configuration. */
function rt0(): ReturnType<typeof testRuntime> {
  shared ??= testRuntime('sec-ids');
  return shared;
}
