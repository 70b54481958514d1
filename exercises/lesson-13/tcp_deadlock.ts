/**
 * Lesson 13 — Deadlock.
 *
 * Build the book's tcp_deadlock without its deadlock: the client sends
 * `capitalize this!` over and over (the byte count rounded up to a multiple
 * of 16), half-closes, and reads everything the server sends back; the server
 * reads chunks and writes each back upper-cased, closing at EOF. Written one
 * step after the other, the client stalls for good once the data outgrows the
 * socket buffers: yours must write and read at the same time.
 * Read lessons/lesson-13/README.md first.
 *
 * Test:    deno task test lesson-13
 * Run it:  deno task run lesson-13 server     (and, in another terminal)
 *          deno task run lesson-13 client 127.0.0.1 32000000
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** The book's default byte count for the client. */
export const DEFAULT_BYTECOUNT = 16;

/** The 16-byte message the client repeats. */
export const MESSAGE = "capitalize this!";

/** How many bytes the server reads at a time (the book's server reads 1024). */
export const CHUNK_SIZE = 256 * 1024;

/** A running capitalizing server. */
export interface CapitalizeServer {
  /** The listening socket's name (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the accept loop and every connection have ended after close(). */
  readonly done: Promise<void>;
  /** Closes the listener and every open connection. */
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

/** What one exchange moved. */
export interface Transfer {
  /** Bytes written to the server. */
  sent: number;
  /** Bytes read back before EOF. */
  received: number;
  /** The first chunk read back (empty if none). */
  first: Uint8Array;
}

/** What a bulk transfer moved, and how long it took. */
export interface BulkResult extends Transfer {
  /** Milliseconds from before connecting to after EOF. */
  ms: number;
}

/** Writes every byte, looping over partial writes (lesson 10's `writeAll`, given). */
export async function writeAll(conn: Pick<Deno.Conn, "write">, data: Uint8Array): Promise<void> {
  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
}

/** Formats an address as `host:port`, e.g. `127.0.0.1:1060`. */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * Reads the client's byte count from the program's extra arguments (the
 * book's `bytecount`), default {@linkcode DEFAULT_BYTECOUNT}. (Given.)
 */
export function parseBytecount(args: readonly string[] = []): number {
  if (args.length === 0) return DEFAULT_BYTECOUNT;
  if (!/^\d+$/.test(args[0])) {
    throw new RangeError(`the byte count must be a whole number of bytes, not "${args[0]}"`);
  }
  return Number(args[0]);
}

/**
 * What the client sends: `capitalize this!` repeated until `bytecount`,
 * rounded UP to a multiple of 16, is reached: payload(17) is 32 bytes.
 * ("The capitalizing protocol")
 */
export function payload(bytecount: number): Uint8Array {
  // TODO: round up to a multiple of 16; fill a Uint8Array with the encoded MESSAGE.
  throw new Error("not implemented: payload");
}

/**
 * Upper-cases the ASCII letters a–z (0x61–0x7a → 0x41–0x5a) and leaves every
 * other byte as it is. Returns a new array of the same length.
 * ("Bytes, not text")
 */
export function upperAscii(bytes: Uint8Array): Uint8Array {
  // TODO: a loop over the bytes; do not decode them as text.
  throw new Error("not implemented: upperAscii");
}

/**
 * Listens on options.hostname:options.port; for each connection (served
 * concurrently): log `Processing up to ${CHUNK_SIZE} bytes at a time from HOST:PORT`,
 * read a chunk, writeAll it back upper-cased, until EOF; then log
 * `  N bytes processed, socket closed` (with `(K non-ASCII, passed through
 * unchanged)` after `processed` when there were any) and close. An error on
 * a connection ends only it: log `  N bytes processed, then MESSAGE; socket
 * closed` (N echoed before it, MESSAGE the error's own message). close()
 * closes the listener and every open connection. ("The server")
 */
export function startServer(options: ServerOptions = {}): CapitalizeServer {
  // TODO: Deno.listen; accept in a loop; one task per connection (not awaited).
  // TODO: if accept() fails and close() was not called (a client reset before you
  //       accepted it: NotConnected; out of file descriptors: rest ~10 ms), log it
  //       and accept the next: only close() ends the loop. (lesson 11 README,
  //       "When accept() fails for one connection")
  // TODO: per connection: read CHUNK_SIZE at a time, writeAll(conn, upperAscii(chunk)).
  // TODO: catch errors per connection, and always close its socket.
  throw new Error("not implemented: startServer");
}

/**
 * Writes all of `data` and then half-closes (conn.closeWrite()), while, AT
 * THE SAME TIME, reading everything the server sends back until EOF. Calls
 * `onData` with each chunk as it arrives (valid only during the call).
 * Returns the counts and the first chunk. ("Reading and writing at once")
 */
export async function exchange(
  conn: Deno.Conn,
  data: Uint8Array,
  onData?: (chunk: Uint8Array) => void,
): Promise<Transfer> {
  // TODO: start a writing task (writeAll, then closeWrite) and a reading task
  //       (read until null), WITHOUT awaiting the first before starting the second.
  // TODO: await both with Promise.all.
  throw new Error("not implemented: exchange");
}

/**
 * Connects to options.hostname:options.port, runs exchange() with
 * payload(options.bytecount), closes the connection, and returns the
 * transfer with the milliseconds it took. ("Measuring it")
 */
export async function bulkTransfer(
  options: { hostname: string; port: number; bytecount: number },
): Promise<BulkResult> {
  // TODO: performance.now() before connecting and after exchange(); close in finally.
  throw new Error("not implemented: bulkTransfer");
}

/**
 * The program's `server` role: start the server, log `Listening at HOST:PORT`,
 * stop when options.signal is aborted. ("Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: startServer(options), log where it listens, close it on abort, await done.
  throw new Error("not implemented: server");
}

/**
 * The program's `client` role: bytecount = parseBytecount(options.args);
 * log `Sending N bytes of data, reading the reply at the same time` (N
 * rounded up), run bulkTransfer, then log
 * `  The first data received says "<up to 32 bytes of the first chunk>"` and
 * `  N bytes sent, N bytes received in MS ms`. ("Running it as a program")
 */
export async function client(options: ProgramOptions): Promise<void> {
  // TODO: use parseBytecount, bulkTransfer and JSON.stringify for the quoted text.
  throw new Error("not implemented: client");
}
