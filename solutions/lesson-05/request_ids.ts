/**
 * Lesson 05 — Request IDs (reference solution).
 *
 * Each request carries a random 32-bit ID in front of its payload; the
 * server copies the ID into its reply; the client accepts only the reply
 * that carries the ID of the request it is waiting for, from the address it
 * asked (via {@linkcode connectUdp}).
 *
 * ```text
 * byte 0        1        2        3        4 ...
 *      +--------+--------+--------+--------+-------------------------------+
 *      |  request ID (32 bits, big-endian) | payload (any number of bytes) |
 *      +--------+--------+--------+--------+-------------------------------+
 * ```
 *
 * @module
 */

import { connectUdp, MAX_DATAGRAM } from "./connected.ts";

/** How many bytes the request ID takes at the front of every message. */
export const ID_BYTES = 4;

/** One message of the protocol, taken apart. */
export interface Message {
  /** The request ID, 0 to 2³² − 1. */
  id: number;
  /** The bytes after the ID. */
  payload: Uint8Array;
}

/** A client that numbers its requests and matches replies to them. */
export interface IdClient extends Disposable {
  /** The client's own socket name. */
  readonly addr: Deno.NetAddr;
  /**
   * Sends `payload` under a fresh ID and resolves with the payload of the
   * first reply from the server that carries the same ID.
   */
  request(payload: string | Uint8Array): Promise<Uint8Array>;
  /** Closes the socket; a pending request rejects. */
  close(): void;
}

/** How the client makes its IDs. */
export interface IdClientOptions {
  /** Makes the next request ID (default {@linkcode randomId}). Tests pass a fixed list. */
  nextId?: () => number;
}

/** Where the server binds. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
}

/** A running UDP server. */
export interface UdpServer {
  /** The socket name the server is bound to. */
  readonly addr: Deno.NetAddr;
  /** Settles once the server loop has ended after {@linkcode UdpServer.close}. */
  readonly done: Promise<void>;
  /** Stops the loop and closes the socket. */
  close(): void;
}

const encoder = new TextEncoder();

/**
 * A fresh request ID: 32 bits from the operating system's cryptographic
 * random source, so that nobody can guess the next one from the last.
 *
 * @example
 * ```ts
 * import { randomId } from "./request_ids.ts";
 * const id = randomId();
 * Number.isInteger(id) && id >= 0 && id < 2 ** 32; // true
 * ```
 */
export function randomId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/**
 * Builds one message: the 4-byte ID in network byte order (big-endian), then
 * the payload.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./request_ids.ts";
 * encodeMessage(0x01020304, "hi"); // Uint8Array [1, 2, 3, 4, 104, 105]
 * ```
 */
export function encodeMessage(id: number, payload: string | Uint8Array): Uint8Array {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const message = new Uint8Array(ID_BYTES + body.length);
  new DataView(message.buffer).setUint32(0, id);
  message.set(body, ID_BYTES);
  return message;
}

/**
 * Takes a message apart, or returns `undefined` when it is too short to hold
 * an ID.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "./request_ids.ts";
 * decodeMessage(new Uint8Array([1, 2, 3, 4, 104, 105]))?.id; // 0x01020304
 * decodeMessage(new Uint8Array([1, 2])); // undefined
 * ```
 */
export function decodeMessage(datagram: Uint8Array): Message | undefined {
  if (datagram.length < ID_BYTES) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  return { id: view.getUint32(0), payload: datagram.subarray(ID_BYTES) };
}

/**
 * Opens a client tied to `server` (replies from any other address are
 * skipped), which sends each request under a new ID and ignores replies
 * whose ID is not the one it waits for: stale, duplicated or forged ones.
 *
 * @example
 * ```ts
 * import { openClient, startServer } from "./request_ids.ts";
 * const server = startServer();
 * using client = openClient(server.addr);
 * const reply = await client.request("hello");
 * server.close();
 * await server.done;
 * new TextDecoder().decode(reply); // "Your data was 5 bytes long"
 * ```
 */
export function openClient(server: Deno.NetAddr, options: IdClientOptions = {}): IdClient {
  const nextId = options.nextId ?? randomId;
  const conn = connectUdp(server);
  return {
    addr: conn.addr,
    async request(payload) {
      const id = nextId();
      await conn.send(encodeMessage(id, payload));
      while (true) {
        const reply = decodeMessage(await conn.receive());
        if (reply?.id === id) return reply.payload;
      }
    },
    close: () => conn.close(),
    [Symbol.dispose]: () => conn.close(),
  };
}

/**
 * Binds a UDP socket and answers each request with its own ID followed by
 * `Your data was N bytes long`, N being the payload's length (the ID not
 * counted). Datagrams too short to hold an ID get no answer. Runs until
 * `close()`.
 *
 * @example
 * ```ts
 * import { startServer } from "./request_ids.ts";
 * const server = startServer();
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
      const request = decodeMessage(data);
      if (!request) continue;
      const reply = `Your data was ${request.payload.length} bytes long`;
      await socket.send(encodeMessage(request.id, reply), sender as Deno.NetAddr);
    }
  }

  const done = loop();
  return {
    addr: socket.addr as Deno.NetAddr,
    done,
    close() {
      if (closing) return;
      closing = true;
      socket.close();
    },
  };
}
