/**
 * Stopping a server the learner's code started: anything with `close()` and
 * a `done` promise that settles once its accept or receive loop has ended
 * (the lessons' `startServer`, `startGreeter`, `startResponder`, …). Every
 * test that starts one stops it this way after its exchange, whatever the
 * exchange did ({@linkcode stopAfter}), so that a loop that never ends fails
 * the test by name instead of leaking its socket.
 *
 * @module
 */

import { type AcceptRecord, recordAccepts } from "./accept_record.ts";
import { holdReads } from "./conn_hook.ts";
import { type Awaiting, pause, within } from "./deadline.ts";
import { expectEqual, isNotImplemented } from "./expect.ts";
import { fail, type Section } from "./failure.ts";
import { closeQuietly, connect } from "./tcp.ts";

/** A running server loop: `close()` ends it, `done` settles when it has ended. */
export interface ServerLoop {
  /** Closes the listening socket (and whatever else the server holds). */
  close(): void;
  /** Settles once the loop has ended. */
  done: Promise<unknown>;
}

/**
 * Runs `body`, then `stop` (a {@linkcode stopServer} or
 * {@linkcode expectCleanStop} of the server `body` talked to), whatever
 * `body` did. When both fail, `body`'s failure is the one reported: a server
 * stuck in the exchange that went wrong cannot end after `close()` either,
 * and the exchange says why (a `finally` that stops the server would throw
 * its own time-out over it). When only `stop` fails, its failure is. `stop`
 * is told whether `body` passed: a test can judge `done` strictly
 * ({@linkcode expectCleanStop}) only after a pass.
 *
 * @example
 * ```ts
 * import { stopAfter, stopServer } from "./server_loop.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const server = {
 *   close: () => listener.close(),
 *   done: (async () => {
 *     for await (const conn of listener) conn.close();
 *   })(),
 * };
 * await stopAfter(async () => {
 *   const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 *   conn.close();
 * }, () =>
 *   stopServer(server, {
 *     awaiting: "the server loop to end after close()",
 *     section: { lesson: "lesson-10", heading: "The server" },
 *   }));
 * ```
 */
export async function stopAfter<T>(
  body: () => Promise<T>,
  stop: (passed: boolean) => Promise<unknown>,
): Promise<T> {
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await body() };
  } catch (error) {
    outcome = { error };
  }
  try {
    await stop(!("error" in outcome));
  } catch (error) {
    if (!("error" in outcome)) throw error;
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

/**
 * Calls `server.close()` and waits (bounded) for `server.done` to settle.
 * A rejection of `done` is ignored: a test that cares awaits `done` itself.
 *
 * @example
 * ```ts
 * import { stopServer } from "./server_loop.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const server = {
 *   close: () => listener.close(),
 *   done: (async () => {
 *     for await (const conn of listener) conn.close();
 *   })(),
 * };
 * await stopServer(server, {
 *   awaiting: "the server loop to end after close()",
 *   section: { lesson: "lesson-10", heading: "The server" },
 *   mistake: "close() must close the listener so that the pending accept() ends the loop",
 * });
 * ```
 */
export async function stopServer(server: ServerLoop, wait: Awaiting): Promise<void> {
  server.close();
  await within(server.done.catch(() => {}), wait);
}

/**
 * Calls `server.close()` and requires `server.done` to RESOLVE (bounded):
 * closing a server is the normal way to stop it, not an error. A rejection
 * fails the test, naming the error `done` rejected with.
 *
 * @example
 * ```ts
 * import { expectCleanStop } from "./server_loop.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const server = {
 *   close: () => listener.close(),
 *   done: (async () => {
 *     for await (const conn of listener) conn.close();
 *   })(),
 * };
 * await expectCleanStop(server, {
 *   awaiting: "the server loop to end after close()",
 *   section: { lesson: "lesson-10", heading: "The server" },
 * });
 * ```
 */
export async function expectCleanStop(server: ServerLoop, wait: Awaiting): Promise<void> {
  server.close();
  const outcome = await within(
    server.done.then(() => undefined, (error: unknown) => ({ error })),
    wait,
  );
  if (outcome === undefined) return;
  const error = outcome.error;
  if (isNotImplemented(error)) throw error;
  fail({
    summary: "done rejected after close(): stopping the server is not an error",
    section: wait.section,
    expected: "done resolves once the loop has ended",
    got: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    mistake: "done rejected after close(): the receive (or accept) that close() " +
      "interrupts throws; when closing, catch it and end the loop quietly",
  });
}

/**
 * Stops `server` with {@linkcode expectCleanStop}, then calls `close()` a
 * second time, which must return without throwing (a server that closes
 * its closed listener again throws `BadResource`).
 *
 * @example
 * ```ts
 * import { expectSecondCloseIsNoOp } from "./server_loop.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * let closing = false;
 * const server = {
 *   close() {
 *     if (closing) return;
 *     closing = true;
 *     listener.close();
 *   },
 *   done: (async () => {
 *     try {
 *       for await (const conn of listener) conn.close();
 *     } catch {
 *       // closed
 *     }
 *   })(),
 * };
 * await expectSecondCloseIsNoOp(server, {
 *   what: "a second close()",
 *   section: { lesson: "lesson-01", heading: "The server" },
 * });
 * ```
 */
export async function expectSecondCloseIsNoOp(
  server: ServerLoop,
  check: { what: string; section: Section },
): Promise<void> {
  await expectCleanStop(server, { awaiting: "done to resolve after close()", ...check });
  let second = "returned";
  try {
    server.close();
  } catch (error) {
    second = `threw ${(error as Error).name}: ${(error as Error).message}`;
  }
  expectEqual(second, "returned", {
    ...check,
    mistake: "close() must be safe to call twice: remember that it ran (a `closing` flag) " +
      "and do nothing the second time, or closing the closed listener throws BadResource",
  });
}

/** A connection's task the test keeps at work past `close()`, and how it lets it end. */
export interface HandlerAtWork {
  /** Every `accept()` the server made since before it started (`recordAccepts()`). */
  accepts: AcceptRecord;
  /** Lets the task that the test holds at work go on, and so end. */
  release(): void;
  /** Where `done` waiting for every connection's task is taught. */
  section: Section;
}

/**
 * Calls `server.close()` while one connection's task is held at work by the
 * test, and requires `done` to stay pending until {@linkcode HandlerAtWork.release}
 * lets that task end, then to resolve (bounded). A `done` that settles when
 * the accept loop ends, without waiting for the tasks it started, fails,
 * named as that mistake.
 *
 * The accept loop's last `accept()` settles once `close()` has ended it: a
 * `done` that does not wait for the tasks settles in the turns right after,
 * on a busy machine too. The check then allows 20 ms more, for a loop that
 * calls `accept()` only later; a correct `done` cannot settle before the
 * release whatever the wait, so the margin never fails a correct server.
 *
 * @example
 * ```ts ignore
 * import { recordAccepts } from "./accept_record.ts";
 * import { expectDoneWaitsForHandler } from "./server_loop.ts";
 * using accepts = recordAccepts();
 * const server = startServer(); // whose handler the test holds at work until release()
 * // … connect, and wait until the handler is at work …
 * await expectDoneWaitsForHandler(server, {
 *   accepts,
 *   release,
 *   section: { lesson: "lesson-14", heading: "Closing a server" },
 * });
 * ```
 */
export async function expectDoneWaitsForHandler(
  server: ServerLoop,
  held: HandlerAtWork,
): Promise<void> {
  const { accepts, release, section } = held;
  server.close();
  const last = accepts.calls.at(-1);
  if (last) {
    await within(last, { awaiting: "the accept() that close() interrupts to settle", section });
  }
  const stop = new AbortController();
  const early = await Promise.race([
    server.done.then(() => "resolved", () => "rejected"),
    pause(20, stop.signal).then(() => "pending"),
  ]);
  stop.abort(); // no timer outlives the check
  expectEqual(early, "pending", {
    what: "done, once close() has ended the accept loop, while a handler is still at work",
    section,
    mistake: early === "resolved"
      ? "done settled before every connection's task ended: await the accept " +
        "loop, then every handler still running"
      : undefined,
  });
  release();
  await expectCleanStop(server, {
    awaiting: "done to settle once the handler has finished",
    section,
    mistake: "close() must close every open connection too, so that a handler's pending " +
      "read() ends, and then done",
  });
}

/**
 * {@linkcode expectDoneWaitsForHandler} for a TCP server whose connection
 * task reads: starts the server with `start`, connects, holds the task's
 * `read()` (it settles only at the release, even once `close()` has closed
 * its connection), and checks that `done` waits for that task. `reading`
 * says what the wait for the task's read is, and where it is taught.
 *
 * @example
 * ```ts ignore
 * import { expectDoneWaitsForHeldRead } from "./server_loop.ts";
 * await expectDoneWaitsForHeldRead(() => startServer({ hostname: "127.0.0.1", port: 0 }), {
 *   section: { lesson: "lesson-14", heading: "Closing a server" },
 *   reading: { awaiting: "the server's handler to read", section },
 * });
 * ```
 */
export async function expectDoneWaitsForHeldRead(
  start: () => ServerLoop & { addr: Deno.NetAddr },
  where: { section: Section; reading: { awaiting: string; section: Section } },
): Promise<void> {
  using accepts = recordAccepts();
  const server = start();
  using held = await holdReads({ localPort: server.addr.port });
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await connect(server.addr, {
      awaiting: "a connection to the server",
      section: where.section,
    });
    await within(held.reading, { ...where.reading, watch: server.done });
    await expectDoneWaitsForHandler(server, {
      accepts,
      release: held.release,
      section: where.section,
    });
  } finally {
    held.release();
    if (conn) closeQuietly(conn);
    server.close();
    await server.done.catch(() => {});
  }
}
