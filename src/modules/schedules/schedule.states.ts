import { StateMachine } from '../../lib/state-machine';

/** A period of a loan's plan (repayment_plans) or of a holder's schedule (repayment_schedules). */
export enum PeriodStatus {
  Pending = 'pending',
  /** Cleared by a repayment (repayment_id says which). */
  Paid = 'paid',
}

/** pending → paid (a repayment cleared the period); paid is final. */
export const periodMachine = new StateMachine<PeriodStatus>('period', {
  [PeriodStatus.Pending]: [PeriodStatus.Paid],
  [PeriodStatus.Paid]: [],
});
