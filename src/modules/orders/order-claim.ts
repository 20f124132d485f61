import { QueryTypes, type Transaction } from 'sequelize';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { now } from '../../lib/clock';
import { toIdr } from '../../lib/money';
import { KycStatus } from '../kyc/kyc.states';
import { accountCode, investorAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { getBalances, postTransactions, type Posting } from '../ledger/ledger.service';
import { LoanStatus } from '../loans/loan.states';
import { enqueueManyAfterCommit } from '../outbox/outbox.service';
import { InstructionStatus } from '../payments/instruction.states';
import { PaymentInstruction } from '../payments/payment.model';
import { AssetStatus } from '../assets/asset.states';
import { Order } from './order.model';
import { OrderFailCode, OrderStatus, orderMachine } from './order.states';
import { partnerAnswers, type LockDeps } from './orders.service';

/** Pending orders of one loan claimed by one transaction at most. */
export const CLAIM_BATCH = 100;

interface Candidate {
  id: string;
  user_id: string;
  amount: string;
  pay_with: 'card' | 'wallet';
  kyc_status: string;
  card_id: string | null;
}

/** One order of a batch, with the rule it broke when it broke one. */
export interface Decision {
  id: string;
  userId: string;
  amount: bigint;
  payWith: 'card' | 'wallet';
  cardId: string | null;
  fail?: { code: OrderFailCode; reason: string };
}

/** The loan moved between the read and the reservation: the batch is retried with it locked. */
export class LoanMoved extends Error {}

/**
 * The batched lock step (SPEC §3 purchase rules, TigerBeetle's lesson: amortise the hot row
 * over a batch). Claims up to CLAIM_BATCH pending orders of one loan, checks every rule for all
 * of them with set-based reads, and in ONE transaction rejects the ones that break a rule,
 * starts the card payments (instructions and lock expiries through the outbox), pays the wallet
 * ones (ledger, assets), and reserves the total with one conditional UPDATE of the loan row as
 * the last statement before COMMIT, so the hot row is held for one round trip per batch.
 *
 * Locks: the buyers' user rows in id order (the investor limit needs them), then the orders
 * (SKIP LOCKED: an order another batch holds is that batch's), then investor accounts in id
 * order (wallet postings), then the loan: the same order as the single-order path. Orders
 * whose partner check could not be made are left pending for their own job's retry.
 * Returns the ids of the orders decided.
 */
export async function claimPendingOrders(deps: LockDeps, loanId: string): Promise<string[]> {
  const candidates = await Order.sequelize!.query<Candidate>(
    `SELECT o.id, o.user_id, o.amount::text AS amount, o.pay_with, u.kyc_status,
            (SELECT c.id FROM bank_cards c WHERE c.user_id = o.user_id AND c.status = 'active'
              ORDER BY c.id DESC LIMIT 1) AS card_id
       FROM orders o JOIN users u ON u.id = o.user_id
      WHERE o.loan_id = $1 AND o.status = 'pending'
      ORDER BY o.id LIMIT $2`,
    { bind: [loanId, CLAIM_BATCH], type: QueryTypes.SELECT },
  );
  if (candidates.length === 0) return [];
  const decisions = await checkRules(deps, candidates);
  if (decisions.length === 0) return [];
  let written: Written;
  try {
    written = await withTransaction(Order.sequelize!, (t) =>
      decideAndWrite(deps, loanId, decisions, t, false),
    );
  } catch (err) {
    if (!(err instanceof LoanMoved)) throw err;
    written = await withTransaction(Order.sequelize!, (t) =>
      decideAndWrite(deps, loanId, decisions, t, true),
    );
  }
  if (deps.submit && written.instructions.length > 0) await deps.submit(written.instructions);
  return written.decided;
}

/** What one batch wrote: the orders it decided and the collection instructions it created. */
export interface Written {
  decided: string[];
  instructions: string[];
}

/** The rules about each investor and amount, outside any transaction (the partner is a network call). */
async function checkRules(deps: LockDeps, rows: Candidate[]): Promise<Decision[]> {
  const { minInvestAmount, investStepAmount } = deps.config;
  const decisions: Decision[] = rows.map((r) => {
    const amount = toIdr(r.amount);
    const d: Decision = {
      id: String(r.id),
      userId: String(r.user_id),
      amount,
      payWith: r.pay_with,
      cardId: r.card_id === null ? null : String(r.card_id),
    };
    if (r.kyc_status !== KycStatus.Verified)
      d.fail = { code: OrderFailCode.KycNotVerified, reason: 'the investor is not KYC verified' };
    else if (!d.cardId)
      d.fail = { code: OrderFailCode.NoBankCard, reason: 'the investor has no bank card bound' };
    else if (amount < minInvestAmount)
      d.fail = {
        code: OrderFailCode.AmountTooSmall,
        reason: `the amount is below the minimum of ${minInvestAmount}`,
      };
    else if (amount % investStepAmount !== 0n)
      d.fail = {
        code: OrderFailCode.AmountNotStep,
        reason: `the amount must be a multiple of ${investStepAmount}`,
      };
    return d;
  });
  const users = [...new Set(decisions.filter((d) => !d.fail).map((d) => d.userId))];
  const partner = await partnerAnswers(deps, users);
  return decisions.filter((d) => {
    if (d.fail) return true;
    const active = partner.get(d.userId);
    if (active === undefined) return false; // cannot tell: the order waits for its job's retry
    if (active)
      d.fail = {
        code: OrderFailCode.HasPartnerLoan,
        reason: 'the investor has an active loan at the partner',
      };
    return true;
  });
}

/**
 * Decides and writes one batch of checked orders inside `transaction` (see claimPendingOrders):
 * the rules that need the rows locked, rejections, card locks, wallet payments, and the loan's
 * reservation last. Throws LoanMoved when the loan changed under an unlocked read (retry with
 * `lockLoanFirst`). Auto-invest's allocation calls it with the orders it has just placed.
 */
export async function decideAndWrite(
  deps: LockDeps,
  loanId: string,
  checked: Decision[],
  transaction: Transaction,
  lockLoanFirst: boolean,
): Promise<Written> {
  const sequelize = Order.sequelize!;
  const q = <T extends object>(sql: string, bind: unknown[]) =>
    sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, transaction });
  const at = now();
  const users = [...new Set(checked.map((d) => d.userId))].sort((a, b) =>
    BigInt(a) < BigInt(b) ? -1 : 1,
  );
  await q('SELECT id FROM users WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE', [
    users,
  ]);
  const claimed = new Set(
    (
      await q<{ id: string }>(
        `SELECT id FROM orders WHERE id = ANY($1::bigint[]) AND status = 'pending'
          ORDER BY id FOR NO KEY UPDATE SKIP LOCKED`,
        [checked.map((d) => d.id)],
      )
    ).map((r) => String(r.id)),
  );
  const batch = checked.filter((d) => claimed.has(d.id));
  if (batch.length === 0) return { decided: [], instructions: [] };

  const positions = await investorPositions(users, transaction);
  const outstanding = new Map(users.map((u) => [u, positions.get(u)!.outstanding]));
  const wallet = new Map(users.map((u) => [u, positions.get(u)!.wallet]));
  const [loan] = await q<{
    status: string;
    deadline: Date;
    amount: string;
    locked_amount: string;
    bought_amount: string;
  }>(
    `SELECT status, deadline, amount::text, locked_amount::text, bought_amount::text
       FROM loans WHERE id = $1 ${lockLoanFirst ? 'FOR NO KEY UPDATE' : ''}`,
    [loanId],
  );
  const loanOpen = loan.status === LoanStatus.Open && loan.deadline.getTime() > at.getTime();
  let room = toIdr(loan.amount) - toIdr(loan.locked_amount) - toIdr(loan.bought_amount);

  for (const d of batch) {
    if (d.fail) continue;
    const limit = deps.config.investorLimitAmount;
    if (outstanding.get(d.userId)! + d.amount > limit)
      d.fail = {
        code: OrderFailCode.OverLimit,
        reason: `the investor's outstanding total would exceed ${limit}`,
      };
    else if (!loanOpen)
      d.fail = {
        code: OrderFailCode.LoanNotOpen,
        reason: `the loan is ${loan.status === LoanStatus.Open ? 'past its deadline' : loan.status}`,
      };
    else if (d.amount > room)
      d.fail = {
        code: OrderFailCode.NotEnoughRoom,
        reason: `only ${room} of the loan is left`,
      };
    else if (d.payWith === 'wallet' && wallet.get(d.userId)! < d.amount)
      d.fail = {
        code: OrderFailCode.InsufficientBalance,
        reason: 'the wallet balance is lower than the amount',
      };
    if (d.fail) continue;
    room -= d.amount;
    outstanding.set(d.userId, outstanding.get(d.userId)! + d.amount);
    if (d.payWith === 'wallet') wallet.set(d.userId, wallet.get(d.userId)! - d.amount);
  }

  const rejected = batch.filter((d) => d.fail);
  const cards = batch.filter((d) => !d.fail && d.payWith === 'card');
  const wallets = batch.filter((d) => !d.fail && d.payWith === 'wallet');
  const expiresAt = new Date(at.getTime() + deps.config.lockTtlSeconds * 1000);
  const instructionIds: string[] = [];

  if (rejected.length > 0) {
    const moved = await q(
      `UPDATE orders o SET status = 'rejected', fail_code = v.code, fail_reason = v.reason,
              ended_at = $4, updated_at = $4
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, code, reason)
        WHERE o.id = v.id AND o.status = ANY($5::text[])
        RETURNING o.id`,
      [
        rejected.map((d) => d.id),
        rejected.map((d) => d.fail!.code),
        rejected.map((d) => d.fail!.reason),
        at,
        orderMachine.sourcesOf(OrderStatus.Rejected),
      ],
    );
    movedAll(moved, rejected.length, OrderStatus.Rejected);
  }
  if (cards.length > 0) {
    // pending → locked → paying in one statement: the share is reserved below, before COMMIT.
    orderMachine.assert(OrderStatus.Locked, OrderStatus.Paying);
    const moved = await q(
      `UPDATE orders SET status = 'paying', holds_lock = true, locked_at = $2, lock_expires_at = $3,
              updated_at = $2
        WHERE id = ANY($1::bigint[]) AND status = ANY($4::text[])
        RETURNING id`,
      [cards.map((d) => d.id), at, expiresAt, orderMachine.sourcesOf(OrderStatus.Locked)],
    );
    movedAll(moved, cards.length, OrderStatus.Paying);
    const instructions = await PaymentInstruction.bulkCreate(
      cards.map((d) => ({
        kind: 'collection' as const,
        purpose: 'order' as const,
        refId: d.id,
        userId: d.userId,
        amount: d.amount,
        bankCardId: d.cardId,
        status: InstructionStatus.Created,
      })),
      { transaction, returning: ['id'] },
    );
    instructionIds.push(...instructions.map((i) => String(i.id)));
    if (!deps.submit)
      await enqueueManyAfterCommit(
        'instruction.submit',
        instructionIds.map((instructionId) => ({ instructionId })),
        { transaction },
      );
    await enqueueManyAfterCommit(
      'order.expire',
      cards.map((d) => ({ orderId: d.id })),
      { transaction, runAt: expiresAt },
    );
  }
  if (wallets.length > 0) {
    orderMachine.assert(OrderStatus.Locked, OrderStatus.Paid);
    await postTransactions(
      wallets.flatMap((d): Posting[] => [
        {
          kind: LedgerKind.PurchaseLock,
          idempotencyKey: `order:${d.id}:lock`,
          metadata: { orderId: d.id },
          entries: [
            { account: investorAccount(d.userId, 'available'), amount: -d.amount },
            { account: investorAccount(d.userId, 'locked'), amount: d.amount },
          ],
        },
        {
          kind: LedgerKind.PurchasePaid,
          idempotencyKey: `order:${d.id}:paid`,
          metadata: { orderId: d.id, loanId },
          entries: [
            { account: investorAccount(d.userId, 'locked'), amount: -d.amount },
            { account: investorAccount(d.userId, 'invested'), amount: d.amount, memo: 'principal' },
          ],
        },
      ]),
      { transaction },
    );
    // One set-based INSERT (a model per row costs more than the statement at batch sizes).
    await q(
      `INSERT INTO assets (user_id, loan_id, order_id, principal, max_tradable_amount, trade_count,
                           status, created_at, updated_at)
       SELECT v.u, $1, v.o, v.a, v.a, 0, $5, $6, $6
         FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS v(u, o, a)
       RETURNING id`,
      [
        loanId,
        wallets.map((d) => d.userId),
        wallets.map((d) => d.id),
        wallets.map((d) => d.amount.toString()),
        AssetStatus.Holding,
        at,
      ],
    );
    // pending → locked → paid in one statement (the wallet pays at once).
    const moved = await q(
      `UPDATE orders SET status = 'paid', holds_lock = false, locked_at = $2, paid_at = $2,
              ended_at = $2, updated_at = $2
        WHERE id = ANY($1::bigint[]) AND status = ANY($3::text[])
        RETURNING id`,
      [wallets.map((d) => d.id), at, orderMachine.sourcesOf(OrderStatus.Locked)],
    );
    movedAll(moved, wallets.length, OrderStatus.Paid);
  }

  // Last before COMMIT: the whole batch's reservation in one statement that can never oversell.
  const lockTotal = cards.reduce((s, d) => s + d.amount, 0n);
  const buyTotal = wallets.reduce((s, d) => s + d.amount, 0n);
  if (lockTotal + buyTotal > 0n) {
    const [row] = await q<{ full: boolean }>(
      `UPDATE loans SET locked_amount = locked_amount + $2, bought_amount = bought_amount + $3, updated_at = $4
        WHERE id = $1 AND status = 'open' AND deadline > $4
          AND locked_amount + bought_amount + $2 + $3 <= amount
        RETURNING bought_amount = amount AS full`,
      [loanId, lockTotal.toString(), buyTotal.toString(), at],
    );
    if (!row) {
      if (lockLoanFirst) throw new Error(`loan ${loanId} changed under its row lock`);
      throw new LoanMoved();
    }
    if (row.full) await enqueueManyAfterCommit('loan.settle', [{ loanId }], { transaction });
  }
  return { decided: batch.map((d) => d.id), instructions: instructionIds };
}

/** A batch UPDATE guarded by the table's sources must move every row it names (they are locked). */
function movedAll(rows: object[], expected: number, to: OrderStatus): void {
  if (rows.length !== expected)
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `order batch: ${expected - rows.length} of ${expected} orders cannot move to ${to}`,
      [],
      { retryable: false },
    );
}

/** What an investor holds in the wallet and has at risk (for INVESTOR_LIMIT_AMOUNT). */
export interface InvestorPosition {
  /** The `available` balance. */
  wallet: bigint;
  /** Principal invested, plus purchase locks held and secondary-market orders in flight. */
  outstanding: bigint;
}

/**
 * The positions of many investors in three set-based reads, inside the caller's transaction
 * (which should hold their user rows, so that no other purchase moves them meanwhile), or
 * without one for an estimate.
 */
export async function investorPositions(
  users: string[],
  transaction?: Transaction,
): Promise<Map<string, InvestorPosition>> {
  const invested = await getBalances(
    users.map((u) => investorAccount(u, 'invested')),
    { transaction },
  );
  const available = await getBalances(
    users.map((u) => investorAccount(u, 'available')),
    { transaction },
  );
  const inFlight = new Map(
    (
      await Order.sequelize!.query<{ user_id: string; total: string }>(
        `SELECT user_id, SUM(amount)::text AS total FROM (
           SELECT user_id, amount FROM orders WHERE user_id = ANY($1::bigint[]) AND holds_lock
           UNION ALL
           SELECT buyer_id, principal FROM credit_orders
            WHERE buyer_id = ANY($1::bigint[]) AND status IN ('initial', 'processing', 'abnormal')) x
          GROUP BY user_id`,
        { bind: [users], type: QueryTypes.SELECT, transaction },
      )
    ).map((r) => [String(r.user_id), toIdr(r.total)]),
  );
  return new Map(
    users.map((u) => [
      u,
      {
        wallet: available.get(accountCode(investorAccount(u, 'available'))) ?? 0n,
        outstanding:
          (invested.get(accountCode(investorAccount(u, 'invested'))) ?? 0n) +
          (inFlight.get(u) ?? 0n),
      },
    ]),
  );
}
