/**
 * A server whose process runs out of file descriptors must keep serving:
 * `accept()` then fails with `EMFILE` ("Too many open files", os error 24)
 * for as long as no descriptor is free, while the connection waits in the
 * listener's queue. The server logs it, rests a moment, and accepts it once
 * a descriptor is free again; only close() ends its loop.
 *
 * The test needs the low limit on open files of {@linkcode suiteFdLimit}
 * (see `fd_limit.ts`); without it, skip it with {@linkcode lowFdLimitTest}.
 *
 * @module
 */

import { pause, within } from "./deadline.ts";
import { hookMethod } from "./method_hook.ts";
import { readToEnd } from "./tcp.ts";
import { fail, type Section } from "./failure.ts";
import { LogLines } from "./log.ts";
import type { AddressedServer } from "./server_defaults.ts";
import { stopServer } from "./server_loop.ts";
import { stillServing } from "./tcp_misbehave.ts";
import { FD_LIMIT_VARIABLE, suiteFdLimit } from "./fd_limit.ts";
import { hostPort, wire } from "./wire.ts";

/**
 * The mistake named when a server stops serving after its process ran out
 * of file descriptors (the `caughtBy` phrase of the lessons' matching
 * known mistakes).
 */
export const GIVES_UP_OUT_OF_FILES = "the accept loop gives up when accept() fails with " +
  "EMFILE (Too many open files, os error 24): the process is out of descriptors, not the " +
  "listener broken; log it, rest a moment, accept again";

/**
 * The mistake named when an accept loop retries at once after EMFILE, so
 * that it spins as fast as accept() fails.
 */
export const SPINS_OUT_OF_FILES = "the accept loop retries at once after EMFILE and spins: " +
  "rest a moment (say 10 ms) after os error 23 or 24; retrying at once only burns the CPU " +
  "until some connection closes";

/** A log line about an accept() that failed (not `Accepted …`). */
const FAILED_ACCEPT = /accept(?!ed)/i;

/**
 * How long the test keeps the process out of descriptors once the first
 * failure is logged: a resting loop fails at most once more in it, a
 * spinning one dozens of times (the check below scales with the time
 * actually held). Short, because the server's own rest follows it anyway.
 */
const HOLD_MS = 5;

/**
 * The shortest rest that passes: a loop that rests R ms logs at most one
 * failure per R ms (plus the first); one that spins logs one per failed
 * accept(), thousands a second. 5 ms is where Go's `net/http` server starts
 * (it then doubles each rest, up to 1 s), so that loop passes too.
 */
const MIN_REST_MS = 5;

/** Whether `error` is a failure for lack of file descriptors (EMFILE or ENFILE). */
function outOfFiles(error: unknown): boolean {
  return error instanceof Error && /\(os error 2[34]\)/.test(error.message);
}

/**
 * Counts, until disposed, every `accept()` of a TCP
 * listener in this isolate that fails for lack of descriptors (timed into
 * `failures`): `accept` is wrapped on the listeners' prototype, so a loop
 * that retries at once is seen even if it logs nothing after its first
 * failure, however it made its listener (`for await` calls `accept()` too).
 * Only the server under test accepts while the test holds the shortage.
 */
function countFailedAccepts(failures: number[]): Disposable {
  type Accept = (this: Deno.Listener) => Promise<Deno.Conn>;
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  probe.close();
  return hookMethod<Accept>(probe, "accept", (accept) =>
    async function (this: Deno.Listener) {
      try {
        return await accept.call(this);
      } catch (error) {
        if (outOfFiles(error)) failures.push(performance.now());
        throw error;
      }
    });
}

/**
 * Opens UDP sockets on 127.0.0.1, all on one port, until the process has no
 * file descriptor left, and returns them (the caller closes them).
 */
function exhaust(limit: number, section: Section): Deno.DatagramConn[] {
  const held: Deno.DatagramConn[] = [];
  try {
    while (true) {
      if (held.length > limit) {
        fail({
          summary: `opened ${held.length} sockets without running out of file descriptors ` +
            `(the limit should be ${limit})`,
          section,
        });
      }
      try {
        // All on one port (reuseAddress): a thousand ports of their own could collide with
        // another test process that is about to bind a port it found free.
        held.push(Deno.listenDatagram({
          hostname: "127.0.0.1",
          port: (held[0]?.addr as Deno.NetAddr | undefined)?.port ?? 0,
          transport: "udp",
          reuseAddress: true,
        }));
      } catch (error) {
        if (outOfFiles(error)) return held;
        throw error;
      }
    }
  } catch (error) {
    for (const socket of held) socket.close();
    throw error;
  }
}

/**
 * Connects one client while the process has no file descriptor left, so
 * that `server`'s accept() fails with EMFILE, and resolves once the server
 * has logged that failure. Returns what to undo: the held sockets and the
 * client (close them all).
 */
async function runOutOfFiles(
  server: AddressedServer,
  log: LogLines,
  watch: Promise<never> | undefined,
  section: Section,
): Promise<{ held: Deno.DatagramConn[]; queued?: Deno.Conn }> {
  const limit = suiteFdLimit();
  if (limit === undefined) {
    fail({ summary: `${FD_LIMIT_VARIABLE} is not set: no low limit on open files`, section });
  }
  const addr = server.addr as Deno.NetAddr;
  const taken: { held: Deno.DatagramConn[]; queued?: Deno.Conn } = {
    held: exhaust(limit, section),
  };
  try {
    taken.held.pop()?.close(); // one descriptor free: the client's socket takes it
    const connecting = Deno.connect({ hostname: "127.0.0.1", port: addr.port });
    try {
      taken.queued = await within(
        connecting,
        { awaiting: `a connection to ${hostPort(addr)} with the last file descriptor`, section },
      );
    } catch (error) {
      connecting.then((conn) => conn.close(), () => {}); // if it connects after all
      if (!outOfFiles(error)) throw error;
      fail({
        summary: "the test's client found no file descriptor free (something else took it)",
        section,
      });
    }
    wire.record({
      transport: "tcp",
      from: "127.0.0.1",
      to: hostPort(addr),
      data: "connect while the server's process has no file descriptor left: " +
        "its accept() fails with EMFILE",
    });
    await log.next(FAILED_ACCEPT, {
      awaiting: "a log line about the accept() that failed with EMFILE (os error 24)",
      watch,
      section,
      mistake: "log the error of an accept() that fails, then rest a moment and go on",
    });
    return taken;
  } catch (error) {
    release(taken);
    throw error;
  }
}

/** Closes what {@linkcode runOutOfFiles} holds. */
function release(taken: { held: Deno.DatagramConn[]; queued?: Deno.Conn }): void {
  for (const socket of taken.held.splice(0)) socket.close();
  taken.queued?.close();
  taken.queued = undefined;
}

/**
 * Starts a server with `start(log)`, uses up every file descriptor of the
 * process, connects one client with the last one (so the server's
 * `accept()` fails with EMFILE), waits for the server to log that failure,
 * holds the shortage 5 ms (a loop that retries at once is caught by the
 * number of failed accept() calls on its listener), frees the descriptors, requires the waiting
 * client to be accepted, then runs `client`: one ordinary exchange with the
 * same server, which must succeed. `client` gets a `watch` promise for its
 * bounded waits: it fails, naming {@linkcode GIVES_UP_OUT_OF_FILES}, as
 * soon as the server's loop ends. Stops the server in every case.
 *
 * @example
 * ```ts ignore
 * import { expectServesAfterFdExhaustion } from "./fd_exhaustion.ts";
 * await expectServesAfterFdExhaustion((log) => startServer({ log }), section("x"), async (server, watch) => {
 *   (await Deno.connect(server.addr)).close();
 * });
 * ```
 */
export async function expectServesAfterFdExhaustion<S extends AddressedServer>(
  start: (log: (line: string) => void) => S,
  section: Section,
  client: (server: S, watch: Promise<never>) => Promise<void>,
): Promise<void> {
  const log = new LogLines();
  const logged: number[] = []; // when each failed accept() was logged
  const made: number[] = []; // when each accept() failed, as seen on the listener
  const server = start((line) => {
    if (FAILED_ACCEPT.test(line)) logged.push(performance.now());
    log.push(line);
  });
  const watch = stillServing(server, {
    summary: "the server stopped serving after accept() failed for lack of file descriptors",
    section,
    mistake: (error) =>
      error === undefined || outOfFiles(error)
        ? GIVES_UP_OUT_OF_FILES
        : "an error on one connection must end that connection only: catch it in that " +
          "connection's own task",
  });
  let taken: { held: Deno.DatagramConn[]; queued?: Deno.Conn } = { held: [] };
  const counting = countFailedAccepts(made);
  try {
    taken = await runOutOfFiles(server, log, watch, section);
    await pause(HOLD_MS); // still no descriptor: a resting loop fails once, a spinning one often
    // Counted on the listener (a loop may log only its first failure), else from the log.
    const failures = made.length >= logged.length ? made : logged;
    const span = performance.now() - failures[0];
    // A timer never fires early, so a loop that rests R ms fails at most once per R ms; a loop
    // that "rests" 0 ms fails about once a millisecond, which a count over the 5 ms hold told from
    // a rest only on some runs (measured: 2 of 5 on a busy machine). Any two failures closer than
    // half the shortest rest give it away on every run; the count catches the loop that spins.
    const closest = Math.min(...failures.slice(1).map((at, i) => at - failures[i]));
    const tooMany = failures.length > Math.floor(span / MIN_REST_MS) + 2;
    if (tooMany || closest < MIN_REST_MS / 2) {
      fail({
        summary: "the accept loop retried at once while the process had no descriptor left",
        section,
        // "over N", N the most a resting loop can fail in the hold (true whenever this check
        // fires), so the pinned output stays however fast a spinning loop fails (measured: 60 to
        // 150 times in 30 ms on a busy 2-core machine, so 10 or more in the 5 ms hold; about
        // 1,200 in 20 ms on a quiet one).
        got: tooMany
          ? `over ${Math.floor(HOLD_MS / MIN_REST_MS) + 2} failed accept() calls ` +
            `in ${Math.round(span)} ms`
          : `two failed accept() calls less than ${MIN_REST_MS / 2} ms apart`,
        mistake: SPINS_OUT_OF_FILES,
      });
    }
    for (const socket of taken.held.splice(0)) socket.close();
    await expectQueuedAccepted(taken.queued!, watch, section);
    release(taken);
    await Promise.race([client(server, watch), watch]);
  } finally {
    counting[Symbol.dispose]();
    release(taken);
    await stopServer(server, { awaiting: "the server to stop after close()", section });
  }
}

/**
 * The client that connected while no descriptor was free waited in the
 * listener's queue: once descriptors are free, the server must accept it.
 * The client half-closes and reads to the end; the server's own FIN (after
 * whatever it answers to an empty request) shows it was accepted, and a
 * reset shows it was not (a listener closed and made anew drops its queue).
 */
async function expectQueuedAccepted(
  queued: Deno.Conn,
  watch: Promise<never>,
  section: Section,
): Promise<void> {
  await queued.closeWrite();
  try {
    await readToEnd(queued, {
      awaiting: "the server to accept the client that waited while no descriptor was free, " +
        "and to close it after its EOF",
      section,
      watch,
      mistake: "accept again once descriptors are free: that client waits in the listener's queue",
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
    fail({
      summary: "the client that connected while no descriptor was free was reset, not served",
      section,
      got: `${error.name}: ${error.message}`,
      mistake: "keep the listener and accept again: a listener closed and made anew drops the " +
        "connections waiting in its queue",
    });
  }
}

/**
 * Starts a server with `start(log)`, runs its process out of file
 * descriptors so that its accept loop rests after EMFILE, and calls
 * close() during that rest: `done` must settle at once (before a timer of
 * 0 ms fires), and the rest's timer must be cleared (the op sanitizer
 * checks that). For a server whose close() cancels its rest (lesson 16).
 *
 * @example
 * ```ts ignore
 * import { expectCloseEndsRest } from "./fd_exhaustion.ts";
 * await expectCloseEndsRest((log) => startLineServer({ log }), section("x"));
 * ```
 */
export async function expectCloseEndsRest(
  start: (log: (line: string) => void) => AddressedServer,
  section: Section,
): Promise<void> {
  const log = new LogLines();
  const server = start(log.push);
  let taken: { held: Deno.DatagramConn[]; queued?: Deno.Conn } = { held: [] };
  let closed = false;
  try {
    taken = await runOutOfFiles(server, log, undefined, section);
    server.close(); // the loop is resting now, after logging the failure
    closed = true;
    const tick = new AbortController();
    const first = await Promise.race([
      server.done.then(() => "done", () => "done"),
      pause(0, tick.signal).then(() => "a timer of 0 ms"),
    ]);
    tick.abort();
    if (first !== "done") {
      fail({
        summary: "done did not settle at once after close() during the rest that follows EMFILE",
        section,
        got: `${first} fired first`,
        mistake: "close() must cut the accept loop's rest short: keep the rest's timer where " +
          "close() can clear it and end the wait",
      });
    }
  } finally {
    release(taken);
    if (closed) {
      await within(server.done.catch(() => {}), {
        awaiting: "done to settle after close()",
        section,
      });
    } else {
      await stopServer(server, { awaiting: "the server to stop after close()", section });
    }
  }
}
