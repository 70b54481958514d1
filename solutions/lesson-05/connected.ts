/**
 * Lesson 05 — Connected replies (reference solution).
 *
 * Deno's UDP sockets have no `connect()`. This module builds what it gives:
 * a socket tied to one peer, whose `send()` needs no address and whose
 * `receive()` returns only datagrams from that exact address (host AND
 * port), silently skipping everyone else's.
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
  /** Closes the socket; a pending `receive()` rejects. */
  close(): void;
}

/** Where the connected socket binds its own end. */
export interface ConnectOptions {
  /** Local address to bind (default 127.0.0.1); the port is always 0, the OS's choice. */
  hostname?: string;
}

const encoder = new TextEncoder();

/**
 * Whether two socket addresses are the same: same IP address AND same port.
 * Two programs on one machine share the address and differ only by port.
 *
 * @example
 * ```ts
 * import { sameAddress } from "./connected.ts";
 * const a: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 1060 };
 * sameAddress(a, { ...a }); // true
 * sameAddress(a, { ...a, port: 1061 }); // false
 * ```
 */
export function sameAddress(a: Deno.NetAddr, b: Deno.NetAddr): boolean {
  return a.hostname === b.hostname && a.port === b.port;
}

/**
 * Binds a socket (port 0) and ties it to `peer`. Like Python's `connect()` on
 * a UDP socket, this sends nothing: it only records where datagrams go and
 * whose datagrams count. `peer` must be an IP address, not a name.
 *
 * @example
 * ```ts
 * import { connectUdp } from "./connected.ts";
 * const server = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 * using client = connectUdp(server.addr as Deno.NetAddr);
 * await client.send("hello");
 * const [data] = await server.receive(new Uint8Array(100));
 * server.close();
 * data.length; // 5
 * ```
 */
export function connectUdp(peer: Deno.NetAddr, options: ConnectOptions = {}): ConnectedUdp {
  const socket = Deno.listenDatagram({
    hostname: options.hostname ?? "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    socket.close();
  };
  return {
    addr: socket.addr as Deno.NetAddr,
    peer,
    async send(data) {
      await socket.send(typeof data === "string" ? encoder.encode(data) : data, peer);
    },
    async receive() {
      const buffer = new Uint8Array(MAX_DATAGRAM);
      while (true) {
        const [data, from] = await socket.receive(buffer);
        if (sameAddress(from as Deno.NetAddr, peer)) return data.slice();
      }
    },
    close,
    [Symbol.dispose]: close,
  };
}
