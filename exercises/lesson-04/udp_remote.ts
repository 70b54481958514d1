/**
 * Lesson 04 — Unreliability: timeouts and backoff.
 *
 * Build the book's udp_remote: a client that sends `This is another message`
 * and, when no reply comes, re-sends the same bytes after a wait that doubles
 * each time (0.1 s, 0.2 s, … 1.6 s), then gives up with "I think the server
 * is down"; and a server that drops each datagram with probability 0.5 and
 * answers the rest with `Your data was N bytes long`.
 * Read lessons/lesson-04/README.md first.
 *
 * Test:    deno task test lesson-04
 * Run it:  deno task run lesson-04 server     (and, in another terminal)
 *          deno task run lesson-04 client
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** More than any UDP payload (at most 65,527 bytes; 65,507 over IPv4): a receive buffer this big never truncates. */
export const MAX_DATAGRAM = 65535;

/** What the book's client sends, every time. */
export const MESSAGE = "This is another message";

/** How long to wait, and how the wait grows: all in milliseconds. */
export interface Backoff {
  /** The first wait (the book: 100 ms). */
  initialMs: number;
  /** What each wait is multiplied by after a timeout (the book: 2). */
  factor: number;
  /** Give up once the next wait would be longer than this (the book: 2000 ms). */
  limitMs: number;
}

/** The book's timing: 0.1 s, doubled after each timeout, up to 2.0 s. */
export const BOOK_BACKOFF: Readonly<Backoff> = { initialMs: 100, factor: 2, limitMs: 2000 };

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first. Either way it
 * resolves, and it leaves no timer behind.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How {@linkcode request} sends, waits and reports. Unset fields take the book's values. */
export interface RequestOptions extends Partial<Backoff> {
  /** What to send (default {@linkcode MESSAGE}); re-sent byte for byte. */
  payload?: string | Uint8Array;
  /** How to wait (default {@linkcode sleep}, a real timer). Tests pass a fake clock. */
  sleep?: Sleep;
  /** Called with `Client socket name is HOST:PORT` and one `Waiting up to …` line per send. */
  log?: (line: string) => void;
  /** Aborting it stops the client: it closes its socket and rejects. */
  signal?: AbortSignal;
}

/** What the client saw of a successful exchange. */
export interface Answer {
  /** The reply, decoded. */
  reply: string;
  /** Where the reply came from. */
  from: Deno.NetAddr;
  /** The client's own socket name, chosen by the OS. */
  local: Deno.NetAddr;
  /** How many times the request was sent (1 when the first one was answered). */
  attempts: number;
}

/** Where a server binds, how lossy it is, and where it reports what it does. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** The chance of dropping each datagram, from 0 (never) to 1 (always); default 0.5. */
  dropProbability?: number;
  /** Numbers in [0, 1), one drawn per datagram (default `Math.random`). Tests pass a seeded one. */
  random?: () => number;
  /** Called with one line per datagram: what was said, or that it was dropped. */
  log?: (line: string) => void;
}

/** A running UDP server. */
export interface UdpServer {
  /** The socket name the server is bound to (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the server loop has ended after {@linkcode UdpServer.close}. */
  readonly done: Promise<void>;
  /** Stops the loop and closes the socket. */
  close(): void;
}

/**
 * The client's verdict after its last wait passed without a reply.
 */
export class ServerDownError extends Error {
  /** The waits, in milliseconds, that passed without a reply. */
  readonly waits: number[];

  constructor(waits: number[]) {
    const seconds = waits.map((ms) => ms / 1000).join(", ");
    super(
      `I think the server is down: no reply after ${waits.length} tries (waited ${seconds} s)`,
    );
    this.name = "ServerDownError";
    this.waits = waits;
  }
}

/**
 * Formats an address as `host:port`.
 */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * The server's reply to a datagram of `byteCount` bytes.
 */
export function replyFor(byteCount: number): string {
  return `Your data was ${byteCount} bytes long`;
}

/**
 * The waits of a backoff, in order: the first wait, then each one `factor`
 * times the last, as long as it is not longer than `limitMs`. After the last
 * one the client gives up. Throws a RangeError when `factor` is not above 1
 * (the waits would never grow, and the client would never give up).
 */
export function waitsFor(backoff: Backoff): number[] {
  // TODO: start with initialMs; keep multiplying by factor while the wait is <= limitMs.
  // TODO: throw a RangeError when factor is not greater than 1.
  throw new Error("not implemented: waitsFor");
}

/**
 * A real timer: resolves after `ms` milliseconds, or at once when `signal`
 * aborts, clearing the timer either way.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // TODO: a Promise that resolves after setTimeout(ms), or at once when the signal aborts
  // TODO: (also when it is already aborted); clearTimeout either way, and when the timer
  //       ends the wait, removeEventListener the abort listener.
  throw new Error("not implemented: sleep");
}

/**
 * Sends the payload to `server` from one socket (127.0.0.1, port 0) and
 * waits for a reply; after each wait without one it re-sends the same bytes
 * and waits `factor` times longer. Resolves with the first reply; rejects
 * with a {@linkcode ServerDownError} after the last wait of
 * {@linkcode waitsFor}. Closes its socket and cancels its timer either way.
 */
export async function request(
  server: Deno.NetAddr,
  options: RequestOptions = {},
): Promise<Answer> {
  // TODO: the backoff from the options, falling back to BOOK_BACKOFF; the waits from waitsFor.
  // TODO: bind ONE socket (127.0.0.1, port 0); log `Client socket name is HOST:PORT`.
  // TODO: for each wait: send the same bytes, log `Waiting up to S seconds for a reply`,
  // TODO:   race the (kept) pending receive() against options.sleep(ms, signal);
  // TODO:   a reply wins: return it; the timer wins: go round again. Abort the timer's signal.
  // TODO: after the last wait: throw new ServerDownError(waits).
  // TODO: finally: close the socket (and swallow the pending receive's rejection).
  throw new Error("not implemented: request");
}

/**
 * Binds a UDP socket and, for each datagram, draws one number from `random`:
 * below `dropProbability` it drops the datagram (and logs
 * `Pretending to drop packet from HOST:PORT`), otherwise it answers the
 * sender with `Your data was N bytes long`. Runs until `close()`.
 */
export function startServer(options: ServerOptions = {}): UdpServer {
  // TODO: bind (hostname default 127.0.0.1, port default 0) and start a receive loop.
  // TODO: per datagram, one draw: random() < dropProbability (default 0.5) drops it and logs
  // TODO: `Pretending to drop packet from HOST:PORT`; otherwise log
  // TODO: `The client at HOST:PORT says "TEXT"` and send replyFor(bytes) to the sender.
  // TODO: close() closes the socket; the loop then ends and `done` settles.
  throw new Error("not implemented: startServer");
}

/**
 * The program's server role: a lossy server on options.hostname and
 * options.port that logs `Listening at HOST:PORT`, until the signal aborts.
 * Tests may also pass `random` and `dropProbability`.
 */
export async function server(
  options: ProgramOptions & Pick<ServerOptions, "random" | "dropProbability">,
): Promise<void> {
  // TODO: startServer(options), log `Listening at HOST:PORT`, close it on abort, await done.
  throw new Error("not implemented: server");
}

/**
 * The program's client role: {@linkcode request} with the book's timing to
 * options.hostname:options.port, logging each wait, then
 * `The server says "Your data was 23 bytes long"`. Rejects with a
 * {@linkcode ServerDownError} when no reply comes.
 */
export async function client(options: ProgramOptions): Promise<void> {
  // TODO: request() the server with the book's timing, passing log and signal;
  // TODO: then log `The server says "TEXT"`.
  throw new Error("not implemented: client");
}
