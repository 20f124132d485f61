import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { AccountType } from './ledger.accounts';
import type { LedgerKind } from './ledger.kinds';

/** A ledger account with its cached balance (always equal to the sum of its entries). */
@Table({ tableName: 'accounts' })
export class Account extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare code: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare type: AccountType;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'owner_user_id' })
  declare ownerUserId: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'allow_negative' })
  declare allowNegative: boolean;

  @IdrColumn()
  declare balance: bigint;
}

/** One balanced set of entries, unique by idempotency key; never updated or deleted. */
@Table({ tableName: 'ledger_transactions', updatedAt: false })
export class LedgerTransaction extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare kind: LedgerKind;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'idempotency_key' })
  declare idempotencyKey: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'entries_hash' })
  declare entriesHash: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  declare metadata: Record<string, unknown>;
}

/** One signed amount on one account; append-only (a trigger refuses UPDATE and DELETE). */
@Table({ tableName: 'ledger_entries', updatedAt: false })
export class LedgerEntry extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'transaction_id' })
  declare transactionId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'account_id' })
  declare accountId: string;

  @IdrColumn()
  declare amount: bigint;

  @IdrColumn({ field: 'balance_after' })
  declare balanceAfter: bigint;
}
