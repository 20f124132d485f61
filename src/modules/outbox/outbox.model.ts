import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { now } from '../../lib/clock';

/** Work to start after a commit: the relay turns each row into one BullMQ job (job id = row id). */
@Table({ tableName: 'outbox', timestamps: false })
export class OutboxMessage extends Model {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.TEXT, allowNull: false })
  declare queue: string;

  @Column({ type: DataType.TEXT, allowNull: false, field: 'job_name' })
  declare jobName: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  declare payload: object;

  @Column({ type: DataType.DATE, allowNull: true, field: 'run_at' })
  declare runAt: Date | null;

  @Column({
    type: DataType.DATE,
    allowNull: false,
    field: 'created_at',
    defaultValue: () => now(),
  })
  declare createdAt: Date;

  @Column({ type: DataType.DATE, allowNull: true, field: 'dispatched_at' })
  declare dispatchedAt: Date | null;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  declare attempts: number;

  @Column({ type: DataType.TEXT, allowNull: true, field: 'last_error' })
  declare lastError: string | null;
}
