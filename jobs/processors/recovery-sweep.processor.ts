import { recoverStuckWork } from '../../src/modules/recovery/recovery.service';
import type { Processor } from './types';

/** Sweeper: starts again every job that a waiting state lost (found from PostgreSQL alone). */
export const recoverySweepProcessor: Processor<'recovery.sweep'> = async (_p, { rt }) =>
  recoverStuckWork(rt.queues, rt.config);
