/**
 * Lesson 09 — A counter client that survives loss, duplication and
 * reordering (reference solution).
 *
 * Each call gets a fresh random request id and is re-sent, byte for byte,
 * after waits that grow by a factor until the next would exceed a limit.
 * Only a reply from the server's address with this call's id counts: stale
 * replies to earlier calls (a late duplicate) are skipped.
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

/** The server never answered: every wait ran out. */
export class ServerDownError extends Error {
  /** How many times the request was sent. */
  readonly attempts: number;

  /**
   * @example
   * ```ts
   * import { ServerDownError } from "./client.ts";
   * new ServerDownError("I think the server is down", 5).attempts; // 5
   * ```
   */
  constructor(message: string, attempts: number) {
    super(message);
    this.name = "ServerDownError";
    this.attempts = attempts;
  }
}

/** The server answered `ERR <reason>`. */
export class ServerError extends Error {
  /** The reason the server gave. */
  readonly reason: string;

  /**
   * @example
   * ```ts
   * import { ServerError } from "./client.ts";
   * new ServerError("too large").reason; // "too large"
   * ```
   */
  constructor(reason: string) {
    super(`the server refused the request: ${reason}`);
    this.name = "ServerError";
    this.reason = reason;
  }
}

/** A request longer than the limit: refused before sending. */
export class RequestTooLargeError extends Error {
  /** The request's size in bytes. */
  readonly size: number;
  /** The limit. */
  readonly limit: number;

  /**
   * @example
   * ```ts
   * import { RequestTooLargeError } from "./client.ts";
   * new RequestTooLargeError(600, 512).message; // "a request of 600 bytes is over the limit of 512"
   * ```
   */
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
 * The default timer: resolves after `ms`, or at once when `signal` aborts.
 *
 * @example
 * ```ts
 * import { sleep } from "./client.ts";
 * await sleep(1, new AbortController().signal);
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener("abort", done);
  });
}

/** A client of one counter server, on its own socket. Create with {@linkcode CounterClient.open}. */
export class CounterClient implements Disposable {
  readonly #socket: Deno.DatagramConn;
  readonly #server: Deno.NetAddr;
  readonly #options: Required<ClientOptions>;
  #pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  #closed = false;
  /** The client's own socket name (127.0.0.1 and a port the OS picked). */
  readonly local: Deno.NetAddr;

  private constructor(server: Deno.NetAddr, options: ClientOptions) {
    this.#socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
    this.#server = server;
    this.#options = {
      initialMs: options.initialMs ?? 100,
      factor: options.factor ?? 2,
      limitMs: options.limitMs ?? 2000,
      sleep: options.sleep ?? sleep,
      maxRequestBytes: options.maxRequestBytes ?? MAX_REQUEST_BYTES,
    };
    this.local = this.#socket.addr as Deno.NetAddr;
  }

  /**
   * Opens a client for `server`.
   *
   * @example
   * ```ts
   * import { CounterClient } from "./client.ts";
   * using client = CounterClient.open({ transport: "udp", hostname: "127.0.0.1", port: 1060 });
   * ```
   */
  static open(server: Deno.NetAddr, options: ClientOptions = {}): CounterClient {
    return new CounterClient(server, options);
  }

  /**
   * Sends one request (re-sending with backoff) and returns the value the
   * server answered. Throws {@linkcode RequestTooLargeError} before sending,
   * {@linkcode ServerError} for an `ERR` reply, {@linkcode ServerDownError}
   * when every wait ran out.
   *
   * @example
   * ```ts
   * import { CounterClient } from "./client.ts";
   * import { startCounterServer } from "./server.ts";
   * const server = startCounterServer();
   * using client = CounterClient.open(server.addr);
   * await client.call("INCR", "visits"); // 1
   * server.close();
   * await server.done;
   * ```
   */
  async call(op: Operation, name: string): Promise<number> {
    const id = newRequestId();
    const request = encodeRequest({ id, op, name });
    const { initialMs, factor, limitMs, maxRequestBytes } = this.#options;
    if (request.length > maxRequestBytes) {
      throw new RequestTooLargeError(request.length, maxRequestBytes);
    }
    let wait = initialMs;
    let attempts = 0;
    while (true) {
      await this.#socket.send(request, this.#server);
      attempts++;
      const reply = await this.#replyTo(id, wait);
      if (reply) {
        if (!reply.ok) throw new ServerError(reply.reason);
        return reply.value;
      }
      wait *= factor;
      if (wait > limitMs) {
        throw new ServerDownError(
          `no reply from ${this.#server.hostname}:${this.#server.port} after ${attempts} ` +
            `attempts: I think the server is down`,
          attempts,
        );
      }
    }
  }

  /**
   * `INCR name`: adds one, returns the new value.
   *
   * @example
   * ```ts ignore
   * await client.increment("visits"); // 1, then 2, …
   * ```
   */
  increment(name: string): Promise<number> {
    return this.call("INCR", name);
  }

  /**
   * `GET name`: the counter's value (0 if never incremented).
   *
   * @example
   * ```ts ignore
   * await client.get("visits"); // 2
   * ```
   */
  get(name: string): Promise<number> {
    return this.call("GET", name);
  }

  /** The reply to request `id` from the server, or undefined once `ms` have passed. */
  async #replyTo(id: string, ms: number): Promise<Reply | undefined> {
    const stop = new AbortController();
    const timeout = this.#options.sleep(ms, stop.signal).then(() => "timeout" as const);
    try {
      while (true) {
        this.#pending ??= this.#socket.receive(new Uint8Array(MAX_REQUEST_BYTES + 1));
        const next = await Promise.race([this.#pending, timeout]);
        if (next === "timeout") return undefined;
        this.#pending = undefined;
        const [data, sender] = next;
        const from = sender as Deno.NetAddr;
        if (from.hostname !== this.#server.hostname || from.port !== this.#server.port) continue;
        const reply = parseReply(data);
        if (reply?.id === id) return reply;
        // a stale reply (to an earlier call, or a duplicate): skip it
      }
    } finally {
      stop.abort();
    }
  }

  /** Closes the socket; a receive still pending is settled quietly. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.catch(() => {});
    this.#socket.close();
  }

  /** Same as {@linkcode CounterClient.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Sends `requests` INCR requests one after another from one client and
 * reports the rate: a baseline for the request/response speed of UDP on
 * this machine.
 *
 * @example
 * ```ts
 * import { benchmark } from "./client.ts";
 * import { startCounterServer } from "./server.ts";
 * const server = startCounterServer();
 * const result = await benchmark(server.addr, { requests: 100 });
 * server.close();
 * await server.done;
 * result.requests; // 100
 * ```
 */
export async function benchmark(
  server: Deno.NetAddr,
  options: { requests: number; name?: string; client?: ClientOptions },
): Promise<BenchmarkResult> {
  using client = CounterClient.open(server, options.client);
  const started = performance.now();
  for (let i = 0; i < options.requests; i++) await client.increment(options.name ?? "benchmark");
  const ms = performance.now() - started;
  return { requests: options.requests, ms, perSecond: options.requests / (ms / 1000) };
}
