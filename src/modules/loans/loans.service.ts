import { startAllocation } from '../auto-invest/allocation.service';
import { QueryTypes, UniqueConstraintError } from 'sequelize';
import type { Queue } from 'bullmq';
import type { PartnerPort } from '../../adapters/partner';
import { sha256Hex, type PiiCipher } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { maskName } from '../../lib/masking';
import { Dec, idrToJson, toIdr } from '../../lib/money';
import type { Redis } from '../../lib/redis';
import { now, nowMs } from '../../lib/clock';
import { enqueueRecovery } from '../../queues/queues';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { planRowView } from '../schedules/schedule';
import { RepaymentPlan } from '../schedules/schedule.model';
import { Borrower, Loan, LoanOriginal } from './loan.model';
import {
  encodeLoanListCursor,
  type LoanIntake,
  type LoanListCursor,
  type LoanListSort,
} from './loans.schemas';
import { LoanStatus } from './loan.states';

/** A loan's fields the SPEC's loan out is made of (a model instance or a row of the list). */
export type LoanViewFields = Pick<
  Loan,
  | 'creditorNo'
  | 'status'
  | 'loanPurpose'
  | 'riskLevel'
  | 'amount'
  | 'yearRateFin'
  | 'term'
  | 'termUnit'
  | 'repaymentMethod'
  | 'lockedAmount'
  | 'boughtAmount'
  | 'publishedAt'
  | 'deadline'
  | 'loanTime'
  | 'dueTime'
>;

/** The SPEC's loan out. */
export function loanView(l: LoanViewFields) {
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
 * outbox) fetches the borrower, starts the auto-invest allocation and schedules settlement at
 * the deadline. Idempotent by creditorNo: the same body again returns the loan (created false);
 * another body under the same creditorNo is 409 LOAN_CONFLICT.
 */
export async function receiveLoan(
  deps: { cipher: PiiCipher; settlementDelaySeconds: number; autoInvestMaxShare: string },
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
          // The card number and the holder's name are PII: ciphertext in the record too.
          body: {
            ...input,
            bankCardNo: bankCardEncrypted,
            bankCardHolder: deps.cipher.encrypt(input.bankCardHolder),
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
      // Auto-invest: the rules are offered the loan at once (AUTO_INVEST_MAX_SHARE of it).
      await startAllocation(
        { id: String(loan.id), amount: loan.amount },
        deps.autoInvestMaxShare,
        transaction,
      );
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

/** The open-loan list's filters (validated: rates normalised to "12.5000"). */
export interface LoanListFilters {
  minYearRateFin?: string;
  maxYearRateFin?: string;
  minAmountApply?: number;
  maxAmountApply?: number;
  minTerm?: number;
  maxTerm?: number;
  termUnit?: 'day' | 'month';
}

/** GET /api/v1/loans query, as loanListQuery validates it. */
export interface LoanListQuery extends LoanListFilters {
  /** Absent when a cursor is given (the cursor knows its page). */
  page?: number;
  pageSize: number;
  cursor?: LoanListCursor;
  sort: LoanListSort;
  order: 'asc' | 'desc';
}

/**
 * Each sort: its column (a partial covering index `loans_open_*_idx` over (column, id) WHERE
 * status = 'open' serves it, see migration 0013), the column's value as exact text for a cursor,
 * and the SQL that turns that text back into the column's type. Timestamps travel as epoch
 * microseconds: PostgreSQL keeps microseconds, a JS Date only milliseconds.
 */
const LIST_SORTS: Record<
  LoanListSort,
  { column: string; key: string; from: (p: string) => string }
> = {
  yearRateFin: {
    column: 'year_rate_fin',
    key: 'year_rate_fin::text',
    from: (p: string) => `${p}::numeric`,
  },
  amountApply: { column: 'amount', key: 'amount::text', from: (p: string) => `${p}::bigint` },
  term: { column: 'term', key: 'term::text', from: (p: string) => `${p}::integer` },
  publishedAt: {
    column: 'published_at',
    key: '(extract(epoch FROM published_at) * 1000000)::bigint::text',
    from: (p: string) => `(timestamptz 'epoch' + ${p}::bigint * interval '1 microsecond')`,
  },
};

/** The filters as one string: the total's cache key and the cursor's fingerprint. */
function filterKey(q: LoanListFilters): string {
  return [
    q.minYearRateFin,
    q.maxYearRateFin,
    q.minAmountApply,
    q.maxAmountApply,
    q.minTerm,
    q.maxTerm,
    q.termUnit,
  ]
    .map((v) => (v === undefined ? '' : String(v)))
    .join('|');
}

/** The filters' fingerprint in a cursor. */
const filterFingerprint = (q: LoanListFilters) => sha256Hex(filterKey(q)).slice(0, 16);

/** WHERE of the list (open loans, the filters), its values appended to `bind`. */
function listWhere(q: LoanListFilters, bind: unknown[]): string {
  const where = ["status = 'open'"];
  const add = (sql: string, value: unknown) => {
    if (value === undefined) return;
    bind.push(value);
    where.push(sql.replace('?', `$${bind.length}`));
  };
  add('year_rate_fin >= ?::numeric', q.minYearRateFin);
  add('year_rate_fin <= ?::numeric', q.maxYearRateFin);
  add('amount >= ?::bigint', q.minAmountApply);
  add('amount <= ?::bigint', q.maxAmountApply);
  add('term >= ?::integer', q.minTerm);
  add('term <= ?::integer', q.maxTerm);
  add('term_unit = ?', q.termUnit);
  return where.join(' AND ');
}

/**
 * One page of the list as one statement (one snapshot): the ids first, from the sort's
 * covering index alone (filters checked on the index entries, OFFSET or the cursor skipping
 * index entries, not rows), then only those rows read from the table. One row more than the
 * page tells whether a next page exists. Exported so that the bench's raw ceiling runs the
 * very same SQL.
 */
export function openLoansPageSql(q: LoanListQuery): { sql: string; bind: unknown[] } {
  const bind: unknown[] = [];
  const s = LIST_SORTS[q.sort];
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  let where = listWhere(q, bind);
  if (q.cursor) {
    bind.push(q.cursor.key, q.cursor.id);
    where += ` AND (${s.column}, id) ${q.order === 'asc' ? '>' : '<'} (${s.from(`$${bind.length - 1}`)}, $${bind.length}::bigint)`;
  }
  bind.push(q.pageSize + 1);
  let limit = `LIMIT $${bind.length}`;
  const page = q.page ?? 1;
  if (!q.cursor && page > 1) {
    bind.push((page - 1) * q.pageSize);
    limit += ` OFFSET $${bind.length}`;
  }
  const sql = `SELECT l.id, l.creditor_no, l.status, l.loan_purpose, l.risk_level, l.amount, l.year_rate_fin,
        l.term, l.term_unit, l.repayment_method, l.locked_amount, l.bought_amount, l.published_at,
        l.deadline, l.loan_time, l.due_time, p.sort_key
   FROM (SELECT id, ${s.key} AS sort_key FROM loans WHERE ${where}
          ORDER BY ${s.column} ${dir}, id ${dir} ${limit}) p
   JOIN loans l ON l.id = p.id
  ORDER BY l.${s.column} ${dir}, l.id ${dir}`;
  return { sql, bind };
}

/** The exact number of open loans matching the filters (index-only on the partial indexes). */
export function openLoansCountSql(q: LoanListFilters): { sql: string; bind: unknown[] } {
  const bind: unknown[] = [];
  return { sql: `SELECT count(*)::text AS n FROM loans WHERE ${listWhere(q, bind)}`, bind };
}

interface ListRow {
  id: string;
  creditor_no: string;
  status: LoanStatus;
  loan_purpose: string;
  risk_level: string;
  amount: string;
  year_rate_fin: string;
  term: number;
  term_unit: 'day' | 'month';
  repayment_method: Loan['repaymentMethod'];
  locked_amount: string;
  bought_amount: string;
  published_at: Date;
  deadline: Date;
  loan_time: Date | null;
  due_time: Date | null;
  sort_key: string;
}

const listItemView = (r: ListRow) =>
  loanView({
    creditorNo: r.creditor_no,
    status: r.status,
    loanPurpose: r.loan_purpose,
    riskLevel: r.risk_level,
    amount: toIdr(r.amount),
    yearRateFin: r.year_rate_fin,
    term: r.term,
    termUnit: r.term_unit,
    repaymentMethod: r.repayment_method,
    lockedAmount: toIdr(r.locked_amount),
    boughtAmount: toIdr(r.bought_amount),
    publishedAt: r.published_at,
    deadline: r.deadline,
    loanTime: r.loan_time,
    dueTime: r.due_time,
  });

/**
 * How long a counted total is used: served as it is for LIST_TOTAL_FRESH_MS, then still served
 * while one request (across all web processes: a Redis lock) counts again in the background,
 * and gone after LIST_TOTAL_TTL_MS (the next request counts before answering). So `total` is at
 * most about LIST_TOTAL_TTL_MS old; `items` are always read fresh.
 */
export const LIST_TOTAL_FRESH_MS = 1_000;
export const LIST_TOTAL_TTL_MS = 2_000;
/** Redis key prefix of the cached totals (one key per set of filters). */
export const LIST_TOTAL_KEY_PREFIX = 'loan-list-total:';
/**
 * Each web process keeps what it last read from Redis per filter for this long, never past the
 * Redis entry's own expiry (so no total gets older than LIST_TOTAL_TTL_MS): most requests then
 * skip the Redis round trip. A cache of the shared cache, bounded; nothing depends on it.
 */
export const LIST_TOTAL_LOCAL_MS = 250;
const LOCAL_TOTALS_MAX = 1_000;
const localTotals = new Map<string, { n: number; until: number }>();

function keepLocally(filters: string, n: number, forMs: number): void {
  if (forMs <= 0) return;
  if (localTotals.size >= LOCAL_TOTALS_MAX) localTotals.clear();
  localTotals.set(filters, { n, until: performance.now() + Math.min(forMs, LIST_TOTAL_LOCAL_MS) });
}

async function countOpenLoans(q: LoanListFilters): Promise<number> {
  const { sql, bind } = openLoansCountSql(q);
  const [row] = await Loan.sequelize!.query<{ n: string }>(sql, {
    bind,
    type: QueryTypes.SELECT,
  });
  return Number(row.n);
}

/** Counts and stores the total for LIST_TOTAL_TTL_MS; Redis trouble only costs the cache. */
async function countAndCache(redis: Redis, filters: string, q: LoanListFilters): Promise<number> {
  const n = await countOpenLoans(q);
  const stored = await redis
    .set(`${LIST_TOTAL_KEY_PREFIX}${filters}`, String(n), 'PX', LIST_TOTAL_TTL_MS)
    .catch(() => null);
  if (stored) keepLocally(filters, n, LIST_TOTAL_TTL_MS);
  return n;
}

/** The list's total: from the short-lived caches when there, else counted (see above). */
async function openLoansTotal(redis: Redis | undefined, q: LoanListFilters): Promise<number> {
  if (!redis) return countOpenLoans(q);
  const filters = filterKey(q);
  const local = localTotals.get(filters);
  if (local && local.until > performance.now()) return local.n;
  const key = `${LIST_TOTAL_KEY_PREFIX}${filters}`;
  const answers = await redis
    .pipeline()
    .get(key)
    .pttl(key)
    .exec()
    .catch(() => null);
  const cached = answers?.[0]?.[1] as string | null | undefined;
  const ttl = answers?.[1]?.[1] as number | undefined;
  if (cached === null || cached === undefined) return countAndCache(redis, filters, q);
  if (ttl === undefined || ttl < 0) return Number(cached);
  if (ttl < LIST_TOTAL_TTL_MS - LIST_TOTAL_FRESH_MS) {
    // Older than LIST_TOTAL_FRESH_MS: one request anywhere counts again, in the background.
    void redis
      .set(`${LIST_TOTAL_KEY_PREFIX}refresh:${filters}`, '1', 'PX', LIST_TOTAL_FRESH_MS, 'NX')
      .then((won) => (won ? countAndCache(redis, filters, q) : undefined))
      .catch(() => undefined);
  }
  keepLocally(filters, Number(cached), ttl);
  return Number(cached);
}

/**
 * GET /api/v1/loans: open loans with min/max filters, sorted (ties by id), paged by `page`
 * (OFFSET over index entries) or by the `nextCursor` of the previous page (keyset: no entry
 * skipped or repeated when loans come and go between pages). `items` are exact as of the query;
 * `total` comes from a per-filter count cached for at most about two seconds (Redis), since an
 * exact count(*) over every open loan on each request costs more than the page itself.
 */
export async function listOpenLoans(q: LoanListQuery, deps: { redis?: Redis } = {}) {
  if (q.cursor) {
    const c = q.cursor;
    if (c.sort !== q.sort || c.order !== q.order || c.filters !== filterFingerprint(q))
      throw new AppError('VALIDATION_ERROR', 'invalid query', [
        { path: 'cursor', message: 'cursor was made for other filters or another sort' },
      ]);
  }
  const { sql, bind } = openLoansPageSql(q);
  const [rows, total] = await Promise.all([
    Loan.sequelize!.query<ListRow>(sql, { bind, type: QueryTypes.SELECT }),
    openLoansTotal(deps.redis, q),
  ]);
  const page = q.cursor ? q.cursor.page + 1 : (q.page ?? 1);
  const items = rows.slice(0, q.pageSize);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > q.pageSize
      ? encodeLoanListCursor({
          sort: q.sort,
          order: q.order,
          filters: filterFingerprint(q),
          key: last.sort_key,
          id: String(last.id),
          page,
        })
      : null;
  return { items: items.map(listItemView), page, pageSize: q.pageSize, total, nextCursor };
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
