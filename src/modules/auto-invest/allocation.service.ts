import type { Queue } from 'bullmq';
import { QueryTypes, Transaction } from 'sequelize';
import { now, nowMs } from '../../lib/clock';
import { withTransaction } from '../../lib/db';
import { Dec, mulFloor, toIdr } from '../../lib/money';
import { enqueueRecovery } from '../../queues/queues';
import { KycStatus } from '../kyc/kyc.states';
import { LoanStatus } from '../loans/loan.states';
import { decideAndWrite, investorPositions, LoanMoved, type Decision } from '../orders/order-claim';
import { partnerAnswers, type LockDeps } from '../orders/orders.service';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { AutoInvestAllocation } from './auto-invest.model';
import { AllocationStatus, allocationMachine, SkipReason } from './auto-invest.states';

/** Rules read, and at most locked, by one allocation pass (one transaction). */
export const ALLOCATION_CHUNK = 2_500;

/** One rule in the queue, as far as the walk is concerned. */
export interface QueueEntry {
  userId: string;
  amount: bigint;
  /** Why it cannot buy this loan now; undefined when it can. */
  skip?: SkipReason;
}

/** Where a walk of the queue ended. */
export interface Walk {
  served: QueueEntry[];
  skipped: QueueEntry[];
  /** How many entries the walk decided (served or skipped), from the front. */
  decided: number;
  /** True when the walk met a rule that could buy but whose slice no longer fits. */
  stopped: boolean;
}

/**
 * The fairness rule, pure: walk the queue from the front; a rule that cannot buy is skipped
 * (it keeps its place); a rule that can buy takes its slice while the budget lasts; the first
 * rule whose slice does not fit ends the walk, so no rule behind it is served before it. The
 * budget left over stays for manual buyers.
 */
export function walkQueue(entries: readonly QueueEntry[], budget: bigint): Walk {
  const served: QueueEntry[] = [];
  const skipped: QueueEntry[] = [];
  let left = budget;
  let decided = 0;
  for (const e of entries) {
    if (e.skip) skipped.push(e);
    else if (e.amount > left) return { served, skipped, decided, stopped: true };
    else {
      served.push(e);
      left -= e.amount;
    }
    decided++;
  }
  return { served, skipped, decided, stopped: false };
}

/** What a rule needs, read with the rule. */
interface Candidate {
  user_id: string;
  amount_per_loan: string;
  reserve_balance: string;
  max_total_invested: string | null;
  kyc_status: string;
  has_card: boolean;
}

/** A candidate's money, read unlocked (estimate) or under its user's lock (decision). */
interface Money {
  wallet: bigint;
  outstanding: bigint;
}

/** Why the rule cannot buy, from its investor's state (the purchase rules plus the rule's own). */
function skipOf(
  c: Candidate,
  money: Money,
  partner: boolean | undefined,
  investorLimit: bigint,
): SkipReason | undefined {
  const amount = toIdr(c.amount_per_loan);
  if (c.kyc_status !== KycStatus.Verified) return SkipReason.KycNotVerified;
  if (!c.has_card) return SkipReason.NoBankCard;
  if (partner === true) return SkipReason.HasPartnerLoan;
  if (partner === undefined) return SkipReason.PartnerCheckUnavailable;
  if (money.wallet < toIdr(c.reserve_balance) + amount) return SkipReason.BelowReserve;
  if (money.outstanding + amount > investorLimit) return SkipReason.OverLimit;
  if (c.max_total_invested !== null && money.outstanding + amount > toIdr(c.max_total_invested))
    return SkipReason.OverRuleCap;
  return undefined;
}

interface LoanRow {
  id: string;
  status: string;
  deadline: Date;
  amount: string;
  locked_amount: string;
  bought_amount: string;
  year_rate_fin: string;
  repayment_method: string;
  term: number;
  term_unit: 'day' | 'month';
  risk_level: string;
}

/** A loan's term in days for the rules' maxTermDays: a month counts as 30 days. */
export const termDays = (term: number, unit: 'day' | 'month'): number =>
  unit === 'day' ? term : term * 30;

/**
 * Starts a new loan's allocation inside its intake transaction: the allocation row (its share
 * cap fixed now: floor(amount × AUTO_INVEST_MAX_SHARE)) and its job through the outbox.
 */
export async function startAllocation(
  loan: { id: string; amount: bigint },
  maxShare: string,
  transaction: Transaction,
): Promise<void> {
  await AutoInvestAllocation.create(
    {
      loanId: loan.id,
      status: AllocationStatus.Pending,
      shareCap: mulFloor(loan.amount, new Dec(maxShare)),
      allocated: 0n,
    },
    { transaction },
  );
  await enqueueAfterCommit('auto-invest.allocate', { loanId: String(loan.id) }, { transaction });
}

/**
 * The auto-invest.allocate job: offers a new loan to the enabled rules that match it, in queue
 * order, until AUTO_INVEST_MAX_SHARE of it is placed (docs/areas/auto-invest.md). Each pass
 * reads up to ALLOCATION_CHUNK matching rules (unlocked), asks the partner about their
 * investors (outside any transaction), then in ONE transaction: locks the allocation row (passes
 * of one loan run one at a time), the investors' rows in id order, decides every rule under
 * those locks (walkQueue), places the buying rules' orders (`source = 'auto'`, wallet) and pays
 * them through the lock step's batch (decideAndWrite: the same rules, ledger postings and
 * one conditional reservation of the loan), records every rule reached in the history (one row
 * per rule and loan, so a rule never gets two slices of a loan), moves the served rules to the
 * back of the queue, and adds to the allocation. Safe to run again or to crash at any line:
 * everything of a pass commits together, and a rule with a history row for the loan is not
 * read again. Returns what was placed in all.
 */
export async function allocateLoan(
  deps: LockDeps,
  loanId: string,
): Promise<{ status: AllocationStatus; orders: number; skipped: number }> {
  const totals = { orders: 0, skipped: 0 };
  for (;;) {
    const pass = await allocationPass(deps, loanId);
    totals.orders += pass.orders;
    totals.skipped += pass.skipped;
    if (pass.status === AllocationStatus.Done) return { status: pass.status, ...totals };
  }
}

interface PassResult {
  status: AllocationStatus;
  orders: number;
  skipped: number;
}

async function allocationPass(deps: LockDeps, loanId: string): Promise<PassResult> {
  const sequelize = AutoInvestAllocation.sequelize!;
  const allocation = await AutoInvestAllocation.findByPk(loanId);
  if (!allocation || allocation.status === AllocationStatus.Done)
    return { status: AllocationStatus.Done, orders: 0, skipped: 0 };
  const [loan] = await sequelize.query<LoanRow>(
    `SELECT id, status, deadline, amount::text, locked_amount::text, bought_amount::text,
            year_rate_fin::text, repayment_method, term, term_unit, risk_level
       FROM loans WHERE id = $1`,
    { bind: [loanId], type: QueryTypes.SELECT },
  );
  const budget = budgetOf(allocation, loan);
  const candidates =
    budget > 0n
      ? await sequelize.query<Candidate>(
          `SELECT r.user_id, r.amount_per_loan::text, r.reserve_balance::text,
                  r.max_total_invested::text, u.kyc_status,
                  EXISTS (SELECT 1 FROM bank_cards c WHERE c.user_id = r.user_id AND c.status = 'active') AS has_card
             FROM auto_invest_rules r JOIN users u ON u.id = r.user_id
            WHERE r.status = 'enabled'
              AND r.amount_per_loan <= $2
              AND (r.min_year_rate IS NULL OR r.min_year_rate <= $3::numeric)
              AND (r.max_year_rate IS NULL OR r.max_year_rate >= $3::numeric)
              AND $4 = ANY (r.repayment_methods)
              AND (r.max_term_days IS NULL OR r.max_term_days >= $5)
              AND (r.risk_levels IS NULL OR $6 = ANY (r.risk_levels))
              AND NOT EXISTS (SELECT 1 FROM auto_invest_history h
                               WHERE h.loan_id = $1 AND h.user_id = r.user_id)
            ORDER BY r.served_seq NULLS FIRST, r.enabled_at, r.user_id
            LIMIT $7`,
          {
            bind: [
              loanId,
              allocation.shareCap.toString(),
              loan.year_rate_fin,
              loan.repayment_method,
              termDays(loan.term, loan.term_unit),
              loan.risk_level,
              ALLOCATION_CHUNK,
            ],
            type: QueryTypes.SELECT,
          },
        )
      : [];
  if (candidates.length === 0) return finish(loanId);

  // The estimate (no locks): how far down the queue this pass must reach to fill the budget.
  const estimate = await investorPositions(candidates.map((c) => String(c.user_id)));
  const estimated = walkQueue(
    candidates.map((c) => ({
      userId: String(c.user_id),
      amount: toIdr(c.amount_per_loan),
      skip: skipOf(c, estimate.get(String(c.user_id))!, false, deps.config.investorLimitAmount),
    })),
    budget,
  );
  // The chunk: every rule the estimate decided, and the one it stopped at (decided under lock).
  const chunk = candidates.slice(0, Math.min(candidates.length, estimated.decided + 1));
  const partner = await partnerAnswers(
    deps,
    chunk.map((c) => String(c.user_id)),
  );
  const exhausted = candidates.length < ALLOCATION_CHUNK && chunk.length === candidates.length;

  const run = (lockLoanFirst: boolean) =>
    withTransaction(sequelize, (t) =>
      decidePass(deps, loanId, chunk, partner, exhausted, lockLoanFirst, t),
    );
  try {
    return await run(false);
  } catch (err) {
    if (!(err instanceof LoanMoved)) throw err;
    return run(true);
  }
}

/** What the rules may still buy: the cap left, and never more than the loan has room for. */
function budgetOf(allocation: AutoInvestAllocation, loan: LoanRow | undefined): bigint {
  if (!loan || loan.status !== LoanStatus.Open || new Date(loan.deadline).getTime() <= nowMs())
    return 0n;
  const room = toIdr(loan.amount) - toIdr(loan.locked_amount) - toIdr(loan.bought_amount);
  const left = allocation.shareCap - allocation.allocated;
  return left < room ? left : room;
}

/** Marks the allocation done (nothing left to offer, or nothing left to buy). */
async function finish(loanId: string): Promise<PassResult> {
  await withTransaction(AutoInvestAllocation.sequelize!, async (transaction) => {
    const row = await AutoInvestAllocation.findByPk(loanId, {
      transaction,
      lock: Transaction.LOCK.UPDATE,
    });
    if (!row || row.status === AllocationStatus.Done) return;
    await allocationMachine.transition(
      row,
      AllocationStatus.Done,
      { doneAt: now(), passes: row.passes + 1 },
      { transaction },
    );
  });
  return { status: AllocationStatus.Done, orders: 0, skipped: 0 };
}

/** One pass's transaction: see allocateLoan. */
async function decidePass(
  deps: LockDeps,
  loanId: string,
  chunk: Candidate[],
  partner: Map<string, boolean | undefined>,
  exhausted: boolean,
  lockLoanFirst: boolean,
  transaction: Transaction,
): Promise<PassResult> {
  const sequelize = AutoInvestAllocation.sequelize!;
  const q = <T extends object>(sql: string, bind: unknown[]) =>
    sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, transaction });
  const at = now();
  const allocation = await AutoInvestAllocation.findByPk(loanId, {
    transaction,
    lock: Transaction.LOCK.UPDATE,
  });
  if (!allocation || allocation.status === AllocationStatus.Done)
    return { status: AllocationStatus.Done, orders: 0, skipped: 0 };
  const users = chunk.map((c) => String(c.user_id));
  // The investors' rows in id order (the lock step's order), and what they are now.
  const locked = new Map(
    (
      await q<Candidate>(
        `SELECT u.id AS user_id, u.kyc_status,
                EXISTS (SELECT 1 FROM bank_cards c WHERE c.user_id = u.id AND c.status = 'active') AS has_card
           FROM users u WHERE u.id = ANY($1::bigint[]) ORDER BY u.id FOR NO KEY UPDATE OF u`,
        [users],
      )
    ).map((r) => [String(r.user_id), r]),
  );
  // Another run of this job may have decided some of them since they were read.
  const done = new Set(
    (
      await q<{ user_id: string }>(
        'SELECT user_id FROM auto_invest_history WHERE loan_id = $1 AND user_id = ANY($2::bigint[])',
        [loanId, users],
      )
    ).map((r) => String(r.user_id)),
  );
  // The rules as they are now (a rule changed or disabled meanwhile is left for the next pass).
  const current = new Map(
    (
      await q<{
        user_id: string;
        status: string;
        amount_per_loan: string;
        reserve_balance: string;
        max_total_invested: string | null;
      }>(
        `SELECT user_id, status, amount_per_loan::text, reserve_balance::text,
                max_total_invested::text
           FROM auto_invest_rules WHERE user_id = ANY($1::bigint[])`,
        [users],
      )
    ).map((r) => [String(r.user_id), r]),
  );
  const positions = await investorPositions(users, transaction);
  const [loan] = await q<LoanRow>(
    `SELECT id, status, deadline, amount::text, locked_amount::text, bought_amount::text,
            year_rate_fin::text, repayment_method, term, term_unit, risk_level
       FROM loans WHERE id = $1`,
    [loanId],
  );
  const budget = budgetOf(allocation, loan);
  const entries: QueueEntry[] = [];
  let changed = false;
  for (const c of chunk) {
    const u = String(c.user_id);
    const rule = current.get(u);
    if (done.has(u)) continue;
    if (!rule || rule.status !== 'enabled' || rule.amount_per_loan !== c.amount_per_loan) {
      changed = true; // left for the next pass, which reads the rule again
      break;
    }
    const state = {
      ...c,
      ...rule,
      kyc_status: locked.get(u)?.kyc_status ?? KycStatus.None,
      has_card: locked.get(u)?.has_card ?? false,
    };
    entries.push({
      userId: u,
      amount: toIdr(rule.amount_per_loan),
      skip: skipOf(state, positions.get(u)!, partner.get(u), deps.config.investorLimitAmount),
    });
  }
  const walk = walkQueue(entries, budget);

  // The buying rules' orders, placed and paid through the lock step's batch.
  const decisions: Decision[] = [];
  if (walk.served.length > 0) {
    const placed = await q<{ id: string; user_id: string }>(
      `INSERT INTO orders (user_id, loan_id, creditor_no, amount, pay_with, status, source,
                           created_at, updated_at)
       SELECT v.u, l.id, l.creditor_no, v.a, 'wallet', 'pending', 'auto', $3, $3
         FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS v(u, a, n)
         JOIN loans l ON l.id = $4
        ORDER BY v.n
       RETURNING id, user_id`,
      [walk.served.map((e) => e.userId), walk.served.map((e) => e.amount.toString()), at, loanId],
    );
    const orderOf = new Map(placed.map((p) => [String(p.user_id), String(p.id)]));
    for (const e of walk.served)
      decisions.push({
        id: orderOf.get(e.userId)!,
        userId: e.userId,
        amount: e.amount,
        payWith: 'wallet',
        cardId: null,
      });
    await decideAndWrite(deps, loanId, decisions, transaction, lockLoanFirst);
  }
  const paid = decisions.filter((d) => !d.fail);
  const history = [
    ...decisions.map((d) => ({ userId: d.userId, amount: d.amount, orderId: d.id, reason: null })),
    ...walk.skipped.map((e) => ({
      userId: e.userId,
      amount: e.amount,
      orderId: null,
      reason: e.skip!,
    })),
  ];
  if (history.length > 0)
    await q(
      `INSERT INTO auto_invest_history (user_id, loan_id, amount, outcome, reason, order_id, created_at)
       SELECT v.u, $1, v.a, CASE WHEN v.o IS NULL THEN 'skipped' ELSE 'ordered' END, v.r, v.o, $2
         FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::bigint[]) AS v(u, a, r, o)
       RETURNING id`,
      [
        loanId,
        at,
        history.map((h) => h.userId),
        history.map((h) => h.amount.toString()),
        history.map((h) => h.reason),
        history.map((h) => h.orderId),
      ],
    );
  if (paid.length > 0)
    // Served rules go to the back of the queue, in the order they were served.
    await q(
      `UPDATE auto_invest_rules r SET served_seq = s.seq, last_served_at = $2, updated_at = $2
         FROM (SELECT v.u, nextval('auto_invest_serve_seq') AS seq
                 FROM unnest($1::bigint[]) WITH ORDINALITY AS v(u, n) ORDER BY v.n) s
        WHERE r.user_id = s.u
       RETURNING r.user_id`,
      [paid.map((d) => d.userId), at],
    );
  const bought = paid.reduce((s, d) => s + d.amount, 0n);
  const finished =
    walk.stopped ||
    budget - bought <= 0n ||
    (exhausted && !changed && walk.decided === entries.length);
  const fields = { allocated: allocation.allocated + bought, passes: allocation.passes + 1 };
  if (finished)
    await allocationMachine.transition(
      allocation,
      AllocationStatus.Done,
      { ...fields, doneAt: at },
      { transaction },
    );
  else await allocation.update(fields, { transaction });
  return {
    status: finished ? AllocationStatus.Done : AllocationStatus.Pending,
    orders: decisions.length,
    skipped: walk.skipped.length,
  };
}

/**
 * Recovery: allocations still pending RECOVERY_GRACE_SECONDS after their last change (the job
 * was lost) get their job again.
 */
export async function sweepAllocations(
  queues: Map<string, Queue>,
  graceSeconds: number,
): Promise<number> {
  const rows = await AutoInvestAllocation.sequelize!.query<{ loan_id: string }>(
    `SELECT loan_id FROM auto_invest_allocations
      WHERE status = 'pending' AND updated_at < $1 ORDER BY loan_id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  return enqueueRecovery(
    queues,
    'auto-invest.allocate',
    'recover-allocate',
    rows.map((r) => ({ key: String(r.loan_id), payload: { loanId: String(r.loan_id) } })),
  );
}
