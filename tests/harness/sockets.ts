/**
 * Bare sockets and ports a test hands to the code under test: a UDP socket
 * that `using` closes (Deno's `DatagramConn` is not disposable) and, if
 * told whom it talks to, receives from that peer only; and a port that
 * nobody holds, for code that must bind a given port or for a connection
 * that must be refused.
 *
 * @module
 */

import { isFrom, type Peer, recordStranger } from "./udp.ts";

/** Where to bind a UDP socket: 127.0.0.1, port 0 and no `reuseAddress` unless given. */
export interface UdpSocketOptions {
  /** The address to bind (default 127.0.0.1). */
  hostname?: string;
  /** The port to bind (default 0: the OS picks one). */
  port?: number;
  /** Let other sockets bind the same port too (SO_REUSEADDR). */
  reuseAddress?: boolean;
  /**
   * Receive only from this peer: `receive()` records a datagram from anyone
   * else in the wire transcript as a stranger and waits for the next one.
   */
  from?: Peer;
}

/**
 * Binds a UDP socket, closed by `using` at the end of the block.
 *
 * @example
 * ```ts
 * import { openUdpSocket } from "./sockets.ts";
 * using socket = openUdpSocket();
 * (socket.addr as Deno.NetAddr).port > 0; // true
 * ```
 */
export function openUdpSocket(options: UdpSocketOptions = {}): Deno.DatagramConn & Disposable {
  const socket = Deno.listenDatagram({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "udp",
    reuseAddress: options.reuseAddress ?? false,
  });
  const from = options.from;
  if (from) {
    const receive = socket.receive.bind(socket);
    // An own property: the frozen prototype's `receive` cannot be assigned over.
    Object.defineProperty(socket, "receive", {
      value: async (buffer?: Uint8Array): Promise<[Uint8Array, Deno.Addr]> => {
        while (true) {
          const got = await receive(buffer);
          if (isFrom(got[1], from)) return got;
          recordStranger(got[1], socket.addr, got[0], from);
        }
      },
    });
  }
  Object.defineProperty(socket, Symbol.dispose, { value: () => socket.close() });
  return socket as Deno.DatagramConn & Disposable;
}

/**
 * A port nobody holds on `hostname` (default 127.0.0.1) for `transport`
 * (default TCP): bound once on port 0 WITHOUT `reuseAddress`, so the OS picks
 * a port no socket uses, shared or not, then released. (Port 0 WITH
 * `reuseAddress` may hand out a port another reusing socket already holds.)
 * Nothing listens there afterwards, so a TCP connection to it is refused.
 *
 * @example
 * ```ts
 * import { unusedPort } from "./sockets.ts";
 * const port = unusedPort();
 * await Deno.connect({ hostname: "127.0.0.1", port }).catch((e) => e.name); // "ConnectionRefused"
 * ```
 */
export function unusedPort(
  options: { transport?: "tcp" | "udp"; hostname?: string } = {},
): number {
  const hostname = options.hostname ?? "127.0.0.1";
  const probe = options.transport === "udp"
    ? Deno.listenDatagram({ hostname, port: 0, transport: "udp" })
    : Deno.listen({ hostname, port: 0 });
  const { port } = probe.addr as Deno.NetAddr;
  probe.close();
  return port;
}
