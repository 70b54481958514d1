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

/** A started server that reports the address it is bound to. */
export interface AddressedServer extends ServerLoop {
  /** The address the server is bound to. */
  readonly addr: Deno.Addr;
}

/**
 * Starts two servers with `start()` (no hostname, no port) and one with
 * `start(port)` for an unused `port`, and requires: all on 127.0.0.1, the
 * first two on different non-zero ports, the third on `port`. Every server
 * started is stopped, also when a check fails.
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
  const port = unusedPort({ transport });
  const started: AddressedServer[] = [];
  const attempt = (label: string, given?: number) => {
    try {
      started.push(start(given));
    } catch (error) {
      if (isNotImplemented(error)) throw error;
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
    attempt(`a server with port ${port}`, port);
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
