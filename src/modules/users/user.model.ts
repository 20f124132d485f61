import { Column, DataType, Model, Table } from 'sequelize-typescript';

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

  @Column({ type: DataType.TEXT, allowNull: true })
  declare mobile: string | null;

  @Column({ type: DataType.TEXT, allowNull: true })
  declare username: string | null;
}
