import { QueryTypes, Transaction } from 'sequelize';
import { AppError } from '../../lib/errors';
import { jakartaDate, nowMs, today } from '../../lib/clock';
import { idrToJson } from '../../lib/money';
import { Loan } from '../loans/loan.model';
import { RepaymentPlan, RepaymentSchedule } from '../schedules/schedule.model';
import { CreditNote } from '../transfers/credit-note.model';
import {
  canBuildCredit,
  isNoteOpen,
  type MarketRules,
  type TransferRefusal,
} from '../transfers/transfer.rules';
import { Asset } from './asset.model';
import { PeriodStatus } from '../schedules/schedule.states';

/** An asset with what the transfer rules need: its loan, its schedule, the loan's last repayment date. */
export interface AssetContext {
  asset: Asset;
  loan: Loan;
  rows: RepaymentSchedule[];
  /** Due date of the loan's last repaid period (accrued interest runs from it), if any. */
  lastRepaymentDate: string | null;
}

/** The asset's next unpaid row, if any. */
export const nextPending = (rows: RepaymentSchedule[]) => rows.find((r) => r.status === 'pending');

/**
 * An asset and what the rules read. With `lock`, the fixed order: the loan (shared, so that a
 * repayment clearing waits), then the asset.
 */
export async function loadAssetContext(
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
    where: { loanId: loan.id, status: PeriodStatus.Paid },
    order: [['period', 'DESC']],
    transaction,
  });
  return { asset, loan, rows, lastRepaymentDate: last?.dueDate ?? null };
}

/** The caller's own asset with its context (404 for anyone else's: ids are not secrets). */
export async function ownedAssetContext(
  userId: string,
  assetId: string,
  transaction?: Transaction,
  lock = false,
): Promise<AssetContext> {
  const ctx = await loadAssetContext(assetId, transaction, lock);
  if (!ctx || String(ctx.asset.userId) !== String(userId))
    throw new AppError('NOT_FOUND', 'no such asset');
  return ctx;
}

/** The contexts of many assets in four queries (not four per asset): loans, rows, last repayments. */
async function loadAssetContexts(assets: Asset[]): Promise<AssetContext[]> {
  if (assets.length === 0) return [];
  const loanIds = [...new Set(assets.map((a) => String(a.loanId)))];
  const loans = new Map(
    (await Loan.findAll({ where: { id: loanIds } })).map((l) => [String(l.id), l]),
  );
  const rows = new Map<string, RepaymentSchedule[]>();
  for (const r of await RepaymentSchedule.findAll({
    where: { assetId: assets.map((a) => a.id) },
    order: [
      ['assetId', 'ASC'],
      ['period', 'ASC'],
    ],
  }))
    rows.set(String(r.assetId), [...(rows.get(String(r.assetId)) ?? []), r]);
  const last = new Map(
    (
      await Asset.sequelize!.query<{ loan_id: string; due_date: string }>(
        `SELECT DISTINCT ON (loan_id) loan_id::text, due_date::text FROM repayment_plans
          WHERE loan_id = ANY($1::bigint[]) AND status = 'paid' ORDER BY loan_id, period DESC`,
        { bind: [loanIds], type: QueryTypes.SELECT },
      )
    ).map((r) => [r.loan_id, r.due_date]),
  );
  return assets.map((asset) => ({
    asset,
    loan: loans.get(String(asset.loanId))!,
    rows: rows.get(String(asset.id)) ?? [],
    lastRepaymentDate: last.get(String(asset.loanId)) ?? null,
  }));
}

/** The first transfer rule the asset (and the amount) breaks today, if any (seed 003). */
export function transferRefusalOf(
  ctx: AssetContext,
  rules: MarketRules,
  day: string,
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
      today: day,
      amount,
    },
    rules,
  );
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
  const contexts = await loadAssetContexts(assets);
  const open = (n: CreditNote) => isNoteOpen(n, nowMs());
  const withNote = (pick: (n: CreditNote) => boolean) =>
    new Set(notes.filter(pick).map((n) => String(n.assetId)));
  let picked = contexts;
  if (q.type === 'transferable')
    picked = contexts.filter((c) => transferRefusalOf(c, rules, day) === undefined);
  if (q.type === 'transferring') {
    const ids = withNote(open);
    picked = contexts.filter((c) => ids.has(String(c.asset.id)));
  }
  if (q.type === 'transferred') {
    const ids = withNote((n) => n.tradedAmount > 0n);
    picked = contexts.filter((c) => ids.has(String(c.asset.id)));
  }
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
  return assetView(await ownedAssetContext(userId, assetId), true);
}
