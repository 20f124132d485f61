import { Dec } from '../../lib/money';
import type { RepaymentMethod } from '../loans/loan.model';

/** One period of a holder's repayment schedule. */
export interface ScheduleRow {
  period: number;
  /** Calendar date (Jakarta), YYYY-MM-DD. */
  dueDate: string;
  principal: bigint;
  interest: bigint;
}

/** What a schedule is built from. */
export interface ScheduleInput {
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

/** The Jakarta calendar date of an instant. */
export const jakartaDate = (t: Date) =>
  new Date(t.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);

/**
 * A holder's schedule (SPEC §2). Rounding, in whole IDR:
 * - bullet: one period at start + term days; interest = floor(P × rate/100 × days/365) (ACT/365);
 * - monthly_interest: interest floor(P × rate/1200) each month, the last month takes
 *   floor(P × rate/1200 × n) minus the earlier ones, and the whole principal;
 * - equal_installment: the payment A = P·m(1+m)^n / ((1+m)^n − 1) with m = rate/1200, rounded
 *   half up; each month's interest = floor(balance × m), principal = A − interest; the last month
 *   takes the whole remaining balance (so principal sums exactly to P) and floor(balance × m).
 * Due dates are the disbursement day of each following month, clamped to the month's end.
 */
export function buildSchedule(input: ScheduleInput): ScheduleRow[] {
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
