import Joi from 'joi';
import { QueryTypes, type Transaction } from 'sequelize';
import type { TxOptions } from '../../lib/db';
import { planted } from '../../lib/plants';
import { JOBS, type JobName, type JobPayloads } from '../../queues/queues';
import { OutboxMessage } from './outbox.model';

/** An outbox row as written, handed to the fast path after its commit. */
export interface OutboxRecord {
  id: string;
  queue: string;
  jobName: string;
  payload: object;
  runAt: Date | null;
}

/** Called after a commit that wrote outbox rows: a fast path to the relay (the sweeper is the safety net). */
export type OutboxKick = (rows: OutboxRecord[]) => void;

let kick: OutboxKick | undefined;

/** Each process that writes outbox rows may register how to relay them right after commit. */
export function setOutboxKick(fn: OutboxKick | undefined): void {
  kick = fn;
}

const pendingByTx = new WeakMap<Transaction, OutboxRecord[]>();
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
  if (plantedSkip(name)) return 'skipped';
  const row = await OutboxMessage.create(
    { queue: def.queue, jobName: name, payload, runAt: runAt ?? null },
    { transaction },
  );
  const id = String(row.id);
  kickAfterCommit(transaction, [
    { id, queue: def.queue, jobName: name, payload, runAt: runAt ?? null },
  ]);
  return id;
}

/** The simulator's planted defect: every third order.lock row is never written. */
function plantedSkip(name: JobName): boolean {
  return planted('skip-outbox') && name === 'order.lock' && skipped++ % 3 === 0;
}

/**
 * For a write that is one autocommit statement (no transaction to hang a commit hook on): the
 * outbox row of job `name` as a CTE over `source` (a CTE of the same statement whose rows carry
 * the payload's fields in column `payload`, jsonb), and the hand-over to the fast path once
 * the statement has returned. Bind parameters are the caller's; the queue and job name are
 * inlined from the registry (constants, not input).
 */
export function outboxCte(name: JobName, source: string): string {
  const def = JOBS[name];
  if (plantedSkip(name)) return `outbox_row AS (SELECT NULL::bigint AS id WHERE false)`;
  return `outbox_row AS (
    INSERT INTO outbox (queue, job_name, payload, created_at)
    SELECT '${def.queue}', '${name}', ${source}.payload, ${source}.at FROM ${source}
    RETURNING id, queue, job_name, payload)`;
}

/** The fast path for rows written by `outboxCte`, after the statement committed. */
export function kickCommitted<K extends JobName>(
  name: K,
  rows: { id: string; payload: JobPayloads[K] }[],
): void {
  const def = JOBS[name];
  if (rows.length > 0)
    kick?.(
      rows.map((r) => ({
        id: String(r.id),
        queue: def.queue,
        jobName: name,
        payload: r.payload,
        runAt: null,
      })),
    );
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
  kickAfterCommit(
    transaction,
    ids.map((id, i) => ({
      id,
      queue: def.queue,
      jobName: name,
      payload: payloads[i],
      runAt: runAt ?? null,
    })),
  );
  return ids;
}

function kickAfterCommit(transaction: Transaction, rows: OutboxRecord[]): void {
  let pending = pendingByTx.get(transaction);
  if (!pending) {
    pending = [];
    pendingByTx.set(transaction, pending);
    const batch = pending;
    transaction.afterCommit(() => kick?.(batch));
  }
  pending.push(...rows);
}

/** Rows not yet handed to BullMQ (for the finance CLI and tests). */
export async function countPendingOutbox(opts: Partial<TxOptions> = {}): Promise<number> {
  const [row] = await OutboxMessage.sequelize!.query<{ n: string }>(
    'SELECT COUNT(*)::text AS n FROM outbox WHERE dispatched_at IS NULL',
    { type: QueryTypes.SELECT, transaction: opts.transaction },
  );
  return Number(row.n);
}
