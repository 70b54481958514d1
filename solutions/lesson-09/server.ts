/**
 * Lesson 09 — An idempotent counter server over UDP (reference solution).
 *
 * Each request is carried out at most once: the reply is remembered under
 * (client address, request id), and a repeated request (a client's re-send,
 * or a duplicate the network made) gets the remembered reply without being
 * executed again. Oversize requests are refused, never truncated.
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

const decoder = new TextDecoder();

/**
 * Starts the server: `INCR name` adds one to a counter and answers the new
 * value, `GET name` answers it; a repeated request is answered from the
 * cache; a request over the size limit gets `ERR too large`, one that does
 * not parse `ERR bad request`, and a datagram without an id is ignored.
 *
 * @example
 * ```ts
 * import { startCounterServer } from "./server.ts";
 * const server = startCounterServer();
 * console.log(server.addr.port);
 * server.close();
 * await server.done;
 * ```
 */
export function startCounterServer(options: ServerOptions = {}): CounterServer {
  const socket = Deno.listenDatagram({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "udp",
  });
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const maxBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const counters = new Map<string, number>();
  const cache = new Map<string, Uint8Array>();
  let executed = 0;
  let closing = false;

  function execute(request: Request): Reply {
    executed++;
    const value = (counters.get(request.name) ?? 0) + (request.op === "INCR" ? 1 : 0);
    counters.set(request.name, value);
    return { id: request.id, ok: true, value };
  }

  function remember(key: string, reply: Uint8Array): void {
    cache.set(key, reply);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  }

  async function loop(): Promise<void> {
    const buffer = new Uint8Array(maxBytes + 1);
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
      const id = requestId(data);
      if (id === undefined) continue; // nobody to answer
      const key = `${from.hostname}:${from.port} ${id}`;
      let reply = cache.get(key);
      const repeated = reply !== undefined;
      if (!reply) {
        const request = data.length > maxBytes ? undefined : parseRequest(data);
        reply = encodeReply(
          request ? execute(request) : {
            id,
            ok: false,
            reason: data.length > maxBytes ? "too large" : "bad request",
          },
        );
        remember(key, reply);
      }
      options.log?.(
        `${from.hostname}:${from.port} ${JSON.stringify(decoder.decode(data.subarray(0, 80)))} -> ${
          decoder.decode(reply)
        }${repeated ? " (repeat: answered from the cache)" : ""}`,
      );
      try {
        await socket.send(reply, from);
      } catch (error) {
        if (closing) return;
        throw error;
      }
    }
  }

  const done = loop();
  return {
    addr: socket.addr as Deno.NetAddr,
    done,
    get executed() {
      return executed;
    },
    close() {
      if (closing) return;
      closing = true;
      socket.close();
    },
  };
}
