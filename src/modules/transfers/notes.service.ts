import { Op, QueryTypes, Transaction } from 'sequelize';
import { withTransaction } from '../../lib/db';
import { AppError, type ErrorCode } from '../../lib/errors';
import { now, nowMs, today } from '../../lib/clock';
import { Dec, idrToJson, mulFloor } from '../../lib/money';
import { interestStartOf, Loan } from '../loans/loan.model';
import { Asset } from '../assets/asset.model';
import {
  loadAssetContext,
  ownedAssetContext,
  transferRefusalOf,
  type AssetContext,
} from '../assets/assets.service';
import { CreditNote } from './credit-note.model';
import { noteInterest } from './interest';
import { CreditNoteStatus, creditNoteMachine, noteFlags } from './credit-note.states';
import {
  discountedPrice,
  REFUSAL_MESSAGES,
  type MarketRules,
  type TransferRefusal,
} from './transfer.rules';

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

/** POST /api/v1/credit-notes/calc: the amount and discount checked, and what a buyer would owe. */
export async function calcNote(
  userId: string,
  input: { assetId: string; amount: number; discountRate: string },
  rules: MarketRules,
) {
  const ctx = await ownedAssetContext(userId, input.assetId);
  const day = today();
  const amount = BigInt(input.amount);
  const refusal = transferRefusalOf(ctx, rules, day, amount);
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

/** The SPEC's note out (the loan read by the caller: one query for a page, not one per note). */
function noteBase(n: CreditNote, creditorNo: string) {
  return {
    id: String(n.id),
    assetId: String(n.assetId),
    creditorNo,
    amount: idrToJson(n.amount),
    tradedAmount: idrToJson(n.tradedAmount),
    discountRate: new Dec(n.discountRate).toFixed(4),
    ...noteFlags(n.status),
    endTime: n.endTime,
  };
}

/** A page of notes out, their loans' creditor numbers read in one query. */
async function noteViews(notes: CreditNote[]) {
  const loans = await Loan.findAll({
    where: { id: [...new Set(notes.map((n) => String(n.loanId)))] },
    attributes: ['id', 'creditorNo'],
  });
  const creditorNo = new Map(loans.map((l) => [String(l.id), l.creditorNo]));
  return notes.map((n) => noteBase(n, creditorNo.get(String(n.loanId))!));
}

/** The SPEC's note out; `isLong` adds the interest figures. */
export async function noteView(n: CreditNote, isLong = false) {
  const loan = (await Loan.findByPk(n.loanId, { attributes: ['id', 'creditorNo'] }))!;
  const base = noteBase(n, loan.creditorNo);
  if (!isLong) return base;
  const ctx = (await loadAssetContext(n.assetId))!;
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
    const ctx = await ownedAssetContext(userId, input.assetId, transaction, true);
    const amount = BigInt(input.amount);
    const refusal = transferRefusalOf(ctx, rules, today(), amount);
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
  to: CreditNoteStatus.Cancelled | CreditNoteStatus.Expired,
  transaction: Transaction,
): Promise<void> {
  await asset.update(
    { maxTradableAmount: asset.maxTradableAmount + (note.amount - note.tradedAmount) },
    { transaction },
  );
  await creditNoteMachine.transition(note, to, { closedAt: now() }, { transaction });
}

/** Locks a note with the fixed order (loan shared → asset → note) and closes it if still open. */
async function closeOpenNote(
  noteId: string,
  opts: { to: CreditNoteStatus.Cancelled | CreditNoteStatus.Expired; userId?: string },
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
    if (note.status !== CreditNoteStatus.Open) return undefined;
    await closeNote(note, asset, opts.to, transaction);
    return note;
  });
}

/** DELETE /api/v1/credit-notes/:id: the seller withdraws the unsold part (409 when closed). */
export async function cancelNote(userId: string, noteId: string): Promise<CreditNote> {
  const note = await closeOpenNote(noteId, { to: CreditNoteStatus.Cancelled, userId });
  if (!note) throw new AppError('NOTE_CLOSED', 'the note is already closed');
  return note;
}

/** The credit-notes.expire sweeper: notes past their end time close; their unsold part returns. */
export async function expireNotes(): Promise<number> {
  const due = await CreditNote.findAll({
    where: { status: CreditNoteStatus.Open, endTime: { [Op.lte]: now() } },
    limit: 500,
    order: [['id', 'ASC']],
  });
  let closed = 0;
  for (const d of due) if (await closeOpenNote(d.id, { to: CreditNoteStatus.Expired })) closed += 1;
  return closed;
}

/** GET /api/v1/credit-notes/:id (any investor may look at a note on the market). */
export async function noteDetail(noteId: string, isLong: boolean) {
  const note = await CreditNote.findByPk(noteId);
  if (!note) throw new AppError('NOT_FOUND', 'no such note');
  return noteView(note, isLong);
}

/** GET /api/v1/credit-notes: open notes on the market, newest first. */
export async function marketNotes(q: { page: number; pageSize: number }) {
  const where = { status: CreditNoteStatus.Open, endTime: { [Op.gt]: now() } };
  const { rows, count } = await CreditNote.findAndCountAll({
    where,
    order: [['id', 'DESC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  return {
    items: await noteViews(rows),
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
      ? { userId, status: CreditNoteStatus.Open, endTime: { [Op.gt]: now() } }
      : { userId, tradedAmount: { [Op.gt]: 0 } };
  const { rows, count } = await CreditNote.findAndCountAll({
    where,
    order: [['id', 'DESC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  const [stats] = await CreditNote.sequelize!.query<{ traded: string; trading: string }>(
    `SELECT COALESCE(SUM(traded_amount), 0)::text AS traded,
            COALESCE(SUM(CASE WHEN status = 'open' AND end_time > $2 THEN amount - traded_amount ELSE 0 END), 0)::text AS trading
       FROM credit_notes WHERE user_id = $1`,
    { bind: [userId, now()], type: QueryTypes.SELECT },
  );
  return {
    items: await noteViews(rows),
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
