/**
 * A server's default address: started without a hostname or port, a lesson's
 * server must listen on 127.0.0.1 at a port the OS picks (two of them at once
 * get two different ports), and a port it is given is the port it uses.
 *
 * @module
 */

import type { Section } from "./failure.ts";
import { fail } from "./failure.ts";
import { isNotImplemented } from "./expect.ts";
import { type ServerLoop, stopServer } from "./server_loop.ts";
import { unusedPort } from "./sockets.ts";

/** How many free ports a given-port start is tried on before AddrInUse counts against it. */
const PORT_TRIES = 5;

/** Whether `error`, or an error it wraps as its cause, is Deno's AddrInUse. */
function inUse(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof Deno.errors.AddrInUse) return true;
  }
  return false;
}

/** A started server that reports the address it is bound to. */
export interface AddressedServer extends ServerLoop {
  /** The address the server is bound to. */
  readonly addr: Deno.Addr;
}

/**
 * Starts two servers with `start()` (no hostname, no port) and one with
 * `start(port)` for an unused `port`, and requires: all on 127.0.0.1, the
 * first two on different non-zero ports, the third on `port` (picked after
 * the first two started, and picked again if another process took it
 * meanwhile). Every server started is stopped, also when a check fails.
 *
 * @example
 * ```ts
 * import { expectDefaultAddress } from "./server_defaults.ts";
 * await expectDefaultAddress((port) => {
 *   const listener = Deno.listen({ hostname: "127.0.0.1", port: port ?? 0 });
 *   const done = (async () => {
 *     for await (const conn of listener) conn.close();
 *   })();
 *   return { addr: listener.addr, close: () => listener.close(), done };
 * }, "tcp", { lesson: "lesson-10", heading: "The server" });
 * ```
 */
export async function expectDefaultAddress(
  start: (port?: number) => AddressedServer,
  transport: "tcp" | "udp",
  section: Section,
): Promise<void> {
  const started: AddressedServer[] = [];
  const attempt = (label: string, given?: number): boolean => {
    try {
      started.push(start(given));
      return true;
    } catch (error) {
      if (isNotImplemented(error)) throw error;
      if (given !== undefined && inUse(error)) return false;
      fail({
        summary: `starting ${label} failed: ${(error as Error).name}: ${(error as Error).message}`,
        section,
        expected: given === undefined
          ? "without options: 127.0.0.1 and port 0 (the OS picks a free port each time)"
          : `the given port ${given}`,
      });
    }
  };
  try {
    attempt("a server without options");
    attempt("a second server without options");
    // A port that was free a moment ago may be taken meanwhile by another process on this machine
    // (tests run side by side): a start that fails with AddrInUse is tried on another free port.
    let port = 0;
    for (let tries = 1; tries <= PORT_TRIES; tries++) {
      port = unusedPort({ transport });
      if (attempt(`a server with port ${port}`, port)) break;
      if (tries === PORT_TRIES) {
        fail({
          summary: `starting a server with a given free port failed ${PORT_TRIES} times with ` +
            "AddrInUse, on a different port each time",
          section,
          expected: `the given port ${port}`,
        });
      }
    }
    const [a, b, c] = started.map((s) => s.addr as Deno.NetAddr);
    const show = (x: Deno.NetAddr) => `${x.hostname}:${x.port}`;
    const got = `${show(a)}, ${show(b)} and, given port ${port}, ${show(c)}`;
    if (
      a.hostname !== "127.0.0.1" || b.hostname !== "127.0.0.1" || c.hostname !== "127.0.0.1" ||
      a.port === 0 || a.port === b.port || c.port !== port
    ) {
      fail({
        summary: "the server's default address is not 127.0.0.1 and a port the OS picks",
        section,
        expected: "127.0.0.1:P, 127.0.0.1:Q (P ≠ Q, neither 0), then the port given",
        got,
      });
    }
  } finally {
    for (const server of started) {
      await stopServer(server, { awaiting: "the server to stop after close()", section });
    }
  }
}
