import { sweepInstructions } from '../../src/modules/payments/payments.service';
import type { Processor } from './types';

/** Sweeper: queries instructions left without a result, resubmits lost submits. */
export const instructionsSweepProcessor: Processor<'instructions.sweep'> = async (
  _payload,
  { rt },
) => ({
  enqueued: await sweepInstructions(rt.queues, rt.config.recoveryGraceSeconds),
});
