import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { AssetStatus } from './asset.states';

/** A share of a loan an investor holds (from a paid order, or later from a transfer). */
@Table({ tableName: 'assets' })
export class Asset extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'loan_id' })
  declare loanId: string;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'order_id' })
  declare orderId: string | null;

  @IdrColumn()
  declare principal: bigint;

  @IdrColumn({ field: 'max_tradable_amount' })
  declare maxTradableAmount: bigint;

  @Column({ type: DataType.INTEGER, allowNull: false, field: 'trade_count', defaultValue: 0 })
  declare tradeCount: number;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: AssetStatus;

  /** The day interest starts for this holder (disbursement day; the day after a transfer). */
  @Column({ type: DataType.DATEONLY, allowNull: true, field: 'interest_start' })
  declare interestStart: string | null;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'parent_asset_id' })
  declare parentAssetId: string | null;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'note_id' })
  declare noteId: string | null;

  declare createdAt: Date;
}
