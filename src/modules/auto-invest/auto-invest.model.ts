import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn } from '../../lib/model-columns';
import type { AllocationStatus, RuleStatus } from './auto-invest.states';

/** An investor's standing purchase rule (one per investor; the investor's id is its key). */
@Table({ tableName: 'auto_invest_rules' })
export class AutoInvestRule extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, field: 'user_id' })
  declare userId: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: RuleStatus;

  @IdrColumn({ field: 'amount_per_loan' })
  declare amountPerLoan: bigint;

  /** Percent per year, "12.5000" (NUMERIC(9,4) comes back as a string). */
  @Column({ type: DataType.DECIMAL(9, 4), allowNull: true, field: 'min_year_rate' })
  declare minYearRate: string | null;

  @Column({ type: DataType.DECIMAL(9, 4), allowNull: true, field: 'max_year_rate' })
  declare maxYearRate: string | null;

  @Column({ type: DataType.ARRAY(DataType.TEXT), allowNull: false, field: 'repayment_methods' })
  declare repaymentMethods: string[];

  @Column({ type: DataType.INTEGER, allowNull: true, field: 'max_term_days' })
  declare maxTermDays: number | null;

  /** null: any risk level. */
  @Column({ type: DataType.ARRAY(DataType.TEXT), allowNull: true, field: 'risk_levels' })
  declare riskLevels: string[] | null;

  @IdrColumn({ field: 'reserve_balance' })
  declare reserveBalance: bigint;

  @IdrColumn({ field: 'max_total_invested', allowNull: true })
  declare maxTotalInvested: bigint | null;

  /** When the rule was last enabled (the queue's tie-break among rules never served). */
  @Column({ type: DataType.DATE, allowNull: true, field: 'enabled_at' })
  declare enabledAt: Date | null;

  /** The position of its last service in the service order (auto_invest_serve_seq). */
  @Column({ type: DataType.BIGINT, allowNull: true, field: 'served_seq' })
  declare servedSeq: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'last_served_at' })
  declare lastServedAt: Date | null;

  declare createdAt: Date;
  declare updatedAt: Date;
}

/** A new loan's allocation to the rules: what its job works from, found again by recovery. */
@Table({ tableName: 'auto_invest_allocations' })
export class AutoInvestAllocation extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, field: 'loan_id' })
  declare loanId: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: AllocationStatus;

  /** floor(amount × AUTO_INVEST_MAX_SHARE), fixed when the loan was received. */
  @IdrColumn({ field: 'share_cap' })
  declare shareCap: bigint;

  /** What the rules have bought of it so far. */
  @IdrColumn()
  declare allocated: bigint;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  declare passes: number;

  @Column({ type: DataType.DATE, allowNull: true, field: 'done_at' })
  declare doneAt: Date | null;

  declare createdAt: Date;
  declare updatedAt: Date;
}
