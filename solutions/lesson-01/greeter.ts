/**
 * Lesson 01 — Clients, servers and bytes: a first TCP server and client
 * (reference solution).
 *
 * The greeter is a daytime-style server: to every client that connects it
 * writes one line naming the client's own address, then closes the
 * connection. The client reads until that close (EOF) and decodes the bytes
 * once, at the end.
 *
 * @module
 */

import { decodeText, encodeText } from "./bytes.ts";

/** accept() failed because the process (24) or the system (23) ran out of file descriptors. */
const OUT_OF_DESCRIPTORS = /\(os error 2[34]\)/;

/** How long the accept loop rests after running out of file descriptors, in milliseconds. */
const ACCEPT_BACKOFF_MS = 10;

/** Where to find a server: a host name or address, and a port. */
export interface HostPort {
  /** e.g. `127.0.0.1`. */
  hostname: string;
  /** e.g. `1060`. */
  port: number;
}

/** Where a greeter listens. */
export interface GreeterOptions {
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port to listen on (default 0: the OS picks a free one). */
  port?: number;
  /** Called with a line when something goes wrong, e.g. an accept() that failed. */
  log?: (line: string) => void;
}

/** A running greeter. */
export interface Greeter {
  /** The address the greeter listens on (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the accept loop has ended after {@linkcode Greeter.close}. */
  readonly done: Promise<void>;
  /** Stops accepting and closes the listener, which frees the port; a second call does nothing. */
  close(): void;
}

/**
 * The greeting for a client at `client`: `Hello, HOST:PORT!` and a newline.
 *
 * @example
 * ```ts
 * import { greetingFor } from "./greeter.ts";
 * greetingFor({ hostname: "127.0.0.1", port: 54321 }); // "Hello, 127.0.0.1:54321!\n"
 * ```
 */
export function greetingFor(client: HostPort): string {
  return `Hello, ${client.hostname}:${client.port}!\n`;
}

/**
 * Listens for TCP connections and, to each client in turn, writes
 * `greetingFor(client's address)` and closes that connection, until
 * `close()`.
 *
 * @example
 * ```ts
 * import { startGreeter } from "./greeter.ts";
 * const greeter = startGreeter();
 * console.log(greeter.addr.port); // the port the OS picked
 * greeter.close();
 * await greeter.done;
 * ```
 */
export function startGreeter(options: GreeterOptions = {}): Greeter {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "tcp",
  });
  const log = options.log ?? (() => {});
  let closing = false;

  async function loop(): Promise<void> {
    while (true) {
      let conn: Deno.TcpConn;
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
      try {
        const bytes = encodeText(greetingFor(conn.remoteAddr));
        for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
      } catch {
        // This client went away early: nothing to tell it, serve the next one.
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
 * Connects to a greeter, reads until it closes the connection, closes its
 * own end, and returns the greeting, decoded once from all the bytes.
 *
 * @example
 * ```ts
 * import { fetchGreeting, startGreeter } from "./greeter.ts";
 * const greeter = startGreeter();
 * const text = await fetchGreeting(greeter.addr);
 * greeter.close();
 * await greeter.done;
 * text; // "Hello, 127.0.0.1:54321!\n" (the client's own port)
 * ```
 */
export async function fetchGreeting(server: HostPort): Promise<string> {
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  try {
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(1024);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    return decodeText(joinChunks(chunks));
  } finally {
    conn.close();
  }
}

/** Joins byte chunks into one array, in order. */
function joinChunks(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}
