/**
 * Deliberate bugs, for the simulator's proof that its invariants catch what they claim to
 * (`npm run simulate -- --plant NAME`). Off unless the simulator switches one on; production
 * code never calls `plant`.
 */
export type PlantName = 'double-callback' | 'lost-release' | 'split-remainder' | 'skip-outbox';

/** Every plant, with the bug it stands for. */
export const PLANTS: Record<PlantName, string> = {
  'double-callback': 'a success callback is applied again each time it is repeated',
  'lost-release': 'an expired lock is not given back to the loan',
  'split-remainder':
    'a column split drops its rounding remainder (holders no longer sum to the plan)',
  'skip-outbox': "every third purchase's lock job is never enqueued",
};

let active: PlantName | undefined;

/** Switches a plant on (the simulator only), or every plant off. */
export function plant(name?: PlantName): void {
  active = name;
}

/** Whether a plant is on. */
export const planted = (name: PlantName): boolean => active === name;
