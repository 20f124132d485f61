import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { jakartaDate } from '../../lib/clock';
import { IdrColumn, EncryptedColumn } from '../../lib/model-columns';
import type { LoanStatus } from './loan.states';

/** Repayment method of a loan: bullet (term in days) or monthly (term in months). */
export type RepaymentMethod = 'bullet' | 'monthly_interest' | 'equal_installment';

/** A loan (散标) as received from the partner, with its share counters. */
@Table({ tableName: 'loans' })
export class Loan extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'creditor_no' })
  declare creditorNo: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'loan_purpose' })
  declare loanPurpose: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'risk_level' })
  declare riskLevel: string;

  /** NUMERIC(9,4): pg gives a string, kept as a string (decimal.js computes with it). */
  @Column({ type: DataType.DECIMAL(9, 4), allowNull: false, field: 'year_rate_fin' })
  declare yearRateFin: string;

  @Column({ type: DataType.DECIMAL(9, 4), allowNull: false, field: 'year_rate_loan' })
  declare yearRateLoan: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  declare term: number;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'term_unit' })
  declare termUnit: 'day' | 'month';

  @Column({ type: DataType.TEXT, allowNull: false, field: 'repayment_method' })
  declare repaymentMethod: RepaymentMethod;

  /** amountApply. */
  @IdrColumn()
  declare amount: bigint;

  @IdrColumn({ field: 'service_fee' })
  declare serviceFee: bigint;

  @Column({ type: DataType.DATE, allowNull: false, field: 'published_at' })
  declare publishedAt: Date;

  @Column({ type: DataType.DATE, allowNull: false })
  declare deadline: Date;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'borrower_id' })
  declare borrowerId: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'bank_code' })
  declare bankCode: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'bank_name' })
  declare bankName: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'bank_card_encrypted' })
  declare bankCardEncrypted: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'bank_card_last4' })
  declare bankCardLast4: string;

  /** The borrower's card holder name, encrypted at rest (the attribute is plaintext). */
  @EncryptedColumn({ field: 'bank_card_holder_encrypted' })
  declare bankCardHolder: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare source: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: LoanStatus;

  @IdrColumn({ field: 'locked_amount' })
  declare lockedAmount: bigint;

  @IdrColumn({ field: 'bought_amount' })
  declare boughtAmount: bigint;

  @Column({ type: DataType.DATE, allowNull: true, field: 'loan_time' })
  declare loanTime: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'due_time' })
  declare dueTime: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'repaid_at' })
  declare repaidAt: Date | null;

  @IdrColumn({ field: 'late_fee' })
  declare lateFee: bigint;

  @IdrColumn({ field: 'overdue_service_fee' })
  declare overdueServiceFee: bigint;

  @IdrColumn()
  declare interest: bigint;

  @Column({ type: DataType.DATE, allowNull: true, field: 'borrower_fetched_at' })
  declare borrowerFetchedAt: Date | null;

  declare createdAt: Date;
}

/** The Jakarta date a loan was disbursed: its interest start (计息日), null before. */
export const interestStartOf = (loan: Pick<Loan, 'loanTime'>): string | null =>
  loan.loanTime ? jakartaDate(loan.loanTime) : null;

/** The partner's loan record exactly as received (原始债权表), card number and holder encrypted. */
@Table({ tableName: 'loan_originals', timestamps: false })
export class LoanOriginal extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'creditor_no' })
  declare creditorNo: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  declare body: Record<string, unknown>;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'body_hash' })
  declare bodyHash: string;

  @Column({
    type: DataType.DATE,
    allowNull: false,
    field: 'received_at',
    defaultValue: DataType.NOW,
  })
  declare receivedAt: Date;
}

/** A borrower (借款人信息表, seed item 10): PII in one encrypted blob, the rest in columns. */
@Table({ tableName: 'borrowers' })
export class Borrower extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'borrower_id' })
  declare borrowerId: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'pii_encrypted' })
  declare piiEncrypted: string;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare sex: string | null;

  @Column({ type: DataType.INTEGER, allowNull: true })
  declare age: number | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare education: string | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare identity: string | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare religion: string | null;

  @Column({ type: DataType.BOOLEAN, allowNull: true, field: 'is_married' })
  declare isMarried: boolean | null;

  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'id_verified' })
  declare idVerified: boolean;

  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'bank_verified' })
  declare bankVerified: boolean;

  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'contacts_verified' })
  declare contactsVerified: boolean;

  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'insurance_verified' })
  declare insuranceVerified: boolean;

  @Column({ type: DataType.BOOLEAN, allowNull: false, field: 'family_verified' })
  declare familyVerified: boolean;

  @Column({ type: DataType.DATE, allowNull: false, field: 'fetched_at' })
  declare fetchedAt: Date;
}
