import { Client } from 'pg';
import { QueryTypes } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { getConfig, type Config } from '../../config';
import { createSmsPort } from '../../src/adapters/sms';
import { nowMs, setClock } from '../../src/lib/clock';
import { PiiCipher } from '../../src/lib/crypto';
import { createSequelize } from '../../src/lib/db';
import { createLogger } from '../../src/lib/logger';
import { createMigrator } from '../../src/lib/migrator';
import { plant, type PlantName } from '../../src/lib/plants';
import { createRedis, waitReady } from '../../src/lib/redis';
import { SessionStore } from '../../src/modules/auth/session.service';
import { setOutboxKick } from '../../src/modules/outbox/outbox.service';
import { OutboxRelay } from '../../src/queues/outbox-relay';
import type { Runtime } from '../../src/runtime';
import { seedDemoData } from '../../src/seed';
import { DbFaults } from './faults';
import { checkInvariants, crashed, waitingWork, type Violation } from './invariants';
import { SimGateway, SimKyc, SimPartner } from './parties';
import { SimQueues } from './queues';
import { Rng } from './rng';
import { World, type Bias } from './world';

/** What a run is asked to do. */
export interface SimOptions {
  seed: number;
  events: number;
  investors: number;
  loans: number;
  plant?: PlantName;
  /** The scratch database (dropped and created; default p2p_sim) and Redis database (default 13). */
  database?: string;
  redisDb?: number;
  /** Progress line on stderr. */
  progress?: boolean;
  /** Every event, as a line (for a replay). */
  log?: (line: string) => void;
}

/** What a run found. */
export interface SimResult {
  seed: number;
  events: number;
  faults: number;
  checks: number;
  violations: Violation[];
  /** The event at which the first violation was seen. */
  violationAt?: number;
  /** Set when it was seen in the quiet phase after the events: the step of that phase. */
  quietStep?: number;
  tallies: Map<string, number>;
  simulatedDays: number;
  wallMs: number;
  fingerprint: string;
}

/** Invariants are checked after every batch of this many events, and at the end. */
const BATCH = 100;
/** The quiet phase that proves liveness may take this much simulated time at most. */
const SETTLE_LIMIT_MS = 14 * 86_400_000;
/** Where simulated time starts (a fixed day: a seed's run must not depend on today). */
const START = Date.parse('2027-01-04T01:00:00Z');

/** A fresh scratch database and Redis database for one run. */
async function scratch(
  base: Readonly<Config>,
  name: string,
  redisDb: number,
): Promise<{ databaseUrl: string; redisUrl: string }> {
  const url = new URL(base.databaseUrl);
  url.pathname = '/postgres';
  const c = new Client({ connectionString: url.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  url.pathname = `/${name}`;
  const redis = new URL(base.redisUrl);
  redis.pathname = `/${redisDb}`;
  return { databaseUrl: url.toString(), redisUrl: redis.toString() };
}

/**
 * One seeded run: a scratch database and Redis database, the real services and processors,
 * simulated time and parties; `events` events drawn from the seed with faults on, invariants
 * after every batch; then faults off until nothing waits (bounded), and every invariant once
 * more, liveness and a clean reconcile included. Stops at the first violation.
 */
export async function simulate(opts: SimOptions): Promise<SimResult> {
  const wall = Date.now();
  const base = getConfig();
  const where = await scratch(base, opts.database ?? 'p2p_sim', opts.redisDb ?? 13);
  const config: Readonly<Config> = Object.freeze({
    ...base,
    ...where,
    nodeEnv: 'test' as const,
    queuePrefix: 'sim',
    logLevel: 'silent',
    gateway: { ...base.gateway, mode: 'sandbox' as const, declineConfirmSeconds: 600 },
    partner: { ...base.partner, mode: 'sandbox' as const },
    kycMode: 'sandbox' as const,
    smsMode: 'sandbox' as const,
  });
  const logger = createLogger({ name: 'simulate', level: 'silent' });
  const sequelize = createSequelize(config.databaseUrl, { poolMax: 4 });
  await createMigrator(sequelize).up();
  await seedDemoData(sequelize, config);
  const redis = createRedis(config.redisUrl, 'client');
  await waitReady(redis);
  await redis.flushdb();

  setClock({ at: new Date(START) });
  const now = nowMs;
  const rng = new Rng(opts.seed);
  const queues = new SimQueues(now);
  const tallyRef: { fn: (k: string, f?: boolean) => void } = { fn: () => undefined };
  const gateway = new SimGateway(rng, now, (k, f) => tallyRef.fn(k, f), {
    delayMs: 2_000,
    unknownMs: 60_000,
  });
  const partner = new SimPartner(now);
  const kyc = new SimKyc(now);
  setOutboxKick(undefined);
  const rt: Runtime = {
    name: 'simulate',
    config,
    logger,
    sequelize,
    redis,
    producer: redis,
    queues: queues.map,
    relay: new OutboxRelay(sequelize, queues.map, logger),
    cipher: new PiiCipher(config.dataEncryptionKey),
    sessions: new SessionStore(redis),
    ports: {
      sms: createSmsPort(config),
      kyc,
      partner,
      gateway,
    },
    close: async () => undefined,
  };
  const bias: Bias = opts.plant === 'double-callback' ? { duplicate: 60 } : {};
  plant(opts.plant);
  const db = new DbFaults(sequelize, rng);
  const world = new World(
    rt,
    rng,
    queues,
    gateway,
    partner,
    kyc,
    db,
    { investors: opts.investors, loans: opts.loans, seed: opts.seed },
    START,
    bias,
  );
  tallyRef.fn = world.tallyFault;
  world.log = opts.log;

  const violations: Violation[] = [];
  let checks = 0;
  let violationAt: number | undefined;
  let quietStep: number | undefined;
  const check = async (n: number, final: boolean) => {
    const r = await checkInvariants(sequelize, {
      final,
      superInvestorId: config.superInvestorUserId,
      now: new Date(world.now()),
    });
    checks += r.checks;
    if (r.violations.length) {
      violations.push(...r.violations);
      violationAt ??= n;
    }
  };
  const progress = (n: number) => {
    if (!opts.progress) return;
    const day = ((world.now() - START) / 86_400_000).toFixed(1);
    process.stderr.write(
      `\r  event ${n}/${opts.events}  day ${day}  faults ${world.faults}  checks ${checks}   `,
    );
  };

  try {
    for (let n = 1; n <= opts.events; n++) {
      try {
        await world.step(n);
      } catch (err) {
        world.unexpected.push(crashed(err));
      }
      if (world.unexpected.length) {
        // The books are checked at once too: the error is often a guard that saw them break.
        await check(n, false).catch(() => undefined);
        violations.push(...world.unexpected);
        violationAt = n;
        break;
      }
      if (n % 50 === 0) progress(n);
      if (n % BATCH === 0 || n === opts.events) {
        await check(n, false);
        if (violations.length) break;
      }
    }
    if (!violations.length) {
      // Faults stop; the system and finance carry on until nothing waits, or the time is up.
      world.setFaults(false);
      const until = world.now() + SETTLE_LIMIT_MS;
      let n = opts.events;
      while (world.now() < until) {
        n += 1;
        try {
          await world.settleStep(n);
        } catch (err) {
          world.unexpected.push(crashed(err));
        }
        if (world.unexpected.length) {
          await check(n, false).catch(() => undefined);
          violations.push(...world.unexpected);
          // The quiet phase follows the K events: `--events K` replays it.
          violationAt = opts.events;
          quietStep = n - opts.events;
          break;
        }
        if (n % 50 === 0 && (await quiet(world, queues, sequelize))) break;
      }
      if (!violations.length) {
        quietStep = n - opts.events;
        await check(opts.events, true);
        if (violations.length) violationAt = opts.events;
      }
    }
  } finally {
    if (opts.progress) process.stderr.write('\n');
    plant(undefined);
    setClock();
    await redis.quit().catch(() => undefined);
    await sequelize.close();
  }
  return {
    seed: opts.seed,
    events: opts.events,
    faults: world.faults,
    checks,
    violations,
    violationAt,
    quietStep: violations.length ? quietStep : undefined,
    tallies: world.tallies,
    simulatedDays: (world.now() - START) / 86_400_000,
    wallMs: Date.now() - wall,
    fingerprint: world.fingerprint(),
  };
}

/** Nothing waits: no job, no callback due, no waiting state, nothing for finance. */
async function quiet(world: World, queues: SimQueues, sequelize: Sequelize): Promise<boolean> {
  if (queues.size > 0 || world.gateway.deliveries.length > 0) return false;
  if ((await waitingWork(sequelize, new Date(world.now()))).length) return false;
  const [row] = await sequelize.query<{ n: number }>(
    `SELECT ((SELECT COUNT(*) FROM loans WHERE status = 'disburse_failed')
           + (SELECT COUNT(*) FROM repayments WHERE status = 'held')
           + (SELECT COUNT(*) FROM payment_instructions WHERE status = 'held'
                OR (outcome LIKE '%not applied%' AND acknowledged_at IS NULL))
           + (SELECT COUNT(*) FROM gateway_callbacks WHERE acknowledged_at IS NULL
                AND (outcome LIKE 'amount mismatch%' OR outcome LIKE 'conflict%' OR outcome = 'unknown instruction')))::int AS n`,
    { type: QueryTypes.SELECT },
  );
  return row.n === 0;
}
