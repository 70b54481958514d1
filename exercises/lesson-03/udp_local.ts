/**
 * Lesson 03 — A first UDP server and client.
 *
 * Build the book's udp_local exchange: the client sends
 * `The time is <timestamp>` and the server answers the sender with
 * `Your data was N bytes long`. Read lessons/lesson-03/README.md first.
 *
 * Test:    deno task test lesson-03
 * Run it:  deno task run lesson-03 server     (and, in another terminal)
 *          deno task run lesson-03 client
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** More than any UDP payload (at most 65,527 bytes; 65,507 over IPv4): a receive buffer this big never truncates. */
export const MAX_DATAGRAM = 65535;

/** A running UDP server. */
export interface UdpServer {
  /** The socket name the server is bound to (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the server loop has ended after {@linkcode UdpServer.close}. */
  readonly done: Promise<void>;
  /** Stops the loop and closes the socket. */
  close(): void;
}

/** Where a server binds, and where it reports what it sees. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Called with one line per datagram received. */
  log?: (line: string) => void;
}

/** What the client saw of one exchange. */
export interface Exchange {
  /** The server's reply, decoded. */
  reply: string;
  /** Where the reply came from. */
  from: Deno.NetAddr;
  /** The client's own socket name, chosen by the OS. */
  local: Deno.NetAddr;
}

/**
 * The server's reply to a datagram of `byteCount` bytes:
 * `Your data was 16 bytes long`. ("The protocol on the wire")
 */
export function replyFor(byteCount: number): string {
  // TODO: return the reply text for byteCount.
  throw new Error("not implemented: replyFor");
}

/**
 * The client's message, `The time is ` followed by the local time written the
 * way Python prints a datetime: `2026-11-25 14:30:01.123000`.
 * ("The protocol on the wire")
 */
export function timeMessage(now: Date): string {
  // TODO: zero-pad every field; microseconds are milliseconds × 1000, 6 digits.
  throw new Error("not implemented: timeMessage");
}

/** Formats an address as `host:port`, e.g. `127.0.0.1:1060`. */
export function formatAddr(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

/**
 * Binds a UDP socket and answers every datagram with `replyFor(bytes)`, sent
 * to the address the datagram came from, until `close()`.
 * ("Binding a socket name", "The server loop", "Replying to the sender")
 */
export function startServer(options: ServerOptions = {}): UdpServer {
  // TODO: bind with Deno.listenDatagram (hostname default 127.0.0.1, port default 0).
  // TODO: start a loop that receives into a MAX_DATAGRAM buffer and replies to the sender.
  // TODO: log each datagram: `The client at HOST:PORT says "TEXT"` (JSON.stringify the text).
  // TODO: close() closes the socket; the loop then ends and `done` settles.
  throw new Error("not implemented: startServer");
}

/**
 * Sends `text` to `server` from a new socket bound to 127.0.0.1 port 0, waits
 * for one reply, closes the socket and reports the exchange. ("The client")
 */
export async function ask(server: Deno.NetAddr, text: string): Promise<Exchange> {
  // TODO: bind, send, receive one reply, close the socket (even on error).
  throw new Error("not implemented: ask");
}

/**
 * The program's `server` role: start the server on options.hostname and
 * options.port, log `Listening at HOST:PORT`, and stop when options.signal
 * is aborted. ("Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: startServer(options), log where it listens, close it on abort, await done.
  throw new Error("not implemented: server");
}

/**
 * The program's `client` role: send `timeMessage(new Date())` to
 * options.hostname:options.port, then log
 * `The OS assigned me the address HOST:PORT` and
 * `The server HOST:PORT replied "TEXT"`. ("Running it as a program")
 */
export async function client(options: ProgramOptions): Promise<void> {
  // TODO: use ask() and formatAddr().
  throw new Error("not implemented: client");
}
