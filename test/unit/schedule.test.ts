import { expect } from 'chai';
import fc from 'fast-check';
import {
  addMonthsClamped,
  buildPlan,
  deriveHolderSchedules,
  holderInterest,
  splitPrincipal,
  type ScheduleRow,
} from '../../src/modules/schedules/schedule';

const rows = (r: ScheduleRow[]) =>
  r.map((x) => [x.period, x.dueDate, Number(x.principal), Number(x.interest)]);

describe('repayment plans (what the borrower owes)', () => {
  it('when a bullet loan of 10,000,000 at 12.5% runs 30 days, then one period with ACT/365 interest floored', () => {
    // 10,000,000 × 0.125 × 30 / 365 = 102,739.726… → 102,739
    expect(
      rows(
        buildPlan({
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
        buildPlan({
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
        buildPlan({
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
        buildPlan({
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
        buildPlan({
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

  it('when any plan is built, then principal sums exactly, interest is never negative, periods and dates ascend', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10_000_000_000n }),
        fc.integer({ min: 0, max: 360_000 }).map((bp) => (bp / 10_000).toFixed(4)),
        fc.constantFrom('bullet', 'monthly_interest', 'equal_installment'),
        fc.integer({ min: 1, max: 36 }),
        (principal, yearRate, method, term) => {
          const s = buildPlan({
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

describe("holders' schedules derived from the plan", () => {
  const plan = buildPlan({
    principal: 12_000_000n,
    yearRate: '18',
    method: 'equal_installment',
    term: 3,
    start: '2026-11-22',
  });

  it('when 12,000,000 at 18% is lent in 3 equal installments, then the plan is the annuity at the borrower rate', () => {
    // m = 0.015; A = 12,000,000 × 0.015 × 1.015³ / (1.015³ − 1) = 4,120,595.6… → 4,120,596
    // 1: interest 180,000, principal 3,940,596; 2: floor(8,059,404 × 0.015) = 120,891, principal 3,999,705;
    // 3: the rest 4,059,699, interest floor(4,059,699 × 0.015) = 60,895.
    expect(rows(plan)).to.deep.equal([
      [1, '2026-12-22', 3_940_596, 180_000],
      [2, '2027-01-22', 3_999_705, 120_891],
      [3, '2027-02-22', 4_059_699, 60_895],
    ]);
  });

  it('when three holders of 5, 4 and 3 million derive their rows, then each period sums to the plan and each holder to its share, interest at 12% on what it still holds', () => {
    const h = deriveHolderSchedules(
      plan,
      [
        { key: 'a', principal: 5_000_000n },
        { key: 'b', principal: 4_000_000n },
        { key: 'c', principal: 3_000_000n },
      ],
      { yearRate: '12', method: 'equal_installment', term: 3 },
    );
    // a: floor(3,940,596 × 5/12) = 1,641,915; floor(7,940,301 × 5/12) = 3,308,458 → 1,666,543; rest 1,691,542.
    //    interest 1% of 5,000,000 / 3,358,085 / 1,691,542 → 50,000 / 33,580 / 16,915.
    // b takes 4/7 of what a left (2,298,681 / 2,333,162 / 2,368,157): 1,313,532 / 1,333,235 / 1,353,233.
    // c takes the rest.
    expect(h.map((x) => [x.key, rows(x.rows).map((r) => [r[2], r[3]])])).to.deep.equal([
      [
        'a',
        [
          [1_641_915, 50_000],
          [1_666_543, 33_580],
          [1_691_542, 16_915],
        ],
      ],
      [
        'b',
        [
          [1_313_532, 40_000],
          [1_333_235, 26_864],
          [1_353_233, 13_532],
        ],
      ],
      [
        'c',
        [
          [985_149, 30_000],
          [999_927, 20_148],
          [1_014_924, 10_149],
        ],
      ],
    ]);
  });

  it('when a bullet loan has holders, then each gets its principal and ACT/365 interest on it', () => {
    const bullet = buildPlan({
      principal: 10_000_000n,
      yearRate: '18',
      method: 'bullet',
      term: 30,
      start: '2026-11-22',
    });
    const h = deriveHolderSchedules(
      bullet,
      [
        { key: 1, principal: 2_000_000n },
        { key: 2, principal: 8_000_000n },
      ],
      { yearRate: '12', method: 'bullet', term: 30 },
    );
    // floor(2,000,000 × 12% × 30/365) = 19,726; floor(8,000,000 × …) = 78,904.
    expect(h.map((x) => rows(x.rows))).to.deep.equal([
      [[1, '2026-12-22', 2_000_000, 19_726]],
      [[1, '2026-12-22', 8_000_000, 78_904]],
    ]);
  });

  it('when a part is split out of a column, then it is the cumulative floor and the last period takes the rest', () => {
    expect(splitPrincipal([10n, 0n, 7n], 5n)).to.deep.equal([2n, 0n, 3n]);
    expect(splitPrincipal([0n, 0n, 1_000_000n], 300_000n)).to.deep.equal([0n, 0n, 300_000n]);
    expect(splitPrincipal([5n, 5n], 10n)).to.deep.equal([5n, 5n]);
    expect(() => splitPrincipal([5n], 6n)).to.throw(RangeError);
  });

  it('when interest is reckoned monthly on what is still held, then it falls as principal is repaid', () => {
    // 1% a month on 3,000,000, then 2,000,000, then 1,000,000.
    expect(
      holderInterest([1_000_000n, 1_000_000n, 1_000_000n], {
        yearRate: '12',
        method: 'monthly_interest',
        term: 3,
      }),
    ).to.deep.equal([30_000n, 20_000n, 10_000n]);
  });

  it('when any plan is shared among any holders, then every period sums to the plan, every holder to its share, and nothing is negative', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1_000n, max: 10_000_000_000n }),
        fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom('bullet', 'monthly_interest', 'equal_installment'),
        fc.integer({ min: 1, max: 24 }),
        (amount, weights, method, term) => {
          const p = buildPlan({
            principal: amount,
            yearRate: '15.5',
            method: method as 'bullet',
            term: method === 'bullet' ? term * 10 : term,
            start: '2026-01-31',
          });
          // Holders' principals: the amount shared by weight, the last one taking the rest.
          const total = BigInt(weights.reduce((s, w) => s + w, 0));
          const shares = weights.map((w) => (amount * BigInt(w)) / total);
          shares[shares.length - 1] += amount - shares.reduce((s, x) => s + x, 0n);
          const h = deriveHolderSchedules(
            p,
            shares.map((principal, key) => ({ key, principal })),
            { yearRate: '12', method: method as 'bullet', term },
          );
          p.forEach((row, i) =>
            expect(h.reduce((s, x) => s + x.rows[i].principal, 0n)).to.equal(row.principal),
          );
          h.forEach((x, k) => {
            expect(x.rows.reduce((s, r) => s + r.principal, 0n)).to.equal(shares[k]);
            for (const r of x.rows) {
              expect(r.principal >= 0n, 'principal').to.equal(true);
              expect(r.interest >= 0n, 'interest').to.equal(true);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('when any column is split in two, then both parts are between zero and the row and sum exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 5_000_000n }), { minLength: 1, maxLength: 36 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (column, f) => {
          const whole = column.reduce((s, r) => s + r, 0n);
          const part = (whole * BigInt(Math.floor(f * 1_000_000))) / 1_000_000n;
          const taken = splitPrincipal(column, part);
          expect(taken.reduce((s, r) => s + r, 0n)).to.equal(part);
          taken.forEach((t, i) => {
            expect(t >= 0n && t <= column[i]).to.equal(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
