import { Column, DataType, Model, Table } from 'sequelize-typescript';

/** A bank investors may bind a card of; a card number must start with one of its BIN prefixes. */
@Table({ tableName: 'banks' })
export class Bank extends Model {
  @Column({ type: DataType.TEXT, primaryKey: true })
  declare code: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare name: string;

  @Column({ type: DataType.ARRAY(DataType.TEXT), allowNull: false, field: 'bin_prefixes' })
  declare binPrefixes: string[];

  @Column({ type: DataType.BOOLEAN, allowNull: false })
  declare active: boolean;
}
