import { Column, DataType, type Model } from 'sequelize-typescript';
import { toIdr } from './money';

/**
 * A BIGINT column read as a JS bigint and written as a string: the one place where pg's
 * string int8 becomes money.
 */
export function IdrColumn(opts: { allowNull?: boolean; field?: string } = {}): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    const name = String(key);
    Column({
      type: DataType.BIGINT,
      allowNull: opts.allowNull ?? false,
      field: opts.field,
      get(this: Model) {
        const raw = this.getDataValue(name as never) as string | number | bigint | null;
        return raw === null || raw === undefined ? raw : toIdr(raw);
      },
      set(this: Model, value: bigint | string | number | null) {
        this.setDataValue(name as never, (value === null ? null : value.toString()) as never);
      },
    })(target, key);
  };
}
