import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { Job } from 'bullmq';
import { PROCESSORS } from '../../jobs/processors';
import { registerSweepers } from '../../jobs/scheduler';
import { assertRegistryComplete, startWorkers, type WorkerPool } from '../../jobs/worker-factory';
import { AppError } from '../../src/lib/errors';
import { createLogger } from '../../src/lib/logger';
import { jobMetricsKey } from '../../src/http/metrics';
import { QueueName, SWEEPERS } from '../../src/queues/queues';
import { warnOnEvictionPolicy } from '../../src/queues/redis-policy';
import { testRuntime } from '../helpers/context';

const rt = testRuntime('worker');
const queue = () => rt.queues.get(QueueName.Maintenance)!;

async function settled(job: Job): Promise<Job> {
  const end = Date.now() + 10_000;
  for (;;) {
    const j = (await queue().getJob(job.id!))!;
    const state = await j.getState();
    if (state === 'completed' || state === 'failed') return j;
    if (Date.now() > end) throw new Error(`job ${job.id} still ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('worker', () => {
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
    await queue().obliterate({ force: true });
  });

  it('when a job name has no processor, or a processor no job, then start-up fails naming it', () => {
    const { 'ledger.audit': _dropped, ...partial } = PROCESSORS;
    expect(() => assertRegistryComplete(partial)).to.throw(/no processor for \[ledger.audit\]/);
    expect(() =>
      assertRegistryComplete({ ...PROCESSORS, 'ghost.job': async () => undefined }),
    ).to.throw(/no job for \[ghost.job\]/);
    expect(() => assertRegistryComplete(PROCESSORS)).to.not.throw();
  });

  it('when a job with an unknown name arrives, then it fails at once without retries', async () => {
    pool = startWorkers(rt, PROCESSORS);
    const job = await queue().add(
      'no.such.job',
      {},
      { attempts: 5, backoff: { type: 'fixed', delay: 10 } },
    );
    const done = await settled(job);
    expect(await done.getState()).to.equal('failed');
    expect(done.attemptsMade).to.equal(1);
    expect(done.failedReason).to.contain('no processor');
  });

  it('when a payload does not match its schema, then the job fails at once without retries', async () => {
    pool = startWorkers(rt, PROCESSORS);
    const job = await queue().add(
      'ledger.audit',
      { unexpected: 1 },
      { attempts: 5, backoff: { type: 'fixed', delay: 10 } },
    );
    const done = await settled(job);
    expect(await done.getState()).to.equal('failed');
    expect(done.attemptsMade).to.equal(1);
    expect(done.failedReason).to.contain('bad payload');
  });

  it('when a processor throws a non-retryable AppError, then it is not retried; a transient error is', async () => {
    let calls = 0;
    pool = startWorkers(rt, {
      ...PROCESSORS,
      'ledger.audit': async () => {
        calls += 1;
        throw new AppError('CONFLICT', 'permanent');
      },
      'outbox.relay': async (_p, { job }) => {
        if (job.attemptsMade < 2) throw new Error('transient');
        return 'ok';
      },
    });
    const permanent = await settled(
      await queue().add('ledger.audit', {}, { attempts: 5, backoff: { type: 'fixed', delay: 10 } }),
    );
    expect(await permanent.getState()).to.equal('failed');
    expect(calls).to.equal(1);
    const transient = await settled(
      await queue().add('outbox.relay', {}, { attempts: 5, backoff: { type: 'fixed', delay: 10 } }),
    );
    expect(await transient.getState()).to.equal('completed');
    expect(transient.attemptsMade).to.equal(3);
  });

  it('when jobs finish, then counts and durations are recorded in Redis for /metrics', async () => {
    const read = async () => {
      const h = await rt.redis.hgetall(jobMetricsKey(rt.config.queuePrefix));
      return {
        completed: Number(h['maintenance|ledger.audit|completed'] ?? 0),
        runs: Number(h['maintenance|ledger.audit|runs'] ?? 0),
      };
    };
    const before = await read();
    pool = startWorkers(rt, { ...PROCESSORS, 'ledger.audit': async () => 'ok' });
    await settled(await queue().add('ledger.audit', {}));
    const end = Date.now() + 2_000;
    let after = await read();
    while (Date.now() < end && after.completed === before.completed) {
      await new Promise((r) => setTimeout(r, 20));
      after = await read();
    }
    expect(after.completed - before.completed).to.equal(1);
    expect(after.runs - before.runs).to.equal(1);
  });

  it('when Redis maxmemory-policy is not noeviction, then the worker warns', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      { name: 'test', level: 'warn' },
      new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }),
    );
    // The server-wide policy is never changed by a test: a Redis that answers a given policy
    // stands in for one configured so, and the real server is only read.
    const answering = (policy: string | Error) =>
      ({
        config: async () => {
          if (policy instanceof Error) throw policy;
          return ['maxmemory-policy', policy];
        },
      }) as unknown as typeof rt.redis;
    expect(await warnOnEvictionPolicy(answering('allkeys-lru'), logger)).to.equal('allkeys-lru');
    expect(lines.join('')).to.contain('noeviction');
    lines.length = 0;
    expect(await warnOnEvictionPolicy(answering('noeviction'), logger)).to.equal('noeviction');
    expect(lines).to.deep.equal([]);
    expect(
      await warnOnEvictionPolicy(answering(new Error('ERR unknown command')), logger),
    ).to.equal(undefined);
    expect(lines.join('')).to.contain('could not read Redis maxmemory-policy');
    const [, actual] = (await rt.redis.config('GET', 'maxmemory-policy')) as string[];
    expect(
      await warnOnEvictionPolicy(rt.redis, createLogger({ name: 'test', level: 'silent' })),
    ).to.equal(actual);
  });
});

describe('scheduler', () => {
  it('when sweepers are registered twice and a stale one exists, then each declared sweeper exists once and the stale one is gone', async () => {
    await queue().upsertJobScheduler(
      'retired-sweeper',
      { every: 60_000 },
      { name: 'ledger.audit', data: {} },
    );
    await registerSweepers(rt.queues, rt.logger);
    await registerSweepers(rt.queues, rt.logger);
    const all = [];
    for (const q of rt.queues.values())
      for (const s of await q.getJobSchedulers()) all.push({ q, key: s.key });
    expect(all.map((s) => s.key).sort()).to.deep.equal(SWEEPERS.map((s) => s.id).sort());
    for (const { q, key } of all) await q.removeJobScheduler(key);
  });
});
