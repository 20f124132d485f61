import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { CreditOrderStatus } from './credit-order.states';

/** A buyer's order for part of a note. */
@Table({ tableName: 'credit_orders' })
export class CreditOrder extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'note_id' })
  declare noteId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'seller_asset_id' })
  declare sellerAssetId: string;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'buyer_asset_id' })
  declare buyerAssetId: string | null;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'buyer_id' })
  declare buyerId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'seller_id' })
  declare sellerId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'loan_id' })
  declare loanId: string;

  @IdrColumn()
  declare principal: bigint;

  @IdrColumn()
  declare interest: bigint;

  @IdrColumn({ field: 'pay_amount' })
  declare payAmount: bigint;

  @IdrColumn()
  declare fee: bigint;

  /** Whether the principal sits in the note's reserved amount (released exactly once). */
  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'reserved', defaultValue: false })
  declare reserved: boolean;

  /** The period whose interest was accrued when the order was priced (it must still be unpaid). */
  @Column({ type: DataType.INTEGER, allowNull: true })
  declare period: number | null;

  @Column({ type: DataType.DATEONLY, allowNull: false, field: 'order_date' })
  declare orderDate: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: CreditOrderStatus;

  @Column({
    type: DataType.INTEGER,
    allowNull: false,
    field: 'buyer_payment_status',
    defaultValue: 0,
  })
  declare buyerPaymentStatus: number;

  @Column({
    type: DataType.INTEGER,
    allowNull: false,
    field: 'seller_refund_status',
    defaultValue: 0,
  })
  declare sellerRefundStatus: number;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'fail_code' })
  declare failCode: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'fail_reason' })
  declare failReason: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'idempotency_key' })
  declare idempotencyKey: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'request_hash' })
  declare requestHash: string | null;

  declare createdAt: Date;
}
