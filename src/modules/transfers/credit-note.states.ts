import { StateMachine } from '../../lib/state-machine';

/** A credit note's (挂牌) life on the secondary market. */
export enum CreditNoteStatus {
  /** On the market until its end time (buyers may still be paying for reserved parts). */
  Open = 'open',
  /** Everything it offered was traded. */
  SoldOut = 'sold_out',
  /** The seller withdrew the unsold part. */
  Cancelled = 'cancelled',
  /** Its end time passed; the sweeper gave the unsold part back. */
  Expired = 'expired',
  /** Closed by the platform: a repayment left the asset holding less than the note offered. */
  Withdrawn = 'withdrawn',
}

/** open → sold_out | cancelled | expired | withdrawn; every other state is final. */
export const creditNoteMachine = new StateMachine<CreditNoteStatus>('credit note', {
  [CreditNoteStatus.Open]: [
    CreditNoteStatus.SoldOut,
    CreditNoteStatus.Cancelled,
    CreditNoteStatus.Expired,
    CreditNoteStatus.Withdrawn,
  ],
  [CreditNoteStatus.SoldOut]: [],
  [CreditNoteStatus.Cancelled]: [],
  [CreditNoteStatus.Expired]: [],
  [CreditNoteStatus.Withdrawn]: [],
});

/** The API's flags (SPEC: isClosed, isCancelled), read from the status. */
export const noteFlags = (status: CreditNoteStatus) => ({
  isClosed: status !== CreditNoteStatus.Open,
  isCancelled: status === CreditNoteStatus.Cancelled,
});
