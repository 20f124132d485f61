import { expect } from 'chai';
import {
  canBuildCredit,
  daysBetween,
  TransferRefusal,
  type TransferCandidate,
} from '../../src/modules/transfers/transfer.rules';

const rules = {
  tradeCountLimit: 3,
  fenqiLimitMonths: 1,
  daoqiLimitDays: 10,
  holdDays: 3,
  durationDays: 3,
  feeRate: '0.005',
  minOrderAmount: 100_000n,
  incrOrderAmount: 100_000n,
  noteLifetimeHours: 72,
};

/** A bullet loan disbursed 2026-11-01, due 2026-12-31; held since 2026-11-01; asked on 2026-11-20. */
const base = (): TransferCandidate => ({
  loan: {
    status: 'repaying',
    termUnit: 'day',
    term: 60,
    repaymentMethod: 'bullet',
    dueDate: '2026-12-31',
  },
  asset: {
    status: 'holding',
    principal: 1_000_000n,
    maxTradableAmount: 1_000_000n,
    tradeCount: 0,
    interestStart: '2026-11-01',
  },
  nextRepaymentDate: '2026-12-31',
  today: '2026-11-20',
});
const withOver = (over: (c: TransferCandidate) => void) => {
  const c = base();
  over(c);
  return canBuildCredit(c, rules);
};

describe('canBuildCredit (seed 003)', () => {
  it('when every rule holds, then the asset may be transferred', () => {
    expect(canBuildCredit(base(), rules)).to.equal(undefined);
  });

  const cases: [string, (c: TransferCandidate) => void, TransferRefusal][] = [
    [
      'the loan is not repaying',
      (c) => (c.loan.status = 'overdue'),
      TransferRefusal.LoanNotRepaying,
    ],
    [
      'the asset was sold off',
      (c) => (c.asset.status = 'transferred'),
      TransferRefusal.AssetNotHeld,
    ],
    [
      'the asset is repaid (nothing left)',
      (c) => (c.asset.principal = 0n),
      TransferRefusal.AssetNotHeld,
    ],
    ['today is the loan due date', (c) => (c.today = '2026-12-31'), TransferRefusal.LoanMatured],
    [
      'the asset changed hands trade_count_limit times',
      (c) => (c.asset.tradeCount = 3),
      TransferRefusal.TradeCountLimit,
    ],
    [
      'an installment loan runs loan_fenqi_limit months',
      (c) =>
        Object.assign(c.loan, { termUnit: 'month', term: 1, repaymentMethod: 'equal_installment' }),
      TransferRefusal.InstallmentTermTooShort,
    ],
    [
      'a bullet loan runs loan_daoqi_limit days',
      (c) => (c.loan.term = 10),
      TransferRefusal.BulletTermTooShort,
    ],
    [
      'interest has not started',
      (c) => (c.asset.interestStart = '2026-11-21'),
      TransferRefusal.BeforeInterestStart,
    ],
    [
      'the next repayment date has passed',
      (c) => (c.nextRepaymentDate = '2026-11-19'),
      TransferRefusal.AfterNextRepayment,
    ],
    [
      'the asset was held holdDays − 1 days',
      (c) => (c.asset.interestStart = '2026-11-18'),
      TransferRefusal.HoldDaysNotReached,
    ],
    [
      'the next repayment is exactly duration days away',
      (c) => (c.nextRepaymentDate = '2026-11-23'),
      TransferRefusal.TooCloseToRepayment,
    ],
    [
      'today is the day of the next repayment',
      (c) => (c.nextRepaymentDate = '2026-11-20'),
      TransferRefusal.TooCloseToRepayment,
    ],
    [
      'the amount is over the tradable amount',
      (c) => (c.amount = 1_100_000n),
      TransferRefusal.AmountOverTradable,
    ],
    [
      'the amount is below the minimum',
      (c) => (c.amount = 50_000n),
      TransferRefusal.AmountBelowMinimum,
    ],
    [
      'nothing is left to trade (all on notes)',
      (c) => (c.asset.maxTradableAmount = 0n),
      TransferRefusal.AmountBelowMinimum,
    ],
    [
      'the remainder would be below the minimum',
      (c) => (c.amount = 950_000n),
      TransferRefusal.RemainderBelowMinimum,
    ],
    [
      'the amount is not minimum plus whole increments',
      (c) => (c.amount = 150_000n),
      TransferRefusal.AmountNotIncrement,
    ],
  ];
  for (const [label, over, code] of cases) {
    it(`when ${label}, then ${code}`, () => {
      expect(withOver(over)).to.equal(code);
    });
  }

  it('when the asset was held exactly holdDays, then that rule passes', () => {
    expect(withOver((c) => (c.asset.interestStart = '2026-11-17'))).to.equal(undefined);
  });

  it('when the next repayment is duration + 1 days away, then that rule passes', () => {
    expect(withOver((c) => (c.nextRepaymentDate = '2026-11-24'))).to.equal(undefined);
  });

  it('when the whole tradable amount is sold, then minimum and increment do not apply to it', () => {
    expect(
      withOver((c) => Object.assign(c.asset, { maxTradableAmount: 150_000n, principal: 150_000n })),
    ).to.equal(undefined);
    expect(withOver((c) => (c.amount = 900_000n))).to.equal(undefined);
  });

  it('when days are counted, then calendar days between the dates come out', () => {
    expect([
      daysBetween('2026-11-17', '2026-11-20'),
      daysBetween('2026-02-27', '2026-03-01'),
      daysBetween('2026-11-20', '2026-11-19'),
    ]).to.deep.equal([3, 2, -1]);
  });
});
