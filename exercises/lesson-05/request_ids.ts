/**
 * Lesson 05 — Request IDs.
 *
 * Each request carries a random 32-bit ID in front of its payload; the
 * server copies the ID into its reply; the client accepts only the reply
 * that carries its request's ID, from the server it asked (use your
 * connectUdp from connected.ts). Read lessons/lesson-05/README.md first.
 *
 * ```text
 * byte 0        1        2        3        4 ...
 *      +--------+--------+--------+--------+-------------------------------+
 *      |  request ID (32 bits, big-endian) | payload (any number of bytes) |
 *      +--------+--------+--------+--------+-------------------------------+
 * ```
 *
 * Test:    deno task test lesson-05
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

/**
 * A fresh request ID: 32 random bits from crypto.getRandomValues.
 * ("Random, not sequential")
 */
export function randomId(): number {
  // TODO: one random 32-bit unsigned number from the cryptographic source.
  throw new Error("not implemented: randomId");
}

/**
 * Builds one message: the 4-byte ID big-endian, then the payload (a string
 * as UTF-8). ("The wire format")
 */
export function encodeMessage(id: number, payload: string | Uint8Array): Uint8Array {
  // TODO: a Uint8Array of ID_BYTES + the payload's byte length (encode a string first);
  //       a DataView writes the ID (setUint32).
  throw new Error("not implemented: encodeMessage");
}

/**
 * Takes a message apart, or returns `undefined` when it is shorter than
 * ID_BYTES. ("The wire format")
 */
export function decodeMessage(datagram: Uint8Array): Message | undefined {
  // TODO: check the length; read the ID with a DataView (mind byteOffset); the rest is payload.
  throw new Error("not implemented: decodeMessage");
}

/**
 * Opens a client tied to `server` that sends each request under a new ID and
 * returns the payload of the reply with that ID, ignoring stale, duplicated,
 * forged and too-short ones. ("Matching replies to requests")
 */
export function openClient(server: Deno.NetAddr, options: IdClientOptions = {}): IdClient {
  // TODO: connectUdp(server) filters by address; nextId defaults to randomId.
  // TODO: request(payload): a new ID, send encodeMessage(id, payload), then receive until
  // TODO:   a datagram decodes AND carries that ID; return its payload.
  // TODO: close() and [Symbol.dispose] close the connected socket.
  throw new Error("not implemented: openClient");
}

/**
 * Answers each request with its ID, then `Your data was N bytes long` (N =
 * the payload's bytes, the ID not counted); skips datagrams too short to
 * hold an ID. Runs until `close()`. ("The server side")
 */
export function startServer(options: ServerOptions = {}): UdpServer {
  // TODO: bind (hostname default 127.0.0.1, port default 0); loop on receive (MAX_DATAGRAM).
  // TODO: decodeMessage; skip undefined; reply encodeMessage(id, text) to the sender.
  // TODO: close() closes the socket; the loop then ends and `done` settles.
  throw new Error("not implemented: startServer");
}
