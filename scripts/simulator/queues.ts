import type { JobsOptions, Queue } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, JOBS, QueueName, type JobName } from '../../src/queues/queues';

/** A job as the simulated queues hold it. */
export interface SimJob {
  id: string;
  name: JobName;
  data: object;
  queueName: string;
  /** Simulated time (ms) from which it may run. */
  runAt: number;
  attemptsMade: number;
  attempts: number;
  /** Times its worker died with it (BullMQ's stalled count). */
  stalls: number;
}

const HOUR = 3_600_000;

/**
 * BullMQ's queues as the simulator plays them, deterministically: jobs are added by the same
 * code paths (the outbox relay, `enqueueDirect`), de-duplicated by job id as BullMQ does (an id
 * is taken while its job waits, for an hour after it completed and a week after it failed), and
 * run one at a time in an order the simulator draws; a job whose worker dies stalls. Redis
 * being flushed loses them all.
 */
export class SimQueues {
  /** Fake Queue objects for the runtime: `add` and `addBulk` land here. */
  readonly map = new Map<string, Queue>();
  private readonly waiting: SimJob[] = [];
  private readonly taken = new Map<string, number>();
  private auto = 0;

  constructor(private readonly now: () => number) {
    for (const name of Object.values(QueueName)) {
      const queue = {
        name,
        add: async (job: string, data: object, opts: JobsOptions = {}) =>
          this.add(name, job as JobName, data, opts),
        addBulk: async (jobs: { name: string; data: object; opts?: JobsOptions }[]) => {
          for (const j of jobs) this.add(name, j.name as JobName, j.data, j.opts ?? {});
        },
        close: async () => undefined,
        on: () => queue,
      };
      this.map.set(name, queue as unknown as Queue);
    }
  }

  private add(queueName: string, name: JobName, data: object, opts: JobsOptions): void {
    const id = opts.jobId ?? `auto-${++this.auto}`;
    const until = this.taken.get(id);
    if (until !== undefined && until > this.now()) return;
    this.taken.set(id, Number.POSITIVE_INFINITY);
    this.waiting.push({
      id,
      name,
      data,
      queueName,
      runAt: this.now() + (opts.delay ?? 0),
      attemptsMade: 0,
      stalls: 0,
      attempts: opts.attempts ?? JOBS[name]?.options?.attempts ?? DEFAULT_JOB_OPTIONS.attempts ?? 1,
    });
  }

  /** Jobs that may run now, in the order they were added. */
  ready(): SimJob[] {
    const now = this.now();
    return this.waiting.filter((j) => j.runAt <= now);
  }

  /** The earliest time a waiting job (of those `which` keeps) may run, if any waits. */
  nextRunAt(which: (j: SimJob) => boolean = () => true): number | undefined {
    return this.waiting
      .filter(which)
      .reduce<number | undefined>(
        (m, j) => (m === undefined || j.runAt < m ? j.runAt : m),
        undefined,
      );
  }

  get size(): number {
    return this.waiting.length;
  }

  /** Takes a job out to run it. */
  take(job: SimJob): void {
    this.waiting.splice(this.waiting.indexOf(job), 1);
  }

  completed(job: SimJob): void {
    this.taken.set(job.id, this.now() + HOUR);
  }

  /** A failed run: retried with exponential backoff from 1 s while attempts are left. */
  failed(job: SimJob, final: boolean): void {
    job.attemptsMade += 1;
    if (final || job.attemptsMade >= job.attempts) {
      this.taken.set(job.id, this.now() + 7 * 24 * HOUR);
      return;
    }
    job.runAt = this.now() + 1_000 * 2 ** (job.attemptsMade - 1);
    this.waiting.push(job);
  }

  /**
   * A job whose worker died with it: BullMQ's stalled-job check puts it back once its lock has
   * run out (30 s); a job that stalls again is failed for good ("stalled more than allowable
   * limit", maxStalledCount 1), its id taken for a week as a failed job's is.
   */
  stalled(job: SimJob): 'requeued' | 'failed' {
    job.stalls += 1;
    if (job.stalls > 1) {
      this.taken.set(job.id, this.now() + 7 * 24 * HOUR);
      return 'failed';
    }
    job.runAt = this.now() + 30_000;
    this.waiting.push(job);
    return 'requeued';
  }

  /** Redis flushed: every job and every taken id is gone. */
  flush(): void {
    this.waiting.length = 0;
    this.taken.clear();
  }
}
