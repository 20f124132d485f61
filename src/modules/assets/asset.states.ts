import { StateMachine } from '../../lib/state-machine';

/** A holding's life cycle (a share of a loan from a paid order or a transfer). */
export enum AssetStatus {
  /** Held; repayments are split to it; a note may offer part of it. */
  Holding = 'holding',
  /** Every period paid: nothing left to receive. */
  Repaid = 'repaid',
  /** Sold in full on the secondary market (a buyer's asset carries it on). */
  Transferred = 'transferred',
}

/**
 * holding → repaid (its last unpaid row paid) | transferred (sold in full). A partial sale keeps
 * the asset holding with less principal. The API's `transferring` is a view (an open note), not
 * a state of the row.
 */
export const assetMachine = new StateMachine<AssetStatus>('asset', {
  [AssetStatus.Holding]: [AssetStatus.Repaid, AssetStatus.Transferred],
  [AssetStatus.Repaid]: [],
  [AssetStatus.Transferred]: [],
});
