/**
 * Lesson 14 — Half-open connections (reference solution).
 *
 * A counting service whose requests end with EOF: the client writes its
 * request, half-closes (`closeWrite()`, the socket call `shutdown(SHUT_WR)`),
 * and reads the reply to EOF; the server reads the request until `read()`
 * returns `null`, answers `Your data was N bytes long`, and closes. Plus a
 * probe that shows what happens to writes once the peer has gone.
 *
 * @module
 */

/** accept() failed because the process (24) or the system (23) ran out of file descriptors. */
const OUT_OF_DESCRIPTORS = /\(os error 2[34]\)/;

/** How long the accept loop rests after running out of file descriptors, in milliseconds. */
const ACCEPT_BACKOFF_MS = 10;

/** A running counting server. */
export interface CountServer {
  /** The socket name the server listens on (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the listener and every connection are closed after {@linkcode CountServer.close}. */
  readonly done: Promise<void>;
  /** Closes the listener and every open connection. */
  close(): void;
}

/** Where the server listens, and where it reports what it sees. */
export interface ServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port to listen on (default 0: the OS picks). */
  port?: number;
  /** Called with one line per event (a request counted, a connection that failed). */
  log?: (line: string) => void;
}

/** What {@linkcode probeWrites} saw. */
export interface WriteProbe {
  /** How many writes the kernel accepted before one failed. */
  accepted: number;
  /** The error that ended the probe, or `null` if every write was accepted. */
  failure: "BrokenPipe" | "ConnectionReset" | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The server's reply to a request of `byteCount` bytes.
 *
 * @example
 * ```ts
 * import { replyFor } from "./half_close.ts";
 * replyFor(16); // "Your data was 16 bytes long"
 * ```
 */
export function replyFor(byteCount: number): string {
  return `Your data was ${byteCount} bytes long`;
}

/**
 * Reads until the peer half-closes (`read()` returns `null`) and returns how
 * many bytes arrived, without keeping them.
 *
 * @example
 * ```ts ignore
 * import { countToEnd } from "./half_close.ts";
 * const n = await countToEnd(conn); // after the peer's closeWrite()
 * ```
 */
export async function countToEnd(conn: Deno.Conn): Promise<number> {
  const buffer = new Uint8Array(16 * 1024);
  let count = 0;
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) return count;
    count += n;
  }
}

/**
 * Reads until the peer half-closes (`read()` returns `null`) and returns
 * every byte that arrived, in order.
 *
 * @example
 * ```ts ignore
 * import { readToEnd } from "./half_close.ts";
 * const reply = await readToEnd(conn); // after the server closed
 * ```
 */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(16 * 1024);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Writes every byte of `data`, looping over partial writes.
 *
 * @example
 * ```ts ignore
 * import { writeAll } from "./half_close.ts";
 * await writeAll(conn, new TextEncoder().encode("Hi there, server"));
 * ```
 */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
}

/**
 * Listens, and for every connection: counts the request up to EOF, writes
 * `replyFor(count)`, and closes. Serves many connections at once.
 *
 * @example
 * ```ts
 * import { startCountServer } from "./half_close.ts";
 * const server = startCountServer();
 * console.log(server.addr.port); // the port the OS picked
 * server.close();
 * await server.done;
 * ```
 */
export function startCountServer(options: ServerOptions = {}): CountServer {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "tcp",
  });
  const open = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let closing = false;

  async function handle(conn: Deno.Conn): Promise<void> {
    try {
      const count = await countToEnd(conn);
      await writeAll(conn, encoder.encode(replyFor(count)));
      options.log?.(`counted ${count} bytes from ${formatAddr(conn.remoteAddr as Deno.NetAddr)}`);
    } catch (error) {
      if (!closing) options.log?.(`connection failed: ${(error as Error).message}`);
    } finally {
      open.delete(conn);
      closeQuietly(conn);
    }
  }

  async function acceptLoop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        // One pending connection failed (reset before accept: NotConnected), or
        // the process ran out of file descriptors: the listener is fine, go on.
        options.log?.(`accept() failed: ${(error as Error).message}`);
        if (OUT_OF_DESCRIPTORS.test((error as Error).message)) {
          await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));
        }
        continue;
      }
      open.add(conn);
      const handler = handle(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  }

  const loop = acceptLoop();
  const done = (async () => {
    await loop;
    while (handlers.size) await Promise.all(handlers);
  })();
  return {
    addr: listener.addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      closeQuietly(listener);
      for (const conn of open) closeQuietly(conn);
    },
  };
}

/**
 * The client's exchange: connect, send `body`, half-close, read the reply to
 * EOF, close. Returns the reply decoded.
 *
 * @example
 * ```ts
 * import { request, startCountServer } from "./half_close.ts";
 * const server = startCountServer();
 * const reply = await request(server.addr, "Hi there, server");
 * server.close();
 * await server.done;
 * reply; // "Your data was 16 bytes long"
 * ```
 */
export async function request(server: Deno.NetAddr, body: string | Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  try {
    await writeAll(conn, typeof body === "string" ? encoder.encode(body) : body);
    await conn.closeWrite();
    return decoder.decode(await readToEnd(conn));
  } finally {
    conn.close();
  }
}

/**
 * Writes `chunk` up to `maxWrites` times and reports how many writes were
 * accepted before one failed because the peer is gone (BrokenPipe or
 * ConnectionReset). Any other error is thrown.
 *
 * @example
 * ```ts ignore
 * import { probeWrites } from "./half_close.ts";
 * const { accepted, failure } = await probeWrites(conn, new Uint8Array(100), 50);
 * ```
 */
export async function probeWrites(
  conn: Deno.Conn,
  chunk: Uint8Array,
  maxWrites: number,
): Promise<WriteProbe> {
  let accepted = 0;
  while (accepted < maxWrites) {
    try {
      await writeAll(conn, chunk);
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) return { accepted, failure: "BrokenPipe" };
      if (error instanceof Deno.errors.ConnectionReset) {
        return { accepted, failure: "ConnectionReset" };
      }
      throw error;
    }
    accepted++;
  }
  return { accepted, failure: null };
}

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./half_close.ts";
 * formatAddr({ transport: "tcp", hostname: "127.0.0.1", port: 1060 }); // "127.0.0.1:1060"
 * ```
 */
export function formatAddr(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // already closed
  }
}
