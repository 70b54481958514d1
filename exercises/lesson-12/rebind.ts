/**
 * Lesson 12 — Address already in use; binding to interfaces.
 *
 * Build a greeter server: it greets every client with its own socket name
 * (`This is 127.0.0.1:1060\n`) and closes the connection first. It must start
 * again on the same port right after being stopped, say clearly when a live
 * listener holds its address, and answer only on the address it is bound to.
 * Read lessons/lesson-12/README.md first.
 *
 * Test:    deno task test lesson-12
 * Run it:  deno task run lesson-12 server   (stop it with Ctrl-C, start it again at once;
 *          and start a second copy while the first runs)
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** A running greeter. */
export interface Greeter {
  /** The listening socket's name. */
  readonly addr: Deno.NetAddr;
  /** Settles once the accept loop has ended after {@linkcode Greeter.close}. */
  readonly done: Promise<void>;
  /** Closes the listener; the port is free again once `done` settles. */
  close(): void;
}

/** Where a greeter listens, and where it reports what it does. */
export interface GreeterOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Called with each line the greeter prints. */
  log?: (line: string) => void;
}

/** Formats an address as `host:port`, e.g. `127.0.0.2:1060`. */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * Listens on hostname:port (TCP). If a live socket already holds that name,
 * throws a `Deno.errors.AddrInUse` whose message names `hostname:port`, says
 * it is already in use and what to do (keep the original error as `cause`).
 * Any other error passes through unchanged. ("Address already in use")
 */
export function listenOn(hostname: string, port: number): Deno.TcpListener {
  // TODO: try Deno.listen; catch Deno.errors.AddrInUse only, and throw a clearer one.
  throw new Error("not implemented: listenOn");
}

/**
 * The greeting, naming the server's own socket name as the connection sees
 * it: `This is 127.0.0.1:1060\n`. ("The greeter protocol")
 */
export function greetingFrom(server: Deno.NetAddr): string {
  // TODO: a template string ending in "\n".
  throw new Error("not implemented: greetingFrom");
}

/**
 * Listens with listenOn(options.hostname ?? "127.0.0.1", options.port ?? 0).
 * For each client: log `Accepted CLIENT on SERVER` (conn.remoteAddr,
 * conn.localAddr), write greetingFrom(conn.localAddr), close the connection.
 * close() closes the listener; the loop then ends and `done` settles.
 * ("The greeter protocol", "Restarting a server", "Binding to interfaces")
 */
export function startGreeter(options: GreeterOptions = {}): Greeter {
  // TODO: listenOn the address asked (not 0.0.0.0: that is every interface).
  // TODO: accept in a loop; greet; close the connection (the server closes first).
  // TODO: a greeting write() that fails (the client went away): log
  //       `  Could not greet: <message>`, close that connection anyway, go on.
  // TODO: if accept() fails and close() was not called (a client reset before you
  //       accepted it: NotConnected; out of file descriptors: rest ~10 ms), log it
  //       and accept the next: only close() ends the loop. (lesson 11 README,
  //       "When accept() fails for one connection")
  // TODO: close() must close the listener, or the port stays taken.
  throw new Error("not implemented: startGreeter");
}

/**
 * The program's `server` role: start the greeter on options.hostname and
 * options.port, log `Listening at HOST:PORT`, stop when options.signal is
 * aborted. ("Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: startGreeter(options), log where it listens, close it on abort, await done.
  throw new Error("not implemented: server");
}
