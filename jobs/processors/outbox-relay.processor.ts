import type { Processor } from './types';

/** Sweeper: hands every committed outbox row to BullMQ (the fast path's safety net). */
export const outboxRelayProcessor: Processor<'outbox.relay'> = async (_payload, { rt }) => {
  const relayed = await rt.relay.drain();
  return { relayed };
};
