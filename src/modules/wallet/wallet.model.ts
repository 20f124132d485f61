import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { WalletOpStatus } from './wallet.states';

/** Columns shared by recharges and withdrawals. */
abstract class WalletOperation extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  @IdrColumn()
  declare amount: bigint;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: WalletOpStatus;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'fail_reason' })
  declare failReason: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'idempotency_key' })
  declare idempotencyKey: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'request_hash' })
  declare requestHash: string | null;

  declare createdAt: Date;
}

/** Money collected from the bound card into the wallet. */
@Table({ tableName: 'recharges' })
export class Recharge extends WalletOperation {}

/** Money paid out from the wallet to the bound card. */
@Table({ tableName: 'withdrawals' })
export class Withdrawal extends WalletOperation {}
