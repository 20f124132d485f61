import { expect } from 'chai';
import fc from 'fast-check';
import { walkQueue, type QueueEntry } from '../../src/modules/auto-invest/allocation.service';
import { SkipReason } from '../../src/modules/auto-invest/auto-invest.states';

const entry = fc.record({
  amount: fc.bigInt({ min: 1n, max: 10n }),
  skip: fc.option(fc.constantFrom(...Object.values(SkipReason)), { nil: undefined }),
});

describe('the auto-invest queue walk (walkQueue)', () => {
  it('property: the served take at most the budget, in queue order, and the walk stops only at a rule that can buy but does not fit', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 30 }),
        fc.bigInt({ min: 0n, max: 60n }),
        (raw, budget) => {
          const entries: QueueEntry[] = raw.map((e, i) => ({ userId: String(i), ...e }));
          const w = walkQueue(entries, budget);
          const spent = w.served.reduce((s, e) => s + e.amount, 0n);
          expect(spent <= budget).to.equal(true);
          const front = entries.slice(0, w.decided);
          // Everything in front of the stop is decided: eligible ones served, the others skipped.
          expect(w.served).to.deep.equal(front.filter((e) => !e.skip));
          expect(w.skipped).to.deep.equal(front.filter((e) => e.skip));
          if (w.stopped) {
            const at = entries[w.decided];
            expect(at.skip).to.equal(undefined);
            expect(at.amount > budget - spent).to.equal(true);
          } else expect(w.decided).to.equal(entries.length);
        },
      ),
    );
  });

  it('when the front rule does not fit, then nobody behind it is served, even a smaller one', () => {
    const w = walkQueue(
      [
        { userId: 'a', amount: 3n },
        { userId: 'b', amount: 5n },
        { userId: 'c', amount: 1n },
      ],
      7n,
    );
    expect(w.served.map((e) => e.userId)).to.deep.equal(['a']);
    expect([w.stopped, w.decided]).to.deep.equal([true, 1]);
  });
});
