import { StateMachine } from '../../lib/state-machine';

/** A loan's (散标) life cycle, SPEC §3. */
export enum LoanStatus {
  Open = 'open',
  Settling = 'settling',
  Failed = 'failed',
  Full = 'full',
  Disbursing = 'disbursing',
  DisburseFailed = 'disburse_failed',
  Repaying = 'repaying',
  Overdue = 'overdue',
  Repaid = 'repaid',
}

/**
 * open → settling (deadline, or filled) → failed (流标) | full (满标, after a super-investor top-up
 * if needed) → disbursing → repaying | disburse_failed (→ disbursing again, or → repaying when the
 * gateway's success follows its failure) → overdue ⇄ repaying → repaid.
 */
export const loanMachine = new StateMachine<LoanStatus>('loan', {
  [LoanStatus.Open]: [LoanStatus.Settling],
  [LoanStatus.Settling]: [LoanStatus.Failed, LoanStatus.Full],
  [LoanStatus.Failed]: [],
  [LoanStatus.Full]: [LoanStatus.Disbursing],
  [LoanStatus.Disbursing]: [LoanStatus.Repaying, LoanStatus.DisburseFailed],
  [LoanStatus.DisburseFailed]: [LoanStatus.Disbursing, LoanStatus.Repaying],
  [LoanStatus.Repaying]: [LoanStatus.Overdue, LoanStatus.Repaid],
  [LoanStatus.Overdue]: [LoanStatus.Repaying, LoanStatus.Repaid],
  [LoanStatus.Repaid]: [],
});
