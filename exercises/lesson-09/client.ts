/**
 * Lesson 09 — When to use UDP (capstone): a counter client that survives
 * loss, duplication and reordering.
 *
 * Each call gets a fresh random request id and is re-sent, byte for byte,
 * after waits that grow by a factor until the next would exceed a limit.
 * Only a reply from the server's address with this call's id counts. Read
 * lessons/lesson-09/README.md first ("The client: backoff and matching
 * replies", "How fast is it?").
 *
 * Test:    deno task test lesson-09
 *
 * @module
 */

import {
  encodeRequest,
  MAX_REQUEST_BYTES,
  newRequestId,
  type Operation,
  parseReply,
  type Reply,
} from "./protocol.ts";

/** Waits `ms` milliseconds, or less when `signal` aborts; never rejects. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** How a client waits and re-sends. */
export interface ClientOptions {
  /** First wait for a reply, in ms (default 100). */
  initialMs?: number;
  /** Each next wait is the last one times this (default 2). */
  factor?: number;
  /** Give up when the next wait would exceed this, in ms (default 2000). */
  limitMs?: number;
  /** The timer (default: {@linkcode sleep}); tests inject a faster one. */
  sleep?: Sleep;
  /** Refuse requests longer than this (default {@linkcode MAX_REQUEST_BYTES}). */
  maxRequestBytes?: number;
}

/** The server never answered: every wait ran out. Given: keep as it is. */
export class ServerDownError extends Error {
  /** How many times the request was sent. */
  readonly attempts: number;

  /** Given. */
  constructor(message: string, attempts: number) {
    super(message);
    this.name = "ServerDownError";
    this.attempts = attempts;
  }
}

/** The server answered `ERR <reason>`. Given: keep as it is. */
export class ServerError extends Error {
  /** The reason the server gave. */
  readonly reason: string;

  /** Given. */
  constructor(reason: string) {
    super(`the server refused the request: ${reason}`);
    this.name = "ServerError";
    this.reason = reason;
  }
}

/** A request longer than the limit: refused before sending. Given: keep as it is. */
export class RequestTooLargeError extends Error {
  /** The request's size in bytes. */
  readonly size: number;
  /** The limit. */
  readonly limit: number;

  /** Given. */
  constructor(size: number, limit: number) {
    super(`a request of ${size} bytes is over the limit of ${limit}`);
    this.name = "RequestTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/** What {@linkcode benchmark} measured. */
export interface BenchmarkResult {
  /** Requests completed. */
  requests: number;
  /** Wall time in milliseconds. */
  ms: number;
  /** Requests per second. */
  perSecond: number;
}

/**
 * The default timer: resolves after `ms`, or at once when `signal` aborts
 * (clearing its timeout, so nothing is left running).
 * ("The client: backoff and matching replies")
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  // TODO: setTimeout + an "abort" listener; both paths clear the timer and remove the listener.
  throw new Error("not implemented: sleep");
}

/**
 * A client of one counter server, on its own socket bound to 127.0.0.1
 * port 0. ("The client: backoff and matching replies")
 */
export class CounterClient implements Disposable {
  /** The client's own socket name (127.0.0.1 and a port the OS picked). */
  readonly local: Deno.NetAddr;

  private constructor(server: Deno.NetAddr, options: ClientOptions) {
    // TODO: bind the socket; keep server and options (with the defaults filled in).
    throw new Error("not implemented: CounterClient");
  }

  /** Opens a client for `server`. */
  static open(server: Deno.NetAddr, options: ClientOptions = {}): CounterClient {
    return new CounterClient(server, options);
  }

  /**
   * Sends one request (re-sending with backoff) and returns the value the
   * server answered. Throws RequestTooLargeError before sending, ServerError
   * for an `ERR` reply, ServerDownError when every wait ran out.
   */
  async call(op: Operation, name: string): Promise<number> {
    // TODO: one id per call (re-sends repeat the same bytes); check the size first.
    // TODO: send; wait up to `wait` ms for the reply to THIS id from THE server; wait *= factor;
    //       give up ("I think the server is down") once wait > limitMs.
    // TODO: keep one pending receive() across waits (a field), so no datagram is lost between them;
    //       race it against options.sleep(wait, signal) and abort that signal when done.
    throw new Error("not implemented: CounterClient.call");
  }

  /** `INCR name`: adds one, returns the new value. */
  increment(name: string): Promise<number> {
    // TODO: one line.
    throw new Error("not implemented: CounterClient.increment");
  }

  /** `GET name`: the counter's value (0 if never incremented). */
  get(name: string): Promise<number> {
    // TODO: one line.
    throw new Error("not implemented: CounterClient.get");
  }

  /** Closes the socket; a receive still pending is settled quietly. */
  close(): void {
    // TODO: mark the pending receive handled (.catch(() => {})), then close the socket.
    throw new Error("not implemented: CounterClient.close");
  }

  /** Same as {@linkcode CounterClient.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Sends `requests` INCR requests of counter `name` (default "benchmark")
 * one after another from one client and reports the rate. ("How fast is it?")
 */
export async function benchmark(
  server: Deno.NetAddr,
  options: { requests: number; name?: string; client?: ClientOptions },
): Promise<BenchmarkResult> {
  // TODO: performance.now() before and after; perSecond = requests / seconds.
  throw new Error("not implemented: benchmark");
}
