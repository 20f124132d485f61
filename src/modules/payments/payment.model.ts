import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { now } from '../../lib/clock';
import { IdrColumn } from '../../lib/model-columns';
import type { InstructionKind, InstructionPurpose, InstructionStatus } from './instruction.states';

/** One instruction to the gateway (collection, payout, custody transfer); its id is the gateway's idempotency key. */
@Table({ tableName: 'payment_instructions' })
export class PaymentInstruction extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare kind: InstructionKind;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare purpose: InstructionPurpose;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'ref_id' })
  declare refId: string;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'user_id' })
  declare userId: string | null;

  /** 1 for the first instruction of a purpose and ref; a retried disbursement gets 2, 3 … */
  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 1 })
  declare attempt: number;

  @IdrColumn()
  declare amount: bigint;

  @Column({ type: DataType.BIGINT, allowNull: true, field: 'bank_card_id' })
  declare bankCardId: string | null;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: InstructionStatus;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'gateway_txn_id' })
  declare gatewayTxnId: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'fail_reason' })
  declare failReason: string | null;

  @Column({ type: DataType.INTEGER, allowNull: false, field: 'submit_attempts', defaultValue: 0 })
  declare submitAttempts: number;

  @Column({ type: DataType.INTEGER, allowNull: false, field: 'query_attempts', defaultValue: 0 })
  declare queryAttempts: number;

  @Column({ type: DataType.DATE, allowNull: true, field: 'submitted_at' })
  declare submittedAt: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'resolved_at' })
  declare resolvedAt: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'next_query_at' })
  declare nextQueryAt: Date | null;

  /** What the last result did to what it paid for ("not applied: …" waits for finance). */
  @Column({ type: DataType.TEXT, allowNull: true })
  declare outcome: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'acknowledged_at' })
  declare acknowledgedAt: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'acknowledged_by' })
  declare acknowledgedBy: string | null;

  declare createdAt: Date;
}

/** A gateway callback exactly as received; applied once by the reconciliation job. */
@Table({ tableName: 'gateway_callbacks', timestamps: false })
export class GatewayCallback extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'instruction_id' })
  declare instructionId: string;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'gateway_txn_id' })
  declare gatewayTxnId: string | null;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: string;

  @IdrColumn()
  declare amount: bigint;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'fail_reason' })
  declare failReason: string | null;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'raw_body' })
  declare rawBody: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare signature: string;

  @Column({ type: DataType.DATE, allowNull: false, field: 'received_at', defaultValue: now })
  declare receivedAt: Date;

  @Column({ type: DataType.DATE, allowNull: true, field: 'processed_at' })
  declare processedAt: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare outcome: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'acknowledged_at' })
  declare acknowledgedAt: Date | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'acknowledged_by' })
  declare acknowledgedBy: string | null;
}
