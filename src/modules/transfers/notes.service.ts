import { Op, QueryTypes, Transaction } from 'sequelize';
import { withTransaction } from '../../lib/db';
import { AppError, type ErrorCode } from '../../lib/errors';
import { Dec, idrToJson } from '../../lib/money';
import { Loan } from '../loans/loan.model';
import { Asset } from '../orders/order.model';
import { RepaymentSchedule } from '../schedules/schedule.model';
import { jakartaDate } from '../schedules/schedule';
import { CreditNote } from './credit-note.model';
import { noteInterest } from './interest';
import {
  canBuildCredit,
  REFUSAL_MESSAGES,
  type MarketRules,
  type TransferRefusal,
} from './transfer.rules';

/** An asset with what the transfer rules need: its loan and its schedule. */
interface AssetContext {
  asset: Asset;
  loan: Loan;
  rows: RepaymentSchedule[];
}

async function loadContext(
  assetId: string,
  transaction?: Transaction,
  lock = false,
): Promise<AssetContext | undefined> {
  const asset = await Asset.findByPk(assetId, {
    transaction,
    lock: lock ? Transaction.LOCK.UPDATE : undefined,
  });
  if (!asset) return undefined;
  const loan = (await Loan.findByPk(asset.loanId, { transaction }))!;
  const rows = await RepaymentSchedule.findAll({
    where: { assetId: asset.id },
    order: [['period', 'ASC']],
    transaction,
  });
  return { asset, loan, rows };
}

const nextPending = (rows: RepaymentSchedule[]) => rows.find((r) => r.status === 'pending');
const lastPaid = (rows: RepaymentSchedule[]) =>
  [...rows].reverse().find((r) => r.status === 'paid');

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
  const today = jakartaDate(new Date());
  const assets = await Asset.findAll({ where: { userId }, order: [['id', 'DESC']] });
  const notes = await CreditNote.findAll({ where: { userId } });
  const contexts: AssetContext[] = [];
  for (const a of assets) contexts.push((await loadContext(a.id))!);
  const open = (n: CreditNote) => !n.isClosed && !n.isCancelled && n.endTime.getTime() > Date.now();
  let picked = contexts;
  if (q.type === 'transferable')
    picked = contexts.filter((c) => refusalOf(c, rules, today) === undefined);
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

/** The interest figures of `amount` of an asset today (note detail and calc). */
function interestOf(ctx: AssetContext, amount: bigint, today: string) {
  const pending = ctx.rows
    .filter((r) => r.status === 'pending')
    .map((r) => ({ period: r.period, dueDate: r.dueDate, interest: r.interest }));
  return noteInterest({
    amount,
    assetPrincipal: ctx.asset.principal,
    interestStart: ctx.asset.interestStart ?? today,
    lastRepaymentDate: lastPaid(ctx.rows)?.dueDate ?? null,
    pending,
    today,
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
  const today = jakartaDate(new Date());
  const amount = BigInt(input.amount);
  const refusal = refusalOf(ctx, rules, today, amount);
  if (refusal) throw refuse(refusal);
  const { currentInterest, remainingInterest } = interestOf(ctx, amount, today);
  const factor = new Dec(1).minus(new Dec(input.discountRate).div(100));
  const price = BigInt(
    new Dec((amount + currentInterest).toString()).mul(factor).floor().toFixed(0),
  );
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
    jakartaDate(new Date()),
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
    const refusal = refusalOf(ctx, rules, jakartaDate(new Date()), amount);
    if (refusal) throw refuse(refusal);
    const note = await CreditNote.create(
      {
        assetId: ctx.asset.id,
        userId,
        loanId: ctx.loan.id,
        amount,
        tradedAmount: 0n,
        discountRate: new Dec(input.discountRate).toFixed(4),
        config: configSnapshot(rules),
        endTime: new Date(Date.now() + rules.noteLifetimeHours * 3_600_000),
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

/** Closes a note and gives its unsold part back to the asset (cancel or expiry). Caller holds the locks. */
async function closeNote(
  note: CreditNote,
  cancelled: boolean,
  transaction: Transaction,
): Promise<void> {
  const asset = (await Asset.findByPk(note.assetId, {
    transaction,
    lock: Transaction.LOCK.UPDATE,
  }))!;
  await asset.update(
    { maxTradableAmount: asset.maxTradableAmount + (note.amount - note.tradedAmount) },
    { transaction },
  );
  await note.update(
    { isClosed: true, isCancelled: cancelled || note.isCancelled, closedAt: new Date() },
    { transaction },
  );
}

/** DELETE /api/v1/credit-notes/:id: the seller withdraws the unsold part (409 when closed). */
export async function cancelNote(userId: string, noteId: string): Promise<CreditNote> {
  return withTransaction(CreditNote.sequelize!, async (transaction) => {
    const peek = await CreditNote.findByPk(noteId, { transaction });
    if (!peek || String(peek.userId) !== String(userId))
      throw new AppError('NOT_FOUND', 'no such note');
    await Asset.findByPk(peek.assetId, { transaction, lock: Transaction.LOCK.UPDATE });
    const note = (await CreditNote.findByPk(noteId, {
      transaction,
      lock: Transaction.LOCK.UPDATE,
    }))!;
    if (note.isClosed) throw new AppError('NOTE_CLOSED', 'the note is already closed');
    await closeNote(note, true, transaction);
    return note;
  });
}

/** The credit-notes.expire sweeper: notes past their end time close; their unsold part returns. */
export async function expireNotes(): Promise<number> {
  const due = await CreditNote.findAll({
    where: { isClosed: false, endTime: { [Op.lte]: new Date() } },
    limit: 500,
    order: [['id', 'ASC']],
  });
  let closed = 0;
  for (const d of due) {
    await withTransaction(CreditNote.sequelize!, async (transaction) => {
      await Asset.findByPk(d.assetId, { transaction, lock: Transaction.LOCK.UPDATE });
      const note = (await CreditNote.findByPk(d.id, {
        transaction,
        lock: Transaction.LOCK.UPDATE,
      }))!;
      if (note.isClosed) return;
      await closeNote(note, false, transaction);
      closed += 1;
    });
  }
  return closed;
}

/** GET /api/v1/credit-notes: open notes on the market, newest first. */
export async function marketNotes(q: { page: number; pageSize: number }) {
  const where = { isClosed: false, isCancelled: false, endTime: { [Op.gt]: new Date() } };
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
      ? { userId, isClosed: false, isCancelled: false, endTime: { [Op.gt]: new Date() } }
      : { userId, tradedAmount: { [Op.gt]: 0 } };
  const { rows, count } = await CreditNote.findAndCountAll({
    where,
    order: [['id', 'DESC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  const [stats] = await CreditNote.sequelize!.query<{ traded: string; trading: string }>(
    `SELECT COALESCE(SUM(traded_amount), 0)::text AS traded,
            COALESCE(SUM(CASE WHEN NOT is_closed AND NOT is_cancelled AND end_time > now() THEN amount - traded_amount ELSE 0 END), 0)::text AS trading
       FROM credit_notes WHERE user_id = $1`,
    { bind: [userId], type: QueryTypes.SELECT },
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
