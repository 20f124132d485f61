/**
 * The loan-list scenario of `npm run bench` (section 2): GET /api/v1/loans over LOANS loans (nine
 * in ten open) with filters, sorts and pages, fired open-loop — on a fixed schedule of RATE
 * requests a second, whatever the answers before did — against the compiled web process, and the
 * same page SELECTs (the very SQL the service runs, openLoansPageSql) fired raw through the pg
 * driver on the same schedule. Each latency runs from the request's scheduled time, so a stall
 * anywhere (the web process, PostgreSQL, this driver) counts in full and delays nothing after it.
 * For reference it also times the exact count(*) that `total` would cost on every request.
 *
 * Runs alone too, against a scratch database p2p_bench_list (Redis db 13) and a compiled web
 * process: `npm run build && npx tsx scripts/bench-loan-list.ts --runs 3` (`--dist <dir>` picks
 * another build, `--no-vacuum` leaves the loaded table as autovacuum has not seen it yet).
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { scratchDatabase } from './scratch-db';
import { Command } from 'commander';
import { getConfig } from '../config';
import { createSequelize } from '../src/lib/db';
import { createMigrator } from '../src/lib/migrator';
import { piiCipher } from '../src/lib/model-columns';
import { Redis } from '../src/lib/redis';
import { loanListQuery } from '../src/modules/loans/loans.schemas';
import {
  openLoansCountSql,
  openLoansPageSql,
  type LoanListQuery,
} from '../src/modules/loans/loans.service';

/** The default schedule: the target load. */
export const LIST_RATE = 200;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/**
 * LOANS list loans as the bench has always made them: rates 8.00-17.99, terms 7-86 days,
 * amounts 1-50.9 M IDR, one a second back in time, every tenth repaying (not listed). Then the
 * table as a running database keeps it: VACUUM ANALYZE (autovacuum does this for a freshly loaded
 * table in production; it is off on the bench machine), unless `vacuum` is false.
 */
export async function insertListLoans(raw: Pool, loans: number, vacuum = true): Promise<void> {
  await raw.query(
    `INSERT INTO loans (creditor_no, loan_purpose, risk_level, year_rate_fin, year_rate_loan, term, term_unit, repayment_method, amount, service_fee,
       published_at, deadline, borrower_id, bank_code, bank_name, bank_card_encrypted, bank_card_last4, bank_card_holder_encrypted, status)
     SELECT 'LIST' || g, 'bench', 'A', 8 + (g % 1000) / 100.0, 20, 7 + g % 80, 'day', 'bullet', 1000000 + (g % 500) * 100000, 0,
       now() - (g || ' seconds')::interval, now() + interval '6 hours', 'b', 'BCA', 'BCA', 'x', '1234', $1,
       CASE WHEN g % 10 = 0 THEN 'repaying' ELSE 'open' END
     FROM generate_series(1, ${loans}) g`,
    [piiCipher().encrypt('Bench Borrower')],
  );
  await raw.query(vacuum ? 'VACUUM ANALYZE loans' : 'ANALYZE loans');
}

/**
 * The request mix (query strings), as the bench has always drawn it: a rate band sorted by rate
 * (8 bands), a term and amount filter newest first, and pages 1-50 of every open loan.
 */
export function listQueries(n: number): string[] {
  return Array.from({ length: n }, () => {
    const lo = 8 + randomInt(0, 8);
    const kind = randomInt(0, 3);
    return kind === 0
      ? `minYearRateFin=${lo}&maxYearRateFin=${lo + 1}&sort=yearRateFin&order=asc`
      : kind === 1
        ? `minTerm=10&maxTerm=30&minAmountApply=5000000`
        : `page=${1 + randomInt(0, 50)}`;
  });
}

/** A query string as the route validates it. */
export function parseListQuery(q: string): LoanListQuery {
  const { value, error } = loanListQuery.validate(Object.fromEntries(new URLSearchParams(q)));
  if (error) throw error;
  return value as LoanListQuery;
}

/** Latencies (ms, from each call's scheduled start) of an open-loop run, and what went wrong. */
export interface OpenLoopResult {
  ms: number[];
  errors: number;
  /** How late this driver fired its worst call (a busy event loop); included in `ms`. */
  maxLagMs: number;
  /** Calls per second actually completed over the run. */
  achieved: number;
}

/**
 * Fires call(i) for i < n at `rate` per second on a fixed schedule, never waiting for earlier
 * calls (open loop: a slow answer does not slow the load down, as real clients do not).
 */
export async function openLoop(
  n: number,
  rate: number,
  call: (i: number) => Promise<void>,
): Promise<OpenLoopResult> {
  const gap = 1000 / rate;
  const ms = new Array<number>(n);
  const inFlight: Promise<void>[] = [];
  let errors = 0;
  let maxLagMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const at = t0 + i * gap;
    const wait = at - performance.now();
    if (wait >= 1) await sleep(wait);
    maxLagMs = Math.max(maxLagMs, performance.now() - at);
    inFlight.push(
      call(i).then(
        () => {
          ms[i] = performance.now() - at;
        },
        () => {
          errors++;
          ms[i] = performance.now() - at;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  return { ms, errors, maxLagMs, achieved: n / ((performance.now() - t0) / 1000) };
}

/** Figures of one list run. */
export interface LoanListFigures {
  rate: number;
  requests: number;
  api: OpenLoopResult;
  raw: OpenLoopResult;
  /** The exact count(*) behind `total`, per filter of the mix, raw, one at a time. */
  countMs: number[];
}

/**
 * One run: a warm-up of each side (discarded), then `requests` API calls and the same number of
 * raw page SELECTs, each side open-loop at `rate`, then the counts.
 */
export async function benchLoanList(opts: {
  raw: Pool;
  url: string;
  requests: number;
  rate?: number;
}): Promise<LoanListFigures> {
  const rate = opts.rate ?? LIST_RATE;
  // node:http with keep-alive, not fetch: the driver shares the two cores with the web process
  // and PostgreSQL, and undici's fetch costs it about twice the CPU per request.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const get = (q: string) =>
    new Promise<void>((resolve, reject) => {
      http
        .get(`${opts.url}/api/v1/loans?${q}`, { agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve()
              : reject(new Error(`${q}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`)),
          );
          res.on('error', reject);
        })
        .on('error', reject);
    });
  const select = async (q: string) => {
    const { sql, bind } = openLoansPageSql(parseListQuery(q));
    await opts.raw.query(sql, bind);
  };
  let failure: unknown;
  const noting = (fn: (q: string) => Promise<void>) => (q: string) =>
    fn(q).catch((err: unknown) => {
      failure ??= err;
      throw err;
    });
  // Warm-up, discarded: one by one first (a cold process would otherwise queue its whole JIT
  // warm-up into the schedule), then a second on the schedule.
  const warm = listQueries(rate);
  for (const q of warm) await noting(get)(q);
  await openLoop(warm.length, rate, (i) => noting(get)(warm[i]));
  const queries = listQueries(opts.requests);
  const api = await openLoop(queries.length, rate, (i) => noting(get)(queries[i]));
  for (const q of warm) await noting(select)(q);
  await openLoop(warm.length, rate, (i) => noting(select)(warm[i]));
  const raw = await openLoop(queries.length, rate, (i) => noting(select)(queries[i]));
  if (failure) console.error('loan list: a request failed:', failure);
  const countMs: number[] = [];
  const filters = [...new Set(queries.map((q) => q.replace(/&?(page|sort|order)=[^&]*/g, '')))];
  for (let round = 0; round < 5; round++)
    for (const f of filters) {
      const { sql, bind } = openLoansCountSql(parseListQuery(f));
      const t0 = performance.now();
      await opts.raw.query(sql, bind);
      countMs.push(performance.now() - t0);
    }
  agent.destroy();
  return { rate, requests: opts.requests, api, raw, countMs };
}

/** The rows `npm run bench` prints for a run: [measure, pipeline, ceiling, ratio]. */
export function loanListRows(f: LoanListFigures, loans: number): string[][] {
  const row = (label: string, p: number) => {
    const api = pct(f.api.ms, p);
    const raw = pct(f.raw.ms, p);
    return [label, api.toFixed(2), raw.toFixed(2), ((raw / api) * 100).toFixed(1) + ' %'];
  };
  return [
    row(`GET /api/v1/loans p50 ms, ${loans} loans, ${f.rate}/s`, 50),
    row(`GET /api/v1/loans p99 ms (ceiling: same page SELECT)`, 99),
    [
      `  for reference: exact count(*), p50/p99 ms`,
      '—',
      `${pct(f.countMs, 50).toFixed(1)}/${pct(f.countMs, 99).toFixed(1)}`,
      '—',
    ],
  ];
}

/** One line on a run: achieved rate, errors, the driver's own lateness, max latencies. */
export function loanListNote(f: LoanListFigures): string {
  const side = (name: string, r: OpenLoopResult) =>
    `${name} ${r.achieved.toFixed(0)}/s, ${r.errors} errors, max ${Math.max(...r.ms).toFixed(1)} ms, driver lag ≤ ${r.maxLagMs.toFixed(1)} ms`;
  return `loan list (${f.requests} requests a side): ${side('api', f.api)}; ${side('raw', f.raw)}`;
}

async function main() {
  const opts = new Command()
    .option('--loans <n>', 'loans in the table', '100000')
    .option('--requests <n>', 'measured requests per side and run', '2000')
    .option('--rate <n>', 'requests per second', String(LIST_RATE))
    .option('--runs <n>', 'runs (each: API then raw)', '3')
    .option('--dist <dir>', 'compiled build whose web process to run', 'dist')
    .option('--no-vacuum', 'leave the loaded table unvacuumed')
    .parse()
    .opts<{
      loans: string;
      requests: string;
      rate: string;
      runs: string;
      dist: string;
      vacuum: boolean;
    }>();
  const base = getConfig();
  const databaseUrl = await scratchDatabase(base.databaseUrl, 'p2p_bench_list');
  const redisUrl = base.redisUrl.replace(/\/\d*$/, '/13');
  const sequelize = createSequelize(databaseUrl);
  await createMigrator(sequelize).up();
  await sequelize.close();
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  await redis.quit();
  const raw = new Pool({ connectionString: databaseUrl, max: 8 });
  const loans = Number(opts.loans);
  await insertListLoans(raw, loans, opts.vacuum);

  const port = 40_000 + randomInt(0, 20_000);
  const web = spawn(
    process.execPath,
    [path.resolve(__dirname, '..', opts.dist, 'src', 'server.js')],
    {
      env: {
        // The child starts from this environment, with the scratch settings on top.
        // eslint-disable-next-line no-restricted-syntax
        ...process.env,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: 'bench-list',
        LOG_LEVEL: 'silent',
        PORT: String(port),
        WEB_CONCURRENCY: '1',
      },
      stdio: 'inherit',
    },
  );
  const webUrl = `http://127.0.0.1:${port}`;
  for (let up = false; !up;) {
    up = await fetch(`${webUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await sleep(100);
  }
  try {
    for (let run = 1; run <= Number(opts.runs); run++) {
      const f = await benchLoanList({
        raw,
        url: webUrl,
        requests: Number(opts.requests),
        rate: Number(opts.rate),
      });
      console.log(`\nrun ${run}`);
      for (const r of loanListRows(f, loans))
        console.log(r.map((c, i) => (i === 0 ? c.padEnd(60) : c.padStart(12))).join(' '));
      console.log(loanListNote(f));
    }
  } finally {
    await new Promise<void>((resolve) => {
      web.once('exit', () => resolve());
      web.kill('SIGTERM');
    });
    await raw.end();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
