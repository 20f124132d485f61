import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { RepaymentHoldCode, RepaymentStatus } from './repayment.states';

/** A repayment the partner reported (seed item 14), unique by repaymentNo. */
@Table({ tableName: 'repayments' })
export class Repayment extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'repayment_no' })
  declare repaymentNo: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'loan_id' })
  declare loanId: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'creditor_no' })
  declare creditorNo: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  declare period: number;

  @IdrColumn()
  declare principal: bigint;

  @IdrColumn()
  declare interest: bigint;

  @IdrColumn({ field: 'late_fee' })
  declare lateFee: bigint;

  @IdrColumn({ field: 'overdue_service_fee' })
  declare overdueServiceFee: bigint;

  @IdrColumn()
  declare total: bigint;

  @Column({ type: DataType.DATE, allowNull: false, field: 'paid_at' })
  declare paidAt: Date;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'body_hash' })
  declare bodyHash: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: RepaymentStatus;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'hold_reason' })
  declare holdReason: string | null;

  /** An early payoff of everything outstanding (SPEC §3). */
  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  declare payoff: boolean;

  /** Why it is held, as a code (the reason says it in words). */
  @Column({ type: DataType.TEXT, allowNull: true, field: 'hold_code' })
  declare holdCode: RepaymentHoldCode | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'cleared_at' })
  declare clearedAt: Date | null;
}
