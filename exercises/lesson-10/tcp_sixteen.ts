/**
 * Lesson 10 — TCP is a stream.
 *
 * Build the book's tcp_sixteen: the client sends exactly the 16 bytes
 * `Hi there, server`, the server reads exactly 16 bytes, answers with exactly
 * `Farewell, client` and closes the connection. Because TCP is a stream, a
 * `read()` returns whatever has arrived and a `write()` may take only part of
 * your bytes: write `readExactly` and `writeAll` first, and use them for
 * everything else. Read lessons/lesson-10/README.md first.
 *
 * Test:    deno task test lesson-10
 * Run it:  deno task run lesson-10 server     (and, in another terminal)
 *          deno task run lesson-10 client
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

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

/**
 * The sequence number of the segment that follows one starting at `seq` and
 * carrying `length` bytes: `nextSequence(7200, 1024)` is 8224. Sequence
 * numbers are 32-bit, so they wrap around. ("Sequence numbers count bytes")
 */
export function nextSequence(seq: number, length: number): number {
  // TODO: add, and wrap around at 2 ** 32.
  throw new Error("not implemented: nextSequence");
}

/** Formats an address as `host:port`, e.g. `127.0.0.1:1060`. */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * Reads exactly `n` bytes, calling `conn.read()` as often as it takes (the
 * book's `recv_all`), and returns them. If the peer closes the connection
 * first, throws `Deno.errors.UnexpectedEof` with a message saying how many of
 * the `n` bytes arrived, e.g. `the peer closed the connection after 5 of 16 bytes`.
 * ("Reading exactly n bytes")
 */
export async function readExactly(
  conn: Pick<Deno.Conn, "read">,
  n: number,
): Promise<Uint8Array> {
  // TODO: allocate n bytes; read into the part not yet filled until it is full.
  // TODO: read() resolves null at EOF: throw Deno.errors.UnexpectedEof then.
  throw new Error("not implemented: readExactly");
}

/**
 * Writes every byte of `data`, calling `conn.write()` again with the rest
 * after each partial write (the book's `sendall`).
 * ("The three outcomes of write()", "Writing everything")
 */
export async function writeAll(conn: Pick<Deno.Conn, "write">, data: Uint8Array): Promise<void> {
  // TODO: write() returns how many bytes it took: loop until all are sent.
  throw new Error("not implemented: writeAll");
}

/**
 * Listens on options.hostname:options.port and serves one client at a time:
 * read exactly 16 bytes, answer `Farewell, client`, close the connection. A
 * client that hangs up early is logged and the server serves the next one.
 * ("The server", "A client that hangs up early")
 */
export function startServer(options: ServerOptions = {}): TcpServer {
  // TODO: Deno.listen (hostname default 127.0.0.1, port default 0).
  // TODO: loop: accept, log the lines shown in the README, readExactly 16 bytes,
  //       writeAll the reply, close the connection.
  // TODO: on UnexpectedEof log `  Client hung up early: <message>; socket closed`, then go on.
  // TODO: if accept() fails and close() was not called (a client reset before you
  //       accepted it: NotConnected; out of file descriptors: rest ~10 ms), log it
  //       and accept the next: only close() ends the loop. (lesson 11 README,
  //       "When accept() fails for one connection")
  // TODO: close() closes the listener (and the connection being served); the loop then ends.
  throw new Error("not implemented: startServer");
}

/**
 * The client's single exchange: connect to `server`, send `Hi there, server`,
 * read the 16-byte reply, close the connection (also on error). ("The client")
 */
export async function ask(server: Deno.NetAddr): Promise<Exchange> {
  // TODO: Deno.connect, writeAll, readExactly, and close in a finally block.
  throw new Error("not implemented: ask");
}

/**
 * The program's `server` role: start the server on options.hostname and
 * options.port, log `Listening at HOST:PORT`, stop when options.signal is
 * aborted. ("Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: startServer(options), log where it listens, close it on abort, await done.
  throw new Error("not implemented: server");
}

/**
 * The program's `client` role: one exchange with options.hostname:options.port,
 * then log `Client has been assigned socket name HOST:PORT` and
 * `The server said "Farewell, client"`. ("Running it as a program")
 */
export async function client(options: ProgramOptions): Promise<void> {
  // TODO: use ask() and formatAddr().
  throw new Error("not implemented: client");
}
