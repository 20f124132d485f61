import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { piiCipher } from '../../lib/model-columns';
import type { KycStatus } from '../kyc/kyc.states';

/** The keyed hash a (normalised) mobile is looked up by: `where: { mobileHash: mobileLookup(m) }`. */
export const mobileLookup = (mobile: string): string => piiCipher().lookupHash(`mobile:${mobile}`);

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

  /**
   * Normalised 08… form; masked on every output. Encrypted at rest (`mobile_encrypted`); setting
   * it also sets `mobileHash`, the keyed hash that login, registration and the admin filter look
   * it up by (`mobileLookup`).
   */
  @Column({
    type: DataType.TEXT,
    allowNull: true,
    field: 'mobile_encrypted',
    get(this: User) {
      const raw = this.getDataValue('mobile') as string | null | undefined;
      return raw === null || raw === undefined ? raw : piiCipher().decrypt(raw);
    },
    set(this: User, value: string | null) {
      this.setDataValue('mobile', value === null ? null : piiCipher().encrypt(value));
      this.setDataValue('mobileHash', value === null ? null : mobileLookup(value));
    },
  })
  declare mobile: string | null;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'mobile_hash' })
  declare mobileHash: string | null;

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
