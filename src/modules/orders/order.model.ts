import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { OrderStatus } from './order.states';

/** Who placed an order: the investor, or the investor's auto-invest rule. */
export type OrderSource = 'manual' | 'auto';

/** A purchase order for a share of a loan. */
@Table({ tableName: 'orders' })
export class Order extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'loan_id' })
  declare loanId: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'creditor_no' })
  declare creditorNo: string;

  @IdrColumn()
  declare amount: bigint;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'pay_with' })
  declare payWith: 'card' | 'wallet';

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: OrderStatus;

  /** `manual` (POST /api/v1/orders) or `auto` (placed by an auto-invest rule). */
  @Column({ type: DataType.TEXT, allowNull: false, defaultValue: 'manual' })
  declare source: OrderSource;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'fail_code' })
  declare failCode: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'fail_reason' })
  declare failReason: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'idempotency_key' })
  declare idempotencyKey: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'request_hash' })
  declare requestHash: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'lock_expires_at' })
  declare lockExpiresAt: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'locked_at' })
  declare lockedAt: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'paid_at' })
  declare paidAt: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'ended_at' })
  declare endedAt: Date | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'holds_lock', defaultValue: false })
  declare holdsLock: boolean;

  declare createdAt: Date;
}
