import type { Transaction } from 'sequelize';
import { AppError } from './errors';

/** A row whose state can be moved: a sequelize-typescript model instance. */
interface Movable {
  update(values: object, options: { transaction?: Transaction }): Promise<unknown>;
}

/**
 * A closed state machine: the table lists, for every state, the states it may move to.
 * `assert` throws INVALID_STATE_TRANSITION for any move the table does not list; `transition`
 * is the one way a row changes state; `sourcesOf` gives the WHERE of a conditional UPDATE.
 * `field` names the row's attribute that holds the state (`status` unless told).
 */
export class StateMachine<S extends string | number> {
  constructor(
    readonly name: string,
    private readonly table: Readonly<Record<S, readonly S[]>>,
    readonly field: string = 'status',
  ) {}

  can(from: S, to: S): boolean {
    return this.table[from]?.includes(to) ?? false;
  }

  assert(from: S, to: S): void {
    if (!this.can(from, to)) {
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `${this.name}: ${from} → ${to} is not allowed`,
        [],
        {
          retryable: false,
        },
      );
    }
  }

  /**
   * Moves `row` to `to` with `fields`, in `transaction`, after checking the table against the
   * state the row holds; the row must have been read (locked) in the same transaction.
   */
  async transition<R extends Movable>(
    row: R,
    to: S,
    fields: object = {},
    options: { transaction?: Transaction } = {},
  ): Promise<R> {
    this.assert((row as unknown as Record<string, S>)[this.field], to);
    await row.update({ ...fields, [this.field]: to }, { transaction: options.transaction });
    return row;
  }

  /**
   * Moves `row` to `to` in memory only, for a caller that saves it with other changes in one
   * UPDATE (`row.save({ transaction })`); the same check as `transition`.
   */
  stage<R extends { set(values: object): unknown }>(row: R, to: S, fields: object = {}): R {
    this.assert((row as unknown as Record<string, S>)[this.field], to);
    row.set({ ...fields, [this.field]: to });
    return row;
  }

  /** States a row may be in for `to` to be reached (for conditional UPDATE … WHERE status IN). */
  sourcesOf(to: S): S[] {
    return (Object.keys(this.table) as string[])
      .map((k) => (typeof to === 'number' ? (Number(k) as S) : (k as S)))
      .filter((from) => this.table[from].includes(to));
  }

  /** The same table over another attribute (a user's `kycStatus` follows the KYC table). */
  onField(field: string): StateMachine<S> {
    return new StateMachine(this.name, this.table, field);
  }

  /** A sequelize `where` part: the row is in a state from which `to` may be reached. */
  movableTo(to: S): Record<string, S[]> {
    return { [this.field]: this.sourcesOf(to) };
  }
}
