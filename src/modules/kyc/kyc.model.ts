import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { EncryptedColumn } from '../../lib/model-columns';
import type { KycStatus } from './kyc.states';

/** One KYC submission: the NIK encrypted at rest, with a keyed hash for "one NIK, one investor". */
@Table({ tableName: 'kyc_verifications' })
export class KycVerification extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  /** Encrypted at rest (the attribute is plaintext). */
  @EncryptedColumn({ field: 'real_name_encrypted' })
  declare realName: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'nik_encrypted' })
  declare nikEncrypted: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'nik_hash' })
  declare nikHash: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'nik_last4' })
  declare nikLast4: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: Exclude<KycStatus, 'none'>;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'verified_by' })
  declare verifiedBy: 'provider' | 'admin' | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare reason: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'reviewed_by' })
  declare reviewedBy: string | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'reviewed_at' })
  declare reviewedAt: Date | null;

  declare createdAt: Date;
  declare updatedAt: Date;
}
