import type { Queue } from 'bullmq';
import { jobIds } from './job-ids';
import { QueryTypes } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import type { Logger } from '../lib/logger';
import { nowMs } from '../lib/clock';
import { withTransaction } from '../lib/db';
import type { OutboxRecord } from '../modules/outbox/outbox.service';
import { JOBS, type JobName } from './queues';

interface OutboxRow {
  id: string;
  queue: string;
  job_name: string;
  payload: object;
  run_at: Date | null;
}

/** How old a row must be before the sweeper relays it (younger ones are the fast path's). */
export const SWEEP_MIN_AGE_MS = 2_000;

/**
 * Drains the outbox into BullMQ. Rows are claimed with FOR UPDATE SKIP LOCKED (several relays
 * may run at once), added with the row id as job id, then marked dispatched in the same
 * transaction. A crash after the add and before the mark leaves the row pending; the next pass
 * adds it again and BullMQ keeps the one job (and every processor is idempotent anyway).
 *
 * The fast path (`kick`) needs no database read: the writer hands over the committed rows as it
 * wrote them; they are added (same job ids) and marked dispatched in one UPDATE per turn of the
 * event loop. The sweeper leaves rows younger than `SWEEP_MIN_AGE_MS` to the fast path.
 */
export class OutboxRelay {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly queues: Map<string, Queue>,
    private readonly logger: Logger,
    private readonly now: () => number = nowMs,
  ) {}

  /**
   * Relays up to `limit` pending rows (only `ids` when given; only rows at least `minAgeMs` old
   * when given). Returns how many were handed over.
   */
  async relayPending(
    opts: { limit?: number; ids?: string[]; minAgeMs?: number } = {},
  ): Promise<number> {
    const limit = opts.limit ?? 200;
    const before = new Date(this.now() - (opts.minAgeMs ?? 0));
    return withTransaction(this.sequelize, async (transaction) => {
      const rows = await this.sequelize.query<OutboxRow>(
        `SELECT id, queue, job_name, payload, run_at FROM outbox
          WHERE dispatched_at IS NULL AND created_at <= $2
                ${opts.ids ? 'AND id = ANY($3::bigint[])' : ''}
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        {
          bind: opts.ids ? [limit, before, opts.ids] : [limit, before],
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      if (rows.length === 0) return 0;
      const done: string[] = [];
      for (const [queueName, group] of groupBy(rows, (r) => r.queue)) {
        const queue = this.queues.get(queueName);
        if (!queue) {
          await this.recordFailure(
            group,
            `queue ${queueName} is not open in this process`,
            transaction,
          );
          continue;
        }
        try {
          await queue.addBulk(
            group.map((r) => this.bulkJob(r.id, r.job_name, r.payload, r.run_at)),
          );
          done.push(...group.map((r) => r.id));
        } catch (err) {
          await this.recordFailure(group, (err as Error).message, transaction);
        }
      }
      await this.markDispatched(done, transaction);
      return done.length;
    });
  }

  private bulkJob(id: string, name: string, payload: object, runAt: Date | null) {
    return {
      name,
      data: payload,
      opts: {
        ...JOBS[name as JobName]?.options,
        jobId: jobIds.outbox(id),
        delay: runAt ? Math.max(0, runAt.getTime() - this.now()) : undefined,
      },
    };
  }

  /** Relays everything pending (at least `minAgeMs` old), batch after batch. */
  async drain(opts: { minAgeMs?: number } = {}): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayPending(opts);
      total += n;
      if (n === 0) return total;
    }
  }

  /** Deletes rows handed over more than `days` ago (their jobs ran long since); returns how many. */
  async prune(days = 7): Promise<number> {
    const [, meta] = (await this.sequelize.query(
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE dispatched_at < $2::timestamptz - make_interval(days => $1) ORDER BY id LIMIT 10000)`,
      { bind: [days, new Date(this.now())] },
    )) as [unknown, { rowCount?: number }];
    return meta?.rowCount ?? 0;
  }

  private kicked: OutboxRecord[] = [];

  /**
   * Best-effort fast path right after a commit; the sweeper catches anything this misses. The
   * rows of every commit in the same turn of the event loop are relayed together: one addBulk
   * per queue and one UPDATE for many purchases, and no read of the outbox.
   */
  kick = (rows: OutboxRecord[]): void => {
    if (this.kicked.length === 0) setImmediate(this.relayKicked);
    this.kicked.push(...rows);
  };

  private relayKicked = (): void => {
    const rows = this.kicked;
    this.kicked = [];
    this.relayRecords(rows).catch((err: Error) =>
      this.logger.warn(
        { err, ids: rows.map((r) => r.id) },
        'outbox fast path failed; the sweeper will relay',
      ),
    );
  };

  private async relayRecords(rows: OutboxRecord[]): Promise<void> {
    const done: string[] = [];
    for (const [queueName, group] of groupBy(rows, (r) => r.queue)) {
      const queue = this.queues.get(queueName);
      if (!queue) continue; // the sweeper records why
      await queue.addBulk(group.map((r) => this.bulkJob(r.id, r.jobName, r.payload, r.runAt)));
      done.push(...group.map((r) => r.id));
    }
    if (done.length > 0)
      await this.sequelize.query(
        `UPDATE outbox SET dispatched_at = $2, attempts = attempts + 1, last_error = NULL
          WHERE id = ANY($1::bigint[]) AND dispatched_at IS NULL`,
        { bind: [done, new Date(this.now())] },
      );
  }

  async markDispatched(ids: string[], transaction: import('sequelize').Transaction): Promise<void> {
    if (ids.length === 0) return;
    await this.sequelize.query(
      'UPDATE outbox SET dispatched_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])',
      { bind: [ids, new Date(this.now())], transaction },
    );
  }

  private async recordFailure(
    rows: OutboxRow[],
    message: string,
    transaction: import('sequelize').Transaction,
  ) {
    this.logger.error({ ids: rows.map((r) => r.id), message }, 'outbox relay could not enqueue');
    await this.sequelize.query(
      'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])',
      {
        bind: [rows.map((r) => r.id), message.slice(0, 1000)],
        transaction,
      },
    );
  }
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}
