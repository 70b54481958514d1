/**
 * Lesson 12 — Address already in use; binding to interfaces (reference solution).
 *
 * A greeter server that can be stopped and started again on the same port at
 * once (a connection it closed first sits in TIME_WAIT meanwhile), that says
 * clearly when its address is taken by a live listener, and that answers only
 * on the address it is bound to.
 * Run it: `deno task run lesson-12 server`, stop it with Ctrl-C, start it again.
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** accept() failed because the process (24) or the system (23) ran out of file descriptors. */
const OUT_OF_DESCRIPTORS = /\(os error 2[34]\)/;

/** How long the accept loop rests after running out of file descriptors, in milliseconds. */
const ACCEPT_BACKOFF_MS = 10;

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** A running greeter. */
export interface Greeter {
  /** The listening socket's name. */
  readonly addr: Deno.NetAddr;
  /** Settles once the accept loop has ended after {@linkcode Greeter.close}. */
  readonly done: Promise<void>;
  /** Closes the listener; the port is free again once `done` settles. */
  close(): void;
}

/** Where a greeter listens, and where it reports what it does. */
export interface GreeterOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Called with each line the greeter prints. */
  log?: (line: string) => void;
}

const encoder = new TextEncoder();

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./rebind.ts";
 * formatAddr({ transport: "tcp", hostname: "127.0.0.2", port: 1060 }); // "127.0.0.2:1060"
 * ```
 */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * Listens on hostname:port. If a live socket already holds that name, throws
 * a `Deno.errors.AddrInUse` that says which address and what to do; any other
 * error passes through unchanged.
 *
 * @example
 * ```ts
 * import { listenOn } from "./rebind.ts";
 * const first = listenOn("127.0.0.1", 0);
 * try {
 *   listenOn("127.0.0.1", first.addr.port);
 * } catch (error) {
 *   console.log((error as Error).message); // "127.0.0.1:… is already in use: …"
 * }
 * first.close();
 * ```
 */
export function listenOn(hostname: string, port: number): Deno.TcpListener {
  try {
    return Deno.listen({ hostname, port, transport: "tcp" });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Deno.errors.AddrInUse(
        `${hostname}:${port} is already in use: another socket is listening there. ` +
          "Stop that server first, or choose another port with -p",
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The greeting: the server's own socket name as this connection sees it.
 *
 * @example
 * ```ts
 * import { greetingFrom } from "./rebind.ts";
 * greetingFrom({ transport: "tcp", hostname: "127.0.0.2", port: 1060 }); // "This is 127.0.0.2:1060\n"
 * ```
 */
export function greetingFrom(server: Deno.NetAddr): string {
  return `This is ${server.hostname}:${server.port}\n`;
}

/**
 * Starts a greeter: every client is greeted with the server's socket name,
 * then the server closes the connection first.
 *
 * @example
 * ```ts
 * import { startGreeter } from "./rebind.ts";
 * const greeter = startGreeter({ hostname: "127.0.0.1", port: 0 });
 * greeter.close();
 * await greeter.done; // the port may be listened on again now
 * ```
 */
export function startGreeter(options: GreeterOptions = {}): Greeter {
  const listener = listenOn(options.hostname ?? "127.0.0.1", options.port ?? 0);
  const log = options.log ?? (() => {});
  let closing = false;

  async function loop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        // One pending connection failed (reset before accept: NotConnected), or
        // the process ran out of file descriptors: the listener is fine, go on.
        log(`accept() failed: ${(error as Error).message}`);
        if (OUT_OF_DESCRIPTORS.test((error as Error).message)) {
          await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));
        }
        continue;
      }
      log(`Accepted ${formatAddr(conn.remoteAddr)} on ${formatAddr(conn.localAddr)}`);
      try {
        const greeting = encoder.encode(greetingFrom(conn.localAddr as Deno.NetAddr));
        for (let sent = 0; sent < greeting.length;) {
          sent += await conn.write(greeting.subarray(sent));
        }
      } catch (error) {
        log(`  Could not greet: ${(error as Error).message}`);
      } finally {
        conn.close();
      }
    }
  }

  const done = loop();
  return {
    addr: listener.addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      listener.close();
    },
  };
}

/**
 * The program's server role: greet clients until stopped. If the port is
 * taken, it fails with listenOn's clear message.
 *
 * @example
 * ```ts
 * import { server } from "./rebind.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const greeter = startGreeter(options);
  options.log(`Listening at ${formatAddr(greeter.addr)}`);
  if (options.signal.aborted) greeter.close();
  options.signal.addEventListener("abort", () => greeter.close(), { once: true });
  await greeter.done;
}
