import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { expect } from 'chai';
import { Client, Pool } from 'pg';
import { Redis } from 'ioredis';
import { getConfig } from '../../config';
import { signPayload } from '../../src/lib/crypto';
import { createQueues } from '../../src/queues/queues';
import { apiClient, randomCard, randomMobile, randomNik, type Api } from '../helpers/api';
import { freePort } from '../helpers/context';
import { loanBody } from '../helpers/market';
import {
  ensureBuilt,
  readProcfile,
  runToEnd,
  startProcess,
  type RunningProcess,
} from '../helpers/procfile';

/**
 * Scale-out (issue 11): the compiled processes of the Procfile — two web, two worker, one
 * scheduler — against ONE scratch database (p2p_scale) and ONE Redis database (12), driven over
 * HTTP through both web processes at once, the whole life of a market: on-boarding, recharges,
 * racing card and wallet purchases, settlement (a super-investor top-up and a failed loan),
 * disbursement, notes and credit orders racing for the same note, repayments reported twice at
 * once, and the same signed partner and gateway requests delivered to both web processes. Then
 * nothing may have happened twice, and the books must balance.
 */

const SCRATCH_DB = 'p2p_scale';
const REDIS_DB = 12;
const PARTNER_SECRET = 'scale-out-partner-secret-0001';
const GATEWAY_SECRET = 'scale-out-gateway-secret-0001';
/** Loans settle at publishedAt + this; the loans meant to settle at their deadline are published so that it falls soon. */
const SETTLEMENT_DELAY_SECONDS = 3_600;
/** How long after intake the partly bought and the unsold loan reach their deadline. */
const DEADLINE_AFTER_MS = 15_000;
const WALLET = 30_000_000;
const K = 100_000;
const INVESTORS = 12;
const FINAL_ORDER = ['paid', 'failed', 'expired', 'rejected', 'refunded'];

interface Investor {
  n: number;
  userId: string;
  token: string;
}

/** A signed partner or gateway request, built once so that the very same bytes can go to both web processes. */
function signedRequest(secret: string, body?: unknown) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  return {
    raw,
    headers: {
      'Content-Type': 'application/json',
      'X-Timestamp': ts,
      'X-Signature': signPayload(secret, ts, raw),
    },
  };
}

async function send(
  baseUrl: string,
  path: string,
  req: ReturnType<typeof signedRequest>,
  method = 'POST',
) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: req.headers,
    body: method === 'GET' ? undefined : req.raw,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? JSON.parse(text) : undefined,
    replayed: res.headers.get('Idempotent-Replayed') === 'true',
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scale-out: two web, two worker and a scheduler process (compiled, from the Procfile) on one database and one Redis', function () {
  this.timeout(90_000);

  const procfile = readProcfile();
  const base = getConfig();
  const databaseUrl = (() => {
    const u = new URL(base.databaseUrl);
    u.pathname = `/${SCRATCH_DB}`;
    return u.toString();
  })();
  const redisUrl = (() => {
    const u = new URL(base.redisUrl);
    u.pathname = `/${REDIS_DB}`;
    return u.toString();
  })();
  const queuePrefix = `scale-${process.pid}`;
  const children: RunningProcess[] = [];
  const urls: string[] = [];
  let webs: Api[] = [];
  let pool: Pool;
  let driven = false;

  const q = async <T = Record<string, any>>(sql: string, params: unknown[] = []) =>
    (await pool.query(sql, params)).rows as T[];
  const one = async <T = Record<string, any>>(sql: string, params: unknown[] = []) =>
    (await q<T>(sql, params))[0];

  /** The environment of every child: the test's, pointed at the scratch database and Redis database. */
  const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    WEB_CONCURRENCY: '1',
    WORKER_PROCESSES: '1',
    PARTNER_SECRET,
    GATEWAY_SECRET,
    GATEWAY_SANDBOX_DELAY_MS: '30',
    GATEWAY_SANDBOX_UNKNOWN_MS: '5000',
    SETTLEMENT_DELAY_SECONDS: String(SETTLEMENT_DELAY_SECONDS),
    // Assets bought today may be offered today (no clock travel across processes).
    TRANSFER_HOLD_DAYS: '0',
    // Clients stand for many addresses through X-Forwarded-For (SMS limits per IP).
    TRUST_PROXY: 'true',
    ...extra,
  });

  /** Waits for `ok`, failing early when a child died, with the last state seen. */
  async function until(what: string, ok: () => Promise<boolean | string>, ms = 30_000) {
    const end = Date.now() + ms;
    for (;;) {
      for (const c of children)
        if (c.child.exitCode !== null || c.child.signalCode !== null)
          throw new Error(
            `${c.name} exited (${c.child.exitCode ?? c.child.signalCode}) while waiting for ${what}:\n${c.output().slice(-3000)}`,
          );
      const last = await ok();
      if (last === true) return;
      if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms (${String(last)})`);
      await sleep(100);
    }
  }

  before(async function () {
    this.timeout(240_000);
    for (const type of ['web', 'worker', 'scheduler', 'release'])
      expect(procfile[type], `Procfile has ${type}:`).to.be.an('array').with.length.above(0);
    const tBuild = Date.now();
    ensureBuilt();
    const tSetUp = Date.now();

    const admin = new Client({
      connectionString: base.databaseUrl.replace(/\/[^/]*$/, '/postgres'),
    });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${SCRATCH_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${SCRATCH_DB}`);
    await admin.end();
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();

    // The release phase migrates; set-up then seeds banks, platform accounts, the super investor.
    const released = runToEnd(procfile.release, childEnv({}), 'release');
    expect(released).to.match(/applied/);
    const seeded = runToEnd(
      [process.execPath, 'dist/scripts/setup.js', '--seed'],
      childEnv({ LOG_LEVEL: 'info' }),
      'set-up --seed',
    );
    expect(seeded).to.contain('migrations: 0 applied');
    pool = new Pool({ connectionString: databaseUrl, max: 4 });

    const ports = [await freePort(), await freePort()];
    for (const port of ports) urls.push(`http://127.0.0.1:${port}`);
    webs = urls.map((u) => apiClient(u));
    // Each worker's sandbox gateway calls back a different web process.
    ports.forEach((port, i) => {
      const callback = `${urls[i]}/callbacks/v1/payments`;
      children.push(
        startProcess(
          `web-${i + 1}`,
          procfile.web,
          childEnv({ PORT: String(port), GATEWAY_SANDBOX_CALLBACK_URL: callback }),
        ),
        startProcess(
          `worker-${i + 1}`,
          procfile.worker,
          childEnv({ PORT: String(port), GATEWAY_SANDBOX_CALLBACK_URL: callback }),
        ),
      );
    });
    children.push(
      startProcess(
        'scheduler',
        procfile.scheduler,
        childEnv({ GATEWAY_SANDBOX_CALLBACK_URL: `${urls[0]}/callbacks/v1/payments` }),
      ),
    );
    for (const url of urls)
      await until(
        `${url}/readyz`,
        () =>
          fetch(`${url}/readyz`).then(
            (r) => r.ok,
            () => false,
          ),
        20_000,
      );
    process.stderr.write(
      `      (build ${((tSetUp - tBuild) / 1000).toFixed(1)} s, set-up and start ${((Date.now() - tSetUp) / 1000).toFixed(1)} s)\n`,
    );
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all(children.map((c) => c.stop(10_000)));
    await pool?.end();
    const redis = new Redis(redisUrl);
    await redis.flushdb().catch(() => undefined);
    redis.disconnect();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const c of children)
      process.stderr.write(`\n----- ${c.name} (last output) -----\n${c.output().slice(-4000)}\n`);
  });

  // What the drive did, for the assertions.
  const investors: Investor[] = [];
  let declined: Investor;
  const loans: Record<'hot' | 'inst' | 'part' | 'none', string> = {
    hot: '',
    inst: '',
    part: '',
    none: '',
  };
  const notes: Record<string, { id: string; amount: number; buyers: string[] }> = {};
  const creditOrders: { note: string; status: number; id?: string; code?: string }[] = [];
  const repaymentNos: string[] = [];
  const answers: Record<string, number[]> = {};

  /** Captcha on one web process, SMS code on the other, KYC, a card, and a recharge sent to both at once. */
  async function onboard(n: number, cardLast4: string): Promise<Investor> {
    const [a, b] = [webs[n % 2], webs[(n + 1) % 2]];
    const mobile = randomMobile();
    const cap = await a.get('/api/v1/captcha');
    expect(cap.status).to.equal(200);
    const sms = await b.post(
      '/api/v1/sms-codes',
      {
        mobile,
        captchaId: cap.body.captchaId,
        captchaText: cap.body.devAnswer,
        purpose: 'register',
      },
      { headers: { 'X-Forwarded-For': `10.11.${n}.1` } },
    );
    expect(sms.status, JSON.stringify(sms.body)).to.equal(201);
    const reg = await a.post('/api/v1/auth/register', {
      mobile,
      smsCode: sms.body.devCode,
      password: 'secret123',
    });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    const inv = { n, userId: String(reg.body.user.id), token: reg.body.token as string };
    const kyc = await b.post(
      '/api/v1/me/kyc',
      { realName: 'Scale Investor', idCardNo: randomNik() },
      { token: inv.token },
    );
    expect(kyc.status, JSON.stringify(kyc.body)).to.equal(202);
    await until(`investor ${n} KYC verified`, async () => {
      const r = await webs[n % 2].get('/api/v1/me/kyc', { token: inv.token });
      return r.body.verified === true || JSON.stringify(r.body);
    });
    const card = await a.post(
      '/api/v1/me/bank-cards',
      { bankCode: 'BCA', cardNo: randomCard('455633', cardLast4) },
      { token: inv.token },
    );
    expect(card.status, JSON.stringify(card.body)).to.equal(201);
    // The same recharge (same Idempotency-Key and body) through both web processes at once.
    const recharges = await Promise.all(
      webs.map((w) =>
        w.post(
          '/api/v1/me/recharges',
          { amount: WALLET },
          { token: inv.token, headers: { 'Idempotency-Key': `recharge-${n}` } },
        ),
      ),
    );
    const statuses = recharges.map((r) => r.status);
    expect(statuses, JSON.stringify(recharges.map((r) => r.body))).to.include(202);
    for (const s of statuses) expect([202, 409]).to.include(s);
    return inv;
  }

  async function postLoan(over: Record<string, unknown>, web: number) {
    const body = loanBody({ yearRateFin: '12', yearRateLoan: '18', ...over });
    const res = await send(urls[web], '/partner/v1/loans', signedRequest(PARTNER_SECRET, body));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return body.creditorNo as string;
  }

  async function order(
    inv: Investor,
    creditorNo: string,
    amount: number,
    payWith: 'card' | 'wallet',
    web: number,
  ) {
    const res = await webs[web].post(
      '/api/v1/orders',
      { creditorNo, amount, payWith },
      { token: inv.token },
    );
    (answers.orders ??= []).push(res.status);
    return res;
  }

  const openOrders = async () =>
    Number(
      (
        await one<{ n: string }>(
          `SELECT COUNT(*)::text AS n FROM orders WHERE NOT (status = ANY($1::text[]))`,
          [FINAL_ORDER],
        )
      ).n,
    );
  const loanRow = (creditorNo: string) =>
    one<{
      id: string;
      status: string;
      amount: string;
      locked_amount: string;
      bought_amount: string;
    }>(
      'SELECT id, status, amount, locked_amount, bought_amount FROM loans WHERE creditor_no = $1',
      [creditorNo],
    );
  const loanStatus = async (creditorNo: string, status: string) => {
    const l = await loanRow(creditorNo);
    return l.status === status || `${creditorNo} is ${l.status}`;
  };

  /** A partner-signed read of a loan with its repayment plan. */
  async function plan(creditorNo: string, web: number) {
    const res = await send(
      urls[web],
      `/partner/v1/loans/${creditorNo}`,
      signedRequest(PARTNER_SECRET),
      'GET',
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.repaymentPlan as { period: number; principal: number; interest: number }[];
  }

  async function placeCreditOrder(
    note: string,
    buyer: Investor,
    principal: number,
    web: number,
    key?: string,
  ) {
    const targets = key ? [0, 1] : [web];
    const results = await Promise.all(
      targets.map((w) =>
        webs[w].post(
          '/api/v1/credit-orders',
          { noteId: notes[note].id, principal },
          { token: buyer.token, headers: key ? { 'Idempotency-Key': key } : {} },
        ),
      ),
    );
    for (const res of results)
      creditOrders.push({
        note,
        status: res.status,
        id: res.body?.id,
        code: res.body?.error?.code,
      });
    notes[note].buyers.push(buyer.userId);
    return results;
  }

  it('when the whole life of a market runs through both web processes at once, then every step ends', async () => {
    const t0 = Date.now();
    let tLap = t0;
    const phases: string[] = [];
    const lap = (name: string) => {
      phases.push(`${name} ${((Date.now() - tLap) / 1000).toFixed(1)}`);
      tLap = Date.now();
    };
    // 1. On-boarding, half the investors on each web process.
    const onboarded = await Promise.all(
      Array.from({ length: INVESTORS }, (_, n) => onboard(n, String(1100 + n))),
    );
    investors.push(...onboarded);
    // An investor whose card the gateway declines: the recharge and a card purchase fail.
    declined = await onboard(INVESTORS, '0002');
    await until('recharges resolved', async () => {
      const r = await one<{ n: string }>(
        `SELECT COUNT(*)::text AS n FROM recharges WHERE status = 'pending'`,
      );
      return r.n === '0' || `${r.n} pending`;
    });

    lap('on-boarding');
    // 2. Loans from the partner. The hot loan's intake reaches both web processes at once, byte
    // for byte; the partly bought and the unsold loan reach their deadline soon.
    const hot = loanBody({
      yearRateFin: '12',
      yearRateLoan: '18',
      amountApply: 40 * K,
      serviceFee: 80_000,
    });
    const intake = signedRequest(PARTNER_SECRET, hot);
    const twice = await Promise.all(urls.map((u) => send(u, '/partner/v1/loans', intake)));
    answers.intake = twice.map((r) => r.status);
    for (const r of twice) expect([200, 201], JSON.stringify(r.body)).to.include(r.status);
    loans.hot = hot.creditorNo;
    loans.inst = await postLoan(
      {
        amountApply: 30 * K,
        serviceFee: 60_000,
        term: 3,
        termUnit: 'month',
        repaymentMethod: 'equal_installment',
      },
      1,
    );
    const soon = new Date(Date.now() + DEADLINE_AFTER_MS - SETTLEMENT_DELAY_SECONDS * 1000);
    loans.part = await postLoan(
      { amountApply: 50 * K, serviceFee: 100_000, publishedAt: soon.toISOString() },
      0,
    );
    loans.none = await postLoan(
      { amountApply: 20 * K, serviceFee: 40_000, publishedAt: soon.toISOString() },
      1,
    );

    // 3. Purchases. The partly bought loan first (it must be bought before its deadline).
    // The declined card's purchase fails there (the loan has room: it is not refused for that).
    const part = await Promise.all([
      order(investors[10], loans.part, 5 * K, 'wallet', 0),
      order(investors[11], loans.part, 5 * K, 'card', 1),
      order(declined, loans.part, 2 * K, 'card', 0),
    ]);
    for (const r of part) expect(r.status, JSON.stringify(r.body)).to.equal(202);
    // Then, all at once and split across both web processes, more than the hot and the
    // installment loan offer: card and wallet, two orders per investor on the hot loan.
    const wave: (() => Promise<unknown>)[] = [];
    for (const inv of investors) {
      const k = inv.n;
      wave.push(
        () => order(inv, loans.hot, (2 + (k % 3)) * K, k % 2 ? 'card' : 'wallet', k % 2),
        () => order(inv, loans.hot, 2 * K, k % 2 ? 'wallet' : 'card', (k + 1) % 2),
      );
      if (k === 0) {
        // One order sent with the same Idempotency-Key through both web processes at once.
        wave.push(async () => {
          const dup = await Promise.all(
            webs.map((w) =>
              w.post(
                '/api/v1/orders',
                { creditorNo: loans.inst, amount: 3 * K, payWith: 'wallet' },
                { token: inv.token, headers: { 'Idempotency-Key': 'dup-order' } },
              ),
            ),
          );
          answers.dupOrder = dup.map((r) => r.status);
        });
      } else wave.push(() => order(inv, loans.inst, 3 * K, k % 3 ? 'wallet' : 'card', k % 2));
    }
    // Interleave the investors' requests (hot, installment, hot …) rather than one investor at a time.
    await Promise.all(wave.map((fn, i) => sleep(i % 7).then(fn)));
    await until('orders final', async () => (await openOrders()) === 0 || 'orders open');

    lap('purchases');
    // Whatever room rejected orders left, one investor buys exactly what is left.
    for (const creditorNo of [loans.hot, loans.inst]) {
      for (let round = 0; round < 5; round++) {
        const l = await webs[round % 2].get(`/api/v1/loans/${creditorNo}`);
        if (l.body.status !== 'open' || Number(l.body.availableAmount) === 0) break;
        await order(investors[5], creditorNo, Number(l.body.availableAmount), 'wallet', round % 2);
        await until('finishing orders final', async () => (await openOrders()) === 0);
      }
    }
    // Bought out → settled at once → disbursed → repaying.
    await until('hot loan repaying', () => loanStatus(loans.hot, 'repaying'));
    await until('installment loan repaying', () => loanStatus(loans.inst, 'repaying'));

    lap('settlement');
    // 4. Secondary market: notes on both loans, credit orders through both web processes, some
    // racing for the same note.
    const holdings = await q<{
      id: string;
      user_id: string;
      principal: string;
      creditor_no: string;
    }>(
      `SELECT a.id, a.user_id::text, a.principal::text, l.creditor_no FROM assets a JOIN loans l ON l.id = a.loan_id
        WHERE a.status = 'holding' AND a.user_id <> $1 ORDER BY a.principal DESC, a.id`,
      [base.superInvestorUserId],
    );
    const byUser = new Map(investors.map((i) => [i.userId, i]));
    const sellers = new Set<string>();
    const pick = (creditorNo: string, min: number) => {
      const h = holdings.find(
        (x) =>
          x.creditor_no === creditorNo && Number(x.principal) >= min && !sellers.has(x.user_id),
      );
      if (!h) throw new Error(`no holder of ${creditorNo} with ${min} left to sell`);
      sellers.add(h.user_id);
      return { asset: h.id, seller: byUser.get(h.user_id)!, principal: Number(h.principal) };
    };
    const n1 = pick(loans.hot, K); // all of it; three buyers race for all of it
    const n2 = pick(loans.hot, 3 * K); // 200,000 of it; two buyers take 100,000 each at once
    const n5 = pick(loans.hot, K); // all of it; bought while the seller cancels it
    const n3 = pick(loans.inst, 3 * K); // 200,000 of it; two buyers take 100,000 each at once
    const n4 = pick(loans.inst, K); // all of it; bought while the period's repayment clears
    const offers: [string, typeof n1, number][] = [
      ['n1', n1, n1.principal],
      ['n2', n2, 2 * K],
      ['n5', n5, n5.principal],
      ['n3', n3, 2 * K],
      ['n4', n4, n4.principal],
    ];
    await Promise.all(
      offers.map(async ([name, h, amount], i) => {
        const res = await webs[i % 2].post(
          '/api/v1/credit-notes',
          { assetId: h.asset, amount, discountRate: '0' },
          { token: h.seller.token },
        );
        expect(res.status, `${name}: ${JSON.stringify(res.body)}`).to.equal(201);
        notes[name] = { id: res.body.id, amount, buyers: [] };
      }),
    );
    const buyers = investors.filter((i) => !sellers.has(i.userId));
    expect(buyers.length).to.be.at.least(5);
    await Promise.all([
      ...[0, 1, 2].map((b) => placeCreditOrder('n1', buyers[b], n1.principal, b % 2)),
      placeCreditOrder('n2', buyers[3], K, 0, 'dup-credit-order'),
      placeCreditOrder('n2', buyers[4], K, 1),
      placeCreditOrder('n3', buyers[0], K, 1),
      placeCreditOrder('n3', buyers[1], K, 0),
      placeCreditOrder('n5', buyers[2], n5.principal, 1),
      (async () => {
        const res = await webs[0].call('DELETE', `/api/v1/credit-notes/${notes.n5.id}`, {
          token: n5.seller.token,
        });
        answers.cancel = [res.status];
      })(),
    ]);
    await until('credit orders final', async () => {
      const r = await one<{ n: string }>(
        `SELECT COUNT(*)::text AS n FROM credit_orders WHERE status IN ('initial', 'processing', 'abnormal')`,
      );
      return r.n === '0' || `${r.n} in flight`;
    });

    lap('secondary market');
    // 5. The partly bought loan and the unsold loan pass their deadline: the super investor
    // buys the rest of one, the other fails.
    await until('partly bought loan repaying', () => loanStatus(loans.part, 'repaying'), 40_000);
    await until('unsold loan failed', () => loanStatus(loans.none, 'failed'));

    lap('deadline');
    // 6. Repayments: the installment loan's first period reported to both web processes at once
    // (the same bytes) while a buyer takes a note of it; the bullet loans repaid in full (one
    // as an early payoff).
    const [instPlan, hotPlan, partPlan] = await Promise.all([
      plan(loans.inst, 1),
      plan(loans.hot, 0),
      plan(loans.part, 1),
    ]);
    expect(instPlan).to.have.length(3);
    const report = (creditorNo: string, p: { principal: number; interest: number }, over = {}) => {
      const body = {
        creditorNo,
        period: 1,
        repaymentNo: `R${randomUUID().replace(/-/g, '').slice(0, 20)}`,
        principal: p.principal,
        interest: p.interest,
        lateFee: 0,
        overdueServiceFee: 0,
        paidAt: new Date().toISOString(),
        ...over,
      };
      repaymentNos.push(body.repaymentNo);
      return body;
    };
    const instReport = report(loans.inst, instPlan[0]);
    const instSigned = signedRequest(PARTNER_SECRET, instReport);
    const [instAnswers] = await Promise.all([
      Promise.all(urls.map((u) => send(u, '/partner/v1/repayments', instSigned))),
      placeCreditOrder('n4', buyers[3], n4.principal, 1),
      send(
        urls[1],
        '/partner/v1/repayments',
        signedRequest(PARTNER_SECRET, report(loans.hot, hotPlan[0])),
      ),
      send(
        urls[0],
        '/partner/v1/repayments',
        signedRequest(PARTNER_SECRET, report(loans.part, partPlan[0], { payoff: true })),
      ),
    ]);
    answers.repaymentTwice = instAnswers.map((r) => r.status);
    for (const r of instAnswers) expect([200, 201], JSON.stringify(r.body)).to.include(r.status);
    // The partner retries later (a new signature): the same repayment.
    await sleep(1_100);
    const retry = await send(
      urls[0],
      '/partner/v1/repayments',
      signedRequest(PARTNER_SECRET, instReport),
    );
    expect(retry.status, JSON.stringify(retry.body)).to.equal(200);
    await until('repayments cleared', async () => {
      const r = await q<{ repayment_no: string; status: string; hold_reason: string | null }>(
        `SELECT repayment_no, status, hold_reason FROM repayments WHERE status <> 'cleared'`,
      );
      return r.length === 0 || JSON.stringify(r);
    });

    lap('repayments');
    // 7. The same gateway callback again, byte for byte, to both web processes at once, for a
    // succeeded instruction of every purpose.
    const done = await q<{ id: string; gateway_txn_id: string; amount: string; purpose: string }>(
      `SELECT DISTINCT ON (purpose) id::text, gateway_txn_id, amount::text, purpose FROM payment_instructions
        WHERE status = 'succeeded' ORDER BY purpose, id`,
    );
    expect(done.map((d) => d.purpose)).to.include.members([
      'order',
      'recharge',
      'disbursement',
      'repayment',
      'transfer',
    ]);
    for (const d of done) {
      const cb = signedRequest(GATEWAY_SECRET, {
        instructionId: d.id,
        gatewayTxnId: d.gateway_txn_id,
        status: 'success',
        amount: Number(d.amount),
      });
      const res = await Promise.all(urls.map((u) => send(u, '/callbacks/v1/payments', cb)));
      expect(
        res.map((r) => r.status),
        d.purpose,
      ).to.deep.equal([200, 200]);
    }

    lap('callbacks');
    // 8. Everything settles.
    await until(
      'no work waiting',
      async () => {
        const waiting = await waitingWork();
        return waiting.length === 0 || waiting.join(', ');
      },
      30_000,
    );
    driven = true;
    lap('quiet');
    process.stderr.write(
      `      (driven in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${phases.join(', ')})\n`,
    );
  });

  /** Work a job still has to do (empty once the system is quiet). */
  async function waitingWork(): Promise<string[]> {
    const rows = await q<{ ref: string }>(
      `SELECT 'order ' || id || ' ' || status AS ref FROM orders WHERE status IN ('pending', 'locked', 'paying', 'refunding')
       UNION ALL SELECT 'loan ' || creditor_no || ' ' || status FROM loans
        WHERE status IN ('settling', 'full', 'disbursing') OR (status = 'open' AND deadline < now()) OR borrower_fetched_at IS NULL
       UNION ALL SELECT 'repayment ' || repayment_no || ' ' || status FROM repayments WHERE status IN ('reported', 'arrived', 'returning')
       UNION ALL SELECT 'credit order ' || id || ' ' || status FROM credit_orders WHERE status IN ('initial', 'processing', 'abnormal')
       UNION ALL SELECT 'kyc ' || id FROM kyc_verifications WHERE status = 'pending'
       UNION ALL SELECT 'recharge ' || id FROM recharges WHERE status = 'pending'
       UNION ALL SELECT 'instruction ' || id || ' ' || purpose || ' ' || status FROM payment_instructions
        WHERE status IN ('created', 'submitted', 'unknown', 'declined')
       UNION ALL SELECT 'outbox ' || id || ' ' || job_name FROM outbox WHERE dispatched_at IS NULL
       UNION ALL SELECT 'callback ' || id FROM gateway_callbacks WHERE processed_at IS NULL
       UNION ALL SELECT 'notification ' || id || ' ' || event FROM partner_notifications WHERE status = 'pending'`,
    );
    return rows.map((r) => r.ref);
  }

  describe('then', () => {
    beforeEach(function () {
      if (!driven) this.skip();
    });

    it('each request sent twice at once had one effect: one loan, one recharge per key, one order per key, one repayment', async () => {
      expect(answers.intake).to.have.length(2);
      const hot = await q(`SELECT id FROM loans WHERE creditor_no = $1`, [loans.hot]);
      expect(hot).to.have.length(1);
      const recharges = await q<{ user_id: string; n: string }>(
        `SELECT user_id::text, COUNT(*)::text AS n FROM recharges GROUP BY user_id`,
      );
      expect(recharges).to.have.length(INVESTORS + 1);
      for (const r of recharges) expect(r.n, `recharges of user ${r.user_id}`).to.equal('1');
      for (const s of answers.dupOrder) expect([202, 409]).to.include(s);
      expect(answers.dupOrder).to.include(202);
      const dup = await q(`SELECT id FROM orders WHERE idempotency_key = 'dup-order'`);
      expect(dup).to.have.length(1);
      const dupCredit = await q(
        `SELECT id FROM credit_orders WHERE idempotency_key = 'dup-credit-order'`,
      );
      expect(dupCredit).to.have.length(1);
      expect(answers.repaymentTwice).to.include(201);
      const reps = await q<{ repayment_no: string; n: string }>(
        `SELECT repayment_no, COUNT(*)::text AS n FROM repayments GROUP BY repayment_no`,
      );
      expect(reps.map((r) => r.repayment_no).sort()).to.deep.equal([...repaymentNos].sort());
    });

    it('every order was paid at most once, every paid order has one asset, and no loan was oversold', async () => {
      const orders = await q<{
        id: string;
        status: string;
        pay_with: string;
        user_id: string;
        paid: string;
        assets: string;
      }>(
        `SELECT o.id::text, o.status, o.pay_with, o.user_id::text,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.idempotency_key = 'order:' || o.id || ':paid')::text AS paid,
                (SELECT COUNT(*) FROM assets a WHERE a.order_id = o.id)::text AS assets
           FROM orders o`,
      );
      expect(orders.length).to.be.greaterThan(30);
      for (const o of orders) {
        expect(FINAL_ORDER, `order ${o.id}`).to.include(o.status);
        const paid = o.status === 'paid' && o.user_id !== String(base.superInvestorUserId);
        expect([o.paid, o.assets], `order ${o.id} (${o.status})`).to.deep.equal(
          o.status === 'paid' ? [paid ? '1' : '0', '1'] : ['0', '0'],
        );
      }
      const declinedOrders = orders.filter((o) => o.user_id === declined.userId);
      expect(declinedOrders.map((o) => o.status)).to.deep.equal(['failed']);
      // Both outcomes of an oversubscribed loan happened: paid orders, and refused ones.
      expect(orders.filter((o) => o.status === 'rejected').length).to.be.greaterThan(0);
      expect(
        orders.filter((o) => o.status === 'paid' && o.pay_with === 'card').length,
      ).to.be.greaterThan(0);
      expect(
        orders.filter((o) => o.status === 'paid' && o.pay_with === 'wallet').length,
      ).to.be.greaterThan(0);

      const all = await q<{
        creditor_no: string;
        status: string;
        amount: string;
        locked_amount: string;
        bought_amount: string;
        paid: string;
        disbursed: string;
        topups: string;
      }>(
        `SELECT l.creditor_no, l.status, l.amount::text, l.locked_amount::text, l.bought_amount::text,
                (SELECT COALESCE(SUM(o.amount), 0) FROM orders o WHERE o.loan_id = l.id AND o.status = 'paid')::text AS paid,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.idempotency_key = 'loan:' || l.id || ':disbursed')::text AS disbursed,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.kind = 'super_investor_topup' AND t.metadata->>'loanId' = l.id::text)::text AS topups
           FROM loans l ORDER BY l.id`,
      );
      const byNo = new Map(all.map((l) => [l.creditor_no, l]));
      for (const l of all) {
        expect(
          BigInt(l.locked_amount) + BigInt(l.bought_amount) <= BigInt(l.amount),
          l.creditor_no,
        ).to.equal(true);
        expect(l.locked_amount, l.creditor_no).to.equal('0');
        expect(l.paid, `${l.creditor_no}: bought = paid orders`).to.equal(l.bought_amount);
      }
      for (const c of [loans.hot, loans.inst, loans.part]) {
        const l = byNo.get(c)!;
        expect([l.bought_amount, l.disbursed], c).to.deep.equal([l.amount, '1']);
      }
      expect(byNo.get(loans.hot)!.status).to.equal('repaid');
      expect(byNo.get(loans.part)!.status).to.equal('repaid');
      expect(byNo.get(loans.inst)!.status).to.equal('repaying');
      expect([byNo.get(loans.none)!.status, byNo.get(loans.none)!.bought_amount]).to.deep.equal([
        'failed',
        '0',
      ]);
      // The partly bought loan: two investors' 1,000,000, the super investor the other 4,000,000, once.
      expect(byNo.get(loans.part)!.topups).to.equal('1');
      expect(byNo.get(loans.hot)!.topups).to.equal('0');
      expect(byNo.get(loans.inst)!.topups).to.equal('0');
      const superOrder = await one<{ amount: string }>(
        `SELECT SUM(o.amount)::text AS amount FROM orders o JOIN loans l ON l.id = o.loan_id
          WHERE l.creditor_no = $1 AND o.user_id = $2`,
        [loans.part, base.superInvestorUserId],
      );
      expect(superOrder.amount).to.equal(String(40 * K));
    });

    it('every recharge and repayment took effect once', async () => {
      const recharges = await q<{ id: string; user_id: string; status: string; credits: string }>(
        `SELECT r.id::text, r.user_id::text, r.status,
                (SELECT COUNT(*) FROM ledger_transactions t
                  WHERE t.idempotency_key = 'recharge:' || r.id OR t.idempotency_key LIKE 'recharge:' || r.id || ':%')::text AS credits
           FROM recharges r`,
      );
      for (const r of recharges) {
        const expected = r.user_id === declined.userId ? ['failed', '0'] : ['succeeded', '1'];
        expect([r.status, r.credits], `recharge ${r.id}`).to.deep.equal(expected);
      }
      const reps = await q<{
        repayment_no: string;
        status: string;
        received: string;
        cleared: string;
      }>(
        `SELECT r.repayment_no, r.status,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.idempotency_key = 'repayment:' || r.id || ':received')::text AS received,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.kind = 'repayment_clearing' AND t.metadata->>'repaymentNo' = r.repayment_no)::text AS cleared
           FROM repayments r`,
      );
      expect(reps).to.have.length(3);
      for (const r of reps)
        expect([r.status, r.received, r.cleared], r.repayment_no).to.deep.equal([
          'cleared',
          '1',
          '1',
        ]);
      const plans = await q<{ creditor_no: string; period: number; status: string }>(
        `SELECT l.creditor_no, p.period, p.status FROM repayment_plans p JOIN loans l ON l.id = p.loan_id
          WHERE l.creditor_no = $1 ORDER BY p.period`,
        [loans.inst],
      );
      expect(plans.map((p) => p.status)).to.deep.equal(['paid', 'pending', 'pending']);
    });

    it('each note sold at most what it offered, each credit order was paid once, and the race for one note had one winner', async () => {
      const rows = await q<{
        id: string;
        amount: string;
        traded_amount: string;
        reserved_amount: string;
        sold: string;
        status: string;
      }>(
        `SELECT n.id::text, n.amount::text, n.traded_amount::text, n.reserved_amount::text, n.status,
                (SELECT COALESCE(SUM(c.principal), 0) FROM credit_orders c WHERE c.note_id = n.id AND c.status = 'success')::text AS sold
           FROM credit_notes n`,
      );
      expect(rows).to.have.length(5);
      for (const n of rows) {
        expect(BigInt(n.traded_amount) <= BigInt(n.amount), `note ${n.id}`).to.equal(true);
        expect([n.traded_amount, n.reserved_amount], `note ${n.id}`).to.deep.equal([n.sold, '0']);
      }
      const orders = await q<{
        id: string;
        note_id: string;
        status: string;
        fail_code: string | null;
        buyer_payment_status: number;
        buy: string;
        sell: string;
        fee: string;
        buyer_asset: string | null;
      }>(
        `SELECT c.id::text, c.note_id::text, c.status, c.fail_code, c.buyer_payment_status, c.buyer_asset_id::text AS buyer_asset,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.idempotency_key = 'credit-order:' || c.id || ':buy')::text AS buy,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.kind = 'transfer_sell' AND t.metadata->>'creditOrderId' = c.id::text)::text AS sell,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.idempotency_key = 'credit-order:' || c.id || ':fee')::text AS fee
           FROM credit_orders c ORDER BY c.id`,
      );
      for (const o of orders) {
        expect(['success', 'failed'], `credit order ${o.id}`).to.include(o.status);
        const once = o.status === 'success' ? '1' : '0';
        expect(
          [o.buy, o.sell, o.fee],
          `credit order ${o.id} (${o.status} ${o.fail_code})`,
        ).to.deep.equal([once, once, once]);
        expect(o.buyer_asset !== null, `credit order ${o.id} buyer asset`).to.equal(
          o.status === 'success',
        );
      }
      const of = (name: string) => orders.filter((o) => o.note_id === notes[name].id);
      const sold = (name: string) => rows.find((n) => n.id === notes[name].id)!.traded_amount;
      // Three buyers for all of n1: one bought it.
      expect(of('n1').filter((o) => o.status === 'success')).to.have.length(1);
      expect(sold('n1')).to.equal(String(notes.n1.amount));
      const n1Answers = creditOrders.filter((c) => c.note === 'n1');
      for (const a of n1Answers)
        expect(
          a.status === 202 || ['AMOUNT_OVER_TRADABLE', 'NOTE_ENDED'].includes(String(a.code)),
          JSON.stringify(a),
        ).to.equal(true);
      // Two buyers of half each: both bought, and the note is sold out.
      for (const name of ['n2', 'n3']) {
        expect(
          of(name).map((o) => o.status),
          name,
        ).to.deep.equal(['success', 'success']);
        expect(sold(name), name).to.equal(String(notes[name].amount));
      }
      // Bought while cancelled: sold in full and the cancel refused, or cancelled and not sold.
      const n5 = of('n5');
      if (answers.cancel[0] === 200)
        expect(n5.filter((o) => o.status === 'success')).to.deep.equal([]);
      else expect([answers.cancel[0], n5.map((o) => o.status)]).to.deep.equal([409, ['success']]);
      // Bought while the period's repayment cleared: sold, or failed with the buyer's money back.
      for (const o of of('n4'))
        if (o.status === 'failed')
          expect(['PERIOD_REPAID', 'NOTE_ENDED', 'OVERBUY'], JSON.stringify(o)).to.include(
            o.fail_code,
          );
      expect(orders.filter((o) => o.status === 'success').length).to.be.at.least(5);
    });

    it('every asset holds what its unpaid rows say, every investor’s invested is its assets, and every wallet is what its history says', async () => {
      const assets = await q<{ id: string; status: string; principal: string; unpaid: string }>(
        `SELECT a.id::text, a.status, a.principal::text,
                (SELECT COALESCE(SUM(s.principal), 0) FROM repayment_schedules s WHERE s.asset_id = a.id AND s.status = 'pending')::text AS unpaid
           FROM assets a`,
      );
      for (const a of assets) {
        expect(a.principal, `asset ${a.id} (${a.status})`).to.equal(a.unpaid);
        expect(a.status === 'holding', `asset ${a.id} (${a.status}, ${a.principal})`).to.equal(
          a.principal !== '0',
        );
      }
      const invested = await q<{ user_id: string; invested: string; held: string }>(
        `SELECT a.owner_user_id::text AS user_id, a.balance::text AS invested,
                (SELECT COALESCE(SUM(x.principal), 0) FROM assets x WHERE x.user_id = a.owner_user_id)::text AS held
           FROM accounts a WHERE a.type = 'investor_invested'`,
      );
      expect(invested.length).to.be.at.least(INVESTORS);
      for (const i of invested)
        expect(i.invested, `invested of user ${i.user_id}`).to.equal(i.held);
      // Each investor's wallet from its own history: recharged − wallet purchases − credit
      // orders bought + credit orders sold (less the fee) + repayments received; nothing locked.
      const wallets = await q<{
        user_id: string;
        available: string;
        locked: string;
        expected: string;
      }>(
        `SELECT u.id::text AS user_id,
                COALESCE((SELECT balance FROM accounts WHERE code = 'investor:' || u.id || ':available'), 0)::text AS available,
                COALESCE((SELECT balance FROM accounts WHERE code = 'investor:' || u.id || ':locked'), 0)::text AS locked,
                ( COALESCE((SELECT SUM(amount) FROM recharges WHERE user_id = u.id AND status = 'succeeded'), 0)
                - COALESCE((SELECT SUM(amount) FROM orders WHERE user_id = u.id AND status = 'paid' AND pay_with = 'wallet'), 0)
                - COALESCE((SELECT SUM(pay_amount) FROM credit_orders WHERE buyer_id = u.id AND status = 'success'), 0)
                + COALESCE((SELECT SUM(pay_amount - fee) FROM credit_orders WHERE seller_id = u.id AND status = 'success'), 0)
                + COALESCE((SELECT SUM(principal + interest) FROM repayment_schedules WHERE user_id = u.id AND status = 'paid'), 0)
                )::text AS expected
           FROM users u WHERE u.role = 'investor'`,
      );
      expect(wallets).to.have.length(INVESTORS + 1);
      for (const w of wallets)
        expect([w.available, w.locked], `wallet of user ${w.user_id}`).to.deep.equal([
          w.expected,
          '0',
        ]);
    });

    it('the ledger balances and finance reconcile is clean (the compiled finance CLI on the scratch database)', async () => {
      const env = childEnv({ LOG_LEVEL: 'silent' });
      const ledger = JSON.parse(
        runToEnd(
          [process.execPath, 'dist/scripts/finance.js', '--json', 'ledger:check'],
          env,
          'ledger:check',
        ),
      );
      expect([ledger.ok, ledger.trialBalance, ledger.cachedTotal]).to.deep.equal([true, '0', '0']);
      expect(ledger.mismatches).to.deep.equal([]);
      expect(ledger.unbalancedTransactions).to.deep.equal([]);
      // One ledger transaction per idempotency key, and no business event posted twice under two keys.
      expect(
        await q(
          `SELECT idempotency_key, COUNT(*)::int AS n FROM ledger_transactions GROUP BY 1 HAVING COUNT(*) > 1`,
        ),
      ).to.deep.equal([]);
      expect(
        await q(
          `SELECT kind, COALESCE(metadata->>'orderId', metadata->>'creditOrderId', metadata->>'repaymentNo', metadata->>'loanId') AS ref,
                  COUNT(*)::int AS n
             FROM ledger_transactions
            WHERE kind IN ('purchase_paid', 'transfer_sell', 'transfer_fee', 'repayment_received',
                           'repayment_clearing', 'disbursement', 'super_investor_topup')
            GROUP BY 1, 2 HAVING COUNT(*) > 1`,
        ),
      ).to.deep.equal([]);
      const reconciled = JSON.parse(
        runToEnd(
          [process.execPath, 'dist/scripts/finance.js', '--json', 'reconcile'],
          env,
          'reconcile',
        ),
      );
      expect(reconciled).to.deep.equal([]);
      const failed = JSON.parse(
        runToEnd(
          [process.execPath, 'dist/scripts/finance.js', '--json', 'jobs:failed'],
          env,
          'jobs:failed',
        ),
      ) as Record<string, unknown[]>;
      for (const [queue, jobs] of Object.entries(failed))
        expect(jobs, `failed jobs in ${queue}`).to.deep.equal([]);
    });

    it('both worker processes ran jobs (BullMQ processedBy), each of the two web processes answered', async () => {
      const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
      const queues = createQueues(conn, queuePrefix);
      const ranBy = new Map<string, number>();
      try {
        for (const queue of queues.values())
          for (const job of await queue.getCompleted(0, 99_999))
            ranBy.set(String(job.processedBy), (ranBy.get(String(job.processedBy)) ?? 0) + 1);
      } finally {
        await Promise.all([...queues.values()].map((queue) => queue.close()));
        conn.disconnect();
      }
      for (const w of children.filter((c) => c.name.startsWith('worker-')))
        expect(ranBy.get(`${hostname()}:${w.child.pid}`) ?? 0, `jobs run by ${w.name}`).to.be.above(
          10,
        );
      expect([...ranBy.keys()]).to.have.length(2);
      for (const url of urls) expect((await fetch(`${url}/healthz`)).status, url).to.equal(200);
    });

    it('no process logged an error, and all five are still up', () => {
      for (const c of children) {
        expect(c.child.exitCode, c.name).to.equal(null);
        expect(
          c.logLines(50).map((l) => l.msg),
          `${c.name} errors`,
        ).to.deep.equal([]);
      }
    });

    it('when SIGTERM reaches every process, then each stops cleanly (exit code 0) within 10 s', async () => {
      const started = Date.now();
      const codes = await Promise.all(children.map((c) => c.stop(10_000)));
      expect(codes).to.deep.equal(children.map(() => 0));
      expect(Date.now() - started).to.be.below(10_000);
    });
  });
});
