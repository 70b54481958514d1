/**
 * A seeded pseudo-random generator (mulberry32): fault plans that look
 * random but replay identically from their seed, so no test depends on chance.
 *
 * @module
 */

/**
 * Returns a function giving floats in [0, 1), the same sequence for the same seed.
 *
 * @example
 * ```ts
 * import { seeded } from "./random.ts";
 * const a = seeded(42);
 * const b = seeded(42);
 * a() === b(); // true
 * ```
 */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
