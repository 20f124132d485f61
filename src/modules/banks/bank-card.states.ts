import { StateMachine } from '../../lib/state-machine';

/** A bank card's status: the investor's current card, or one a rebinding replaced. */
export enum BankCardStatus {
  Active = 'active',
  Replaced = 'replaced',
}

/** active → replaced (a new card bound; the old one stays on record, never active again). */
export const bankCardMachine = new StateMachine<BankCardStatus>('bank card', {
  [BankCardStatus.Active]: [BankCardStatus.Replaced],
  [BankCardStatus.Replaced]: [],
});
