/**
 * Lesson 01 — Clients, servers and bytes: a first TCP server and client.
 *
 * Build a daytime-style greeter: to every client that connects, the server
 * writes one line naming the client's own address, then closes the
 * connection. The client reads until that close (EOF) and decodes once.
 * Read lessons/lesson-01/README.md first; do bytes.ts before this file.
 *
 * Test:  deno task test lesson-01
 *
 * @module
 */

import { decodeText, encodeText } from "./bytes.ts";

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
 * The greeting for a client at `client`: `Hello, HOST:PORT!` and a newline,
 * e.g. `Hello, 127.0.0.1:54321!\n`. ("The greeter on the wire")
 */
export function greetingFor(client: HostPort): string {
  // TODO: return the greeting text.
  throw new Error("not implemented: greetingFor");
}

/**
 * Listens for TCP connections and, to each client in turn, writes
 * `greetingFor(client's address)` and closes that connection, until
 * `close()`. ("The server: listen, accept, answer, close")
 */
export function startGreeter(options: GreeterOptions = {}): Greeter {
  // TODO: Deno.listen (hostname default 127.0.0.1, port default 0).
  // TODO: a loop: accept a connection, write the greeting for conn.remoteAddr
  //       (encodeText), close the connection, accept the next one.
  // TODO: close() closes the listener; the pending accept() then fails and the
  //       loop must end quietly (a `closing` flag tells the two apart).
  // TODO: any other failed accept() (a client reset before you accepted it:
  //       NotConnected; out of file descriptors: rest ~10 ms) is one
  //       connection's trouble: log it and accept the next. Only close() ends
  //       the loop. (lesson 11 README, "When accept() fails for one connection")
  throw new Error("not implemented: startGreeter");
}

/**
 * Connects to a greeter, reads until it closes the connection, closes its
 * own end, and returns the greeting, decoded once from all the bytes
 * (with `decodeText`). ("The client: read until the server closes")
 */
export async function fetchGreeting(server: HostPort): Promise<string> {
  // TODO: Deno.connect, then read() in a loop until it returns null (EOF),
  //       keeping a copy of each chunk (buffer.slice(0, n)).
  // TODO: decode all the bytes once (joinChunks, decodeText); close the
  //       connection whatever happens (try … finally).
  throw new Error("not implemented: fetchGreeting");
}

/** Joins byte chunks into one array, in order. (Given: use it as it is.) */
function joinChunks(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}
