import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { IdrColumn, EncryptedColumn } from '../../lib/model-columns';
import type { StudentLoanStatus } from './student-loan.states';

/** A student loan application (学生借款表). */
@Table({ tableName: 'student_loans' })
export class StudentLoan extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'school_name' })
  declare schoolName: string;

  /** Encrypted at rest (the attribute is plaintext). */
  @EncryptedColumn({ field: 'student_id_no_encrypted' })
  declare studentIdNo: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare major: string;

  @Column({ type: DataType.INTEGER, allowNull: false, field: 'enrollment_year' })
  declare enrollmentYear: number;

  @IdrColumn()
  declare amount: bigint;

  @Column({ type: DataType.INTEGER, allowNull: false, field: 'term_months' })
  declare termMonths: number;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare purpose: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: StudentLoanStatus;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'reviewed_by' })
  declare reviewedBy: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'review_reason' })
  declare reviewReason: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'reviewed_at' })
  declare reviewedAt: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'disbursed_by' })
  declare disbursedBy: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'disbursed_at' })
  declare disbursedAt: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'disbursement_ref' })
  declare disbursementRef: string | null;

  @IdrColumn({ allowNull: true, field: 'disbursement_amount' })
  declare disbursementAmount: bigint | null;

  declare createdAt: Date;
}
