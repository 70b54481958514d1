/**
 * Bounded concurrency: run async jobs with at most `limit` in flight, and get
 * one promise per job, in input order, so results can be shown in order as
 * soon as each is ready.
 *
 * @module
 */

/** The default number of jobs in flight: the machine's cores. */
export const CORES: number = navigator.hardwareConcurrency || 2;

/**
 * Starts `job` for every item, at most `limit` at a time; returns one
 * promise per item, in item order.
 *
 * @example
 * ```ts
 * import { startPool } from "./pool.ts";
 * const [a, b] = startPool([1, 2], 1, async (n) => n * 10);
 * await a; // 10
 * ```
 */
export function startPool<T, R>(
  items: readonly T[],
  limit: number,
  job: (item: T, index: number) => Promise<R>,
): Promise<R>[] {
  const settle: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  const results = items.map(() =>
    new Promise<R>((resolve, reject) => settle.push({ resolve, reject }))
  );
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await job(items[i], i).then(settle[i].resolve, settle[i].reject);
    }
  };
  for (let w = 0; w < Math.max(1, Math.min(limit, items.length)); w++) worker();
  return results;
}

/**
 * Maps `items` through `job`, at most `limit` at a time.
 *
 * @example
 * ```ts
 * import { mapPool } from "./pool.ts";
 * const doubled = await mapPool([1, 2, 3], 2, async (n) => n * 2); // [2, 4, 6]
 * ```
 */
export function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  job: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  return Promise.all(startPool(items, limit, job));
}
