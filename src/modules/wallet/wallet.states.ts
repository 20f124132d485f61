import { StateMachine } from '../../lib/state-machine';

/** A recharge's or a withdrawal's life cycle. */
export enum WalletOpStatus {
  Pending = 'pending',
  Succeeded = 'succeeded',
  Failed = 'failed',
}

/**
 * pending → succeeded | failed; failed → succeeded (the gateway's success after its failure:
 * a recharge's money is credited, a withdrawal that was paid out after all is debited).
 */
export const walletOpMachine = new StateMachine<WalletOpStatus>('wallet operation', {
  [WalletOpStatus.Pending]: [WalletOpStatus.Succeeded, WalletOpStatus.Failed],
  [WalletOpStatus.Failed]: [WalletOpStatus.Succeeded],
  [WalletOpStatus.Succeeded]: [],
});
