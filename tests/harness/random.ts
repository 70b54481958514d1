/**
 * Randomness in tests: a seeded pseudo-random generator (mulberry32) for
 * fault plans that look random but replay identically from their seed, so no
 * test depends on chance; and a check that the code under test draws its
 * random ids from `crypto.getRandomValues`, not from `Math.random`.
 *
 * @module
 */

import { type Check, expectThat } from "./expect.ts";

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

/**
 * Calls `make` four times while `Math.random` always returns 0.5 (restored
 * afterwards, also when `make` throws), and fails the test unless the four
 * values differ: values drawn from `Math.random` then all come out the same,
 * values from `crypto.getRandomValues` do not. `show` formats the values for
 * the failure message.
 *
 * @example
 * ```ts
 * import { expectNotFromMathRandom } from "./random.ts";
 * expectNotFromMathRandom(() => crypto.getRandomValues(new Uint32Array(1))[0], {
 *   what: "four ids made while Math.random always returns 0.5",
 *   expected: "four different ids",
 *   section: { lesson: "lesson-05", heading: "Random, not sequential" },
 *   mistake: "the ids come from Math.random: use crypto.getRandomValues",
 * });
 * ```
 */
export function expectNotFromMathRandom<T>(
  make: () => T,
  check: Check & { expected: string; show?: (values: T[]) => string },
): void {
  const original = Math.random;
  let values: T[];
  Math.random = () => 0.5;
  try {
    values = Array.from({ length: 4 }, () => make());
  } finally {
    Math.random = original;
  }
  const shown = check.show ? check.show(values) : values.join(", ");
  expectThat(new Set(values).size === 4, `with Math.random() fixed at 0.5: ${shown}`, check);
}
