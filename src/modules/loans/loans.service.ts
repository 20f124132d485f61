import { Op, QueryTypes, UniqueConstraintError } from 'sequelize';
import type { Queue } from 'bullmq';
import type { PartnerPort } from '../../adapters/partner';
import type { PiiCipher } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { maskName } from '../../lib/masking';
import { Dec, idrToJson } from '../../lib/money';
import { now, nowMs } from '../../lib/clock';
import { enqueueRecovery } from '../../queues/queues';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { planRowView } from '../schedules/schedule';
import { RepaymentPlan } from '../schedules/schedule.model';
import { Borrower, Loan, LoanOriginal } from './loan.model';
import type { LoanIntake } from './loans.schemas';
import { LoanStatus } from './loan.states';

/** The SPEC's loan out. */
export function loanView(l: Loan) {
  const available = l.amount - l.lockedAmount - l.boughtAmount;
  return {
    creditorNo: l.creditorNo,
    status: l.status,
    loanPurpose: l.loanPurpose,
    riskLevel: l.riskLevel,
    amountApply: idrToJson(l.amount),
    yearRateFin: new Dec(l.yearRateFin).toFixed(4),
    term: l.term,
    termUnit: l.termUnit,
    repaymentMethod: l.repaymentMethod,
    lockedAmount: idrToJson(l.lockedAmount),
    boughtAmount: idrToJson(l.boughtAmount),
    availableAmount: idrToJson(available < 0n ? 0n : available),
    // Whole percent, floored: 100 only when bought out.
    progress: Number((l.boughtAmount * 100n) / l.amount),
    publishedAt: l.publishedAt,
    deadline: l.deadline,
    loanTime: l.loanTime,
    dueTime: l.dueTime,
  };
}

function canonical(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * POST /partner/v1/loans: stores the original record and the loan in one transaction, then (by
 * outbox) fetches the borrower and schedules settlement at the deadline. Idempotent by
 * creditorNo: the same body again returns the loan (created false); another body under the same
 * creditorNo is 409 LOAN_CONFLICT.
 */
export async function receiveLoan(
  deps: { cipher: PiiCipher; settlementDelaySeconds: number },
  input: LoanIntake,
): Promise<{ loan: Loan; created: boolean }> {
  const bodyHash = deps.cipher.lookupHash(canonical(input));
  const existing = async () => {
    const original = await LoanOriginal.findOne({ where: { creditorNo: input.creditorNo } });
    if (!original) return undefined;
    if (original.bodyHash !== bodyHash) {
      throw new AppError(
        'LOAN_CONFLICT',
        `loan ${input.creditorNo} was already received with other fields`,
      );
    }
    return {
      loan: (await Loan.findOne({ where: { creditorNo: input.creditorNo } }))!,
      created: false,
    };
  };
  const before = await existing();
  if (before) return before;
  try {
    return await withTransaction(Loan.sequelize!, async (transaction) => {
      const bankCardEncrypted = deps.cipher.encrypt(input.bankCardNo);
      await LoanOriginal.create(
        {
          creditorNo: input.creditorNo,
          body: {
            ...input,
            bankCardNo: bankCardEncrypted,
            publishedAt: input.publishedAt.toISOString(),
          },
          bodyHash,
        },
        { transaction },
      );
      const deadline = new Date(input.publishedAt.getTime() + deps.settlementDelaySeconds * 1000);
      const loan = await Loan.create(
        {
          creditorNo: input.creditorNo,
          loanPurpose: input.loanPurpose,
          riskLevel: input.riskLevel,
          yearRateFin: input.yearRateFin,
          yearRateLoan: input.yearRateLoan,
          term: input.term,
          termUnit: input.termUnit,
          repaymentMethod: input.repaymentMethod,
          amount: BigInt(input.amountApply),
          serviceFee: BigInt(input.serviceFee),
          publishedAt: input.publishedAt,
          deadline,
          borrowerId: input.borrowerId,
          bankCode: input.bankCode,
          bankName: input.bankName,
          bankCardEncrypted,
          bankCardLast4: input.bankCardNo.slice(-4),
          bankCardHolder: input.bankCardHolder,
          source: input.source,
          status: LoanStatus.Open,
          lockedAmount: 0n,
          boughtAmount: 0n,
          lateFee: 0n,
          overdueServiceFee: 0n,
          interest: 0n,
        },
        { transaction },
      );
      await enqueueAfterCommit('borrower.fetch', { creditorNo: loan.creditorNo }, { transaction });
      await enqueueAfterCommit(
        'loan.settle',
        { loanId: String(loan.id) },
        { transaction, runAt: deadline },
      );
      return { loan, created: true };
    });
  } catch (err) {
    // The same creditorNo raced in: answer as for a repeat.
    if (err instanceof UniqueConstraintError) return (await existing())!;
    throw err;
  }
}

/**
 * The borrower.fetch job (seed item 10): asks the partner (outside any transaction) and stores
 * the borrower with its PII encrypted. Safe to repeat: the row is upserted by borrowerId.
 */
export async function fetchBorrower(
  deps: { cipher: PiiCipher; partner: PartnerPort },
  creditorNo: string,
): Promise<string> {
  const loan = await Loan.findOne({ where: { creditorNo } });
  if (!loan) throw new AppError('NOT_FOUND', `no loan ${creditorNo}`, [], { retryable: false });
  const info = await deps.partner.fetchBorrower(loan.borrowerId, creditorNo);
  const pii = {
    name: info.name,
    idCardNo: info.idCardNo,
    mobile: info.mobile,
    email: info.email,
    birthday: info.birthday,
    address: info.address,
  };
  await withTransaction(Loan.sequelize!, async (transaction) => {
    await Borrower.upsert(
      {
        borrowerId: loan.borrowerId,
        piiEncrypted: deps.cipher.encrypt(JSON.stringify(pii)),
        sex: info.sex ?? null,
        age: info.age ?? null,
        education: info.education ?? null,
        identity: info.identity ?? null,
        religion: info.religion ?? null,
        isMarried: info.isMarried ?? null,
        idVerified: Boolean(info.isIdentityAuth),
        bankVerified: Boolean(info.isBankCardAuth),
        contactsVerified: Boolean(info.isLinkmanAuth),
        insuranceVerified: Boolean(info.isInsuranceCardAuth),
        familyVerified: Boolean(info.isFamilyCardAuth),
        fetchedAt: now(),
      },
      { transaction, conflictFields: ['borrower_id'] as never },
    );
    await loan.update({ borrowerFetchedAt: now() }, { transaction });
  });
  return 'fetched';
}

/**
 * Recovery: loans whose settlement job was lost (open past the deadline, settling or full and
 * idle) get it again, and loans whose borrower was never fetched get the fetch again.
 */
export async function sweepLoans(
  queues: Map<string, Queue>,
  graceSeconds: number,
): Promise<{ settle: number; borrower: number }> {
  const settle = await Loan.sequelize!.query<{ id: string }>(
    `SELECT id FROM loans
      WHERE (status = 'open' AND deadline < $1)
         OR (status IN ('settling', 'full') AND updated_at < $1)
      ORDER BY id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  const borrower = await Loan.sequelize!.query<{ creditor_no: string }>(
    `SELECT creditor_no FROM loans
      WHERE borrower_fetched_at IS NULL AND created_at < $1
      ORDER BY id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  await enqueueRecovery(
    queues,
    'loan.settle',
    'recover-settle',
    settle.map((r) => ({ key: String(r.id), payload: { loanId: String(r.id) } })),
  );
  await enqueueRecovery(
    queues,
    'borrower.fetch',
    'recover-borrower',
    borrower.map((r) => ({ key: r.creditor_no, payload: { creditorNo: r.creditor_no } })),
  );
  return { settle: settle.length, borrower: borrower.length };
}

const SORT_COLUMNS = {
  yearRateFin: 'yearRateFin',
  amountApply: 'amount',
  term: 'term',
  publishedAt: 'publishedAt',
} as const;

/** GET /api/v1/loans: open loans with min/max filters, paged and sorted (index-backed). */
export async function listOpenLoans(q: {
  page: number;
  pageSize: number;
  minYearRateFin?: string;
  maxYearRateFin?: string;
  minAmountApply?: number;
  maxAmountApply?: number;
  minTerm?: number;
  maxTerm?: number;
  termUnit?: 'day' | 'month';
  sort: keyof typeof SORT_COLUMNS;
  order: 'asc' | 'desc';
}) {
  const range = (min: unknown, max: unknown) => ({
    ...(min !== undefined ? { [Op.gte]: min } : {}),
    ...(max !== undefined ? { [Op.lte]: max } : {}),
  });
  const where: Record<string, unknown> = { status: LoanStatus.Open };
  if (q.minYearRateFin !== undefined || q.maxYearRateFin !== undefined)
    where.yearRateFin = range(q.minYearRateFin, q.maxYearRateFin);
  if (q.minAmountApply !== undefined || q.maxAmountApply !== undefined)
    where.amount = range(q.minAmountApply, q.maxAmountApply);
  if (q.minTerm !== undefined || q.maxTerm !== undefined) where.term = range(q.minTerm, q.maxTerm);
  if (q.termUnit) where.termUnit = q.termUnit;
  const { rows, count } = await Loan.findAndCountAll({
    where,
    order: [
      [SORT_COLUMNS[q.sort], q.order.toUpperCase()],
      ['id', q.order.toUpperCase()],
    ],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  return { items: rows.map(loanView), page: q.page, pageSize: q.pageSize, total: count };
}

/**
 * GET /partner/v1/loans/:creditorNo (the partner, signed): the loan out plus its repayment plan
 * (what the borrower owes per period, fixed at disbursement; empty before).
 */
export async function partnerLoanView(creditorNo: string) {
  const loan = await Loan.findOne({ where: { creditorNo } });
  if (!loan) throw new AppError('NOT_FOUND', `no loan ${creditorNo}`);
  const plan = await RepaymentPlan.findAll({
    where: { loanId: loan.id },
    order: [['period', 'ASC']],
  });
  return {
    ...loanView(loan),
    yearRateLoan: new Dec(loan.yearRateLoan).toFixed(4),
    serviceFee: idrToJson(loan.serviceFee),
    repaymentPlan: plan.map(planRowView),
  };
}

/** GET /api/v1/loans/:creditorNo: the loan with its borrower, PII masked or left out. */
export async function loanDetail(cipher: PiiCipher, creditorNo: string) {
  const loan = await Loan.findOne({ where: { creditorNo } });
  if (!loan) throw new AppError('NOT_FOUND', `no loan ${creditorNo}`);
  const b = await Borrower.findOne({ where: { borrowerId: loan.borrowerId } });
  const pii = b ? (JSON.parse(cipher.decrypt(b.piiEncrypted)) as { name: string }) : undefined;
  return {
    ...loanView(loan),
    yearRateLoan: new Dec(loan.yearRateLoan).toFixed(4),
    serviceFee: idrToJson(loan.serviceFee),
    borrower: b
      ? {
          name: maskName(pii!.name),
          sex: b.sex,
          age: b.age,
          education: b.education,
          identity: b.identity,
          religion: b.religion,
          isMarried: b.isMarried,
          verified: {
            identity: b.idVerified,
            bankCard: b.bankVerified,
            contacts: b.contactsVerified,
            insurance: b.insuranceVerified,
            family: b.familyVerified,
          },
        }
      : null,
  };
}
