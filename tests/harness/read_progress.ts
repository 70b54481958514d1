/**
 * How far the code under test has read. A test that cuts a stream (see
 * `TcpProxy`'s `cuts`) must not send the bytes after a cut before the reader
 * has read the bytes before it, or one `read()` may return both. Waiting a
 * fixed pause only makes that likely; the reader's own `read()` calls prove
 * it. While a {@linkcode ReadProgress} is in use, every byte that `read()`
 * returns on the matching connections is counted, and
 * {@linkcode ReadProgress.until} resolves once enough have been read.
 *
 * Only `read()` itself is seen: code that reads through `conn.readable` is
 * not, and its test falls back to the proxy's pause. A reader seen calling
 * `read()` is waited for longer (`PROOF_WAIT_MS`): under two checks at once
 * on 2 cores its read of the bytes before a cut once came after the 200 ms
 * fallback, the rest of the stream went out before it, and a known mistake
 * that two reads expose went unnamed.
 *
 * @module
 */

import { type ConnMatch, hookConns } from "./conn_hook.ts";
import { nextTurn, pause } from "./deadline.ts";
import { CUT_PAUSE_MS, PROOF_WAIT_MS, type Shaping } from "./tcp_proxy.ts";

/**
 * Bytes read so far by the matching connections' `read()` calls, all of them
 * together: a stream offset only while one connection matches, as in a test
 * with one reader.
 */
export interface ReadProgress extends Disposable {
  /** Bytes `read()` has returned so far. */
  readonly bytes: number;
  /**
   * Resolves once `read()` has returned at least `bytes` bytes in all, and
   * then one turn of the event loop later (so that a reader whose next steps
   * need no more I/O has taken them); given `orAfterMs`, resolves after that
   * long at the latest if no `read()` call has been seen on a matching
   * connection (a reader through `conn.readable`), or `PROOF_WAIT_MS` later
   * if one has, with its timers cleared.
   */
  until(bytes: number, orAfterMs?: number): Promise<void>;
  /**
   * Whether a `read()` call has been seen on a matching connection: a
   * proxy's `proofComing`, so that a cut waits for a busy reader's proof.
   */
  readonly seen: boolean;
}

/**
 * Counts the bytes that `read()` returns on the TCP connections `match`
 * names, until disposed.
 *
 * @example
 * ```ts ignore
 * import { watchReads } from "./read_progress.ts";
 * using reads = await watchReads({ localPort: server.addr.port });
 * await using proxy = TcpProxy.open(server.addr, {
 *   request: heldCuts([5], () => reads),
 * });
 * ```
 */
export async function watchReads(match: ConnMatch): Promise<ReadProgress> {
  let bytes = 0;
  let calls = 0;
  const waiters = new Set<{ bytes: number; resolve: () => void }>();
  const hook = await hookConns("read", match, async (read, buffer) => {
    calls++;
    const n = await read(buffer);
    if (n) {
      bytes += n;
      for (const waiter of [...waiters]) {
        if (bytes >= waiter.bytes) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
    }
    return n;
  });
  return {
    get bytes() {
      return bytes;
    },
    get seen() {
      return calls > 0;
    },
    async until(wanted: number, orAfterMs?: number): Promise<void> {
      if (bytes < wanted) {
        const enough = Promise.withResolvers<void>();
        const waiter = { bytes: wanted, resolve: enough.resolve };
        waiters.add(waiter);
        const fallback = orAfterMs === undefined ? undefined : new AbortController();
        if (fallback) {
          (async () => {
            await pause(orAfterMs!, fallback.signal);
            if (calls && !fallback.signal.aborted) await pause(PROOF_WAIT_MS, fallback.signal);
            enough.resolve();
          })();
        }
        try {
          await enough.promise;
        } finally {
          waiters.delete(waiter);
          fallback?.abort();
        }
      }
      // The bytes are the reader's already; a turn lets its own continuation run first.
      await nextTurn();
    },
    [Symbol.dispose]: () => hook[Symbol.dispose](),
  };
}

/**
 * A {@linkcode Shaping} for one direction of a `TcpProxy` that cuts the
 * stream at `cuts` and sends the bytes after each cut once `reads()` shows
 * the reader has read every byte before it, so that it reads the pieces
 * apart on every run; a reader seen calling `read()` is waited for past the
 * proxy's pause (`proofComing`), one it cannot see gets the pause only.
 * (`reads` is a function so that it may name a progress made after the
 * proxy, from the proxy's port.)
 *
 * @example
 * ```ts ignore
 * import { heldCuts, watchReads } from "./read_progress.ts";
 * await using proxy = TcpProxy.open(server.addr, { reply: heldCuts([4, 12], () => reads) });
 * using reads = await watchReads({ remotePort: proxy.addr.port });
 * ```
 */
export function heldCuts(cuts: number[], reads: () => ReadProgress): Shaping {
  return { cuts, cutProof: (cut) => reads().until(cut), proofComing: () => reads().seen };
}

/**
 * A {@linkcode Shaping} for one direction of a `TcpProxy` that forwards the
 * first `bytes` bytes one at a time, each once `reads()` shows the reader has
 * read every byte before it: every `read()` then returns exactly one byte,
 * on a busy machine too (up to a stall of `PROOF_WAIT_MS` past the proxy's
 * long pause, {@linkcode CUT_PAUSE_MS}), without a timer's wait per byte. A reader whose
 * reads it does not see (one through `conn.readable`; it has read nothing
 * through `read()` once the first byte's long pause is over) gets the next
 * bytes `blindPauseMs` apart instead, which makes one byte per read likely
 * only. (`reads` is a function so that it may name a progress made after the
 * proxy, from the proxy's port.)
 *
 * @example
 * ```ts ignore
 * import { oneByteAtATime, watchReads } from "./read_progress.ts";
 * using reads = await watchReads({ localPort: server.addr.port });
 * await using proxy = TcpProxy.open(server.addr, { request: oneByteAtATime(16, () => reads) });
 * ```
 */
export function oneByteAtATime(
  bytes: number,
  reads: () => ReadProgress,
  blindPauseMs = 1,
): Shaping {
  return {
    ...heldCuts(Array.from({ length: bytes - 1 }, (_, i) => i + 1), reads),
    cutPauseMs: CUT_PAUSE_MS,
    cutProof: (cut) => {
      const progress = reads();
      // Seen reading: wait for its proof, up to the long pause. Never seen after the first
      // byte's long pause: a reader this cannot watch.
      return progress.bytes > 0 || cut === 1
        ? progress.until(cut)
        : progress.until(cut, blindPauseMs);
    },
  };
}
