import { Column, DataType, Model, Table } from 'sequelize-typescript';

/** A status notification to the partner (seed item 16), kept until delivered. */
@Table({ tableName: 'partner_notifications' })
export class PartnerNotification extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare event: PartnerEvent;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'creditor_no' })
  declare creditorNo: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'dedupe_key' })
  declare dedupeKey: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  declare payload: Record<string, unknown>;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: 'pending' | 'delivered';

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  declare attempts: number;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'last_error' })
  declare lastError: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'delivered_at' })
  declare deliveredAt: Date | null;
}

/** What the partner is told (seed item 16: disbursement and repayment results, failed loans). */
export type PartnerEvent =
  | 'loan_failed'
  | 'loan_disbursed'
  | 'loan_disburse_failed'
  | 'repayment_cleared'
  | 'repayment_held'
  | 'repayment_failed'
  | 'repayment_returned'
  | 'loan_repaid';
