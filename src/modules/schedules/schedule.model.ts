import type { PeriodStatus } from './schedule.states';
import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';

/** One period of one asset's repayment schedule. */
@Table({ tableName: 'repayment_schedules' })
export class RepaymentSchedule extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'asset_id' })
  declare assetId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'loan_id' })
  declare loanId: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  declare period: number;

  /** DATE: YYYY-MM-DD. */
  @Column({ type: DataType.DATEONLY, allowNull: false, field: 'due_date' })
  declare dueDate: string;

  @IdrColumn()
  declare principal: bigint;

  @IdrColumn()
  declare interest: bigint;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: PeriodStatus;

  @Column({ type: DataType.DATE, allowNull: true, field: 'paid_at' })
  declare paidAt: Date | null;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'repayment_id' })
  declare repaymentId: string | null;
}

/** One period of a loan's repayment plan: what the borrower owes (fixed at disbursement). */
@Table({ tableName: 'repayment_plans' })
export class RepaymentPlan extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'loan_id' })
  declare loanId: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  declare period: number;

  /** DATE: YYYY-MM-DD. */
  @Column({ type: DataType.DATEONLY, allowNull: false, field: 'due_date' })
  declare dueDate: string;

  @IdrColumn()
  declare principal: bigint;

  @IdrColumn()
  declare interest: bigint;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: PeriodStatus;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'repayment_id' })
  declare repaymentId: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'paid_at' })
  declare paidAt: Date | null;
}
