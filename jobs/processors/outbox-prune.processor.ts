import type { Processor } from './types';

/** Sweeper: deletes outbox rows relayed more than a week ago. */
export const outboxPruneProcessor: Processor<'outbox.prune'> = async (_payload, { rt }) => ({
  deleted: await rt.relay.prune(),
});
