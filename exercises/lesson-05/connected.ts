/**
 * Lesson 05 — Connected replies.
 *
 * Deno's UDP sockets have no `connect()`. Build what it gives: a socket tied
 * to one peer, whose `send()` needs no address and whose `receive()` returns
 * only datagrams from that exact address (host AND port), skipping everyone
 * else's. Read lessons/lesson-05/README.md first.
 *
 * Test:    deno task test lesson-05
 *
 * @module
 */

/** More than any UDP payload (at most 65,527 bytes; 65,507 over IPv4): a receive buffer this big never truncates. */
export const MAX_DATAGRAM = 65535;

/** A UDP socket that talks to one peer only: Deno's stand-in for a connected UDP socket. */
export interface ConnectedUdp extends Disposable {
  /** This socket's own name (the port is the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** The one address this socket sends to and accepts datagrams from. */
  readonly peer: Deno.NetAddr;
  /** Sends one datagram to the peer (a string is sent as UTF-8). */
  send(data: string | Uint8Array): Promise<void>;
  /** The next datagram from the peer; datagrams from any other address are skipped. */
  receive(): Promise<Uint8Array>;
  /** Closes the socket; a pending `receive()` rejects. Closing twice is harmless. */
  close(): void;
}

/** Where the connected socket binds its own end. */
export interface ConnectOptions {
  /** Local address to bind (default 127.0.0.1); the port is always 0, the OS's choice. */
  hostname?: string;
}

/**
 * Whether two socket addresses are the same: same IP address AND same port.
 * ("Same address means host and port")
 */
export function sameAddress(a: Deno.NetAddr, b: Deno.NetAddr): boolean {
  // TODO: compare both parts of the socket address.
  throw new Error("not implemented: sameAddress");
}

/**
 * Binds a socket (port 0) and ties it to `peer`, sending nothing.
 * ("What connect() does for UDP", "Deno has no connect(): build it")
 */
export function connectUdp(peer: Deno.NetAddr, options: ConnectOptions = {}): ConnectedUdp {
  // TODO: bind with Deno.listenDatagram (hostname default 127.0.0.1, port 0). Send nothing.
  // TODO: send(data): encode strings as UTF-8, send to the peer.
  // TODO: receive(): loop on the socket's receive(); return the first datagram whose
  // TODO:   source is sameAddress as the peer; skip all others.
  // TODO: close() and [Symbol.dispose]: close the socket once (a second call does nothing).
  throw new Error("not implemented: connectUdp");
}
