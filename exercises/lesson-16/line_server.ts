/**
 * Lesson 16 — A robust line-protocol server.
 *
 * Serve the line protocol of protocol.ts to many clients at once, and
 * survive the clients that misbehave: over-long and endless lines, bytes
 * that are not UTF-8, clients that never speak (idle timeout), clients that
 * vanish mid-line. `close()` closes the listener and every connection, and
 * `done` settles once all of them have ended. Read
 * lessons/lesson-16/README.md first.
 *
 * Test:    deno task test lesson-16
 * Run it:  deno task run lesson-16 server    (then, in another terminal:)
 *          deno task run lesson-16 client 127.0.0.1 "ECHO hi" "UPPER hi"
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";
import { LineReader, type Source } from "./line_reader.ts";
import { ERR_BUSY, ERR_IDLE, ERR_TOO_LONG, MAX_LINE_BYTES, respond } from "./protocol.ts";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** How long a client may stay silent by default, in milliseconds. */
export const DEFAULT_IDLE_MS = 30_000;

/** How many connections the server serves at once by default. */
export const DEFAULT_MAX_CONNECTIONS = 256;

/** The lines the `client` role sends when the command line names none. */
export const DEMO_LINES: readonly string[] = ["ECHO Hello, server", "UPPER please shout this"];

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first. Either way it
 * resolves, and it leaves no timer behind.
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Where the server listens, its limits, and where it reports what it sees. */
export interface LineServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port to listen on (default 0: the OS picks). */
  port?: number;
  /** The longest request line, in bytes (default {@linkcode MAX_LINE_BYTES}). */
  maxLineBytes?: number;
  /** Close a connection that sent nothing for this long (default {@linkcode DEFAULT_IDLE_MS}). */
  idleMs?: number;
  /**
   * How many connections are served at once (default {@linkcode DEFAULT_MAX_CONNECTIONS}); one
   * more is answered {@linkcode ERR_BUSY} and closed.
   */
  maxConnections?: number;
  /** Called with one line per event: connections, disconnections, time-outs, failures. */
  log?: (line: string) => void;
  /** How the idle limit waits (default a real timer); tests pass a fake clock. */
  sleep?: Sleep;
}

/** A running line server. */
export interface LineServer {
  /** The socket name the server listens on (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the listener and every connection are closed after {@linkcode LineServer.close}. */
  readonly done: Promise<void>;
  /** Closes the listener and every open connection. */
  close(): void;
}

/** Formats an address as `host:port`, e.g. `127.0.0.1:1060`. */
export function formatAddr(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

/**
 * Starts the server. Every connection is served in its own task.
 * ("Many clients at once", "An accept loop that keeps serving", "Hostile clients",
 * "Idle clients", "Shutting down cleanly")
 */
export function startLineServer(options: LineServerOptions = {}): LineServer {
  // TODO: Deno.listen; defaults: 127.0.0.1, port 0, MAX_LINE_BYTES, DEFAULT_IDLE_MS.
  // TODO: an accept loop that starts handle(conn) per connection WITHOUT awaiting it,
  // TODO:   and survives a failed accept(): unless close() was called, log it, rest
  // TODO:   ~10 ms if out of file descriptors (os error 23/24; close() cuts the rest short),
  // TODO:   and accept the next.
  // TODO: at most maxConnections handled at once (default DEFAULT_MAX_CONNECTIONS):
  // TODO:   one more is logged ("… turned away: N open"), gets ERR_BUSY + "\n" and is closed;
  // TODO:   a slot frees when a handler ends.
  // TODO: handle(conn): a LineReader (lines of at most maxLineBytes, default MAX_LINE_BYTES)
  // TODO:   over a Source whose read() rejects after idleMs of silence (race conn.read against
  // TODO:   options.sleep(idleMs, signal), default a real timer: setTimeout, cleared on abort;
  // TODO:   a new AbortController for every read, aborted once that read completes);
  // TODO:   for each result:
  // TODO:   line → respond() and write reply.line + "\n" (close after BYE);
  // TODO:   too-long → write ERR_TOO_LONG; end → log and stop; idle → write ERR_IDLE and stop.
  // TODO:   catch everything: one client's trouble must never reach the others or done.
  // TODO:   finally: close the connection and forget it.
  // TODO: close(): close the listener and every open connection; done settles when all ended.
  throw new Error("not implemented: startLineServer");
}

/**
 * The program's `server` role: serve on options.hostname:options.port, log
 * `Listening at HOST:PORT` and every event, stop when options.signal aborts.
 * ("Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: startLineServer with options' hostname, port and log; log where it listens;
  // TODO: close it when the signal aborts; await done.
  throw new Error("not implemented: server");
}

/**
 * The program's `client` role: connect to options.hostname:options.port, send
 * each line of options.args (or {@linkcode DEMO_LINES}) and then `QUIT`, all
 * at once, and log every line sent (`> …`) and every reply (`< …`) until the
 * server closes. An argument with a line break in it (`\n` or `\r`) would be
 * two requests: refuse it with a RangeError before connecting.
 * ("Running it as a program")
 */
export async function client(options: ProgramOptions): Promise<void> {
  // TODO: lines = options.args (DEMO_LINES if it is missing or empty: `deno task run` passes
  // TODO:   []) plus "QUIT"; a line with "\n" or "\r" in it:
  // TODO:   throw a RangeError naming it, before connecting.
  // TODO: connect; close the connection on abort.
  // TODO: write all the lines at once, each with "\n" (loop: write() may take only part);
  // TODO:   log "> LINE" for each.
  // TODO: read replies with a LineReader(conn, MAX_LINE_BYTES) until the end; log "< REPLY" for
  // TODO:   each ("< (a reply too long to show)" for too-long).
  // TODO: finally: remove the abort listener and close the connection.
  throw new Error("not implemented: client");
}
