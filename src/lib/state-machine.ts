import { AppError } from './errors';

/**
 * A closed state machine: the table lists, for every state, the states it may move to.
 * `assert` throws INVALID_STATE_TRANSITION for any move the table does not list.
 */
export class StateMachine<S extends string> {
  constructor(
    readonly name: string,
    private readonly table: Readonly<Record<S, readonly S[]>>,
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

  /** States a row may be in for `to` to be reached (for conditional UPDATE … WHERE status IN). */
  sourcesOf(to: S): S[] {
    return (Object.keys(this.table) as S[]).filter((from) => this.table[from].includes(to));
  }
}
