/**
 * Lesson 10 — TCP is a stream (reference solution).
 *
 * The book's tcp_sixteen: the client sends exactly the 16 bytes
 * `Hi there, server`, the server reads exactly 16, answers with exactly the
 * 16 bytes `Farewell, client` and closes. Reading and writing go through
 * `readExactly` and `writeAll`, because a TCP `read()` returns whatever has
 * arrived and a `write()` may take only part of the bytes.
 * Run it: `deno task run lesson-10 server` and `deno task run lesson-10 client`.
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

/** What the client sends: exactly 16 bytes. */
export const REQUEST = "Hi there, server";

/** What the server answers: exactly 16 bytes. */
export const REPLY = "Farewell, client";

/** How many bytes each side reads: the length of both messages. */
export const MESSAGE_LENGTH = 16;

/** A running TCP server. */
export interface TcpServer {
  /** The socket name the listener is bound to (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the accept loop has ended after {@linkcode TcpServer.close}. */
  readonly done: Promise<void>;
  /** Closes the listener and any connection being served; the loop then ends. */
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

/** What the client saw of one exchange. */
export interface Exchange {
  /** The server's 16-byte reply, decoded. */
  reply: string;
  /** The client's own socket name, chosen by the OS. */
  local: Deno.NetAddr;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The sequence number of the segment that follows one starting at `seq` and
 * carrying `length` bytes: TCP counts bytes, not packets, modulo 2^32.
 *
 * @example
 * ```ts
 * import { nextSequence } from "./tcp_sixteen.ts";
 * nextSequence(7200, 1024); // 8224
 * nextSequence(4294967290, 10); // 4
 * ```
 */
export function nextSequence(seq: number, length: number): number {
  return (seq + length) % 2 ** 32;
}

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./tcp_sixteen.ts";
 * formatAddr({ transport: "tcp", hostname: "127.0.0.1", port: 1060 }); // "127.0.0.1:1060"
 * ```
 */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * Reads exactly `n` bytes, calling `read()` as often as it takes (the book's
 * `recv_all`). Throws `Deno.errors.UnexpectedEof` if the peer closes first.
 *
 * @example
 * ```ts
 * import { readExactly } from "./tcp_sixteen.ts";
 * const bytes = new TextEncoder().encode("Hi there, server");
 * let at = 0; // a reader that hands out 3 bytes per read()
 * const reader = {
 *   read(p: Uint8Array): Promise<number | null> {
 *     if (at === bytes.length) return Promise.resolve(null);
 *     const n = Math.min(3, p.length, bytes.length - at);
 *     p.set(bytes.subarray(at, at + n));
 *     at += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * new TextDecoder().decode(await readExactly(reader, 16)); // "Hi there, server"
 * ```
 */
export async function readExactly(
  conn: Pick<Deno.Conn, "read">,
  n: number,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const more = await conn.read(buffer.subarray(got));
    if (more === null) {
      throw new Deno.errors.UnexpectedEof(
        `the peer closed the connection after ${got} of ${n} bytes`,
      );
    }
    got += more;
  }
  return buffer;
}

/**
 * Writes every byte of `data`, calling `write()` again with the rest after
 * each partial write (the book's `sendall`).
 *
 * @example
 * ```ts
 * import { writeAll } from "./tcp_sixteen.ts";
 * const seen: number[] = []; // a writer that takes 5 bytes per write()
 * const writer = {
 *   write(p: Uint8Array): Promise<number> {
 *     const n = Math.min(5, p.length);
 *     seen.push(...p.subarray(0, n));
 *     return Promise.resolve(n);
 *   },
 * };
 * await writeAll(writer, new TextEncoder().encode("Farewell, client"));
 * seen.length; // 16
 * ```
 */
export async function writeAll(conn: Pick<Deno.Conn, "write">, data: Uint8Array): Promise<void> {
  let sent = 0;
  while (sent < data.length) {
    sent += await conn.write(data.subarray(sent));
  }
}

/**
 * Listens and serves one client at a time, like the book: read exactly 16
 * bytes, answer `Farewell, client`, close. A client that hangs up early is
 * reported and the server goes on to the next one.
 *
 * @example
 * ```ts
 * import { startServer } from "./tcp_sixteen.ts";
 * const server = startServer();
 * console.log(server.addr.port); // the port the OS picked
 * server.close();
 * await server.done;
 * ```
 */
export function startServer(options: ServerOptions = {}): TcpServer {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "tcp",
  });
  const log = options.log ?? (() => {});
  let closing = false;
  let current: Deno.Conn | undefined;

  async function serve(conn: Deno.Conn): Promise<void> {
    log(`We have accepted a connection from ${formatAddr(conn.remoteAddr)}`);
    log(`  Socket name: ${formatAddr(conn.localAddr)}`);
    log(`  Socket peer: ${formatAddr(conn.remoteAddr)}`);
    try {
      const message = await readExactly(conn, MESSAGE_LENGTH);
      log(`  Incoming sixteen-octet message: ${JSON.stringify(decoder.decode(message))}`);
      await writeAll(conn, encoder.encode(REPLY));
      log("  Reply sent, socket closed");
    } catch (error) {
      if (closing) return;
      log(`  Client hung up early: ${(error as Error).message}; socket closed`);
    } finally {
      try {
        conn.close();
      } catch {
        // already closed by close()
      }
    }
  }

  async function loop(): Promise<void> {
    while (true) {
      try {
        current = await listener.accept();
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
      await serve(current);
      current = undefined;
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
      try {
        current?.close();
      } catch {
        // already closed
      }
    },
  };
}

/**
 * The client's single exchange: connect, send `Hi there, server`, read the
 * 16-byte reply, close (also on error).
 *
 * @example
 * ```ts
 * import { ask, startServer } from "./tcp_sixteen.ts";
 * const server = startServer();
 * const { reply } = await ask(server.addr);
 * server.close();
 * await server.done;
 * reply; // "Farewell, client"
 * ```
 */
export async function ask(server: Deno.NetAddr): Promise<Exchange> {
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  try {
    await writeAll(conn, encoder.encode(REQUEST));
    const reply = await readExactly(conn, MESSAGE_LENGTH);
    return { reply: decoder.decode(reply), local: conn.localAddr };
  } finally {
    conn.close();
  }
}

/**
 * The program's server role: listen, print what happens, until stopped.
 *
 * @example
 * ```ts
 * import { server } from "./tcp_sixteen.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const running = startServer(options);
  options.log(`Listening at ${formatAddr(running.addr)}`);
  if (options.signal.aborted) running.close();
  options.signal.addEventListener("abort", () => running.close(), { once: true });
  await running.done;
}

/**
 * The program's client role: one exchange, printed.
 *
 * @example
 * ```ts ignore
 * import { client } from "./tcp_sixteen.ts";
 * await client({ hostname: "127.0.0.1", port: 1060, log: console.log, signal: new AbortController().signal });
 * ```
 */
export async function client(options: ProgramOptions): Promise<void> {
  const { reply, local } = await ask({
    transport: "tcp",
    hostname: options.hostname,
    port: options.port,
  });
  options.log(`Client has been assigned socket name ${formatAddr(local)}`);
  options.log(`The server said ${JSON.stringify(reply)}`);
}
