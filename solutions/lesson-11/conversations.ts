/**
 * Lesson 11 — One socket per conversation (reference solution).
 *
 * A server that holds many conversations at once: the listening socket only
 * accepts, and every accepted connection gets its own socket, its own task
 * and its own four-tuple. Each conversation starts with a greeting line that
 * tells the client its own address as the server sees it, then echoes every
 * byte back until the client half-closes.
 * Run it: `deno task run lesson-11 server`, then `nc 127.0.0.1 1060` in a few terminals.
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

/** What identifies one TCP connection on a machine. */
export interface FourTuple {
  /** This end's IP address. */
  localIp: string;
  /** This end's port. */
  localPort: number;
  /** The other end's IP address. */
  remoteIp: string;
  /** The other end's port. */
  remotePort: number;
}

/** A running conversation server. */
export interface ConversationServer {
  /** The listening socket's name (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the accept loop and every conversation have ended after close(). */
  readonly done: Promise<void>;
  /** Closes the listener and every open conversation. */
  close(): void;
}

/** Where a server listens, and where it reports what it does. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Called with each line the server prints. */
  log?: (line: string) => void;
}

const encoder = new TextEncoder();

/**
 * Writes every byte, looping over partial writes (lesson 10's `writeAll`, given).
 *
 * @example
 * ```ts
 * import { writeAll } from "./conversations.ts";
 * const sink = { write: (p: Uint8Array) => Promise.resolve(Math.min(p.length, 3)) };
 * await writeAll(sink, new TextEncoder().encode("hello"));
 * ```
 */
export async function writeAll(conn: Pick<Deno.Conn, "write">, data: Uint8Array): Promise<void> {
  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
}

/**
 * The four-tuple of a connection, seen from this end: its own address first,
 * the peer's second.
 *
 * @example
 * ```ts
 * import { fourTuple } from "./conversations.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * fourTuple(conn).remotePort === listener.addr.port; // true
 * conn.close();
 * listener.close();
 * ```
 */
export function fourTuple(conn: Deno.Conn): FourTuple {
  const local = conn.localAddr as Deno.NetAddr;
  const remote = conn.remoteAddr as Deno.NetAddr;
  return {
    localIp: local.hostname,
    localPort: local.port,
    remoteIp: remote.hostname,
    remotePort: remote.port,
  };
}

/**
 * Writes a four-tuple the way the notes do: `(local_ip, local_port, remote_ip, remote_port)`.
 *
 * @example
 * ```ts
 * import { formatFourTuple } from "./conversations.ts";
 * formatFourTuple({ localIp: "127.0.0.1", localPort: 1060, remoteIp: "127.0.0.1", remotePort: 50123 });
 * // "(127.0.0.1, 1060, 127.0.0.1, 50123)"
 * ```
 */
export function formatFourTuple(t: FourTuple): string {
  return `(${t.localIp}, ${t.localPort}, ${t.remoteIp}, ${t.remotePort})`;
}

/**
 * The line a conversation starts with: the client's own address, as the
 * server sees it.
 *
 * @example
 * ```ts
 * import { greeting } from "./conversations.ts";
 * greeting({ transport: "tcp", hostname: "127.0.0.1", port: 50123 }); // "You are 127.0.0.1:50123\n"
 * ```
 */
export function greeting(client: Deno.NetAddr): string {
  return `You are ${client.hostname}:${client.port}\n`;
}

/**
 * Connects, turning a refused connection into an error that says where
 * nothing was listening. Other errors pass through unchanged.
 *
 * @example
 * ```ts
 * import { connectTo } from "./conversations.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await connectTo("127.0.0.1", listener.addr.port); // handshake done, no accept() yet
 * conn.close();
 * listener.close();
 * ```
 */
export async function connectTo(hostname: string, port: number): Promise<Deno.TcpConn> {
  try {
    return await Deno.connect({ hostname, port });
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      throw new Deno.errors.ConnectionRefused(
        `cannot connect to ${hostname}:${port}: the connection was refused (nothing is listening there)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Listens and holds any number of conversations at once: each accepted
 * connection is greeted with its own address, then every byte it sends is
 * echoed back until it half-closes; an error ends that conversation only.
 *
 * @example
 * ```ts
 * import { startServer } from "./conversations.ts";
 * const server = startServer();
 * console.log(server.addr.port); // the port the OS picked
 * server.close();
 * await server.done;
 * ```
 */
export function startServer(options: ServerOptions = {}): ConversationServer {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "tcp",
  });
  const log = options.log ?? (() => {});
  const open = new Set<Deno.Conn>();
  const conversations = new Set<Promise<void>>();
  let closing = false;

  async function converse(conn: Deno.Conn): Promise<void> {
    const name = formatFourTuple(fourTuple(conn));
    log(`Accepted ${name}`);
    let bytes = 0;
    try {
      await writeAll(conn, encoder.encode(greeting(conn.remoteAddr as Deno.NetAddr)));
      const buffer = new Uint8Array(64 * 1024);
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        await writeAll(conn, buffer.subarray(0, n));
        bytes += n;
      }
      log(`Closed ${name} after ${bytes} bytes`);
    } catch (error) {
      if (!closing) log(`Closed ${name} after ${bytes} bytes: ${(error as Error).message}`);
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed by close()
      }
    }
  }

  async function loop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) break;
        // One pending connection failed (reset before accept: NotConnected), or
        // the process ran out of file descriptors: the listener is fine, go on.
        log(`accept() failed: ${(error as Error).message}`);
        if (OUT_OF_DESCRIPTORS.test((error as Error).message)) {
          await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));
        }
        continue;
      }
      open.add(conn);
      const conversation = converse(conn);
      conversations.add(conversation);
      conversation.finally(() => conversations.delete(conversation));
    }
    await Promise.all(conversations);
  }

  const done = loop();
  return {
    addr: listener.addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

/**
 * The program's server role: listen, print each conversation, until stopped.
 *
 * @example
 * ```ts
 * import { server } from "./conversations.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const running = startServer(options);
  options.log(`Listening at ${running.addr.hostname}:${running.addr.port}`);
  if (options.signal.aborted) running.close();
  options.signal.addEventListener("abort", () => running.close(), { once: true });
  await running.done;
}
