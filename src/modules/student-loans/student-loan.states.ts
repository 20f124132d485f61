import { StateMachine } from '../../lib/state-machine';

/** A student loan application (seed item 18). */
export enum StudentLoanStatus {
  Submitted = 'submitted',
  Approved = 'approved',
  Rejected = 'rejected',
  DisbursedOffline = 'disbursed_offline',
}

/** submitted → approved | rejected (with a reason); approved → disbursed_offline (recorded by an admin). */
export const studentLoanMachine = new StateMachine<StudentLoanStatus>('student loan', {
  [StudentLoanStatus.Submitted]: [StudentLoanStatus.Approved, StudentLoanStatus.Rejected],
  [StudentLoanStatus.Approved]: [StudentLoanStatus.DisbursedOffline],
  [StudentLoanStatus.Rejected]: [],
  [StudentLoanStatus.DisbursedOffline]: [],
});
