import type { Job } from 'bullmq';
import type { Logger } from '../../src/lib/logger';
import type { JobName, JobPayloads } from '../../src/queues/queues';
import type { Runtime } from '../../src/runtime';

/** What a processor gets besides its payload. */
export interface JobContext {
  job: Job;
  logger: Logger;
  rt: Runtime;
}

/** A thin processor: parsed payload → one service call. */
export type Processor<K extends JobName> = (
  payload: JobPayloads[K],
  ctx: JobContext,
) => Promise<unknown>;

/** Job name → processor; the type makes a missing processor a compile error. */
export type ProcessorRegistry = { [K in JobName]: Processor<K> };
