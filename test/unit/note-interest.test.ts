import { expect } from 'chai';
import { buildPlan } from '../../src/modules/schedules/schedule';
import { noteInterest } from '../../src/modules/transfers/interest';

describe('note interest (seed 003 detail, isLong=true)', () => {
  it('when half of a 30-day bullet asset is offered on day 10, then the buyer owes 11 days of its interest', () => {
    // Asset 1,000,000 at 12% for 30 days: interest 9,863. The note is 500,000 → 4,931 for the period.
    // Interest start 2026-11-01; today 2026-11-10.
    const r = noteInterest({
      amount: 500_000n,
      assetPrincipal: 1_000_000n,
      interestStart: '2026-11-01',
      lastRepaymentDate: null,
      pending: [{ period: 1, dueDate: '2026-12-01', interest: 9_863n }],
      today: '2026-11-10',
    });
    // days = (11-10 − 11-01) + 1 = 10; 10 × 4,931 / 30 = 1,643.67 → 1,643; remaining 4,931 − 1,643 = 3,288
    expect(r).to.deep.equal({ currentInterest: 1_643n, remainingInterest: 3_288n });
  });

  it('when an installment asset is in its third period, then the accrual runs from the second due date', () => {
    // 12,000,000 at 12% in 6 equal installments from 2026-01-15 (A = 2,070,580); periods 1 and 2 are paid.
    const rows = buildPlan({
      principal: 12_000_000n,
      yearRate: '12',
      method: 'equal_installment',
      term: 6,
      start: '2026-01-15',
    });
    expect(rows.map((r) => [r.dueDate, Number(r.interest)])).to.deep.equal([
      ['2026-02-15', 120_000],
      ['2026-03-15', 100_494],
      ['2026-04-15', 80_793],
      ['2026-05-15', 60_895],
      ['2026-06-15', 40_798],
      ['2026-07-15', 20_500],
    ]);
    const r = noteInterest({
      amount: 6_000_000n,
      assetPrincipal: 12_000_000n,
      interestStart: '2026-01-15',
      lastRepaymentDate: '2026-03-15',
      pending: rows
        .slice(2)
        .map((x) => ({ period: x.period, dueDate: x.dueDate, interest: x.interest })),
      today: '2026-03-25',
    });
    // Third period: 2026-03-15 → 2026-04-15 = 31 days; half of 80,793 = 40,396 (floored).
    // days = 10 + 1 = 11; 11 × 40,396 / 31 = 14,334.0 → 14,334.
    // Remaining: 40,396 + 30,447 + 20,399 + 10,250 = 101,492; − 14,334 = 87,158.
    expect(r).to.deep.equal({ currentInterest: 14_334n, remainingInterest: 87_158n });
  });

  it('when the period is over, then the accrual stops at the whole period interest', () => {
    const r = noteInterest({
      amount: 1_000_000n,
      assetPrincipal: 1_000_000n,
      interestStart: '2026-11-01',
      lastRepaymentDate: null,
      pending: [{ period: 1, dueDate: '2026-11-11', interest: 3_287n }],
      today: '2026-11-20',
    });
    expect(r).to.deep.equal({ currentInterest: 3_287n, remainingInterest: 0n });
  });
});
