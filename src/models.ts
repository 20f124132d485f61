import { Bank } from './modules/banks/bank.model';
import { BankCard } from './modules/banks/bank-card.model';
import { KycVerification } from './modules/kyc/kyc.model';
import { Account, LedgerEntry, LedgerTransaction } from './modules/ledger/ledger.model';
import { OutboxMessage } from './modules/outbox/outbox.model';
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
];
