/**
 * Lesson 14 — Half-open connections.
 *
 * Build a counting service whose requests end with EOF: the client writes
 * its request, half-closes with `closeWrite()`, and reads the reply to EOF;
 * the server reads until `read()` returns `null`, answers
 * `Your data was N bytes long`, and closes. Then probe what happens to writes
 * once the peer has gone. Read lessons/lesson-14/README.md first.
 *
 * Test: deno task test lesson-14
 *
 * @module
 */

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

/**
 * The server's reply to a request of `byteCount` bytes:
 * `Your data was 16 bytes long`. ("A protocol that ends with EOF")
 */
export function replyFor(byteCount: number): string {
  // TODO: return the reply text for byteCount.
  throw new Error("not implemented: replyFor");
}

/**
 * Reads until the peer half-closes (`read()` returns `null`) and returns how
 * many bytes arrived, without keeping them. ("EOF is null")
 */
export async function countToEnd(conn: Deno.Conn): Promise<number> {
  // TODO: loop over conn.read(buffer); add up n; stop only when it returns null.
  throw new Error("not implemented: countToEnd");
}

/**
 * Reads until the peer half-closes (`read()` returns `null`) and returns
 * every byte that arrived, in order. ("EOF is null")
 */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  // TODO: like countToEnd, but keep a copy of each piece (buffer.slice(0, n)) and join them.
  throw new Error("not implemented: readToEnd");
}

/** Writes every byte of `data`, looping over partial writes. ("A protocol that ends with EOF") */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  // TODO: conn.write() may take only part of the data: loop until all is sent.
  throw new Error("not implemented: writeAll");
}

/**
 * Listens, and for every connection: counts the request up to EOF, writes
 * `replyFor(count)`, and closes. Serves many connections at once.
 * ("A protocol that ends with EOF", "Closing a server")
 */
export function startCountServer(options: ServerOptions = {}): CountServer {
  // TODO: Deno.listen (hostname default 127.0.0.1, port default 0).
  // TODO: an accept loop that starts a handler per connection without awaiting it.
  // TODO: if accept() fails and close() was not called (a client reset before you
  //       accepted it: NotConnected; out of file descriptors: rest ~10 ms), log it
  //       and accept the next: only close() ends the loop. (lesson 11 README,
  //       "When accept() fails for one connection")
  // TODO: handler: countToEnd, writeAll(replyFor(count)), then close the connection (also on error).
  // TODO: remember open connections; close() closes the listener AND each of them.
  // TODO: done settles once the accept loop and every handler have ended.
  throw new Error("not implemented: startCountServer");
}

/**
 * The client's exchange: connect, send `body`, half-close, read the reply to
 * EOF, close. Returns the reply decoded. ("Half-closing with closeWrite()")
 */
export async function request(server: Deno.NetAddr, body: string | Uint8Array): Promise<string> {
  // TODO: Deno.connect, writeAll, conn.closeWrite(), readToEnd, decode; close in finally.
  throw new Error("not implemented: request");
}

/**
 * Writes `chunk` up to `maxWrites` times and reports how many writes were
 * accepted before one failed because the peer is gone (BrokenPipe or
 * ConnectionReset). Any other error is thrown.
 * ("Writing to a peer that has gone")
 */
export async function probeWrites(
  conn: Deno.Conn,
  chunk: Uint8Array,
  maxWrites: number,
): Promise<WriteProbe> {
  // TODO: loop up to maxWrites: writeAll(conn, chunk), count it.
  // TODO: catch Deno.errors.BrokenPipe / Deno.errors.ConnectionReset: return what you saw.
  throw new Error("not implemented: probeWrites");
}

/** Formats an address as `host:port`, e.g. `127.0.0.1:1060`. */
export function formatAddr(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}
