import type { BankCardStatus } from './bank-card.states';
import { Column, DataType, Model, Table } from 'sequelize-typescript';

/** An investor's bank card: the number encrypted at rest; rebinding marks the old one replaced. */
@Table({ tableName: 'bank_cards' })
export class BankCard extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.BIGINT, allowNull: false, field: 'user_id' })
  declare userId: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'bank_code' })
  declare bankCode: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'card_encrypted' })
  declare cardEncrypted: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'card_hash' })
  declare cardHash: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'card_last4' })
  declare cardLast4: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare status: BankCardStatus;

  @Column({ type: DataType.DATE, allowNull: true, field: 'replaced_at' })
  declare replacedAt: Date | null;

  declare createdAt: Date;
}
