import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { CreditNoteStatus } from './credit-note.states';

/** A note (挂牌): part of an asset offered on the secondary market, with the rules of its day. */
@Table({ tableName: 'credit_notes' })
export class CreditNote extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'asset_id' })
  declare assetId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'loan_id' })
  declare loanId: string;

  @IdrColumn()
  declare amount: bigint;

  @IdrColumn({ field: 'traded_amount' })
  declare tradedAmount: bigint;

  /** What orders in flight have taken (paid for or being paid): never sold twice. */
  @IdrColumn({ field: 'reserved_amount' })
  declare reservedAmount: bigint;

  @Column({ type: DataType.DECIMAL(9, 4), allowNull: false, field: 'discount_rate' })
  declare discountRate: string;

  /** The market rules in force when the note was made (seed: $note->config). */
  @Column({ type: DataType.JSONB, allowNull: false })
  declare config: Record<string, string | number>;

  @Column({ type: DataType.TEXT, allowNull: false, defaultValue: 'open' })
  declare status: CreditNoteStatus;

  @Column({ type: DataType.DATE, allowNull: false, field: 'end_time' })
  declare endTime: Date;

  @Column({ type: DataType.DATE, allowNull: true, field: 'closed_at' })
  declare closedAt: Date | null;

  declare createdAt: Date;
}
