import type { Sequelize } from 'sequelize-typescript';
import type { Rng } from './rng';

/** A job that died at a line (the simulated crash): what is committed stays, the rest is lost. */
export class SimCrash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimCrash';
  }
}

/**
 * Faults inside the database layer, at a line the seed draws: the next job dies at its n-th
 * query (a crash between two steps, or a worker killed mid-job — PostgreSQL rolls back what was
 * not committed, as it does when a process dies), or its n-th query inside a transaction fails
 * with a serialization failure or a deadlock (which `withTransaction` must retry).
 */
export class DbFaults {
  private countdown = 0;
  private kind: 'crash' | 'conflict' | undefined;

  constructor(
    sequelize: Sequelize,
    private readonly rng: Rng,
  ) {
    sequelize.addHook('beforeQuery', (options) => this.before(options));
  }

  /** The next job run meets this fault at a query drawn from 1 to `within`. */
  arm(kind: 'crash' | 'conflict', within: number): void {
    this.kind = kind;
    this.countdown = this.rng.int(1, within);
  }

  disarm(): void {
    this.kind = undefined;
  }

  private before(options: { transaction?: unknown; completesTransaction?: boolean }): void {
    // Not on COMMIT or ROLLBACK: a crash there is the same as one just before (nothing is
    // committed), and Sequelize would kill the connection over it.
    if (!this.kind || options.completesTransaction) return;
    if (this.kind === 'conflict' && !options.transaction) return;
    if (--this.countdown > 0) return;
    const kind = this.kind;
    this.kind = undefined;
    if (kind === 'crash') throw new SimCrash();
    const err = new Error('could not serialize access (simulated)') as Error & {
      parent: { code: string };
    };
    err.parent = { code: this.rng.chance(50) ? '40001' : '40P01' };
    throw err;
  }
}
