import { expect } from 'chai';
import fc from 'fast-check';
import {
  addMonthsClamped,
  buildSchedule,
  type ScheduleRow,
} from '../../src/modules/schedules/schedule';

const rows = (r: ScheduleRow[]) =>
  r.map((x) => [x.period, x.dueDate, Number(x.principal), Number(x.interest)]);

describe('repayment schedules', () => {
  it('when a bullet loan of 10,000,000 at 12.5% runs 30 days, then one period with ACT/365 interest floored', () => {
    // 10,000,000 × 0.125 × 30 / 365 = 102,739.726… → 102,739
    expect(
      rows(
        buildSchedule({
          principal: 10_000_000n,
          yearRate: '12.5000',
          method: 'bullet',
          term: 30,
          start: '2026-11-22',
        }),
      ),
    ).to.deep.equal([[1, '2026-12-22', 10_000_000, 102_739]]);
  });

  it('when interest is paid monthly on 12,000,000 at 12% for 3 months, then 120,000 a month and the principal at the end', () => {
    expect(
      rows(
        buildSchedule({
          principal: 12_000_000n,
          yearRate: '12',
          method: 'monthly_interest',
          term: 3,
          start: '2026-01-31',
        }),
      ),
    ).to.deep.equal([
      [1, '2026-02-28', 0, 120_000],
      [2, '2026-03-31', 0, 120_000],
      [3, '2026-04-30', 12_000_000, 120_000],
    ]);
  });

  it('when monthly interest does not divide evenly, then the last month absorbs the remainder', () => {
    // 1,000,001 × 0.125 / 12 = 10,416.67 → 10,416; × 7 = 72,916.76 → 72,916: last 72,916 − 6 × 10,416 = 10,420
    expect(
      rows(
        buildSchedule({
          principal: 1_000_001n,
          yearRate: '12.5',
          method: 'monthly_interest',
          term: 7,
          start: '2026-03-15',
        }),
      ).map((r) => r[3]),
    ).to.deep.equal([10_416, 10_416, 10_416, 10_416, 10_416, 10_416, 10_420]);
  });

  it('when 12,000,000 at 12% is repaid in 3 equal installments, then the hand-computed table comes out', () => {
    // A = 12,000,000 × 0.01 × 1.030301 / 0.030301 = 4,080,265.34 → 4,080,265
    // 1: interest 120,000, principal 3,960,265, balance 8,039,735
    // 2: interest floor(80,397.35) = 80,397, principal 3,999,868, balance 4,039,867
    // 3: principal 4,039,867 (the rest), interest floor(40,398.67) = 40,398
    expect(
      rows(
        buildSchedule({
          principal: 12_000_000n,
          yearRate: '12.0000',
          method: 'equal_installment',
          term: 3,
          start: '2026-11-22',
        }),
      ),
    ).to.deep.equal([
      [1, '2026-12-22', 3_960_265, 120_000],
      [2, '2027-01-22', 3_999_868, 80_397],
      [3, '2027-02-22', 4_039_867, 40_398],
    ]);
  });

  it('when the rate is zero, then installments split the principal and interest is zero', () => {
    expect(
      rows(
        buildSchedule({
          principal: 1_000_000n,
          yearRate: '0',
          method: 'equal_installment',
          term: 3,
          start: '2026-11-22',
        }),
      ).map((r) => [r[2], r[3]]),
    ).to.deep.equal([
      [333_333, 0],
      [333_333, 0],
      [333_334, 0],
    ]);
  });

  it('when months are added to a month-end day, then the due date is clamped to the month end', () => {
    expect(
      ['2026-01-31', '2028-01-31', '2026-03-31', '2026-12-31'].map((d) => addMonthsClamped(d, 1)),
    ).to.deep.equal(['2026-02-28', '2028-02-29', '2026-04-30', '2027-01-31']);
    expect(addMonthsClamped('2026-11-30', 3)).to.equal('2027-02-28');
  });

  it('when any schedule is built, then principal sums exactly, interest is never negative, periods and dates ascend', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10_000_000_000n }),
        fc.integer({ min: 0, max: 360_000 }).map((bp) => (bp / 10_000).toFixed(4)),
        fc.constantFrom('bullet', 'monthly_interest', 'equal_installment'),
        fc.integer({ min: 1, max: 36 }),
        (principal, yearRate, method, term) => {
          const s = buildSchedule({
            principal,
            yearRate,
            method: method as 'bullet',
            term: method === 'bullet' ? term * 10 : term,
            start: '2026-01-31',
          });
          expect(s.reduce((t, r) => t + r.principal, 0n)).to.equal(principal);
          for (const r of s) {
            expect(r.interest >= 0n).to.equal(true);
            expect(r.principal >= 0n).to.equal(true);
          }
          expect(s.map((r) => r.period)).to.deep.equal(s.map((_, i) => i + 1));
          for (let i = 1; i < s.length; i++) expect(s[i].dueDate > s[i - 1].dueDate).to.equal(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
