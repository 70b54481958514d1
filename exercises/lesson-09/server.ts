/**
 * Lesson 09 — When to use UDP (capstone): an idempotent counter server.
 *
 * Each request is carried out at most once: remember each reply under
 * (client address, request id), and answer a repeated request with the
 * remembered reply without executing it again. Refuse oversize requests;
 * never trust a truncated one. Read lessons/lesson-09/README.md first
 * ("The server: each request once", "A size limit").
 *
 * Test:    deno task test lesson-09
 *
 * @module
 */

import {
  encodeReply,
  MAX_REQUEST_BYTES,
  parseRequest,
  type Reply,
  type Request,
  requestId,
} from "./protocol.ts";

/** How many recent replies the server remembers by default. */
export const DEFAULT_CACHE_SIZE = 1024;

/** Where the server binds and how it behaves. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Replies remembered for repeated requests (default {@linkcode DEFAULT_CACHE_SIZE}). */
  cacheSize?: number;
  /** Largest request accepted (default {@linkcode MAX_REQUEST_BYTES}). */
  maxRequestBytes?: number;
  /** Called with one line per request. */
  log?: (line: string) => void;
}

/** A running counter server. */
export interface CounterServer {
  /** The socket name it is bound to. */
  readonly addr: Deno.NetAddr;
  /** Settles once the loop has ended after {@linkcode CounterServer.close}. */
  readonly done: Promise<void>;
  /** How many requests were carried out (repeats answered from the cache do not count). */
  readonly executed: number;
  /** Stops the server and closes its socket. */
  close(): void;
}

/**
 * Starts the server: `INCR name` adds one to a counter and answers the new
 * value, `GET name` answers it (0 if unknown); a repeated (address, id) is
 * answered from the cache; a request over the size limit gets
 * `ERR too large`, one that does not parse `ERR bad request`; a datagram
 * without an id is ignored. ("The server: each request once", "A size limit")
 */
export function startCounterServer(options: ServerOptions = {}): CounterServer {
  // TODO: bind (default 127.0.0.1, port 0); a Map of counters; a Map cache "host:port id" -> reply bytes,
  //       deleting the oldest entry (the Map's first key) past cacheSize.
  // TODO: loop: receive into a buffer of maxRequestBytes + 1; requestId() or skip; cache hit → resend;
  //       else too large / parseRequest / execute, remember, send.
  // TODO: return { addr, done, get executed(), close } like lesson 03's server.
  throw new Error("not implemented: startCounterServer");
}
