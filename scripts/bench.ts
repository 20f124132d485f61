/**
 * `npm run bench` (not part of npm test): drives the real pipeline through the API with the
 * sandbox gateway on a scratch database (p2p_bench, Redis db 14) and prints, beside each figure,
 * the same machine's ceiling measured in the same run with raw SQL through the pg driver.
 *   1. purchases per second, request → paid (card, sandbox gateway), one hot loan and 100 loans;
 *      ceiling: the raw purchase+callback pair (the reservation's hot-row UPDATE and two INSERTs,
 *      then the callback's order UPDATE, entries, asset and loan UPDATE), same concurrency; and
 *      POST /api/v1/orders p99 beside the p99 of one raw INSERT at the same concurrency;
 *   2. p50/p99 latency of GET /api/v1/loans on 100,000 loans, fired open-loop at 200/s; ceiling:
 *      the same page SELECTs raw at the same rate (scripts/bench-loan-list.ts);
 *   3. clearing a repayment of a loan with 10,000 holders; ceiling: the same writes (accounts,
 *      entries, balances, schedule rows, assets) as raw set-based SQL (scripts/bench-clearing.ts);
 *   4. allocating one new loan across 10,000 enabled auto-invest rules (10,000 wallet orders
 *      paid); ceiling: the same inserts as raw set-based SQL (scripts/bench-auto-invest.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { Command } from 'commander';
import { getConfig, type Config } from '../config';
import { signPayload } from '../src/lib/crypto';
import { createSequelize } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import { createMigrator } from '../src/lib/migrator';
import { waitReady } from '../src/lib/redis';
import { checkLedger } from '../src/modules/ledger/ledger.service';
import { Order } from '../src/modules/orders/order.model';
import { openRuntime, type Runtime } from '../src/runtime';
import { insertInvestor } from '../test/helpers/fixtures';
import { seedDemoData } from '../src/seed';
import { benchAutoInvest } from './bench-auto-invest';
import { scratchDatabase } from './scratch-db';
import { benchClearing } from './bench-clearing';
import { benchFloor } from './bench-floor';
import {
  benchLoanList,
  insertListLoans,
  LIST_RATE,
  loanListNote,
  loanListRows,
} from './bench-loan-list';

const opts = new Command()
  .option('--purchases <n>', 'purchases per purchase scenario', '400')
  .option('--holders <n>', 'holders of the cleared loan', '10000')
  .option('--rules <n>', 'enabled auto-invest rules offered one loan', '10000')
  .option('--loans <n>', 'loans in the list scenario', '100000')
  .option('--requests <n>', 'list requests', '2000')
  .option('--only <scenario>', 'one scenario alone: purchases, list, clearing or auto-invest')
  .option('--profile <dir>', 'write a V8 CPU profile of the web and the worker into <dir>')
  .option(
    '--soak <seconds>',
    'instead of the scenarios: purchases without pause for <seconds>, RSS sampled (memory trend)',
  )
  .parse()
  .opts<{
    purchases: string;
    holders: string;
    rules: string;
    loans: string;
    requests: string;
    only?: 'purchases' | 'list' | 'clearing' | 'auto-invest';
    profile?: string;
    soak?: string;
  }>();
const N = Number(opts.purchases);
const HOLDERS = Number(opts.holders);
const RULES = Number(opts.rules);
const LOANS = Number(opts.loans);
const REQUESTS = Number(opts.requests);
const CONCURRENCY = 32;
const ROOT = path.resolve(__dirname, '..');

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (x: number, d = 1) => x.toFixed(d);

async function pooled<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function main() {
  const base = getConfig();
  const databaseUrl = await scratchDatabase(base.databaseUrl, 'p2p_bench');
  const redisUrl = base.redisUrl.replace(/\/\d*$/, '/14');
  const port = 40_000 + randomInt(0, 20_000);
  const config: Readonly<Config> = Object.freeze({
    ...base,
    databaseUrl,
    redisUrl,
    queuePrefix: 'bench',
    logLevel: 'silent',
    investorLimitAmount: 10n ** 15n,
    gateway: {
      ...base.gateway,
      sandboxDelayMs: 0,
      sandboxCallbackUrl: `http://127.0.0.1:${port}/callbacks/v1/payments`,
    },
  });
  const logger = createLogger({ name: 'bench', level: 'silent' });
  const sequelize = createSequelize(databaseUrl, { poolMax: 30 });
  await createMigrator(sequelize).up();
  await seedDemoData(sequelize, config);
  const rt: Runtime = openRuntime('bench', { config, logger, sequelize });
  await Promise.all([waitReady(rt.redis), waitReady(rt.producer)]);
  await rt.redis.flushdb();
  // The web and the worker run as production runs them: compiled (npm run build), plain node,
  // separate processes (one each, so the figures are per process).
  const env = {
    // The children start from this environment (PATH, secrets), with the bench's settings on top.
    // eslint-disable-next-line no-restricted-syntax
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: config.queuePrefix,
    LOG_LEVEL: 'silent',
    PORT: String(port),
    WEB_CONCURRENCY: '1',
    WORKER_PROCESSES: '1',
    INVESTOR_LIMIT_AMOUNT: String(config.investorLimitAmount),
    GATEWAY_SANDBOX_DELAY_MS: '0',
    GATEWAY_SANDBOX_CALLBACK_URL: config.gateway.sandboxCallbackUrl,
  };
  const spawnDist = (entry: string) =>
    spawn(
      process.execPath,
      [
        ...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profile)}`] : []),
        path.join(ROOT, 'dist', entry),
      ],
      { env, stdio: 'inherit' },
    );
  const web = spawnDist('src/server.js');
  const url = `http://127.0.0.1:${port}`;
  // POST /api/v1/orders through node:http with keep-alive (not fetch: the driver shares the
  // two cores with what it measures, and undici's fetch costs it about twice the CPU).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const placeOrder = (token: string, creditorNo: string) =>
    new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ creditorNo, amount: 100_000, payWith: 'card' });
      const req = http.request(
        `${url}/api/v1/orders`,
        {
          method: 'POST',
          agent,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            Authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 202) reject(new Error(`POST /orders ${res.statusCode} ${text}`));
            else resolve((JSON.parse(text) as { id: string }).id);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  for (let up = false; !up;) {
    up = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  const rssMiB = (pid: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const stopChild = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const raw = new Pool({ connectionString: databaseUrl, max: 8 });
  const results: string[][] = [];

  const signed = async (path: string, body: unknown) => {
    const text = JSON.stringify(body);
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Timestamp': ts,
        'X-Signature': signPayload(config.partner.secret, ts, text),
      },
      body: text,
    });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ creditorNo: string }>;
  };
  let loanSeq = 0;
  const newLoan = (amount: number) =>
    signed('/partner/v1/loans', {
      creditorNo: `BENCH${Date.now()}${loanSeq++}`,
      loanPurpose: 'bench',
      riskLevel: 'A',
      yearRateFin: '12',
      yearRateLoan: '18',
      term: 30,
      termUnit: 'day',
      repaymentMethod: 'bullet',
      amountApply: amount,
      serviceFee: 0,
      publishedAt: new Date().toISOString(),
      borrowerId: `B${loanSeq}`,
      bankCode: 'BCA',
      bankName: 'Bank Central Asia',
      bankCardNo: '4556330000001234',
      bankCardHolder: 'Bench Borrower',
    });
  let investorSeq = 0;
  const investors = async (n: number) => {
    const out: { userId: string; token: string }[] = [];
    for (let i = 0; i < n; i++) {
      // A distinct valid NIK and mobile per investor of the run (province, birth day, serial).
      const k = investorSeq++;
      const nik = `${11 + (k % 80)}7506${String(1 + (Math.floor(k / 80) % 28)).padStart(2, '0')}0195${String(1001 + Math.floor(k / 2240)).padStart(4, '0')}`;
      const userId = await insertInvestor(rt.cipher, {
        nik,
        mobile: `0813${String(k).padStart(8, '0')}`,
        cardNo: `455633${String(k).padStart(6, '0')}1234`,
        name: 'Bench Investor',
      });
      out.push({ userId, token: await rt.sessions.create(userId, 'investor', 3600) });
    }
    return out;
  };
  const postMs: number[] = [];
  const buyAll = async (creditorNos: string[], who: { token: string }[]) => {
    const ids: string[] = [];
    const t0 = process.hrtime.bigint();
    await pooled(who, CONCURRENCY, async (inv) => {
      const creditorNo = creditorNos[randomInt(0, creditorNos.length)];
      const tPost = process.hrtime.bigint();
      ids.push(await placeOrder(inv.token, creditorNo));
      postMs.push(seconds(tPost) * 1000);
    });
    for (;;) {
      const open = await Order.count({
        where: { id: ids, status: ['pending', 'locked', 'paying'] },
      });
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const s = seconds(t0);
    const paid = await Order.count({ where: { id: ids, status: 'paid' } });
    return { rate: paid / s, paid, s };
  };

  // Ceiling for a purchase: the hot-row UPDATE plus two INSERTs, raw, same concurrency.
  await raw.query(`CREATE TABLE bench_loan (id int PRIMARY KEY, locked bigint NOT NULL, bought bigint NOT NULL DEFAULT 0, cap bigint NOT NULL);
                   CREATE TABLE bench_order (id bigserial PRIMARY KEY, loan int, amount bigint);
                   CREATE TABLE bench_entry (id bigserial PRIMARY KEY, order_id bigint, amount bigint);
                   CREATE TABLE bench_asset (id bigserial PRIMARY KEY, order_id bigint, amount bigint)`);
  const ceilingPurchases = async (loans: number) => {
    await raw.query('TRUNCATE bench_loan');
    await raw.query(
      `INSERT INTO bench_loan SELECT g, 0, 0, 1000000000 FROM generate_series(1, ${loans}) g`,
    );
    const t0 = process.hrtime.bigint();
    await pooled(
      Array.from({ length: N }, (_, i) => i),
      CONCURRENCY,
      async () => {
        const c = await raw.connect();
        try {
          await c.query('BEGIN');
          const loan = 1 + randomInt(0, loans);
          await c.query(
            'UPDATE bench_loan SET locked = locked + 100000 WHERE id = $1 AND locked + 100000 <= cap',
            [loan],
          );
          const { rows } = await c.query(
            'INSERT INTO bench_order (loan, amount) VALUES ($1, 100000) RETURNING id',
            [loan],
          );
          await c.query('INSERT INTO bench_entry (order_id, amount) VALUES ($1, 100000)', [
            rows[0].id,
          ]);
          await c.query('COMMIT');
          // The callback's transaction: the order paid, its two entries, its asset, the loan's
          // share moved from locked to bought.
          await c.query('BEGIN');
          await c.query('UPDATE bench_order SET amount = amount WHERE id = $1', [rows[0].id]);
          await c.query(
            'INSERT INTO bench_entry (order_id, amount) VALUES ($1, -100000), ($1, 100000)',
            [rows[0].id],
          );
          await c.query('INSERT INTO bench_asset (order_id, amount) VALUES ($1, 100000)', [
            rows[0].id,
          ]);
          await c.query(
            'UPDATE bench_loan SET locked = locked - 100000, bought = bought + 100000 WHERE id = $1',
            [loan],
          );
          await c.query('COMMIT');
        } finally {
          c.release();
        }
      },
    );
    return N / seconds(t0);
  };
  /** p50 and p99 of one INSERT of an order row, raw, at the purchase concurrency. */
  const ceilingInsertP99 = async () => {
    const ms: number[] = [];
    await pooled(
      Array.from({ length: N }, (_, i) => i),
      CONCURRENCY,
      async () => {
        const t0 = process.hrtime.bigint();
        await raw.query('INSERT INTO bench_order (loan, amount) VALUES (1, 100000)');
        ms.push(seconds(t0) * 1000);
      },
    );
    return { p50: pct(ms, 50), p99: pct(ms, 99) };
  };

  if (opts.soak) {
    await soak(Number(opts.soak));
    return;
  }

  /**
   * The memory soak (web, worker and scheduler): card purchases without pause (CONCURRENCY buyers over 20 loans) for
   * `durationS` seconds; the RSS of the web and the worker sampled every 30 s. Growth is the mean
   * of the last third of the samples against the first third's, after a minute's warm-up.
   */
  async function soak(durationS: number) {
    const worker = spawnDist('jobs/worker.js');
    // As production runs: the sweepers too (a job lost on the way is found again).
    const scheduler = spawnDist('jobs/scheduler.js');
    const loans: string[] = [];
    for (let i = 0; i < 20; i++) loans.push((await newLoan(10 ** 12)).creditorNo);
    const buyers = await investors(CONCURRENCY * 4);
    const samples: { t: number; web: number; worker: number; paid: number }[] = [];
    const t0 = Date.now();
    const end = t0 + durationS * 1000;
    let placed = 0;
    let gate: Promise<void> | undefined;
    const sampler = setInterval(() => {
      Order.count({ where: { status: 'paid' } }).then(
        (paid) =>
          samples.push({
            t: Number(((Date.now() - t0) / 1000).toFixed(0)),
            web: rssMiB(web.pid!),
            worker: rssMiB(worker.pid!),
            paid,
          }),
        () => undefined,
      );
    }, 30_000);
    await pooled(
      Array.from({ length: CONCURRENCY }, (_, i) => i),
      CONCURRENCY,
      async (slot) => {
        for (let k = slot; Date.now() < end; k += CONCURRENCY) {
          await placeOrder(buyers[k % buyers.length].token, loans[k % loans.length]);
          placed += 1;
          // Keep the backlog bounded (every buyer waits while it is too deep): the soak measures
          // memory at the rate the pipeline sustains, not a queue growing without end.
          if (placed % 100 === 0 && !gate)
            gate = (async () => {
              while (
                (await Order.count({ where: { status: ['pending', 'locked', 'paying'] } })) > 400
              )
                await new Promise((r) => setTimeout(r, 200));
            })().finally(() => (gate = undefined));
          if (gate) await gate;
        }
      },
    );
    clearInterval(sampler);
    console.log(`\nsoak: ${durationS} s of card purchases, ${placed} placed`);
    console.log('   t s   web MiB   worker MiB   paid');
    for (const x of samples)
      console.log(
        `${String(x.t).padStart(6)} ${x.web.toFixed(0).padStart(9)} ${x.worker.toFixed(0).padStart(12)} ${String(x.paid).padStart(6)}`,
      );
    const steady = samples.filter((x) => x.t >= 60);
    const third = Math.max(1, Math.floor(steady.length / 3));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const who of ['web', 'worker'] as const) {
      const first = mean(steady.slice(0, third).map((x) => x[who]));
      const last = mean(steady.slice(-third).map((x) => x[who]));
      console.log(
        `${who}: ${first.toFixed(0)} MiB → ${last.toFixed(0)} MiB (${(((last - first) / first) * 100).toFixed(1)} %)`,
      );
    }
    await Promise.all([stopChild(web), stopChild(worker), stopChild(scheduler)]);
    agent.destroy();
    await raw.end();
    await rt.close();
    await sequelize.close();
  }

  const run = (scenario: string) => !opts.only || opts.only === scenario;
  let worker: ChildProcess | undefined;
  let rss: { web: number; worker: number } | undefined;
  let perPurchase: { xacts: number; calls: number } | undefined;
  if (run('purchases')) {
    // 0. POST /api/v1/orders on its own (the worker not started yet), at the purchase concurrency:
    // the route's latency, beside one raw INSERT's below. Its orders are then set aside unlocked.
    const alone = await newLoan(N * 100_000);
    const aloneIds: string[] = [];
    const postAloneMs: number[] = [];
    const aloneBuyers = await investors(N);
    // Warm-up, not counted: the web's pool connections open and its code gets compiled.
    await pooled(aloneBuyers.slice(0, CONCURRENCY * 2), CONCURRENCY, async (inv) => {
      aloneIds.push(await placeOrder(inv.token, alone.creditorNo));
    });
    await pooled(aloneBuyers, CONCURRENCY, async (inv) => {
      const t0 = process.hrtime.bigint();
      aloneIds.push(await placeOrder(inv.token, alone.creditorNo));
      postAloneMs.push(seconds(t0) * 1000);
    });
    await raw.query(
      `UPDATE orders SET status = 'rejected', fail_code = 'BENCH', fail_reason = 'route latency only', ended_at = now()
        WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
      [aloneIds],
    );
    worker = spawnDist('jobs/worker.js');

    // What one paid purchase costs: PostgreSQL transactions (this database) and Redis commands
    // (the whole server), read around the hot-loan run.
    const counters = async () => {
      const {
        rows: [pg],
      } = await raw.query<{ xacts: string }>(
        'SELECT (xact_commit + xact_rollback)::text AS xacts FROM pg_stat_database WHERE datname = current_database()',
      );
      const info = await rt.redis.info('commandstats');
      const calls = [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      return { xacts: Number(pg.xacts), calls };
    };

    // 1. One hot loan, then 100 loans.
    const hot = await newLoan(N * 100_000);
    const hotInvestors = await investors(N);
    await new Promise((r) => setTimeout(r, 600)); // pg_stat counters are flushed every 500 ms
    const before = await counters();
    const hotResult = await buyAll([hot.creditorNo], hotInvestors);
    await new Promise((r) => setTimeout(r, 600));
    const after = await counters();
    perPurchase = {
      xacts: (after.xacts - before.xacts) / hotResult.paid,
      calls: (after.calls - before.calls) / hotResult.paid,
    };
    const hotCeiling = await ceilingPurchases(1);
    const hotPostMs = [...postMs];
    const { p50: insertP50, p99: insertP99 } = await ceilingInsertP99();
    results.push([
      'purchases/s, one hot loan (request → paid, card)',
      fmt(hotResult.rate),
      fmt(hotCeiling),
      fmt((hotResult.rate / hotCeiling) * 100, 2) + ' %',
    ]);
    const many: string[] = [];
    for (let i = 0; i < 100; i++) many.push((await newLoan(N * 100_000)).creditorNo);
    const manyResult = await buyAll(many, await investors(N));
    const manyCeiling = await ceilingPurchases(100);
    results.push([
      'purchases/s, 100 loans',
      fmt(manyResult.rate),
      fmt(manyCeiling),
      fmt((manyResult.rate / manyCeiling) * 100, 2) + ' %',
    ]);

    results.push([
      `POST /api/v1/orders p50 ms (alone; ceiling: one INSERT)`,
      fmt(pct(postAloneMs, 50), 2),
      fmt(insertP50, 2),
      fmt((insertP50 / pct(postAloneMs, 50)) * 100, 1) + ' %',
    ]);
    results.push([
      `POST /api/v1/orders p99 ms (alone; ceiling: one INSERT)`,
      fmt(pct(postAloneMs, 99), 2),
      fmt(insertP99, 2),
      fmt((insertP99 / pct(postAloneMs, 99)) * 100, 1) + ' %',
    ]);
    results.push([
      `  the same during the hot-loan run (workers busy)`,
      fmt(pct(hotPostMs, 99), 2),
      '—',
      '—',
    ]);
    rss = { web: rssMiB(web.pid!), worker: rssMiB(worker.pid!) };
    // What the stack costs on its own (scripts/bench-floor.ts): the distance between these and
    // the raw ceilings above is the framework's, not the pipeline's.
    const floor = await benchFloor({ raw, redisUrl, concurrency: CONCURRENCY, requests: N * 4 });
    results.push([
      `  for reference: bare Koa route + one INSERT, p50/p99 ms`,
      `${fmt(floor.koaInsert.p50)}/${fmt(floor.koaInsert.p99)}`,
      '—',
      '—',
    ]);
    results.push([
      `  for reference: BullMQ no-op jobs/s (Node CPU ms per job)`,
      `${fmt(floor.bullmq.rate, 0)} (${fmt(floor.bullmq.cpuMsPerJob, 2)})`,
      '—',
      '—',
    ]);
  }
  if (run('list')) {
    // 2. The loan list on 100,000 loans, open-loop at 200 requests/s (scripts/bench-loan-list.ts).
    await insertListLoans(raw, LOANS);
    const list = await benchLoanList({ raw, url, requests: REQUESTS, rate: LIST_RATE });
    results.push(...loanListRows(list, LOANS));
    console.log(loanListNote(list));
  }
  await Promise.all([stopChild(web), ...(worker ? [stopChild(worker)] : [])]);
  if (run('clearing')) {
    // 3. Clearing a repayment of a loan with 10,000 holders (in this process, no workers running).
    const clearing = await benchClearing(sequelize, raw, HOLDERS);
    results.push([
      `clearing ${HOLDERS} holders, s (${clearing.outcome})`,
      fmt(clearing.clearSeconds, 3),
      fmt(clearing.rawSeconds, 3),
      fmt((clearing.rawSeconds / clearing.clearSeconds) * 100, 1) + ' %',
    ]);
    results.push([
      `  for reference: as many rows into a bare table, s`,
      '—',
      fmt(clearing.bareSeconds, 3),
      '—',
    ]);
    results.push([
      `funding ${HOLDERS} invested accounts in one posting, s`,
      fmt(clearing.fundSeconds, 3),
      '—',
      '—',
    ]);
  }
  if (run('auto-invest')) {
    // 4. One new loan across 10,000 auto-invest rules (in this process, no workers running).
    const auto = await benchAutoInvest(sequelize, raw, config, rt.cipher, RULES);
    results.push([
      `auto-invest: one loan across ${RULES} rules, s (${auto.orders} orders)`,
      fmt(auto.allocateSeconds, 3),
      fmt(auto.rawSeconds, 3),
      fmt((auto.rawSeconds / auto.allocateSeconds) * 100, 1) + ' %',
    ]);
  }
  const check = await checkLedger();

  console.log(
    `\nMachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  console.log(
    `purchases per scenario: ${N}; concurrency ${CONCURRENCY}; compiled web and worker, one process each (worker concurrency 8 per queue); sandbox gateway, no delay\n`,
  );
  const widths = [52, 12, 12, 10];
  const line = (cols: string[]) =>
    cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
  console.log(line(['measure', 'pipeline', 'ceiling', 'ratio']));
  for (const r of results) console.log(line(r));
  console.log(
    `\nledger after the run: ${check.ok ? 'clean' : 'MISMATCH'} (trial balance ${check.trialBalance})`,
  );
  if (rss && perPurchase) {
    console.log(
      `RSS after the purchases: web ${rss.web.toFixed(0)} MiB, worker ${rss.worker.toFixed(0)} MiB`,
    );
    console.log(
      `per paid purchase (hot loan): ${perPurchase.xacts.toFixed(1)} PostgreSQL transactions, ${perPurchase.calls.toFixed(0)} Redis commands`,
    );
  }

  agent.destroy();
  await raw.end();
  await rt.close();
  await sequelize.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
