/**
 * Lesson 11 — One socket per conversation.
 *
 * Build a server that holds many conversations at once. The listening socket
 * only accepts; every accepted connection is a socket of its own, with its
 * own four-tuple, served by its own task. Each conversation starts with the
 * line `You are HOST:PORT\n` (the client's address as the server sees it),
 * then every byte the client sends is echoed back until the client
 * half-closes. Read lessons/lesson-11/README.md first.
 *
 * Test:    deno task test lesson-11
 * Run it:  deno task run lesson-11 server     (then `nc 127.0.0.1 1060` in a few terminals)
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

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

/** Writes every byte, looping over partial writes (lesson 10's `writeAll`, given). */
export async function writeAll(conn: Pick<Deno.Conn, "write">, data: Uint8Array): Promise<void> {
  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
}

/**
 * The four-tuple of a connection, seen from this end: its own address
 * (`conn.localAddr`) first, the peer's (`conn.remoteAddr`) second.
 * ("The four-tuple")
 */
export function fourTuple(conn: Deno.Conn): FourTuple {
  // TODO: read conn.localAddr and conn.remoteAddr (both Deno.NetAddr for TCP).
  throw new Error("not implemented: fourTuple");
}

/**
 * Writes a four-tuple the way the notes do:
 * `(127.0.0.1, 1060, 127.0.0.1, 50123)`, local first. ("The four-tuple")
 */
export function formatFourTuple(t: FourTuple): string {
  // TODO: a template string.
  throw new Error("not implemented: formatFourTuple");
}

/**
 * The line a conversation starts with, naming the client's own address as
 * the server sees it: `You are 127.0.0.1:50123\n`. ("The conversation protocol")
 */
export function greeting(client: Deno.NetAddr): string {
  // TODO: a template string ending in "\n".
  throw new Error("not implemented: greeting");
}

/**
 * Connects to hostname:port. If the connection is refused, throws a
 * `Deno.errors.ConnectionRefused` whose message names `hostname:port` and says
 * nothing is listening there (keep the original error as `cause`). Any other
 * error passes through unchanged. ("When connect() fails")
 */
export async function connectTo(hostname: string, port: number): Promise<Deno.TcpConn> {
  // TODO: try Deno.connect; catch ConnectionRefused and throw a clearer one.
  throw new Error("not implemented: connectTo");
}

/**
 * Listens on options.hostname:options.port and holds any number of
 * conversations at once. For each accepted connection: log
 * `Accepted (l_ip, l_port, r_ip, r_port)`, send the greeting, echo every byte
 * until EOF, log `Closed (…) after N bytes`, close it. An error (a client that
 * resets the connection) ends that conversation only, and is logged
 * `Closed (…) after N bytes: <message>`. close() closes the listener and every
 * open conversation. ("One socket per conversation", "Serving many clients at once")
 */
export function startServer(options: ServerOptions = {}): ConversationServer {
  // TODO: Deno.listen (hostname default 127.0.0.1, port default 0).
  // TODO: accept in a loop; start each conversation WITHOUT awaiting it.
  // TODO: if accept() fails and close() was not called (a client reset before you
  //       accepted it: NotConnected; out of file descriptors: rest ~10 ms), log it
  //       and accept the next: only close() ends the loop. ("When accept() fails
  //       for one connection")
  // TODO: catch errors inside each conversation, and always close its socket.
  // TODO: keep the open connections so that close() can close them.
  throw new Error("not implemented: startServer");
}

/**
 * The program's `server` role: start the server, log `Listening at HOST:PORT`,
 * stop when options.signal is aborted. ("Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: startServer(options), log where it listens, close it on abort, await done.
  throw new Error("not implemented: server");
}
