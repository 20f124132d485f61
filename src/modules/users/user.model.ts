import { Column, DataType, Model, Table } from 'sequelize-typescript';
import type { KycStatus } from '../kyc/kyc.states';

/** Who a user is to the platform. Investors sign up; the super investor and the admin are seeded. */
export enum UserRole {
  Investor = 'investor',
  SuperInvestor = 'super_investor',
  Admin = 'admin',
}

@Table({ tableName: 'users' })
export class User extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare role: UserRole;

  /** Normalised 08… form; masked on every output. */
  @Column({ type: DataType.TEXT, allowNull: true })
  declare mobile: string | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare username: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'password_hash' })
  declare passwordHash: string | null;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'kyc_status', defaultValue: 'none' })
  declare kycStatus: KycStatus;

  @Column({ type: DataType.DATE, allowNull: true, field: 'last_login_at' })
  declare lastLoginAt: Date | null;

  @Column({ type: DataType.DATE, allowNull: true, field: 'password_changed_at' })
  declare passwordChangedAt: Date | null;

  declare createdAt: Date;
}
