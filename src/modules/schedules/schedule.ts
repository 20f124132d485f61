import { Dec, idrToJson } from '../../lib/money';
import { planted } from '../../lib/plants';
import type { RepaymentMethod } from '../loans/loan.model';

/** One period of a repayment plan or of a holder's schedule. */
export interface ScheduleRow {
  period: number;
  /** Calendar date (Jakarta), YYYY-MM-DD. */
  dueDate: string;
  principal: bigint;
  interest: bigint;
}

/** What a loan's repayment plan is built from. */
export interface PlanInput {
  principal: bigint;
  /** Yearly rate in percent, as a decimal string ("12.5000"). */
  yearRate: string;
  method: RepaymentMethod;
  /** Days for bullet loans, months otherwise. */
  term: number;
  /** The disbursement day (Jakarta calendar date, YYYY-MM-DD). */
  start: string;
}

const floor = (d: InstanceType<typeof Dec>) => BigInt(d.floor().toFixed(0));
const halfUp = (d: InstanceType<typeof Dec>) =>
  BigInt(d.toDecimalPlaces(0, Dec.ROUND_HALF_UP).toFixed(0));

/** `start` plus `days` calendar days. */
export function addDays(start: string, days: number): string {
  const d = new Date(`${start}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The same day `months` later, clamped to the month's last day (Jan 31 + 1 → Feb 28/29). */
export function addMonthsClamped(start: string, months: number): string {
  const [y, m, day] = start.split('-').map(Number);
  const total = m - 1 + months;
  const year = y + Math.floor(total / 12);
  const month = total % 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(day, last))).toISOString().slice(0, 10);
}

/**
 * A loan's repayment plan: what the borrower owes per period (SPEC §2, §3), at the borrower's
 * rate. Rounding, in whole IDR:
 * - bullet: one period at start + term days; interest = floor(P × rate/100 × days/365) (ACT/365);
 * - monthly_interest: interest floor(P × rate/1200) each month, the last month takes
 *   floor(P × rate/1200 × n) minus the earlier ones, and the whole principal;
 * - equal_installment: the payment A = P·m(1+m)^n / ((1+m)^n − 1) with m = rate/1200, rounded
 *   half up; each month's interest = floor(balance × m), principal = A − interest; the last month
 *   takes the whole remaining balance (so principal sums exactly to P) and floor(balance × m).
 * Due dates are the disbursement day of each following month, clamped to the month's end.
 */
export function buildPlan(input: PlanInput): ScheduleRow[] {
  const P = input.principal;
  const rate = new Dec(input.yearRate).div(100);
  if (P <= 0n) throw new RangeError('principal must be positive');
  if (input.term < 1) throw new RangeError('term must be at least 1');
  if (input.method === 'bullet') {
    const interest = floor(new Dec(P.toString()).mul(rate).mul(input.term).div(365));
    return [{ period: 1, dueDate: addDays(input.start, input.term), principal: P, interest }];
  }
  const n = input.term;
  const m = rate.div(12);
  const due = (k: number) => addMonthsClamped(input.start, k);
  if (input.method === 'monthly_interest') {
    const each = floor(new Dec(P.toString()).mul(m));
    const total = floor(new Dec(P.toString()).mul(m).mul(n));
    return Array.from({ length: n }, (_, i) => ({
      period: i + 1,
      dueDate: due(i + 1),
      principal: i === n - 1 ? P : 0n,
      interest: i === n - 1 ? total - each * BigInt(n - 1) : each,
    }));
  }
  const growth = m.plus(1).pow(n);
  const payment = m.isZero()
    ? new Dec(P.toString()).div(n)
    : new Dec(P.toString()).mul(m).mul(growth).div(growth.minus(1));
  const A = halfUp(payment);
  const rows: ScheduleRow[] = [];
  let balance = P;
  for (let k = 1; k <= n; k++) {
    const interest = floor(new Dec(balance.toString()).mul(m));
    const principal = k === n ? balance : A - interest > balance ? balance : A - interest;
    rows.push({ period: k, dueDate: due(k), principal, interest });
    balance -= principal;
  }
  return rows;
}

/**
 * Takes `part` out of a column of principals that sums to `whole`, period by period, as the
 * cumulative floor: the part's principal up to period k is floor(Σ rows up to k × part ÷ whole),
 * and the last period takes what is left. So the part sums exactly to `part`, every period of
 * the part is between 0 and the row it comes from, and what stays (row − part) is never
 * negative either. Pure; the remainders fall on the later periods, deterministically.
 */
export function splitPrincipal(rows: readonly bigint[], part: bigint): bigint[] {
  const whole = rows.reduce((s, r) => s + r, 0n);
  if (part < 0n || part > whole) throw new RangeError(`cannot take ${part} out of ${whole}`);
  if (whole === 0n) return rows.map(() => 0n);
  if (planted('split-remainder')) return rows.map((r) => (r * part) / whole);
  const out: bigint[] = [];
  let cumulative = 0n;
  let taken = 0n;
  rows.forEach((r, i) => {
    cumulative += r;
    const last = i === rows.length - 1;
    const upTo = last ? part : (cumulative * part) / whole;
    out.push(upTo - taken);
    taken = upTo;
  });
  return out;
}

/** How a holder's interest is reckoned: the investor rate per period of the loan's kind. */
export interface HolderRate {
  /** yearRateFin, percent, decimal string. */
  yearRate: string;
  method: RepaymentMethod;
  /** Days for bullet loans, months otherwise. */
  term: number;
}

/**
 * A holder's interest for each period: yearRateFin on the principal the holder still has
 * outstanding in that period (what its rows from that period on still carry), floored to whole
 * IDR — ACT/365 over the term for a bullet loan, rate/12 a month otherwise. The fractions left
 * over are platform spread.
 */
export function holderInterest(principals: readonly bigint[], rate: HolderRate): bigint[] {
  const r = new Dec(rate.yearRate).div(100);
  const perPeriod = rate.method === 'bullet' ? r.mul(rate.term).div(365) : r.div(12);
  let outstanding = principals.reduce((s, p) => s + p, 0n);
  return principals.map((p) => {
    const interest = floor(new Dec(outstanding.toString()).mul(perPeriod));
    outstanding -= p;
    return interest;
  });
}

/** A holder's rows for the given periods, principal as given and interest reckoned on what is outstanding. */
export function holderRows(
  periods: readonly Pick<ScheduleRow, 'period' | 'dueDate'>[],
  principals: readonly bigint[],
  rate: HolderRate,
): ScheduleRow[] {
  const interest = holderInterest(principals, rate);
  return periods.map((p, i) => ({
    period: p.period,
    dueDate: p.dueDate,
    principal: principals[i],
    interest: interest[i],
  }));
}

/**
 * Every holder's schedule derived from the loan's plan (SPEC §3): holders, in the order given
 * (ascending asset id), each take their share of the plan's principal column by column with
 * `splitPrincipal` out of what the earlier holders left, the last holder taking the rest — so
 * every period's holders' principal sums exactly to the plan's, and every holder's principal
 * sums exactly to what it holds. Interest is `holderInterest` at the investor rate.
 */
export function deriveHolderSchedules<K>(
  plan: readonly ScheduleRow[],
  holders: readonly { key: K; principal: bigint }[],
  rate: HolderRate,
): { key: K; rows: ScheduleRow[] }[] {
  let left = plan.map((r) => r.principal);
  const total = left.reduce((s, p) => s + p, 0n);
  const held = holders.reduce((s, h) => s + h.principal, 0n);
  if (held !== total) throw new RangeError(`holders hold ${held}, the plan lends ${total}`);
  return holders.map((h) => {
    const mine = splitPrincipal(left, h.principal);
    left = left.map((p, i) => p - mine[i]);
    return { key: h.key, rows: holderRows(plan, mine, rate) };
  });
}

/** A plan row as the partner reads it (GET /partner/v1/loans/:creditorNo, the disbursement notice). */
export const planRowView = (p: ScheduleRow & { status?: 'pending' | 'paid' }) => ({
  period: p.period,
  dueDate: p.dueDate,
  principal: idrToJson(p.principal),
  interest: idrToJson(p.interest),
  status: p.status ?? 'pending',
});
