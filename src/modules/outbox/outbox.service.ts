import Joi from 'joi';
import { QueryTypes, type Transaction } from 'sequelize';
import type { TxOptions } from '../../lib/db';
import { planted } from '../../lib/plants';
import { JOBS, type JobName, type JobPayloads } from '../../queues/queues';
import { OutboxMessage } from './outbox.model';

/** Called after a commit that wrote outbox rows: a fast path to the relay (the sweeper is the safety net). */
export type OutboxKick = (ids: string[]) => void;

let kick: OutboxKick | undefined;

/** Each process that writes outbox rows may register how to relay them right after commit. */
export function setOutboxKick(fn: OutboxKick | undefined): void {
  kick = fn;
}

const pendingByTx = new WeakMap<Transaction, string[]>();
let skipped = 0;

/**
 * Records a job to start once the caller's transaction commits (the transactional outbox).
 * The row and the state change commit or roll back together; the relay enqueues the row with
 * job id `outbox-<id>`, so a crash anywhere after the commit still starts the work once.
 * `runAt` delays the job (e.g. a lock expiry or a settlement deadline).
 */
export async function enqueueAfterCommit<K extends JobName>(
  name: K,
  payload: JobPayloads[K],
  { transaction, runAt }: TxOptions & { runAt?: Date },
): Promise<string> {
  const def = JOBS[name];
  Joi.assert(payload, def.payload);
  if (planted('skip-outbox') && name === 'order.lock' && skipped++ % 3 === 0) return 'skipped';
  const row = await OutboxMessage.create(
    { queue: def.queue, jobName: name, payload, runAt: runAt ?? null },
    { transaction },
  );
  const id = String(row.id);
  kickAfterCommit(transaction, [id]);
  return id;
}

/** The same as `enqueueAfterCommit` for many jobs of one name, with one INSERT. */
export async function enqueueManyAfterCommit<K extends JobName>(
  name: K,
  payloads: JobPayloads[K][],
  { transaction, runAt }: TxOptions & { runAt?: Date },
): Promise<string[]> {
  if (payloads.length === 0) return [];
  const def = JOBS[name];
  for (const payload of payloads) Joi.assert(payload, def.payload);
  const rows = await OutboxMessage.bulkCreate(
    payloads.map((payload) => ({
      queue: def.queue,
      jobName: name,
      payload,
      runAt: runAt ?? null,
    })),
    { transaction, returning: ['id'] },
  );
  const ids = rows.map((r) => String(r.id));
  kickAfterCommit(transaction, ids);
  return ids;
}

function kickAfterCommit(transaction: Transaction, newIds: string[]): void {
  let ids = pendingByTx.get(transaction);
  if (!ids) {
    ids = [];
    pendingByTx.set(transaction, ids);
    const batch = ids;
    transaction.afterCommit(() => kick?.(batch));
  }
  ids.push(...newIds);
}

/** Rows not yet handed to BullMQ (for the finance CLI and tests). */
export async function countPendingOutbox(opts: Partial<TxOptions> = {}): Promise<number> {
  const [row] = await OutboxMessage.sequelize!.query<{ n: string }>(
    'SELECT COUNT(*)::text AS n FROM outbox WHERE dispatched_at IS NULL',
    { type: QueryTypes.SELECT, transaction: opts.transaction },
  );
  return Number(row.n);
}
