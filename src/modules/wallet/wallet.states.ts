import { StateMachine } from '../../lib/state-machine';

/** A recharge's or a withdrawal's life cycle: pending → succeeded | failed. */
export enum WalletOpStatus {
  Pending = 'pending',
  Succeeded = 'succeeded',
  Failed = 'failed',
}

export const walletOpMachine = new StateMachine<WalletOpStatus>('wallet operation', {
  [WalletOpStatus.Pending]: [WalletOpStatus.Succeeded, WalletOpStatus.Failed],
  [WalletOpStatus.Succeeded]: [],
  [WalletOpStatus.Failed]: [],
});
