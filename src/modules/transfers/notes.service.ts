import { Op, QueryTypes, Transaction } from 'sequelize';
import { withTransaction } from '../../lib/db';
import { AppError, type ErrorCode } from '../../lib/errors';
import { jakartaDate, now, nowMs, today } from '../../lib/clock';
import { Dec, idrToJson, mulFloor } from '../../lib/money';
import { interestStartOf, Loan } from '../loans/loan.model';
import { Asset } from '../assets/asset.model';
import { RepaymentPlan, RepaymentSchedule } from '../schedules/schedule.model';
import { CreditNote } from './credit-note.model';
import { noteInterest } from './interest';
import {
  canBuildCredit,
  discountedPrice,
  isNoteOpen,
  REFUSAL_MESSAGES,
  type MarketRules,
  type TransferRefusal,
} from './transfer.rules';

/** An asset with what the transfer rules need: its loan, its schedule, the loan's last repayment date. */
interface AssetContext {
  asset: Asset;
  loan: Loan;
  rows: RepaymentSchedule[];
  /** Due date of the loan's last repaid period (accrued interest runs from it), if any. */
  lastRepaymentDate: string | null;
}

/**
 * An asset and what the rules read. With `lock`, the fixed order: the loan (shared, so that a
 * repayment clearing waits), then the asset.
 */
async function loadContext(
  assetId: string,
  transaction?: Transaction,
  lock = false,
): Promise<AssetContext | undefined> {
  const peek = await Asset.findByPk(assetId, { transaction });
  if (!peek) return undefined;
  const loan = (await Loan.findByPk(peek.loanId, {
    transaction,
    lock: lock ? Transaction.LOCK.SHARE : undefined,
  }))!;
  const asset = lock
    ? (await Asset.findByPk(assetId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE }))!
    : peek;
  const rows = await RepaymentSchedule.findAll({
    where: { assetId: asset.id },
    order: [['period', 'ASC']],
    transaction,
  });
  const last = await RepaymentPlan.findOne({
    where: { loanId: loan.id, status: 'paid' },
    order: [['period', 'DESC']],
    transaction,
  });
  return { asset, loan, rows, lastRepaymentDate: last?.dueDate ?? null };
}

const nextPending = (rows: RepaymentSchedule[]) => rows.find((r) => r.status === 'pending');

function refusalOf(
  ctx: AssetContext,
  rules: MarketRules,
  today: string,
  amount?: bigint,
): TransferRefusal | undefined {
  return canBuildCredit(
    {
      loan: {
        status: ctx.loan.status,
        termUnit: ctx.loan.termUnit,
        term: ctx.loan.term,
        repaymentMethod: ctx.loan.repaymentMethod,
        dueDate: ctx.loan.dueTime ? jakartaDate(ctx.loan.dueTime) : null,
      },
      asset: {
        status: ctx.asset.status,
        principal: ctx.asset.principal,
        maxTradableAmount: ctx.asset.maxTradableAmount,
        tradeCount: ctx.asset.tradeCount,
        interestStart: ctx.asset.interestStart,
      },
      nextRepaymentDate: nextPending(ctx.rows)?.dueDate ?? null,
      today,
      amount,
    },
    rules,
  );
}

const refuse = (code: TransferRefusal): AppError =>
  new AppError(code as ErrorCode, REFUSAL_MESSAGES[code], [
    { path: 'amount', message: REFUSAL_MESSAGES[code] },
  ]);

/**
 * A discount that would leave a buyer paying no more than the fee (for the smallest order the
 * note allows, or the whole note, with no interest accrued) is refused: 422 DISCOUNT_TOO_HIGH,
 * never an order that cannot be settled.
 */
function checkDiscount(amount: bigint, discountRate: string, rules: MarketRules): void {
  const smallest = amount < rules.minOrderAmount ? amount : rules.minOrderAmount;
  for (const p of [smallest, amount]) {
    const pay = discountedPrice(p, discountRate);
    const fee = mulFloor(p, new Dec(rules.feeRate));
    if (pay <= fee)
      throw new AppError(
        'DISCOUNT_TOO_HIGH',
        `at ${discountRate}% off a buyer of ${p} would pay ${pay}, not more than the fee of ${fee}`,
        [{ path: 'discountRate', message: 'too high: the price would not cover the fee' }],
      );
  }
}

/** The SPEC's asset out (schedule on the detail only). */
function assetView(ctx: AssetContext, withSchedule: boolean) {
  return {
    id: String(ctx.asset.id),
    creditorNo: ctx.loan.creditorNo,
    amount: idrToJson(ctx.asset.principal),
    maxTradableAmount: idrToJson(ctx.asset.maxTradableAmount),
    tradeCount: ctx.asset.tradeCount,
    status: ctx.asset.status,
    nextRepaymentDate: nextPending(ctx.rows)?.dueDate ?? null,
    ...(withSchedule
      ? {
          schedule: ctx.rows.map((r) => ({
            period: r.period,
            dueDate: r.dueDate,
            principal: idrToJson(r.principal),
            interest: idrToJson(r.interest),
            status: r.status,
          })),
        }
      : {}),
  };
}

/**
 * GET /api/v1/me/assets (seed 003 lists): every asset held, or by type — `transferable` (passes
 * canBuildCredit), `transferring` (has an open note), `transferred` (some of it was sold) —
 * with the totals of the seed (creditAmount, tradingTotalAmount, tradedTotalAmount).
 */
export async function listAssets(
  userId: string,
  q: { type?: 'transferable' | 'transferring' | 'transferred'; page: number; pageSize: number },
  rules: MarketRules,
) {
  const day = today();
  const assets = await Asset.findAll({ where: { userId }, order: [['id', 'DESC']] });
  const notes = await CreditNote.findAll({ where: { userId } });
  const contexts: AssetContext[] = [];
  for (const a of assets) contexts.push((await loadContext(a.id))!);
  const open = (n: CreditNote) => isNoteOpen(n, nowMs());
  let picked = contexts;
  if (q.type === 'transferable')
    picked = contexts.filter((c) => refusalOf(c, rules, day) === undefined);
  if (q.type === 'transferring')
    picked = contexts.filter((c) =>
      notes.some((n) => String(n.assetId) === String(c.asset.id) && open(n)),
    );
  if (q.type === 'transferred')
    picked = contexts.filter((c) =>
      notes.some((n) => String(n.assetId) === String(c.asset.id) && n.tradedAmount > 0n),
    );
  const page = picked.slice((q.page - 1) * q.pageSize, q.page * q.pageSize);
  const ids = new Set(picked.map((c) => String(c.asset.id)));
  const mine = notes.filter((n) => ids.has(String(n.assetId)));
  return {
    items: page.map((c) => assetView(c, false)),
    page: q.page,
    pageSize: q.pageSize,
    total: picked.length,
    creditAmount: idrToJson(picked.reduce((s, c) => s + c.asset.maxTradableAmount, 0n)),
    tradingTotalAmount: idrToJson(
      mine.filter(open).reduce((s, n) => s + n.amount - n.tradedAmount, 0n),
    ),
    tradedTotalAmount: idrToJson(mine.reduce((s, n) => s + n.tradedAmount, 0n)),
  };
}

/** GET /api/v1/me/assets/:id: one of the caller's assets with its schedule. */
export async function assetDetail(userId: string, assetId: string) {
  const ctx = await loadContext(assetId);
  if (!ctx || String(ctx.asset.userId) !== String(userId))
    throw new AppError('NOT_FOUND', 'no such asset');
  return assetView(ctx, true);
}

/**
 * The interest figures of `amount` of an asset on `day` (note detail and calc): accrued from the
 * loan's last repayment date or its interest start (计息日), not the asset's own start.
 */
function interestOf(ctx: AssetContext, amount: bigint, day: string) {
  const pending = ctx.rows
    .filter((r) => r.status === 'pending')
    .map((r) => ({ period: r.period, dueDate: r.dueDate, interest: r.interest }));
  return noteInterest({
    amount,
    assetPrincipal: ctx.asset.principal,
    interestStart: interestStartOf(ctx.loan) ?? day,
    lastRepaymentDate: ctx.lastRepaymentDate,
    pending,
    today: day,
  });
}

/** The rules a note keeps (seed: $note->config), as JSON. */
const configSnapshot = (rules: MarketRules) => ({
  trade_count_limit: rules.tradeCountLimit,
  loan_fenqi_limit: rules.fenqiLimitMonths,
  loan_daoqi_limit: rules.daoqiLimitDays,
  holdDays: rules.holdDays,
  duration: rules.durationDays,
  fee_rate: rules.feeRate,
  min_order_amount: rules.minOrderAmount.toString(),
  incr_order_amount: rules.incrOrderAmount.toString(),
  note_lifetime_hours: rules.noteLifetimeHours,
});

async function ownedContext(
  userId: string,
  assetId: string,
  transaction?: Transaction,
  lock = false,
) {
  const ctx = await loadContext(assetId, transaction, lock);
  if (!ctx || String(ctx.asset.userId) !== String(userId))
    throw new AppError('NOT_FOUND', 'no such asset');
  return ctx;
}

/** POST /api/v1/credit-notes/calc: the amount and discount checked, and what a buyer would owe. */
export async function calcNote(
  userId: string,
  input: { assetId: string; amount: number; discountRate: string },
  rules: MarketRules,
) {
  const ctx = await ownedContext(userId, input.assetId);
  const day = today();
  const amount = BigInt(input.amount);
  const refusal = refusalOf(ctx, rules, day, amount);
  if (refusal) throw refuse(refusal);
  checkDiscount(amount, input.discountRate, rules);
  const { currentInterest, remainingInterest } = interestOf(ctx, amount, day);
  const price = discountedPrice(amount + currentInterest, input.discountRate);
  return {
    assetId: String(ctx.asset.id),
    amount: idrToJson(amount),
    discountRate: new Dec(input.discountRate).toFixed(4),
    maxTradableAmount: idrToJson(ctx.asset.maxTradableAmount),
    currentInterest: idrToJson(currentInterest),
    remainingInterest: idrToJson(remainingInterest),
    /** What a buyer of the whole note would pay today: (principal + accrued interest) × (1 − discount). */
    price: idrToJson(price),
  };
}

/** The SPEC's note out; `isLong` adds the interest figures. */
export async function noteView(n: CreditNote, isLong = false) {
  const loan = (await Loan.findByPk(n.loanId))!;
  const base = {
    id: String(n.id),
    assetId: String(n.assetId),
    creditorNo: loan.creditorNo,
    amount: idrToJson(n.amount),
    tradedAmount: idrToJson(n.tradedAmount),
    discountRate: new Dec(n.discountRate).toFixed(4),
    isClosed: n.isClosed,
    isCancelled: n.isCancelled,
    endTime: n.endTime,
  };
  if (!isLong) return base;
  const ctx = (await loadContext(n.assetId))!;
  const { currentInterest, remainingInterest } = interestOf(
    ctx,
    n.amount - n.tradedAmount,
    today(),
  );
  return {
    ...base,
    currentInterest: idrToJson(currentInterest),
    remainingInterest: idrToJson(remainingInterest),
  };
}

/**
 * POST /api/v1/credit-notes: in one transaction, the asset row locked: the owner, the loan and
 * every rule checked (canBuildCredit with the amount), the note stored with the rules of the day,
 * the asset's maxTradableAmount reduced — so two notes on one asset never offer more than it.
 */
export async function createNote(
  userId: string,
  input: { assetId: string; amount: number; discountRate: string },
  rules: MarketRules,
): Promise<CreditNote> {
  return withTransaction(Asset.sequelize!, async (transaction) => {
    const ctx = await ownedContext(userId, input.assetId, transaction, true);
    const amount = BigInt(input.amount);
    const refusal = refusalOf(ctx, rules, today(), amount);
    if (refusal) throw refuse(refusal);
    checkDiscount(amount, input.discountRate, rules);
    const note = await CreditNote.create(
      {
        assetId: ctx.asset.id,
        userId,
        loanId: ctx.loan.id,
        amount,
        tradedAmount: 0n,
        reservedAmount: 0n,
        discountRate: new Dec(input.discountRate).toFixed(4),
        config: configSnapshot(rules),
        endTime: new Date(nowMs() + rules.noteLifetimeHours * 3_600_000),
      },
      { transaction },
    );
    await ctx.asset.update(
      { maxTradableAmount: ctx.asset.maxTradableAmount - amount },
      { transaction },
    );
    return note;
  });
}

/**
 * Closes a note and gives its unsold part back to the asset (cancel or expiry); orders in flight
 * on it fail at their next step and release their reservation. The caller holds the loan
 * (shared), the asset and the note, in that order.
 */
async function closeNote(
  note: CreditNote,
  asset: Asset,
  cancelled: boolean,
  transaction: Transaction,
): Promise<void> {
  await asset.update(
    { maxTradableAmount: asset.maxTradableAmount + (note.amount - note.tradedAmount) },
    { transaction },
  );
  await note.update(
    { isClosed: true, isCancelled: cancelled || note.isCancelled, closedAt: now() },
    { transaction },
  );
}

/** Locks a note with the fixed order (loan shared → asset → note) and closes it if still open. */
async function closeOpenNote(
  noteId: string,
  opts: { cancelled: boolean; userId?: string },
): Promise<CreditNote | undefined> {
  return withTransaction(CreditNote.sequelize!, async (transaction) => {
    const peek = await CreditNote.findByPk(noteId, { transaction });
    if (!peek || (opts.userId !== undefined && String(peek.userId) !== String(opts.userId)))
      throw new AppError('NOT_FOUND', 'no such note');
    await Loan.findByPk(peek.loanId, { transaction, lock: Transaction.LOCK.SHARE });
    const asset = (await Asset.findByPk(peek.assetId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    }))!;
    const note = (await CreditNote.findByPk(noteId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    }))!;
    if (note.isClosed) return undefined;
    await closeNote(note, asset, opts.cancelled, transaction);
    return note;
  });
}

/** DELETE /api/v1/credit-notes/:id: the seller withdraws the unsold part (409 when closed). */
export async function cancelNote(userId: string, noteId: string): Promise<CreditNote> {
  const note = await closeOpenNote(noteId, { cancelled: true, userId });
  if (!note) throw new AppError('NOTE_CLOSED', 'the note is already closed');
  return note;
}

/** The credit-notes.expire sweeper: notes past their end time close; their unsold part returns. */
export async function expireNotes(): Promise<number> {
  const due = await CreditNote.findAll({
    where: { isClosed: false, endTime: { [Op.lte]: now() } },
    limit: 500,
    order: [['id', 'ASC']],
  });
  let closed = 0;
  for (const d of due) if (await closeOpenNote(d.id, { cancelled: false })) closed += 1;
  return closed;
}

/** GET /api/v1/credit-notes: open notes on the market, newest first. */
export async function marketNotes(q: { page: number; pageSize: number }) {
  const where = { isClosed: false, isCancelled: false, endTime: { [Op.gt]: now() } };
  const { rows, count } = await CreditNote.findAndCountAll({
    where,
    order: [['id', 'DESC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  return {
    items: await Promise.all(rows.map((n) => noteView(n))),
    page: q.page,
    pageSize: q.pageSize,
    total: count,
  };
}

/** GET /api/v1/me/credit-notes: type 2 selling (open), 3 sold (some traded), with the seed's stats. */
export async function userNotes(
  userId: string,
  q: { type: 2 | 3; page: number; pageSize: number },
) {
  const where =
    q.type === 2
      ? { userId, isClosed: false, isCancelled: false, endTime: { [Op.gt]: now() } }
      : { userId, tradedAmount: { [Op.gt]: 0 } };
  const { rows, count } = await CreditNote.findAndCountAll({
    where,
    order: [['id', 'DESC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  const [stats] = await CreditNote.sequelize!.query<{ traded: string; trading: string }>(
    `SELECT COALESCE(SUM(traded_amount), 0)::text AS traded,
            COALESCE(SUM(CASE WHEN NOT is_closed AND NOT is_cancelled AND end_time > $2 THEN amount - traded_amount ELSE 0 END), 0)::text AS trading
       FROM credit_notes WHERE user_id = $1`,
    { bind: [userId, now()], type: QueryTypes.SELECT },
  );
  return {
    items: await Promise.all(rows.map((n) => noteView(n))),
    page: q.page,
    pageSize: q.pageSize,
    total: count,
    stats: {
      type: q.type,
      totalCount: count,
      tradedTotalAmount: idrToJson(BigInt(stats.traded)),
      tradingTotalAmount: idrToJson(BigInt(stats.trading)),
    },
  };
}
