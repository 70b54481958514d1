/**
 * Lesson 04 — Unreliability: timeouts and backoff (reference solution).
 *
 * The book's udp_remote: the client sends `This is another message` and
 * re-sends the same bytes after each timeout, waiting 0.1 s, then twice as
 * long each time, and gives up ("I think the server is down") once the next
 * wait would pass 2.0 s. The server drops each datagram with probability 0.5
 * and answers the rest with `Your data was N bytes long`.
 * Run it: `deno task run lesson-04 server` and `deno task run lesson-04 client`.
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
 *
 * @example
 * ```ts
 * import { ServerDownError } from "./udp_remote.ts";
 * const e = new ServerDownError([100, 200]);
 * e.message; // "I think the server is down: no reply after 2 tries (waited 0.1, 0.2 s)"
 * ```
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./udp_remote.ts";
 * formatAddr({ transport: "udp", hostname: "127.0.0.1", port: 1060 }); // "127.0.0.1:1060"
 * ```
 */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * The server's reply to a datagram of `byteCount` bytes.
 *
 * @example
 * ```ts
 * import { replyFor } from "./udp_remote.ts";
 * replyFor(23); // "Your data was 23 bytes long"
 * ```
 */
export function replyFor(byteCount: number): string {
  return `Your data was ${byteCount} bytes long`;
}

/**
 * The waits of a backoff, in order: the first wait, then each one `factor`
 * times the last, as long as it is not longer than `limitMs`. After the last
 * one the client gives up. Throws a RangeError when `factor` is not above 1
 * (the waits would never grow, and the client would never give up).
 *
 * @example
 * ```ts
 * import { BOOK_BACKOFF, waitsFor } from "./udp_remote.ts";
 * waitsFor(BOOK_BACKOFF); // [100, 200, 400, 800, 1600]
 * waitsFor({ initialMs: 10, factor: 3, limitMs: 90 }); // [10, 30, 90]
 * ```
 */
export function waitsFor(backoff: Backoff): number[] {
  if (!(backoff.factor > 1)) {
    throw new RangeError(`factor must be greater than 1, got ${backoff.factor}`);
  }
  const waits = [backoff.initialMs];
  let delay = backoff.initialMs * backoff.factor;
  while (delay <= backoff.limitMs) {
    waits.push(delay);
    delay *= backoff.factor;
  }
  return waits;
}

/**
 * A real timer: resolves after `ms` milliseconds, or at once when `signal`
 * aborts, clearing the timer either way.
 *
 * @example
 * ```ts
 * import { sleep } from "./udp_remote.ts";
 * await sleep(5);
 * const stop = new AbortController();
 * const long = sleep(60_000, stop.signal);
 * stop.abort();
 * await long; // settles now, and no timer is left running
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Sends the payload to `server` from one socket (127.0.0.1, port 0) and
 * waits for a reply; after each wait without one it re-sends the same bytes
 * and waits `factor` times longer. Resolves with the first reply; rejects
 * with a {@linkcode ServerDownError} after the last wait of
 * {@linkcode waitsFor}. Closes its socket and cancels its timer either way.
 *
 * @example
 * ```ts ignore
 * import { request } from "./udp_remote.ts";
 * const answer = await request({ transport: "udp", hostname: "127.0.0.1", port: 1060 });
 * console.log(answer.reply, "after", answer.attempts, "tries");
 * ```
 */
export async function request(
  server: Deno.NetAddr,
  options: RequestOptions = {},
): Promise<Answer> {
  const waits = waitsFor({
    initialMs: options.initialMs ?? BOOK_BACKOFF.initialMs,
    factor: options.factor ?? BOOK_BACKOFF.factor,
    limitMs: options.limitMs ?? BOOK_BACKOFF.limitMs,
  });
  const wait = options.sleep ?? sleep;
  const payload = options.payload ?? MESSAGE;
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const local = socket.addr as Deno.NetAddr;
  let pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  try {
    options.log?.(`Client socket name is ${formatAddr(local)}`);
    let attempts = 0;
    for (const ms of waits) {
      options.signal?.throwIfAborted();
      await socket.send(bytes, server);
      attempts++;
      options.log?.(`Waiting up to ${ms / 1000} seconds for a reply`);
      pending ??= socket.receive(new Uint8Array(MAX_DATAGRAM));
      const timer = new AbortController();
      const stop = options.signal ? AbortSignal.any([timer.signal, options.signal]) : timer.signal;
      let got: [Uint8Array, Deno.Addr] | undefined;
      try {
        got = await Promise.race([pending, wait(ms, stop).then(() => undefined)]);
      } finally {
        timer.abort();
      }
      if (got) {
        const [data, from] = got;
        return { reply: decoder.decode(data), from: from as Deno.NetAddr, local, attempts };
      }
    }
    options.signal?.throwIfAborted();
    throw new ServerDownError(waits);
  } finally {
    pending?.catch(() => {});
    socket.close();
  }
}

/**
 * Binds a UDP socket and, for each datagram, draws one number from `random`:
 * below `dropProbability` it drops the datagram (and logs
 * `Pretending to drop packet from HOST:PORT`), otherwise it answers the
 * sender with `Your data was N bytes long`. Runs until `close()`.
 *
 * @example
 * ```ts
 * import { startServer } from "./udp_remote.ts";
 * const server = startServer({ dropProbability: 0 });
 * console.log(server.addr.port); // the port the OS picked
 * server.close();
 * await server.done;
 * ```
 */
export function startServer(options: ServerOptions = {}): UdpServer {
  const socket = Deno.listenDatagram({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "udp",
  });
  const addr = socket.addr as Deno.NetAddr;
  const dropProbability = options.dropProbability ?? 0.5;
  const random = options.random ?? Math.random;
  let closing = false;

  async function loop(): Promise<void> {
    const buffer = new Uint8Array(MAX_DATAGRAM);
    while (true) {
      let data: Uint8Array;
      let sender: Deno.Addr;
      try {
        [data, sender] = await socket.receive(buffer);
      } catch (error) {
        if (closing) return;
        throw error;
      }
      const from = sender as Deno.NetAddr;
      if (random() < dropProbability) {
        options.log?.(`Pretending to drop packet from ${formatAddr(from)}`);
        continue;
      }
      options.log?.(
        `The client at ${formatAddr(from)} says ${JSON.stringify(decoder.decode(data))}`,
      );
      await socket.send(encoder.encode(replyFor(data.length)), from);
    }
  }

  const done = loop();
  return {
    addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      socket.close();
    },
  };
}

/**
 * The program's server role: a lossy server on options.hostname and
 * options.port that logs `Listening at HOST:PORT`, until the signal aborts.
 * Tests may also pass `random` and `dropProbability`.
 *
 * @example
 * ```ts
 * import { server } from "./udp_remote.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(
  options: ProgramOptions & Pick<ServerOptions, "random" | "dropProbability">,
): Promise<void> {
  const running = startServer(options);
  options.log(`Listening at ${formatAddr(running.addr)}`);
  if (options.signal.aborted) running.close();
  options.signal.addEventListener("abort", () => running.close(), { once: true });
  await running.done;
}

/**
 * The program's client role: {@linkcode request} with the book's timing to
 * options.hostname:options.port, logging each wait, then
 * `The server says "Your data was 23 bytes long"`. Rejects with a
 * {@linkcode ServerDownError} when no reply comes.
 *
 * @example
 * ```ts ignore
 * import { client } from "./udp_remote.ts";
 * await client({ hostname: "127.0.0.1", port: 1060, log: console.log, signal: new AbortController().signal });
 * ```
 */
export async function client(options: ProgramOptions): Promise<void> {
  const to: Deno.NetAddr = { transport: "udp", hostname: options.hostname, port: options.port };
  const { reply } = await request(to, { log: options.log, signal: options.signal });
  options.log(`The server says ${JSON.stringify(reply)}`);
}
