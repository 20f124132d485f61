import { expect } from 'chai';
import { StateMachine } from '../../src/lib/state-machine';
import {
  CreditNoteStatus,
  creditNoteMachine,
} from '../../src/modules/transfers/credit-note.states';
import {
  BuyerPaymentStatus,
  buyerPaymentMachine,
} from '../../src/modules/transfers/credit-order.states';

/** A stand-in row: records what `update`/`set` were given. */
const row = <T extends object>(fields: T) => {
  const seen: object[] = [];
  const r = {
    ...fields,
    seen,
    async update(values: object) {
      seen.push(values);
      Object.assign(r, values);
    },
    set(values: object) {
      seen.push(values);
      Object.assign(r, values);
    },
  };
  return r;
};

describe('state machines', () => {
  it('when a move is in the table, then transition writes the new state with the fields in one update', async () => {
    const note = row({ status: CreditNoteStatus.Open });
    await creditNoteMachine.transition(note, CreditNoteStatus.SoldOut, { closedAt: 'now' });
    expect(note.seen).to.deep.equal([{ closedAt: 'now', status: 'sold_out' }]);
  });

  it('when a move is not in the table, then transition and stage throw INVALID_STATE_TRANSITION and write nothing', async () => {
    const note = row({ status: CreditNoteStatus.SoldOut });
    let code: string | undefined;
    try {
      await creditNoteMachine.transition(note, CreditNoteStatus.Cancelled);
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).to.equal('INVALID_STATE_TRANSITION');
    expect(() => creditNoteMachine.stage(note, CreditNoteStatus.Expired)).to.throw(
      /sold_out → expired/,
    );
    expect(note.seen).to.deep.equal([]);
  });

  it('when the state lives in another attribute with integer codes, then the table reads that attribute and sourcesOf gives numbers', async () => {
    const order = row({ status: 'processing', buyerPaymentStatus: BuyerPaymentStatus.Unknown });
    await buyerPaymentMachine.transition(order, BuyerPaymentStatus.Paid);
    expect(order.seen).to.deep.equal([{ buyerPaymentStatus: 1 }]);
    expect(buyerPaymentMachine.sourcesOf(BuyerPaymentStatus.Paid).sort()).to.deep.equal([0, 2, 3]);
    expect(buyerPaymentMachine.movableTo(BuyerPaymentStatus.Unknown)).to.deep.equal({
      buyerPaymentStatus: [0],
    });
  });

  it('when a table is read over another field, then it keeps the same moves', () => {
    const m = new StateMachine<'a' | 'b'>('t', { a: ['b'], b: [] });
    const other = m.onField('kind');
    expect([other.field, other.can('a', 'b'), other.can('b', 'a')]).to.deep.equal([
      'kind',
      true,
      false,
    ]);
  });
});
