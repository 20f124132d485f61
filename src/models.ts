import { AutoInvestAllocation, AutoInvestRule } from './modules/auto-invest/auto-invest.model';
import { Bank } from './modules/banks/bank.model';
import { BankCard } from './modules/banks/bank-card.model';
import { KycVerification } from './modules/kyc/kyc.model';
import { Account, LedgerEntry, LedgerTransaction } from './modules/ledger/ledger.model';
import { Borrower, Loan, LoanOriginal } from './modules/loans/loan.model';
import { Asset } from './modules/assets/asset.model';
import { Order } from './modules/orders/order.model';
import { OutboxMessage } from './modules/outbox/outbox.model';
import { PartnerNotification } from './modules/partner/notification.model';
import { Repayment } from './modules/repayments/repayment.model';
import { RepaymentPlan, RepaymentSchedule } from './modules/schedules/schedule.model';
import { StudentLoan } from './modules/student-loans/student-loan.model';
import { CreditNote } from './modules/transfers/credit-note.model';
import { CreditOrder } from './modules/transfers/credit-order.model';
import { GatewayCallback, PaymentInstruction } from './modules/payments/payment.model';
import { Recharge, Withdrawal } from './modules/wallet/wallet.model';
import { User } from './modules/users/user.model';

/** Every sequelize-typescript model, registered on the one Sequelize instance. */
export const ALL_MODELS = [
  User,
  Bank,
  BankCard,
  KycVerification,
  Account,
  LedgerTransaction,
  LedgerEntry,
  OutboxMessage,
  Loan,
  LoanOriginal,
  Borrower,
  Order,
  Asset,
  PaymentInstruction,
  GatewayCallback,
  Recharge,
  Withdrawal,
  RepaymentSchedule,
  RepaymentPlan,
  PartnerNotification,
  Repayment,
  StudentLoan,
  CreditNote,
  CreditOrder,
  AutoInvestRule,
  AutoInvestAllocation,
];
