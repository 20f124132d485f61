import type { Queue } from 'bullmq';
import { START_REFUSED_EXIT_CODE, StartRefused } from '../src/lib/cluster';
import type { Logger } from '../src/lib/logger';
import { assertSuperInvestor } from '../src/modules/users/users.service';
import { JOBS, SWEEPERS, type SweeperDefinition } from '../src/queues/queues';
import { onShutdown, openRuntime } from '../src/runtime';

/**
 * Upserts every sweeper as a BullMQ job scheduler and removes schedulers that are no longer
 * declared. Idempotent: any number of scheduler processes may run it at any time.
 */
export async function registerSweepers(
  queues: Map<string, Queue>,
  logger: Logger,
  sweepers: SweeperDefinition[] = SWEEPERS,
): Promise<void> {
  for (const s of sweepers) {
    const queue = queues.get(JOBS[s.job].queue)!;
    await queue.upsertJobScheduler(
      s.id,
      { every: s.everyMs },
      { name: s.job, data: {}, opts: JOBS[s.job].options },
    );
  }
  const wanted = new Set(sweepers.map((s) => s.id));
  for (const queue of queues.values()) {
    for (const existing of await queue.getJobSchedulers()) {
      if (existing.key && !wanted.has(existing.key)) {
        await queue.removeJobScheduler(existing.key);
        logger.info({ queue: queue.name, scheduler: existing.key }, 'removed stale sweeper');
      }
    }
  }
}

/** Scheduler entry: registers the sweepers and re-asserts them every minute (e.g. after a Redis restart). */
async function main(): Promise<void> {
  const rt = openRuntime('scheduler');
  await assertSuperInvestor(rt.config);
  const tick = () =>
    registerSweepers(rt.queues, rt.logger).catch((err: Error) =>
      rt.logger.error({ err: err.message }, 'registering sweepers failed'),
    );
  await tick();
  rt.logger.info(
    { sweepers: SWEEPERS.map((s) => `${s.id} every ${s.everyMs} ms`) },
    'scheduler started',
  );
  const timer = setInterval(tick, 60_000);
  onShutdown(rt.logger, async () => {
    clearInterval(timer);
    await rt.close();
  });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(
      `scheduler failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
    );
    process.exit(err instanceof StartRefused ? START_REFUSED_EXIT_CODE : 1);
  });
}
