/**
 * A UDP peer for tests: a loopback socket on an OS-chosen port whose every
 * receive is bounded, which records what it sent and received, and which
 * closes cleanly (also via `using`).
 *
 * @module
 */

import { toBytes } from "./bytes.ts";
import { type Awaiting, pause, within } from "./deadline.ts";
import { hostPort, wire } from "./wire.ts";

/** One datagram as the peer saw it. */
export interface Datagram {
  /** The payload. */
  data: Uint8Array;
  /** Who sent it (for received datagrams) or where it went (for sent ones). */
  addr: Deno.NetAddr;
}

/** A test's own UDP socket. Create with {@linkcode UdpPeer.open}. */
export class UdpPeer implements Disposable {
  readonly #socket: Deno.DatagramConn;
  #pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  #closed = false;
  /** The address the OS gave this peer. */
  readonly addr: Deno.NetAddr;

  private constructor(socket: Deno.DatagramConn) {
    this.#socket = socket;
    this.addr = socket.addr as Deno.NetAddr;
  }

  /**
   * Binds a peer to `hostname` (default 127.0.0.1) on port 0.
   *
   * @example
   * ```ts
   * import { UdpPeer } from "./udp.ts";
   * using peer = UdpPeer.open();
   * peer.addr.port > 0; // true
   * ```
   */
  static open(hostname = "127.0.0.1"): UdpPeer {
    return new UdpPeer(Deno.listenDatagram({ hostname, port: 0, transport: "udp" }));
  }

  /**
   * Sends one datagram (a string is sent as UTF-8).
   *
   * @example
   * ```ts
   * import { UdpPeer } from "./udp.ts";
   * using a = UdpPeer.open();
   * using b = UdpPeer.open();
   * await a.send("hello", b.addr);
   * ```
   */
  async send(data: string | Uint8Array, to: Deno.NetAddr): Promise<void> {
    const bytes = toBytes(data);
    wire.record({ transport: "udp", from: hostPort(this.addr), to: hostPort(to), data: bytes });
    await this.#socket.send(bytes, to);
  }

  /**
   * Receives the next datagram, failing the test if none arrives in time.
   * A datagram that arrives after a timeout is kept for the next call.
   *
   * @example
   * ```ts
   * import { UdpPeer } from "./udp.ts";
   * using a = UdpPeer.open();
   * using b = UdpPeer.open();
   * await a.send("hello", b.addr);
   * const got = await b.receive({ awaiting: "hello", section: { lesson: "lesson-03", heading: "Sockets" } });
   * ```
   */
  async receive(wait: Awaiting): Promise<Datagram> {
    this.#pending ??= this.#socket.receive(new Uint8Array(65536));
    const [data, addr] = await within(this.#pending, wait);
    this.#pending = undefined;
    wire.record({ transport: "udp", from: hostPort(addr), to: hostPort(this.addr), data });
    return { data, addr: addr as Deno.NetAddr };
  }

  /**
   * Waits `ms` milliseconds and returns whatever arrived meanwhile (possibly
   * nothing). Used where the right behaviour is silence, e.g. a client that
   * must not re-send, or a server that must ignore a stray datagram.
   *
   * @example
   * ```ts
   * import { UdpPeer } from "./udp.ts";
   * using peer = UdpPeer.open();
   * const extra = await peer.collect(20); // []
   * ```
   */
  async collect(ms: number): Promise<Datagram[]> {
    const got: Datagram[] = [];
    const window = pause(ms).then(() => "done" as const);
    while (true) {
      this.#pending ??= this.#socket.receive(new Uint8Array(65536));
      const next = await Promise.race([this.#pending, window]);
      if (next === "done") return got;
      this.#pending = undefined;
      wire.record({
        transport: "udp",
        from: hostPort(next[1]),
        to: hostPort(this.addr),
        data: next[0],
      });
      got.push({ data: next[0], addr: next[1] as Deno.NetAddr });
    }
  }

  /** Closes the socket; a receive still pending is settled quietly. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.catch(() => {});
    this.#socket.close();
  }

  /** Same as {@linkcode UdpPeer.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
