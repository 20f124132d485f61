import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/**
 * The simulator's one source of randomness: every action, fault and ordering is drawn from it,
 * so that a seed replays a run event for event.
 */
export class Rng {
  private readonly g;

  constructor(seed: number) {
    this.g = xoroshiro128plus(seed);
  }

  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return uniformInt(this.g, min, max);
  }

  /** True with probability `percent` / 100. */
  chance(percent: number): boolean {
    return this.int(1, 10_000) <= percent * 100;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** One key, each drawn in proportion to its weight (zero weights never). */
  weighted<K extends string>(weights: Partial<Record<K, number>>): K | undefined {
    const entries = (Object.entries(weights) as [K, number][]).filter(([, w]) => w > 0);
    const total = entries.reduce((s, [, w]) => s + w, 0);
    if (total === 0) return undefined;
    let roll = this.int(1, total);
    for (const [k, w] of entries) {
      roll -= w;
      if (roll <= 0) return k;
    }
    return entries[entries.length - 1][0];
  }
}
