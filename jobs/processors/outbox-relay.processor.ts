import { SWEEP_MIN_AGE_MS } from '../../src/queues/outbox-relay';
import type { Processor } from './types';

/**
 * Sweeper: hands every committed outbox row to BullMQ (the fast path's safety net). Rows of the
 * last few seconds are the fast path's: relaying them here too would only add the same job
 * twice.
 */
export const outboxRelayProcessor: Processor<'outbox.relay'> = async (_payload, { rt }) => {
  const relayed = await rt.relay.drain({ minAgeMs: SWEEP_MIN_AGE_MS });
  return { relayed };
};
