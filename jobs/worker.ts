import { getConfig } from '../config';
import { runProcesses } from '../src/lib/cluster';
import { waitReady } from '../src/lib/redis';
import { warnOnEvictionPolicy } from '../src/queues/redis-policy';
import { assertSuperInvestor } from '../src/modules/users/users.service';
import { onShutdown, openRuntime } from '../src/runtime';
import { PROCESSORS } from './processors';
import { assertRegistryComplete, startWorkers } from './worker-factory';

/**
 * Worker entry: every processor of the registry, one BullMQ Worker per queue.
 * WORKER_PROCESSES > 1: a cluster primary runs that many of these.
 */
async function main(): Promise<void> {
  const rt = openRuntime('worker');
  assertRegistryComplete(PROCESSORS);
  await waitReady(rt.redis);
  await warnOnEvictionPolicy(rt.redis, rt.logger);
  await assertSuperInvestor(rt.config);
  const pool = startWorkers(rt, PROCESSORS);
  rt.logger.info({ queues: pool.workers.map((w) => w.name) }, 'worker started');
  onShutdown(rt.logger, async () => {
    await pool.close();
    await rt.close();
  });
}

const config = getConfig();
runProcesses({ name: 'worker', count: config.workerProcesses, config, main });
