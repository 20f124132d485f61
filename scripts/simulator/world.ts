import { createHash } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { QueryTypes } from 'sequelize';
import { PROCESSORS } from '../../jobs/processors';
import { processJob } from '../../jobs/worker-factory';
import { setClock } from '../../src/lib/clock';
import { isAppError } from '../../src/lib/errors';
import { toIdr } from '../../src/lib/money';
import { register } from '../../src/modules/auth/auth.service';
import { deleteRule, putRule } from '../../src/modules/auto-invest/auto-invest.service';
import { issueCaptcha } from '../../src/modules/auth/captcha.service';
import { issueSmsCode } from '../../src/modules/auth/sms-code.service';
import { bindCard } from '../../src/modules/banks/bank-card.service';
import { reviewKyc, submitKyc } from '../../src/modules/kyc/kyc.service';
import { receiveLoan } from '../../src/modules/loans/loans.service';
import type { LoanIntake } from '../../src/modules/loans/loans.schemas';
import { placeOrder } from '../../src/modules/orders/orders.service';
import {
  acknowledge,
  recordCallback,
  resolveHeldInstruction,
} from '../../src/modules/payments/payments.service';
import { receiveRepayment, returnRepayment } from '../../src/modules/repayments/repayments.service';
import { retryDisbursement } from '../../src/modules/settlement/settlement.service';
import { placeCreditOrder } from '../../src/modules/transfers/credit-order-placement.service';
import { cancelNote, createNote } from '../../src/modules/transfers/notes.service';
import { createRecharge, createWithdrawal } from '../../src/modules/wallet/wallet.service';
import { JOBS, SWEEPERS } from '../../src/queues/queues';
import type { Runtime } from '../../src/runtime';
import { DbFaults, SimCrash } from './faults';
import { crashed, type Violation } from './invariants';
import {
  NO_GATEWAY_FAULTS,
  SimGateway,
  SimKyc,
  SimPartner,
  type Delivery,
  type GatewayFaults,
} from './parties';
import type { SimQueues } from './queues';
import type { Rng } from './rng';

/**
 * What a job may meet without a bug: a simulated crash or conflict, an outside party down, or
 * "not yet" (a lock not expired): it is retried. Anything else is a defect.
 */
function expectedJobError(err: unknown): boolean {
  if (err instanceof SimCrash) return true;
  const e = err as Error & { parent?: { code?: string } };
  if (e?.message?.includes('(simulated)')) return true;
  if (isAppError(err)) return err.code === 'SERVICE_UNAVAILABLE' || err.code === 'CONFLICT';
  return /^(SERVICE_UNAVAILABLE|CONFLICT): /.test(e?.message ?? '');
}

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The gateway's faults while the seed's faults are on. */
const GATEWAY_FAULTS: GatewayFaults = {
  drop: 6,
  duplicate: 12,
  delay: 6,
  reorder: 35,
  timeout: 5,
  unknown: 12,
  refuse: 4,
  decline: 4,
  early: 4,
};

type Row = Record<string, string>;

/**
 * What the market looks like before an event (one query): the seed draws only actions that have
 * something to act on, and time stops at the next moment something becomes due.
 */
interface Snapshot {
  open: number;
  outbox: number;
  due: number;
  repaying: number;
  notes: number;
  tradable: number;
  held: number;
  review: number;
  noCard: number;
  cards: number;
  /** The next moment (ms) something waits for: a deadline, a lock expiry, a note's end, a due date. */
  next: number | null;
}

/** The sweepers the simulated scheduler puts on queues (the relay is an event of its own). */
const SCHEDULED = SWEEPERS.filter((sw) => sw.job !== 'outbox.relay' && sw.job !== 'outbox.prune');

/**
 * The shortest interval at which the simulated scheduler starts a sweeper: an hour for those
 * that carry work on after a fault, longer for the daily kind.
 */
const SWEEP_FLOOR = HOUR;
const SWEEP_EVERY: Partial<Record<string, number>> = {
  'ledger.audit': 6 * HOUR,
  'loans.mark-overdue': 4 * HOUR,
  'credit-notes.expire': 4 * HOUR,
  'partner-notifications.sweep': 4 * HOUR,
};

/** Events that are not people acting. */
const SYSTEM = { job: 1, deliver: 1, relay: 1, time: 1 };

/** A period may be repaid from this long before its due date. */
const REPAY_WINDOW = "interval '3 days'";
/**
 * A period the partner repays now: within the window before its due date, except on one loan
 * in four (the borrower pays late: only once the loan is overdue).
 */
const DUE = `(l.status = 'overdue' OR (l.id % 4 <> 0
  AND p.due_date <= ($1::timestamptz AT TIME ZONE 'Asia/Jakarta')::date + ${REPAY_WINDOW}))`;

const SNAPSHOT = `SELECT
  (SELECT COUNT(*) FROM loans l WHERE l.status = 'open' AND l.deadline > $1
      AND l.amount - l.locked_amount - l.bought_amount - (SELECT COALESCE(SUM(o.amount), 0)
            FROM orders o WHERE o.loan_id = l.id AND o.status = 'pending') >= 100000)::int AS open,
  (SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL)::int AS outbox,
  (SELECT COUNT(*) FROM loans l JOIN repayment_plans p ON p.loan_id = l.id AND p.status = 'pending'
      AND p.period = (SELECT MIN(period) FROM repayment_plans y WHERE y.loan_id = l.id AND y.status = 'pending')
    WHERE l.status IN ('repaying', 'overdue') AND ${DUE}
      AND NOT EXISTS (SELECT 1 FROM repayments r WHERE r.loan_id = l.id AND r.period = p.period
                       AND r.status IN ('reported', 'arrived', 'cleared')))::int AS due,
  (SELECT COUNT(*) FROM loans WHERE status IN ('repaying', 'overdue'))::int AS repaying,
  (SELECT COUNT(*) FROM credit_notes WHERE status = 'open' AND end_time > $1
      AND amount - traded_amount - reserved_amount > 0)::int AS notes,
  (SELECT COUNT(*) FROM assets a JOIN loans l ON l.id = a.loan_id WHERE a.status = 'holding'
      AND l.status = 'repaying' AND a.max_tradable_amount >= 100000 AND a.user_id <> $2)::int AS tradable,
  (SELECT COUNT(*) FROM repayments WHERE status = 'held')::int AS held,
  (SELECT COUNT(*) FROM kyc_verifications WHERE status = 'manual_review')::int AS review,
  (SELECT COUNT(*) FROM users u WHERE u.role = 'investor' AND u.kyc_status = 'verified'
      AND NOT EXISTS (SELECT 1 FROM bank_cards c WHERE c.user_id = u.id AND c.status = 'active'))::int AS "noCard",
  (SELECT COUNT(*) FROM bank_cards WHERE status = 'active')::int AS cards,
  (SELECT EXTRACT(EPOCH FROM MIN(at)) * 1000 FROM (
      SELECT MIN(deadline) AS at FROM loans WHERE status = 'open' AND deadline > $1
      UNION ALL SELECT MIN(lock_expires_at) FROM orders WHERE holds_lock AND lock_expires_at > $1
      UNION ALL SELECT MIN(end_time) FROM credit_notes WHERE status = 'open' AND end_time > $1
      UNION ALL SELECT MIN((p.due_date - ${REPAY_WINDOW})::timestamp AT TIME ZONE 'Asia/Jakarta')
        FROM repayment_plans p JOIN loans l ON l.id = p.loan_id AND l.status IN ('repaying', 'overdue')
       WHERE p.status = 'pending' AND (p.due_date - ${REPAY_WINDOW})::timestamp AT TIME ZONE 'Asia/Jakarta' > $1
      UNION ALL SELECT MIN((p.due_date + 1)::timestamp AT TIME ZONE 'Asia/Jakarta')
        FROM repayment_plans p JOIN loans l ON l.id = p.loan_id AND l.status = 'repaying'
       WHERE p.status = 'pending' AND (p.due_date + 1)::timestamp AT TIME ZONE 'Asia/Jakarta' > $1
    ) x)::float8 AS next`;

/** What a run changes in the simulation's weights: a plant needs its bug to be reached. */
export interface Bias {
  duplicate?: number;
}

/**
 * The market the simulator drives: investors, the partner, finance and ops act through the real
 * services; jobs run through the real processors; the gateway, the partner and the KYC provider
 * are played by the simulator; time is simulated; and at every event the seed chooses what
 * happens next — an action, a job, a callback, a sweeper, time passing, or a fault.
 */
export class World {
  /** Counts by kind ("event: …", "fault: …"). */
  readonly tallies = new Map<string, number>();
  /** Errors no job or action should meet (bugs): the runner stops at the first. */
  readonly unexpected: Violation[] = [];
  faults = 0;
  private readonly digest = createHash('sha256');
  private investorsMade = 0;
  private loansMade = 0;
  private repaymentSeq = 0;
  private relayPausedUntil = 0;
  /** The partner sends its next loan from this moment. */
  private nextLoanAt = 0;
  /** People act next from this moment. */
  private nextActionAt = 0;
  private nextJobFault: 'crash' | 'kill' | 'conflict' | undefined;
  private faultsOn = true;

  constructor(
    private readonly rt: Runtime,
    private readonly rng: Rng,
    private readonly queues: SimQueues,
    readonly gateway: SimGateway,
    private readonly partner: SimPartner,
    private readonly kyc: SimKyc,
    private readonly db: DbFaults,
    private readonly limits: { investors: number; loans: number; seed: number },
    private t: number,
    private readonly bias: Bias = {},
  ) {
    this.setFaults(true);
    this.gateway.early = (d) => this.applyNow(d);
  }

  /** A callback received and its reconcile job run at once (inside the submit that raced it). */
  private async applyNow(d: Delivery): Promise<void> {
    await recordCallback(d.body, JSON.stringify(d.body), d.tag);
    const [cb] = await this.rows(
      `SELECT id FROM gateway_callbacks WHERE signature = $1 ORDER BY id DESC LIMIT 1`,
      [d.tag],
    );
    if (cb)
      await processJob(this.rt, PROCESSORS, {
        id: `early-${cb.id}`,
        name: 'payment.reconcile',
        data: { callbackId: cb.id },
        queueName: JOBS['payment.reconcile'].queue,
        attemptsMade: 0,
      });
  }

  now(): number {
    return this.t;
  }

  private advance(ms: number): void {
    this.t += ms;
    setClock({ at: new Date(this.t) });
  }

  /** Faults on (the seed's rates) or off (the quiet phase that proves liveness). */
  setFaults(on: boolean): void {
    this.faultsOn = on;
    this.gateway.faults = on
      ? { ...GATEWAY_FAULTS, duplicate: this.bias.duplicate ?? GATEWAY_FAULTS.duplicate }
      : NO_GATEWAY_FAULTS;
    if (!on) {
      this.partner.downUntil = 0;
      this.kyc.downUntil = 0;
      this.relayPausedUntil = 0;
      this.nextJobFault = undefined;
    }
  }

  private tally(kind: string, fault = false): void {
    const key = `${fault ? 'fault' : 'event'}: ${kind}`;
    this.tallies.set(key, (this.tallies.get(key) ?? 0) + 1);
    if (fault) this.faults += 1;
  }

  /** For the gateway and the parties: a fault they played. */
  readonly tallyFault = (kind: string, fault?: boolean) => this.tally(kind, fault);

  /** The run's fingerprint: the same seed and events give the same one. */
  fingerprint(): string {
    return this.digest.copy().digest('hex').slice(0, 16);
  }

  /** Every event as a line, when asked (`--log`). */
  log?: (line: string) => void;

  private record(n: number, what: string): string {
    const line = `${n} [${new Date(this.t).toISOString().slice(0, 16)}] ${what}`;
    this.digest.update(`${line}\n`);
    this.log?.(line);
    return what;
  }

  private rows(sql: string, bind: unknown[] = []): Promise<Row[]> {
    return this.rt.sequelize.query<Row>(sql, { bind, type: QueryTypes.SELECT });
  }

  private async pickRow(sql: string, bind: unknown[] = []): Promise<Row | undefined> {
    const rows = await this.rows(sql, bind);
    return rows.length ? this.rng.pick(rows) : undefined;
  }

  /** An amount in whole 100,000s from `min` to `max` (both multiples of 100,000). */
  private amount(min: bigint, max: bigint): bigint {
    const steps = Number((max - min) / 100_000n);
    return min + 100_000n * BigInt(this.rng.int(0, Math.max(0, steps)));
  }

  /**
   * The scheduler, in simulated time: every sweeper whose interval has come round is put on
   * its queue (as BullMQ's job schedulers do; a Redis flush loses what is queued, the next round
   * puts it back; rounds missed while time jumped are one round). A sweeper runs at most every
   * simulated hour, some every few hours (a run that finds nothing does nothing, the
   * invariants audit the ledger anyway, and months of 15-second rounds would be all the
   * simulator did). The outbox relay is the `relay` event, so that a fault can pause it.
   */
  private schedule(): void {
    for (const sw of SCHEDULED) {
      const every = Math.max(sw.everyMs, SWEEP_EVERY[sw.job] ?? SWEEP_FLOOR);
      const slot = Math.floor(this.t / every);
      if ((this.slots.get(sw.id) ?? -1) >= slot) continue;
      this.slots.set(sw.id, slot);
      void this.queues.map
        .get(JOBS[sw.job].queue)!
        .add(sw.job, {}, { jobId: `repeat-${sw.id}-${slot}` });
    }
  }

  private readonly slots = new Map<string, number>();

  private snap!: Snapshot;

  private async snapshot(): Promise<Snapshot> {
    const [row] = await this.rt.sequelize.query<Snapshot>(SNAPSHOT, {
      bind: [new Date(this.t), this.rt.config.superInvestorUserId],
      type: QueryTypes.SELECT,
    });
    this.snap = row;
    return row;
  }

  /**
   * One event: what the seed draws, run; returns what it did (recorded in the fingerprint).
   * Workers, the relay and the gateway's callbacks may go whenever they have work; people act
   * at the pace of the market (a few minutes apart while a loan is open, hours apart
   * otherwise); when nothing is ready, time jumps to the next moment something is.
   */
  async step(n: number): Promise<string> {
    this.schedule();
    const s = await this.snapshot();
    const ready = this.queues.ready().length > 0;
    const due = this.gateway.deliveries.some((d) => d.at <= this.t);
    const relaying = s.outbox > 0 && this.t >= this.relayPausedUntil;
    const weights: Record<string, number> = {
      job: ready ? 45 : 0,
      deliver: due ? 14 : 0,
      relay: relaying ? 25 : 0,
      // Workers lag behind now and then.
      time: ready || due || relaying ? 3 : 0,
    };
    if (this.t >= this.nextActionAt)
      Object.assign(weights, {
        signup: this.investorsMade < this.limits.investors ? (this.investorsMade < 12 ? 15 : 2) : 0,
        review: s.review > 0 ? 2 : 0,
        card: s.noCard > 0 ? 6 : 0,
        recharge: s.cards > 0 ? (s.open > 0 ? 10 : 3) : 0,
        withdraw: s.cards > 0 ? 2 : 0,
        rule: s.cards > 0 ? 4 : 0,
        loan: this.loansMade < this.limits.loans && this.t >= this.nextLoanAt ? 20 : 0,
        buy: s.open > 0 ? 30 : 0,
        burst: s.open > 0 ? 2 : 0,
        repay: s.due > 0 ? 10 : s.repaying > 0 ? 1 : 0,
        correct: s.held > 0 ? 2 : 0,
        note: s.tradable > 0 ? 3 : 0,
        cancel: s.notes > 0 ? 1 : 0,
        creditBuy: s.notes > 0 ? 6 : 0,
        finance: 1,
        fault: this.faultsOn ? 5 : 0,
      });
    const kind = this.rng.weighted(weights) ?? 'time';
    if (!(kind in SYSTEM))
      this.nextActionAt = this.t + (s.open > 0 ? this.rng.int(5, 40) : this.rng.int(20, 360)) * MIN;
    let what: string;
    try {
      what = await this.run(kind);
    } catch (err) {
      if (err instanceof SimCrash) throw err;
      // An action a party may be refused (a rule, a state): what a client sees as 4xx.
      if (isAppError(err) && err.status < 500) {
        what = `refused ${err.code}`;
        this.tally(`${kind} refused ${err.code}`);
      } else throw err;
    }
    this.tally(kind === 'fault' ? 'fault drawn' : kind);
    return this.record(n, `${kind}: ${what}`);
  }

  /** The quiet phase: faults off, no new business, the system and finance carry everything on. */
  async settleStep(n: number): Promise<string> {
    this.schedule();
    const s = await this.snapshot();
    const ready = this.queues.ready().length > 0;
    const due = this.gateway.deliveries.some((d) => d.at <= this.t);
    const relaying = s.outbox > 0;
    const weights: Record<string, number> = {
      job: ready ? 50 : 0,
      deliver: due ? 20 : 0,
      relay: relaying ? 20 : 0,
      time: ready || due || relaying ? 3 : 0,
    };
    if (this.t >= this.nextActionAt) Object.assign(weights, { correct: 2, finance: 4 });
    const kind = this.rng.weighted(weights) ?? 'time';
    if (!(kind in SYSTEM)) this.nextActionAt = this.t + this.rng.int(10, 240) * MIN;
    const what = await this.run(kind);
    return this.record(n, `settle ${kind}: ${what}`);
  }

  private run(kind: string): Promise<string> {
    switch (kind) {
      case 'job':
        return this.runJob();
      case 'deliver':
        return this.deliver();
      case 'relay':
        return this.relay();
      case 'time':
        return Promise.resolve(this.passTime());
      case 'signup':
        return this.signup();
      case 'review':
        return this.review();
      case 'card':
        return this.card();
      case 'recharge':
        return this.recharge();
      case 'withdraw':
        return this.withdraw();
      case 'rule':
        return this.rule();
      case 'loan':
        return this.loan();
      case 'buy':
        return this.buy();
      case 'burst':
        return this.burst();
      case 'repay':
        return this.repay();
      case 'correct':
        return this.correct();
      case 'note':
        return this.note();
      case 'cancel':
        return this.cancel();
      case 'creditBuy':
        return this.creditBuy();
      case 'finance':
        return this.finance();
      default:
        return this.fault();
    }
  }

  // ---- the system ------------------------------------------------------------------------

  /**
   * A worker takes one ready job: one of the first few in line (several workers, each taking the
   * next job, finish in any order), so jobs run roughly in order but not exactly.
   */
  private async runJob(): Promise<string> {
    const ready = this.queues.ready().sort((a, b) => a.runAt - b.runAt);
    const job = ready[this.rng.int(0, Math.min(ready.length, 4) - 1)];
    this.queues.take(job);
    const fault = this.nextJobFault;
    this.nextJobFault = undefined;
    if (fault) this.db.arm(fault === 'conflict' ? 'conflict' : 'crash', 12);
    try {
      const result = await processJob(this.rt, PROCESSORS, {
        id: job.id,
        name: job.name,
        data: job.data,
        queueName: job.queueName,
        attemptsMade: job.attemptsMade,
      });
      this.queues.completed(job);
      const said = typeof result === 'string' ? result : JSON.stringify(result);
      return `${job.name} ${JSON.stringify(job.data)} → ${said.slice(0, 100)}`;
    } catch (err) {
      if (err instanceof SimCrash && fault === 'kill') {
        return `${job.name} killed mid-job (stalled, ${this.queues.stalled(job)})`;
      }
      this.queues.failed(job, err instanceof UnrecoverableError);
      if (!expectedJobError(err))
        this.unexpected.push(crashed(err, `job ${job.name} ${JSON.stringify(job.data)}`));
      const why = err instanceof SimCrash ? 'crash' : (err as Error)?.message?.slice(0, 80);
      return `${job.name} ${JSON.stringify(job.data)} failed (${why})`;
    } finally {
      this.db.disarm();
    }
  }

  /** The gateway sends one callback that is due. */
  private async deliver(): Promise<string> {
    const d = this.gateway.nextDue();
    if (!d) return 'nothing due';
    await recordCallback(d.body, JSON.stringify(d.body), d.tag);
    return `callback ${d.body.status} for instruction ${d.body.instructionId}`;
  }

  /** The outbox relay's pass (unless paused by a fault). */
  private async relay(): Promise<string> {
    if (this.t < this.relayPausedUntil) return 'paused';
    return `${await this.rt.relay.relayPending()} relayed`;
  }

  /**
   * Time passes. While work is waiting (a job ready, a callback due, outbox rows to relay),
   * seconds, now and then minutes: workers are fast, but a backlog holds work a while.
   * Otherwise to the next moment something happens: people act, a job or callback is due, a
   * lock expires, a deadline or a note's end comes, a period comes due, the partner's next loan.
   */
  private passTime(): string {
    const s = this.snap;
    const busy =
      this.queues.ready().length > 0 ||
      this.gateway.deliveries.some((d) => d.at <= this.t) ||
      (s.outbox > 0 && this.t >= this.relayPausedUntil);
    let ms: number;
    if (busy) {
      const roll = this.rng.int(1, 100);
      ms = roll <= 85 ? this.rng.int(1, 30) * 1_000 : this.rng.int(1, roll <= 97 ? 10 : 45) * MIN;
    } else {
      const next = [
        this.nextActionAt,
        this.queues.nextRunAt(),
        ...this.gateway.deliveries.map((d) => d.at),
        s.outbox > 0 ? this.relayPausedUntil : undefined,
        s.next ?? undefined,
        this.loansMade < this.limits.loans ? this.nextLoanAt : undefined,
      ]
        .filter((x): x is number => x !== undefined && x > this.t)
        .sort((a, b) => a - b)[0];
      ms = next === undefined ? HOUR : next - this.t;
    }
    this.advance(Math.max(1_000, ms));
    return `+${(ms / 1_000).toFixed(0)} s`;
  }

  // ---- investors -------------------------------------------------------------------------

  /** Sign-up with captcha and SMS code, then KYC: most pass, some need a person, a few borrow at the partner. */
  private async signup(): Promise<string> {
    const k = ++this.investorsMade;
    const mobile = `0812${String(this.limits.seed % 10_000).padStart(4, '0')}${String(k).padStart(4, '0')}`;
    const rt = this.rt;
    const captcha = await issueCaptcha(rt.redis, rt.config.auth.captchaTtlSeconds);
    const { code } = await issueSmsCode(
      { redis: rt.redis, config: rt.config, sms: rt.ports.sms, cipher: rt.cipher },
      {
        mobile,
        purpose: 'register',
        captchaId: captcha.captchaId,
        captchaText: captcha.answer,
        ip: `10.9.${(k >> 8) & 255}.${k & 255}`,
      },
    );
    const { user } = await register(
      {
        redis: rt.redis,
        config: rt.config,
        sessions: rt.sessions,
        cipher: rt.cipher,
        sms: rt.ports.sms,
      },
      { mobile, smsCode: code, password: 'sim-password-1' },
    );
    const roll = this.rng.int(1, 100);
    const serial = roll <= 10 ? '0000' : roll <= 15 ? '9999' : String(1000 + (k % 8999));
    const nik = `31${String(k).padStart(4, '0')}150195${serial}`;
    await submitKyc(rt.cipher, user.id, { realName: `Sim Investor ${k}`, idCardNo: nik });
    return `investor ${user.id}${serial === '0000' ? ' (manual review)' : serial === '9999' ? ' (partner loan)' : ''}`;
  }

  /** An admin decides a KYC in manual review (mostly yes). */
  private async review(): Promise<string> {
    const v = await this.pickRow(
      `SELECT id FROM kyc_verifications WHERE status = 'manual_review' ORDER BY id LIMIT 20`,
    );
    if (!v) return 'none to review';
    const approve = this.rng.chance(85);
    await reviewKyc(
      v.id,
      approve
        ? { approve: true, admin: 'sim' }
        : { approve: false, admin: 'sim', reason: 'unclear photo' },
    );
    return `kyc ${v.id} ${approve ? 'approved' : 'rejected'}`;
  }

  /** A verified investor binds a card: normal, declined (…0002), silent (…0119) or contradicting (…0036). */
  private async card(): Promise<string> {
    const u = await this.pickRow(
      `SELECT u.id FROM users u WHERE u.role = 'investor' AND u.kyc_status = 'verified'
          AND NOT EXISTS (SELECT 1 FROM bank_cards c WHERE c.user_id = u.id AND c.status = 'active')
        ORDER BY u.id LIMIT 50`,
    );
    if (!u) return 'no investor without a card';
    const last4 = this.rng.pick(['4242', '4242', '4242', '4242', '4242', '0002', '0119', '0036']);
    const cardNo = `455633${String(u.id).padStart(6, '0')}${last4}`;
    await bindCard(this.rt, u.id, { bankCode: 'BCA', cardNo });
    return `card …${last4} for ${u.id}`;
  }

  private async recharge(): Promise<string> {
    const u = await this.pickRow(
      `SELECT user_id AS id FROM bank_cards WHERE status = 'active' ORDER BY user_id LIMIT 100`,
    );
    if (!u) return 'no card';
    const amount = this.amount(500_000n, 15_000_000n);
    const r = await createRecharge(u.id, Number(amount));
    return `recharge ${r.id} of ${amount} for ${u.id}`;
  }

  /**
   * An investor sets, changes, disables or removes an auto-invest rule: random filters, slices,
   * reserves and caps, so that new loans are allocated to a changing queue.
   */
  private async rule(): Promise<string> {
    const u = await this.pickRow(
      `SELECT user_id AS id FROM bank_cards WHERE status = 'active' ORDER BY user_id LIMIT 100`,
    );
    if (!u) return 'no card';
    const roll = this.rng.int(1, 10);
    if (roll === 1) {
      await deleteRule(u.id);
      return `rule of ${u.id} removed`;
    }
    const amount = this.amount(100_000n, 2_000_000n);
    const rule = {
      enabled: roll > 2,
      amountPerLoan: Number(amount),
      minYearRate: this.rng.chance(30) ? `${this.rng.int(8, 12)}.0000` : null,
      maxYearRate: this.rng.chance(20) ? `${this.rng.int(12, 16)}.0000` : null,
      repaymentMethods: this.rng.chance(70)
        ? ['bullet', 'monthly_interest', 'equal_installment']
        : [this.rng.pick(['bullet', 'monthly_interest', 'equal_installment'])],
      maxTermDays: this.rng.chance(30) ? this.rng.int(7, 90) : null,
      riskLevels: this.rng.chance(30) ? [this.rng.pick(['A', 'B', 'C'])] : null,
      reserveBalance: this.rng.chance(40) ? Number(this.amount(100_000n, 5_000_000n)) : 0,
      maxTotalInvested: this.rng.chance(30) ? Number(this.amount(1_000_000n, 20_000_000n)) : null,
    };
    await putRule(this.rt.config, u.id, rule);
    return `rule of ${u.id}: ${rule.enabled ? 'on' : 'off'} ${amount}${rule.reserveBalance ? ` reserve ${rule.reserveBalance}` : ''}`;
  }

  private async withdraw(): Promise<string> {
    const u = await this.pickRow(
      `SELECT c.user_id AS id, a.balance::text AS balance FROM bank_cards c
         JOIN accounts a ON a.owner_user_id = c.user_id AND a.type = 'investor_available'
        WHERE c.status = 'active' AND a.balance >= 100000 ORDER BY c.user_id LIMIT 100`,
    );
    if (!u) return 'nobody to withdraw';
    const amount = this.amount(100_000n, (toIdr(u.balance) / 100_000n) * 100_000n);
    const w = await createWithdrawal(u.id, Number(amount));
    return `withdrawal ${w.id} of ${amount} for ${u.id}`;
  }

  // ---- the partner and the primary market -----------------------------------------------------

  /** The partner sends a loan of any repayment method and term unit. */
  private async loan(): Promise<string> {
    const k = ++this.loansMade;
    this.nextLoanAt = this.t + this.rng.int(2, 24) * HOUR;
    const method = this.rng.pick(['bullet', 'monthly_interest', 'equal_installment'] as const);
    const amount = this.amount(2_000_000n, 30_000_000n);
    const intake: LoanIntake = {
      creditorNo: `SIM${this.limits.seed}N${k}`,
      loanPurpose: 'modal usaha',
      riskLevel: this.rng.pick(['A', 'B', 'C']),
      yearRateFin: `${this.rng.int(10, 14)}.5000`,
      yearRateLoan: `${this.rng.int(16, 20)}.0000`,
      term: method === 'bullet' ? this.rng.int(7, 30) : this.rng.int(1, 2),
      termUnit: method === 'bullet' ? 'day' : 'month',
      repaymentMethod: method,
      amountApply: Number(amount),
      serviceFee: Number((amount / 100n) * BigInt(this.rng.int(0, 2))),
      publishedAt: new Date(this.t),
      borrowerId: `SIMB${k}`,
      bankCode: 'BCA',
      bankName: 'Bank Central Asia',
      bankCardNo: `455633${String(900_000 + k).padStart(6, '0')}${this.rng.chance(15) ? '0036' : '4242'}`,
      bankCardHolder: 'Sim Borrower',
      source: 'doit',
    };
    await receiveLoan(
      {
        cipher: this.rt.cipher,
        settlementDelaySeconds: this.rt.config.settlementDelaySeconds,
        autoInvestMaxShare: this.rt.config.autoInvestMaxShare,
      },
      intake,
    );
    return `loan ${intake.creditorNo} ${method} ${intake.term} ${intake.termUnit} ${amount}`;
  }

  private openLoans(): Promise<Row[]> {
    return this.rows(
      `SELECT l.creditor_no, (l.amount - l.locked_amount - l.bought_amount)::text AS room FROM loans l
        WHERE l.status = 'open' AND l.deadline > $1
          AND l.amount - l.locked_amount - l.bought_amount - (SELECT COALESCE(SUM(o.amount), 0)
                FROM orders o WHERE o.loan_id = l.id AND o.status = 'pending') >= 100000
        ORDER BY l.id`,
      [new Date(this.t)],
    );
  }

  /** A purchase by card or wallet of a share of an open loan. */
  private async buy(loan?: Row): Promise<string> {
    const l =
      loan ?? (await this.openLoans().then((r) => (r.length ? this.rng.pick(r) : undefined)));
    if (!l) return 'no open loan';
    // Mostly investors who can buy; now and then anyone (the rules refuse them).
    const able = this.rng.chance(90);
    const u = await this.pickRow(
      `SELECT u.id, COALESCE(a.balance, 0)::text AS available,
              EXISTS (SELECT 1 FROM bank_cards c WHERE c.user_id = u.id AND c.status = 'active') AS card
         FROM users u LEFT JOIN accounts a ON a.owner_user_id = u.id AND a.type = 'investor_available'
        WHERE u.role = 'investor'
          AND (NOT $1 OR (u.kyc_status = 'verified' AND EXISTS (
                 SELECT 1 FROM bank_cards c WHERE c.user_id = u.id AND c.status = 'active')
               AND NOT EXISTS (SELECT 1 FROM kyc_verifications k WHERE k.user_id = u.id AND k.nik_last4 = '9999')))
        ORDER BY u.id LIMIT 200`,
      [able],
    );
    if (!u) return 'no investor';
    const amount = this.amount(
      100_000n,
      (BigInt(Math.min(Number(l.room), 3_000_000)) / 100_000n) * 100_000n,
    );
    const byCard = (u.card as unknown as boolean) && this.rng.chance(60);
    const o = await placeOrder(u.id, {
      creditorNo: l.creditor_no,
      amount: Number(amount),
      payWith: byCard ? 'card' : 'wallet',
    });
    return `order ${o.id} ${amount} by ${byCard ? 'card' : 'wallet'} on ${l.creditor_no}`;
  }

  /** A burst of buyers on the hot loan (the open loan with the most room). */
  private async burst(): Promise<string> {
    const loans = await this.openLoans();
    if (!loans.length) return 'no open loan';
    const hot = loans.reduce((a, b) => (BigInt(b.room) > BigInt(a.room) ? b : a));
    const n = this.rng.int(3, 8);
    for (let i = 0; i < n; i++) await this.buy(hot).catch(() => undefined);
    return `${n} buyers on ${hot.creditor_no}`;
  }

  /**
   * The partner repays the next period of a repaying loan: on time, late with a fee, an early
   * payoff, or with a wrong amount (held, then corrected).
   */
  private async repay(): Promise<string> {
    const rows = await this.rows(
      `SELECT l.creditor_no, l.status, p.period, p.principal::text, p.interest::text, p.due_date::text,
              ${DUE} AS due,
              (SELECT SUM(x.principal) FROM repayment_plans x WHERE x.loan_id = l.id AND x.status = 'pending')::text AS outstanding
         FROM loans l JOIN repayment_plans p ON p.loan_id = l.id AND p.status = 'pending'
          AND p.period = (SELECT MIN(period) FROM repayment_plans y WHERE y.loan_id = l.id AND y.status = 'pending')
        WHERE l.status IN ('repaying', 'overdue')
          AND NOT EXISTS (SELECT 1 FROM repayments r WHERE r.loan_id = l.id AND r.period = p.period
                           AND r.status IN ('reported', 'arrived', 'cleared'))
        ORDER BY l.id`,
      [new Date(this.t)],
    );
    const dueRows = rows.filter((r) => (r.due as unknown as boolean) === true);
    if (!rows.length) return 'nothing to repay';
    // Nothing due: now and then a borrower pays the whole loan off early.
    if (!dueRows.length && !this.rng.chance(25)) return 'nothing due';
    const p = this.rng.pick(dueRows.length ? dueRows : rows);
    const roll = this.rng.int(1, 100);
    const late = p.status === 'overdue';
    // Nothing due: only a payoff comes early.
    const kind =
      !dueRows.length || roll <= 8 ? 'payoff' : roll <= 16 ? 'wrong' : late ? 'late' : 'on time';
    const principal = kind === 'payoff' ? toIdr(p.outstanding) : toIdr(p.principal);
    const report = {
      creditorNo: p.creditor_no,
      period: Number(p.period),
      repaymentNo: `SIMR${this.limits.seed}N${++this.repaymentSeq}`,
      // A wrong principal: short, or over when there is nothing to be short of.
      principal: Number(
        kind === 'wrong'
          ? principal >= 1_000n
            ? principal - 1_000n
            : principal + 1_000n
          : principal,
      ),
      interest: Number(p.interest),
      lateFee: late ? Number(principal / 100n) : 0,
      overdueServiceFee: late ? 5_000 : 0,
      paidAt: new Date(this.t),
      payoff: kind === 'payoff',
    };
    if (report.principal + report.interest + report.lateFee === 0) return 'nothing owed';
    await receiveRepayment(this.rt.cipher, report);
    return `repayment ${report.repaymentNo} ${kind} period ${p.period} of ${p.creditor_no}`;
  }

  /** The partner corrects a held report: the right figures under a new number (finance returns the old). */
  private async correct(): Promise<string> {
    const h = await this.pickRow(
      `SELECT r.repayment_no, r.period, l.creditor_no, p.principal::text, p.interest::text
         FROM repayments r JOIN loans l ON l.id = r.loan_id
         JOIN repayment_plans p ON p.loan_id = l.id AND p.period = r.period AND p.status = 'pending'
        WHERE r.status = 'held' AND r.hold_code IN ('PRINCIPAL_MISMATCH', 'INTEREST_SHORT', 'PAYOFF_MISMATCH')
          AND l.status IN ('repaying', 'overdue')
          AND NOT EXISTS (SELECT 1 FROM repayments q WHERE q.loan_id = r.loan_id AND q.period = r.period
                           AND q.status IN ('reported', 'arrived', 'cleared'))
          AND r.period = (SELECT MIN(period) FROM repayment_plans y WHERE y.loan_id = l.id AND y.status = 'pending')
        ORDER BY r.id`,
    );
    if (!h) return 'nothing to correct';
    const report = {
      creditorNo: h.creditor_no,
      period: Number(h.period),
      repaymentNo: `SIMR${this.limits.seed}N${++this.repaymentSeq}`,
      principal: Number(h.principal),
      interest: Number(h.interest),
      lateFee: 0,
      overdueServiceFee: 0,
      paidAt: new Date(this.t),
    };
    await receiveRepayment(this.rt.cipher, report);
    return `corrected ${h.repayment_no} by ${report.repaymentNo}`;
  }

  // ---- the secondary market --------------------------------------------------------------

  /** A holder offers all or part of an asset. */
  private async note(): Promise<string> {
    const a = await this.pickRow(
      `SELECT a.id, a.user_id, a.max_tradable_amount::text AS tradable FROM assets a JOIN loans l ON l.id = a.loan_id
        WHERE a.status = 'holding' AND l.status = 'repaying' AND a.max_tradable_amount >= 100000
          AND a.user_id <> $1 ORDER BY a.id LIMIT 200`,
      [this.rt.config.superInvestorUserId],
    );
    if (!a) return 'no asset to offer';
    const tradable = toIdr(a.tradable);
    const amount = this.rng.chance(40)
      ? tradable
      : this.amount(100_000n, (tradable / 100_000n) * 100_000n);
    const note = await createNote(
      a.user_id,
      { assetId: a.id, amount: Number(amount), discountRate: String(this.rng.int(0, 3)) },
      this.rt.config.market,
    );
    return `note ${note.id} of ${amount} on asset ${a.id}`;
  }

  private async cancel(): Promise<string> {
    const n = await this.pickRow(
      `SELECT id, user_id FROM credit_notes WHERE status = 'open' ORDER BY id LIMIT 100`,
    );
    if (!n) return 'no open note';
    await cancelNote(n.user_id, n.id);
    return `note ${n.id} cancelled`;
  }

  /** A buyer takes part of a note, or all that is left of it. */
  private async creditBuy(): Promise<string> {
    const n = await this.pickRow(
      `SELECT id, user_id, (amount - traded_amount - reserved_amount)::text AS left FROM credit_notes
        WHERE status = 'open' AND end_time > $1 AND amount - traded_amount - reserved_amount > 0 ORDER BY id LIMIT 100`,
      [new Date(this.t)],
    );
    if (!n) return 'no note to buy';
    const b = await this.pickRow(
      `SELECT u.id FROM users u JOIN accounts a ON a.owner_user_id = u.id AND a.type = 'investor_available'
        WHERE u.role = 'investor' AND u.kyc_status = 'verified' AND u.id <> $1 AND a.balance >= 200000
        ORDER BY u.id LIMIT 100`,
      [n.user_id],
    );
    if (!b) return 'no buyer';
    const left = toIdr(n.left);
    const principal =
      this.rng.chance(50) || left < 200_000n ? left : this.amount(100_000n, left - 100_000n);
    const o = await placeCreditOrder(this.rt.config, b.id, {
      noteId: n.id,
      principal: Number(principal),
    });
    return `credit order ${o.id} of ${principal} on note ${n.id}`;
  }

  // ---- finance and ops -------------------------------------------------------------------

  /**
   * Finance does its day's work: pays out again a loan whose disbursement failed, sends back a
   * held repayment (its corrected report replaces it), reads a held instruction with the
   * gateway, acknowledges what reconcile lists as handled, approves manual reviews.
   */
  private async finance(): Promise<string> {
    const task = this.rng.pick(['retry', 'return', 'resolve', 'ack', 'review'] as const);
    const done: string[] = [];
    // A task is worked through (its list, ten at most), as finance works a reconcile list.
    for (let k = 0; k < 10; k++) {
      const one = await this.financeOne(task);
      if (!one) break;
      done.push(one);
    }
    return done.length ? done.join('; ') : `${task}: nothing to do`;
  }

  private async financeOne(
    task: 'retry' | 'return' | 'resolve' | 'ack' | 'review',
  ): Promise<string | undefined> {
    if (task === 'retry') {
      const l = await this.pickRow(
        `SELECT id FROM loans WHERE status = 'disburse_failed' ORDER BY id`,
      );
      return l && `loan ${l.id}: ${await retryDisbursement(l.id)}`;
    }
    if (task === 'return') {
      const r = await this.pickRow(
        `SELECT r.id FROM repayments r WHERE r.status = 'held'
            AND (r.hold_code <> 'EARLIER_PERIOD_UNPAID' OR NOT EXISTS (
                 SELECT 1 FROM repayment_plans p WHERE p.loan_id = r.loan_id AND p.status = 'pending' AND p.period <= r.period))
          ORDER BY r.id`,
      );
      return r && `repayment ${r.id}: ${await returnRepayment(r.id)}`;
    }
    if (task === 'resolve') {
      const i = await this.pickRow(
        `SELECT id FROM payment_instructions WHERE status = 'held' ORDER BY id`,
      );
      if (!i) return undefined;
      const truth = this.gateway.truth(i.id) === 'success' ? 'success' : 'failed';
      return `instruction ${i.id}: ${await resolveHeldInstruction(i.id, truth)}`;
    }
    if (task === 'ack') {
      const c = await this.pickRow(
        `SELECT 'callback' AS what, id FROM gateway_callbacks WHERE acknowledged_at IS NULL
            AND (outcome LIKE 'amount mismatch%' OR outcome LIKE 'conflict%' OR outcome = 'unknown instruction')
         UNION ALL
         SELECT 'instruction', id FROM payment_instructions WHERE acknowledged_at IS NULL AND outcome LIKE '%not applied%'
         ORDER BY 2`,
      );
      return c && acknowledge(c.what as 'callback' | 'instruction', c.id, 'sim-finance');
    }
    const review = await this.review();
    return review === 'none to review' ? undefined : review;
  }

  // ---- faults ----------------------------------------------------------------------------

  private async fault(): Promise<string> {
    const kind = this.rng.weighted({
      flush: 1,
      partner: 2,
      kyc: 2,
      relay: 2,
      crash: 3,
      kill: 2,
      conflict: 3,
    })!;
    if (kind === 'flush') {
      await this.rt.redis.flushdb();
      this.queues.flush();
      this.tally('Redis flushed', true);
      return 'Redis flushed';
    }
    if (kind === 'partner') {
      this.partner.downUntil = this.t + this.rng.int(1, 30) * MIN;
      this.tally('partner down', true);
      return 'partner down';
    }
    if (kind === 'kyc') {
      this.kyc.downUntil = this.t + this.rng.int(1, 60) * MIN;
      this.tally('KYC provider down', true);
      return 'KYC provider down';
    }
    if (kind === 'relay') {
      this.relayPausedUntil = this.t + this.rng.int(10, 300) * 1_000;
      this.tally('outbox relay paused', true);
      return 'relay paused';
    }
    this.nextJobFault = kind;
    this.tally(
      kind === 'crash'
        ? 'job crashed between steps'
        : kind === 'kill'
          ? 'worker killed mid-job'
          : 'serialization failure or deadlock',
      true,
    );
    return `next job: ${kind}`;
  }
}
