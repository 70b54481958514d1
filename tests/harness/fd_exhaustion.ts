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

import { within } from "./deadline.ts";
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

/** Whether `error` is a failure for lack of file descriptors (EMFILE or ENFILE). */
function outOfFiles(error: unknown): boolean {
  return error instanceof Error && /\(os error 2[34]\)/.test(error.message);
}

/**
 * Opens UDP sockets on 127.0.0.1 until the process has no file descriptor
 * left, and returns them (the caller closes them).
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
        held.push(Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" }));
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
 * Starts a server with `start(log)`, uses up every file descriptor of the
 * process, connects one client with the last one (so the server's
 * `accept()` fails with EMFILE), waits for the server to log that failure,
 * frees the descriptors, then runs `client`: one ordinary exchange with the
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
  const limit = suiteFdLimit();
  if (limit === undefined) {
    fail({ summary: `${FD_LIMIT_VARIABLE} is not set: no low limit on open files`, section });
  }
  const log = new LogLines();
  const server = start(log.push);
  const addr = server.addr as Deno.NetAddr;
  const watch = stillServing(server, {
    summary: "the server stopped serving after accept() failed for lack of file descriptors",
    section,
    mistake: GIVES_UP_OUT_OF_FILES,
  });
  let held: Deno.DatagramConn[] = [];
  let queued: Deno.Conn | undefined;
  try {
    held = exhaust(limit, section);
    held.pop()?.close(); // one descriptor free: the client's socket takes it
    try {
      queued = await within(
        Deno.connect({ hostname: "127.0.0.1", port: addr.port }),
        { awaiting: `a connection to ${hostPort(addr)} with the last file descriptor`, section },
      );
    } catch (error) {
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
    await log.next(/accept(?!ed)/i, {
      awaiting: "a log line about the accept() that failed with EMFILE (os error 24)",
      watch,
      section,
      mistake: "log the error of an accept() that fails, then rest a moment and go on",
    });
    for (const socket of held.splice(0)) socket.close();
    queued.close();
    queued = undefined;
    await Promise.race([client(server, watch), watch]);
  } finally {
    for (const socket of held) socket.close();
    queued?.close();
    await stopServer(server, { awaiting: "the server to stop after close()", section });
  }
}
