import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { isAppError } from '../src/lib/errors';
import { createRedis } from '../src/lib/redis';
import { recordJobMetric } from '../src/http/metrics';
import { JOBS, QueueName, queueKeyPrefix, type JobName } from '../src/queues/queues';
import type { Runtime } from '../src/runtime';
import type { ProcessorRegistry } from './processors/types';

/** Fails start-up when a registered job has no processor or a processor has no job. */
export function assertRegistryComplete(
  registry: Record<string, unknown>,
  jobs: Record<string, unknown> = JOBS,
): void {
  const missing = Object.keys(jobs).filter((name) => typeof registry[name] !== 'function');
  const extra = Object.keys(registry).filter((name) => !(name in jobs));
  if (missing.length || extra.length) {
    throw new Error(
      `job registry gap: no processor for [${missing.join(', ')}], no job for [${extra.join(', ')}]`,
    );
  }
}

/**
 * Runs one job as a worker does: its payload checked against its schema, then handed to its
 * processor. A job with no processor, a bad payload or a non-retryable AppError fails for good
 * (UnrecoverableError); anything else is thrown for a retry with backoff. The simulator runs
 * jobs through this too.
 */
export async function processJob(
  rt: Runtime,
  registry: ProcessorRegistry,
  job: Pick<Job, 'name' | 'data' | 'id' | 'queueName' | 'attemptsMade'>,
): Promise<unknown> {
  const processors = registry as unknown as Record<
    string,
    (p: unknown, ctx: unknown) => Promise<unknown>
  >;
  const logger = rt.logger.child({
    queue: job.queueName,
    job: job.name,
    jobId: job.id,
    attempt: job.attemptsMade + 1,
  });
  const processor = processors[job.name];
  const def = JOBS[job.name as JobName];
  if (!processor || !def) throw new UnrecoverableError(`no processor for job ${job.name}`);
  const { value, error } = def.payload.validate(job.data, { abortEarly: false, convert: true });
  if (error) throw new UnrecoverableError(`bad payload for ${job.name}: ${error.message}`);
  try {
    return await processor(value, { job, logger, rt });
  } catch (err) {
    if (isAppError(err) && !err.retryable)
      throw new UnrecoverableError(`${err.code}: ${err.message}`);
    throw err;
  }
}

/** The running workers of a process. */
export interface WorkerPool {
  workers: Worker[];
  /** Active jobs finish; waiting ones stay in Redis for the next worker; the connection closes. */
  close(): Promise<void>;
}

/**
 * Starts one BullMQ Worker per queue. Each job's payload is checked against its schema, then
 * handed to its processor; a job with no processor, a bad payload or a non-retryable AppError
 * fails for good (UnrecoverableError), anything else is retried with backoff.
 */
export function startWorkers(
  rt: Runtime,
  registry: ProcessorRegistry,
  opts: { queues?: string[]; concurrency?: number } = {},
): WorkerPool {
  const connection = createRedis(rt.config.redisUrl, 'worker');
  connection.on('error', (err: Error) =>
    rt.logger.warn({ err: err.message }, 'worker redis error'),
  );
  const run = (job: Job) => processJob(rt, registry, job);
  const workers = (opts.queues ?? Object.values(QueueName)).map((name) => {
    const worker = new Worker(name, run, {
      connection,
      prefix: queueKeyPrefix(rt.config.queuePrefix, name),
      concurrency: opts.concurrency ?? 8,
      // Recorded on each job as processedBy: which machine and process ran it.
      name: `${hostname()}:${process.pid}`,
      autorun: true,
    });
    const record = (job: Job | undefined, status: 'completed' | 'failed') => {
      if (!job) return;
      const durationMs = (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
      recordJobMetric(rt.redis, rt.config.queuePrefix, {
        queue: name,
        name: job.name,
        status,
        durationMs,
      }).catch(() => undefined);
    };
    worker.on('completed', (job) => record(job, 'completed'));
    worker.on('failed', (job, err) => {
      record(job, 'failed');
      const final =
        !job || err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      rt.logger[final ? 'error' : 'warn'](
        { queue: name, job: job?.name, jobId: job?.id, err: err.message, final },
        'job failed',
      );
    });
    worker.on('error', (err) => rt.logger.error({ queue: name, err: err.message }, 'worker error'));
    return worker;
  });
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await connection.quit().catch(() => undefined);
    },
  };
}
