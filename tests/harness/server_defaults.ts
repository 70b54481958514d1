/**
 * A server's default address: started without a hostname or port, a lesson's
 * server must listen on 127.0.0.1 at a port the OS picks (two of them at once
 * get two different ports), and a port it is given is the port it uses. And
 * the hostname it is given is the address it binds (127.0.0.2, Linux only).
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

/** The mistake named when a server binds 127.0.0.1 whatever hostname it is given. */
export const IGNORES_HOSTNAME = "ignored its hostname option: the server bound 127.0.0.1 " +
  "whatever it was asked; bind options.hostname (127.0.0.1 only as the default)";

/**
 * The host a permission error says the code asked for (`Requires net access
 * to "0.0.0.0:4242"` → `0.0.0.0`), if `error` is one.
 */
function deniedHost(error: unknown): string | undefined {
  if (!(error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied)) {
    return undefined;
  }
  return /access to "(.+):\d+"/.exec(error.message)?.[1];
}

/** A socket of `transport` bound to hostname:port (0: the OS picks), without SO_REUSEADDR for UDP. */
function bindOn(
  transport: "tcp" | "udp",
  hostname: string,
  port: number,
): { addr: Deno.Addr; close(): void } {
  return transport === "udp"
    ? Deno.listenDatagram({ hostname, port, transport: "udp" })
    : Deno.listen({ hostname, port, transport: "tcp" });
}

/** Whether hostname:port can be bound for `transport` right now (the probe is closed again). */
function freeOn(transport: "tcp" | "udp", hostname: string, port: number): boolean {
  try {
    bindOn(transport, hostname, port).close();
    return true;
  } catch (error) {
    if (inUse(error)) return false;
    throw error;
  }
}

/**
 * Starts a server with `start("127.0.0.2", port)` while the test itself holds
 * 127.0.0.1 on that port, and requires: it starts (a server that binds
 * 127.0.0.1 or 0.0.0.0 instead gets AddrInUse: {@linkcode IGNORES_HOSTNAME};
 * one that asks for a host the suite may not reach, 0.0.0.0 say, is named
 * too), its `addr` is 127.0.0.2:port, and `reach(addr, watch)` gets an answer from it
 * there. Since the test holds 127.0.0.1:port, nothing can answer on 127.0.0.1
 * at that port meanwhile. The port comes from a bind to port 0 on 127.0.0.1,
 * so it may be taken on 127.0.0.2 by another program: then another is tried.
 * Linux only (127.0.0.2 must be a loopback address); the server is stopped,
 * also when a check fails.
 *
 * @example
 * ```ts ignore
 * await expectBindsHostname(
 *   (hostname, port) => startServer({ hostname, port }),
 *   "tcp",
 *   section("The server"),
 *   async (addr, watch) => {
 *     // connect to addr (127.0.0.2) and check the answer
 *   },
 * );
 * ```
 */
export async function expectBindsHostname(
  start: (hostname: string, port: number) => AddressedServer,
  transport: "tcp" | "udp",
  section: Section,
  reach: (addr: Deno.NetAddr, watch: Promise<unknown>) => Promise<void>,
): Promise<void> {
  for (let tries = 1; tries <= PORT_TRIES; tries++) {
    const held = bindOn(transport, "127.0.0.1", 0);
    try {
      const port = (held.addr as Deno.NetAddr).port;
      if (!freeOn(transport, "127.0.0.2", port)) continue; // another program holds it there
      let server: AddressedServer;
      try {
        server = start("127.0.0.2", port);
      } catch (error) {
        if (isNotImplemented(error)) throw error;
        // A suite may reach only the hosts its lesson names: a server that asks for another one
        // (0.0.0.0, whatever it is given) is refused with an error that says nothing of the option.
        const asked = deniedHost(error);
        if (asked !== undefined && asked !== "127.0.0.2") {
          fail({
            summary: `starting the server with hostname 127.0.0.2 and port ${port} asked for ` +
              `${asked}:${port} instead, and the test's sandbox refused it`,
            section,
            expected: `a server listening on 127.0.0.2:${port}`,
            got: `${(error as Error).name}: ${(error as Error).message}`,
            mistake: `ignored its hostname option: the server asked for ${asked}` +
              (asked === "0.0.0.0" ? " (every address of the machine)" : "") +
              " whatever it was given; bind options.hostname (127.0.0.1 only as the default)",
          });
        }
        if (!inUse(error)) throw error;
        fail({
          summary: `starting the server with hostname 127.0.0.2 and port ${port} failed with ` +
            `AddrInUse, although 127.0.0.2:${port} was free (only 127.0.0.1:${port} was taken, ` +
            "by the test)",
          section,
          expected: `a server listening on 127.0.0.2:${port}`,
          got: `${(error as Error).name}: ${(error as Error).message}`,
          mistake: IGNORES_HOSTNAME,
        });
      }
      try {
        const addr = server.addr as Deno.NetAddr;
        if (addr.hostname !== "127.0.0.2" || addr.port !== port) {
          fail({
            summary: "the server's addr is not the hostname and port it was given",
            section,
            expected: `127.0.0.2:${port}`,
            got: `${addr.hostname}:${addr.port}`,
            mistake: addr.hostname !== "127.0.0.2" ? IGNORES_HOSTNAME : undefined,
          });
        }
        const watch = server.done.then(() => {
          throw new Error("the server's loop ended although close() was not called");
        });
        watch.catch(() => {});
        await reach(addr, watch);
      } finally {
        await stopServer(server, { awaiting: "the server to stop after close()", section });
      }
      return;
    } finally {
      held.close();
    }
  }
  fail({
    summary:
      `no port free on 127.0.0.2 matched one the OS gave on 127.0.0.1, in ${PORT_TRIES} tries`,
    section,
    expected: "a port free on both 127.0.0.1 and 127.0.0.2 (other programs hold the ones tried)",
  });
}
