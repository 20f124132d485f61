import { expect } from 'chai';
import fc from 'fast-check';
import { accountCode } from '../../src/modules/ledger/ledger.accounts';
import { holderInterest } from '../../src/modules/schedules/schedule';
import {
  buyerWalletEntries,
  interestPart,
  settlementPostings,
  splitSchedule,
  type ClearingOrder,
} from '../../src/modules/transfers/transfer-clearing';

const amount = (max = 10_000_000_000n) => fc.bigInt({ min: 0n, max });

/** A credit order's figures as pricing makes them: payAmount ≤ principal + interest, fee < payAmount. */
const creditOrder = fc
  .record({
    principal: fc.bigInt({ min: 1n, max: 10_000_000_000n }),
    interest: amount(100_000_000n),
    discountBp: fc.integer({ min: 0, max: 9_999 }),
    feeBp: fc.integer({ min: 0, max: 500 }),
  })
  .map(({ principal, interest, discountBp, feeBp }): ClearingOrder => {
    const payAmount = ((principal + interest) * BigInt(10_000 - discountBp)) / 10_000n;
    return {
      id: '7',
      noteId: '3',
      buyerId: '1001',
      sellerId: '1002',
      principal,
      interest,
      payAmount,
      fee: (principal * BigInt(feeBp)) / 10_000n,
    };
  });

/** Net amount per account over postings. */
const net = (entries: { account: Parameters<typeof accountCode>[0]; amount: bigint }[]) => {
  const m = new Map<string, bigint>();
  for (const e of entries)
    m.set(accountCode(e.account), (m.get(accountCode(e.account)) ?? 0n) + e.amount);
  return m;
};

describe('the secondary market clearing (pure)', () => {
  it('when any credit order settles, then every posting balances, keys are distinct and the principal changes hands exactly', () => {
    fc.assert(
      fc.property(creditOrder, (o) => {
        const postings = settlementPostings(o);
        for (const p of postings)
          expect(
            p.entries.reduce((s, e) => s + e.amount, 0n),
            p.idempotencyKey,
          ).to.equal(0n);
        expect(new Set(postings.map((p) => p.idempotencyKey)).size).to.equal(postings.length);
        expect(postings.map((p) => p.kind)).to.include.members(['transfer_buy', 'transfer_sell']);
        expect(postings.some((p) => p.kind === 'transfer_fee')).to.equal(o.fee > 0n);
        const all = net(postings.flatMap((p) => p.entries));
        expect(all.get('investor:1002:invested')).to.equal(-o.principal);
        expect(all.get('investor:1001:invested')).to.equal(o.principal);
        // The buyer's reserved money leaves `locked`; the seller gets the pay amount less the fee.
        expect(all.get('investor:1001:locked')).to.equal(-o.payAmount);
        expect(all.get('investor:1002:available')).to.equal(o.payAmount - o.fee);
        // Clearing is passed through, never kept.
        expect(all.get('gateway_clearing') ?? 0n).to.equal(0n);
      }),
    );
  });

  it('when the buyer’s money is reserved and then released, then the wallet is where it was and the interest memo never exceeds the pay amount', () => {
    fc.assert(
      fc.property(creditOrder, (o) => {
        const reserve = buyerWalletEntries(o, -1n);
        const release = buyerWalletEntries(o, 1n);
        expect(reserve.reduce((s, e) => s + e.amount, 0n)).to.equal(0n);
        expect([...net([...reserve, ...release]).values()]).to.satisfy((v: bigint[]) =>
          v.every((x) => x === 0n),
        );
        expect(interestPart(o) <= o.payAmount).to.equal(true);
        expect(interestPart(o) <= o.interest).to.equal(true);
      }),
    );
  });

  it('when part of a schedule is sold, then the buyer’s rows sum to what it bought, each period’s principal is unchanged in total, and interest is reckoned on what each holds', () => {
    const rate = { yearRate: '12.0000', method: 'equal_installment' as const, term: 6 };
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 5_000_000_000n }), { minLength: 1, maxLength: 36 }),
        fc.bigInt({ min: 0n, max: 1_000_000n }),
        (principals, seed) => {
          const held = principals.reduce((s, p) => s + p, 0n);
          fc.pre(held > 0n);
          const sold = (seed * held) / 1_000_000n;
          const rows = principals.map((p) => ({ principal: p, interest: 1n }));
          const split = splitSchedule(rows, sold, rate);
          if (sold === held) {
            expect(split.kind).to.equal('move');
            return;
          }
          expect(split.kind).to.equal('split');
          if (split.kind !== 'split') return;
          expect(split.bought.reduce((s, r) => s + r.principal, 0n)).to.equal(sold);
          principals.forEach((p, i) => {
            expect(split.bought[i].principal + split.kept[i].principal).to.equal(p);
            expect(split.bought[i].principal >= 0n && split.kept[i].principal >= 0n).to.equal(true);
          });
          expect(split.bought.map((r) => r.interest)).to.deep.equal(
            holderInterest(
              split.bought.map((r) => r.principal),
              rate,
            ),
          );
          expect(split.kept.map((r) => r.interest)).to.deep.equal(
            holderInterest(
              split.kept.map((r) => r.principal),
              rate,
            ),
          );
        },
      ),
    );
  });
});
