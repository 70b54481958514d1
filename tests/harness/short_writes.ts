/**
 * Short writes on demand. `write()` on a TCP connection may take only part
 * of the bytes it is given and resolve to that count: Deno's sockets are
 * non-blocking underneath, so a write that finds the send buffer nearly full
 * takes what fits (lesson 10, "The three outcomes of write()"). Over
 * loopback the buffers grow to megabytes, so a server writing small chunks
 * almost never meets one, and a test cannot wait for luck. Here the test
 * makes it happen: while a {@linkcode ShortWrites} is in use, every
 * `write()` on the connections it matches takes a third of its bytes (at
 * least one), as the API allows. Code that loops over the count (`writeAll`) loses
 * nothing; code that ignores it loses bytes, and code that loops on the
 * wrong count goes round forever (the test's bounded wait says so).
 *
 * Only `write()` itself is cut: `conn.writable` writes through Deno's own
 * loop, which already continues partial writes.
 *
 * @module
 */

import { type ConnMatch, hookConns } from "./conn_hook.ts";
import { fail, sectionsOf } from "./failure.ts";

/** While in use, matching connections' `write()` calls take a third of their bytes. */
export interface ShortWrites extends Disposable {
  /** How many writes were cut short so far. */
  readonly cut: number;
  /** How many writes were seen on matching connections so far. */
  readonly writes: number;
  /**
   * How many writes began while an earlier write on the same connection had
   * not finished (a write that was not awaited): with every write cut, their
   * bytes interleave.
   */
  readonly overlapped: number;
  /**
   * How many write loops the test stopped because they wrote no bytes
   * {@linkcode EMPTY_WRITES_STOPPED} times in a row on their connection: a
   * loop whose view of the rest is empty before the end spins forever
   * (each empty write resolves at once), burning the CPU after its test.
   */
  readonly stalled: number;
}

/** After this many writes of no bytes in a row, a connection's next one rejects (see `stalled`). */
export const EMPTY_WRITES_STOPPED = 100;

/**
 * What a failing test says about the writes it cut, for `whose` writes.
 *
 * @example
 * ```ts
 * import { shortWritesNote } from "./short_writes.ts";
 * shortWritesNote("the server"); // "each of the server's write() calls took only a third …"
 * ```
 */
export function shortWritesNote(whose: string): string {
  return `each of ${whose}'s write() calls took only a third of its bytes (at least one), as ` +
    "write() may when the send buffer is nearly full";
}

/**
 * The mistake when only part of `what` arrived: a write() whose count was
 * ignored.
 *
 * @example
 * ```ts
 * import { onlyPartWritten } from "./short_writes.ts";
 * onlyPartWritten("the greeting"); // "only part of the greeting arrived: …"
 * ```
 */
export function onlyPartWritten(what: string): string {
  return `only part of ${what} arrived: write() may take only part of the bytes and ` +
    "resolves to how many it took; write the rest until all are sent";
}

/**
 * The mistake when a beginning of `what` arrived and then nothing, not even
 * the close: a write loop that stopped making progress part-way (it writes
 * an empty or wrong view of the rest, or counts wrong, and never reaches the
 * end, so the connection is never closed either).
 *
 * @example
 * ```ts
 * import { stoppedPartWay } from "./short_writes.ts";
 * stoppedPartWay("the greeting"); // "only a beginning of the greeting arrived, then nothing: …"
 * ```
 */
export function stoppedPartWay(what: string): string {
  return `only a beginning of ${what} arrived, then nothing: the write loop stopped making ` +
    "progress before the end (write data.subarray(sent), the rest from where the writes so " +
    "far end, until sent is data.length; subarray takes an end index, not a length)";
}

/**
 * The mistake when more bytes arrived than were in `what`: a write loop that
 * sends bytes again (it set its count to each write()'s instead of adding
 * it, or wrote from the wrong offset).
 *
 * @example
 * ```ts
 * import { wroteAgain } from "./short_writes.ts";
 * wroteAgain("the greeting"); // "more bytes arrived than were in the greeting: …"
 * ```
 */
export function wroteAgain(what: string): string {
  return `more bytes arrived than were in ${what}: after a partial write, write the rest ` +
    "from where the writes so far end (add each write()'s count)";
}

/**
 * The mistake when a write began on a connection before the previous one
 * on it had finished: a write (or a write loop) that was not awaited.
 *
 * @example
 * ```ts
 * import { writesOverlapped } from "./short_writes.ts";
 * writesOverlapped("the echo"); // "a write() of the echo began before the previous …"
 * ```
 */
export function writesOverlapped(what: string): string {
  return `a write() of ${what} began before the previous write() on that connection had ` +
    "finished (a write not awaited): when writes are partial their bytes interleave, and a " +
    "view of a buffer that the next read reuses is sent changed; await each write (and each " +
    "write loop) before the next read or write";
}

/**
 * The likely mistake when what arrived with the writes cut (`got`) is not
 * `expected`, although the same exchange without cut writes was right
 * (writes that overlapped are named by {@linkcode withShortWrites} before
 * this): {@linkcode onlyPartWritten} for fewer bytes, {@linkcode wroteAgain}
 * for more, else the bytes after a partial write were not the rest.
 *
 * @example
 * ```ts
 * import { cutWritesMistake } from "./short_writes.ts";
 * cutWritesMistake("the reply", "OK he", "OK hello\n"); // "only part of the reply arrived: …"
 * ```
 */
export function cutWritesMistake(
  what: string,
  got: string,
  expected: string,
): string | undefined {
  if (got === expected) return undefined;
  if (got.length < expected.length) return onlyPartWritten(what);
  if (got.length > expected.length) return wroteAgain(what);
  return `the bytes of ${what} after a partial write were not the rest: write ` +
    "data.subarray(sent) next, where sent adds up every write()'s count";
}

/**
 * Cuts every `write()` on the TCP connections that `match` names to a third
 * of its bytes (at least one), until disposed. `write` is wrapped on the
 * connections' prototype, so the code under test is reached however it made
 * or accepted its connections; the test's own connections (other ports) are
 * not touched.
 *
 * @example
 * ```ts ignore
 * import { shortWrites } from "./short_writes.ts";
 * using cutting = await shortWrites({ localPort: server.addr.port });
 * // … an exchange with the server …
 * cutting.cut; // how many of the server's writes were cut short
 * ```
 */
export async function shortWrites(match: ConnMatch): Promise<ShortWrites> {
  let cut = 0;
  let writes = 0;
  let overlapped = 0;
  let stalled = 0;
  const pending = new WeakMap<Deno.Conn, number>();
  const empty = new WeakMap<Deno.Conn, number>();
  const hook = await hookConns("write", match, async (write, data, conn) => {
    writes++;
    const emptyRun = data.length ? 0 : (empty.get(conn) ?? 0) + 1;
    empty.set(conn, emptyRun);
    if (emptyRun === EMPTY_WRITES_STOPPED) stalled++;
    if (emptyRun >= EMPTY_WRITES_STOPPED) {
      throw new Error(
        `the test stopped a write loop that wrote no bytes ${EMPTY_WRITES_STOPPED} times in a row`,
      );
    }
    const before = pending.get(conn) ?? 0;
    if (before) overlapped++;
    pending.set(conn, before + 1);
    try {
      if (data.length < 2) return await write(data);
      cut++;
      // A third, not half: taken and left then differ, so a loop that mixes them up shows.
      return await write(data.subarray(0, Math.max(1, Math.floor(data.length / 3))));
    } finally {
      pending.set(conn, (pending.get(conn) ?? 1) - 1);
    }
  });
  return {
    get cut() {
      return cut;
    },
    get writes() {
      return writes;
    },
    get overlapped() {
      return overlapped;
    },
    get stalled() {
      return stalled;
    },
    [Symbol.dispose]: () => hook[Symbol.dispose](),
  };
}

/** Where a write that was not awaited is explained: lesson 10, "Writing everything". */
const AWAIT_EACH_WRITE = sectionsOf("lesson-10")("Writing everything");

/**
 * Runs `body` while the `write()` calls on the connections `match` names
 * are cut to a third ({@linkcode shortWrites}); then, whatever `body` did
 * (returned, failed, or left writes pending that the close rejected), fails
 * naming {@linkcode writesOverlapped} for `what` (the bytes they carry:
 * `the echo`) if one of those writes began before the previous one on its
 * connection had finished, or {@linkcode stoppedPartWay} if a write loop
 * wrote nothing again and again (`stalled`). With every write cut,
 * such a write is the cause of whatever else the exchange showed (bytes
 * out of place, an echo cut off, rejections nobody handled), so it is named
 * on every run, whichever of its symptoms came first, and the failure
 * stands over unhandled rejections (`causesRejections`).
 *
 * @example
 * ```ts ignore
 * import { withShortWrites } from "./short_writes.ts";
 * await withShortWrites({ localPort: server.addr.port }, "the echo", async (cutting) => {
 *   // … an exchange with the server; cutting.cut counts the writes cut short …
 * });
 * ```
 */
export async function withShortWrites<T>(
  match: ConnMatch,
  what: string,
  body: (cutting: ShortWrites) => Promise<T>,
): Promise<T> {
  using cutting = await shortWrites(match);
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await body(cutting) };
  } catch (error) {
    outcome = { error };
  }
  if (cutting.overlapped) {
    // How many overlapped, and what the body failed with, depend on timing: not shown, so that
    // the failure reads the same on every run.
    fail({
      summary: `${what}: a write() began on a connection before the previous write() ` +
        "there had finished",
      section: AWAIT_EACH_WRITE,
      mistake: writesOverlapped(what),
      causesRejections: true,
    });
  }
  if (cutting.stalled) {
    fail({
      summary: `${what}: a write loop wrote no bytes ${EMPTY_WRITES_STOPPED} times in a row ` +
        "before the end (the test stopped it)",
      section: AWAIT_EACH_WRITE,
      mistake: stoppedPartWay(what),
      causesRejections: true,
    });
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}
