/**
 * A UDP peer for tests: a loopback socket on an OS-chosen port whose every
 * receive is bounded, which records what it sent and received, and which
 * closes cleanly (also via `using`). A receive accepts only the peer it
 * expects: the one it names (`from`, or {@linkcode UdpPeer.expectFrom}),
 * or by default every address this peer has sent to. A datagram from anyone
 * else is a stranger, recorded in the wire transcript and never taken as the
 * answer, so another program on the same loopback cannot answer for the
 * code under test. A peer that has sent nothing and names nobody accepts
 * anyone (it is waiting for the code under test to speak first).
 *
 * @module
 */

import { toBytes } from "./bytes.ts";
import { type Awaiting, pause, within } from "./deadline.ts";
import type { Section } from "./failure.ts";
import { hostPort, wire } from "./wire.ts";

/** One datagram as the peer saw it. */
export interface Datagram {
  /** The payload. */
  data: Uint8Array;
  /** Who sent it (for received datagrams) or where it went (for sent ones). */
  addr: Deno.NetAddr;
}

/** Whom a receive accepts datagrams from: one address, or (without a port) any port on a host. */
export interface Peer {
  /** The host; a wildcard (`0.0.0.0`, `::`) stands for any loopback host. */
  hostname: string;
  /** The port; 0 or absent: any. */
  port?: number;
}

/** A bounded wait for a datagram, optionally only from an expected peer. */
export interface Receiving extends Awaiting {
  /** Accept only datagrams from this peer; others are recorded as strangers and skipped. */
  from?: Peer;
}

/**
 * Whether `addr` is `peer` (any port when `peer` names none; any host when
 * it names a wildcard).
 *
 * @example
 * ```ts
 * import { isFrom } from "./udp.ts";
 * isFrom({ transport: "udp", hostname: "127.0.0.1", port: 5000 }, { hostname: "127.0.0.1" }); // true
 * isFrom({ transport: "udp", hostname: "127.0.0.1", port: 5000 }, { hostname: "127.0.0.1", port: 6000 }); // false
 * ```
 */
export function isFrom(addr: Deno.Addr, peer: Peer): boolean {
  if (addr.transport !== "udp" && addr.transport !== "tcp") return false;
  const anyHost = /^(0\.0\.0\.0|::|\[::\])$/.test(peer.hostname);
  return (anyHost || addr.hostname === peer.hostname) && (!peer.port || addr.port === peer.port);
}

/**
 * Records a datagram from a stranger in the wire transcript, marked as ignored.
 *
 * @example
 * ```ts
 * import { recordStranger } from "./udp.ts";
 * recordStranger(
 *   { transport: "udp", hostname: "127.0.0.1", port: 9 },
 *   { transport: "udp", hostname: "127.0.0.1", port: 5000 },
 *   new Uint8Array([1]),
 *   { hostname: "127.0.0.1", port: 6000 },
 * );
 * ```
 */
export function recordStranger(
  from: Deno.Addr,
  to: Deno.Addr,
  data: Uint8Array,
  expected: Peer | readonly Peer[],
): void {
  const want = [expected].flat().map((p) => p.port ? `${p.hostname}:${p.port}` : p.hostname)
    .join(" or ");
  wire.record({
    transport: "udp",
    from: hostPort(from),
    to: hostPort(to),
    data,
    note: `a stranger, not ${want}: ignored`,
  });
}

/**
 * Whom a datagram sent to `to` is answered by: `to` itself, or for a
 * broadcast or multicast address, whoever holds that port on any host.
 */
function answererOf(to: Deno.NetAddr): Peer {
  const group = /\.255$/.test(to.hostname) || /^(22[4-9]|23\d)\./.test(to.hostname) ||
    /^ff/i.test(to.hostname);
  return group ? { hostname: "0.0.0.0", port: to.port } : { hostname: to.hostname, port: to.port };
}

/** Whether `addr` is any of `peers`. */
function isFromAny(addr: Deno.Addr, peers: readonly Peer[]): boolean {
  return peers.some((peer) => isFrom(addr, peer));
}

/** How many other datagrams {@linkcode UdpPeer.drain} takes before it sends its marker again. */
const DRAIN_RESEND_EVERY = 64;

/** How many markers {@linkcode UdpPeer.drain} sends at most while fewer than `atLeast` came. */
export const DRAIN_ROUNDS = 3;

/** How a {@linkcode UdpPeer.drain} marker starts (a NUL byte: no lesson's protocol sends one). */
const MARKER_PREFIX = "\0drain marker #";

/** A test's own UDP socket. Create with {@linkcode UdpPeer.open}. */
export class UdpPeer implements Disposable {
  readonly #socket: Deno.DatagramConn;
  #pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  #closed = false;
  #drains = 0;
  #expected: Peer | undefined;
  readonly #talkingTo: Peer[] = [];
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
   * Sends one datagram (a string is sent as UTF-8). From then on, a receive
   * that names no peer accepts `to` among the addresses it expects (for a
   * broadcast or multicast `to`: that port on any host).
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
    const answerer = answererOf(to);
    if (!isFromAny({ ...to, ...answerer, transport: "udp" }, this.#talkingTo)) {
      this.#talkingTo.push(answerer);
    }
    await this.#socket.send(bytes, to);
  }

  /** Whom a receive accepts: its own `from`, else expectFrom's, else everyone sent to (or anyone). */
  #accepting(from: Peer | undefined): readonly Peer[] | undefined {
    const peer = from ?? this.#expected;
    if (peer) return [peer];
    return this.#talkingTo.length ? [...this.#talkingTo] : undefined;
  }

  /**
   * From now on, receive only from `peer` unless a receive names another
   * (`undefined`: back to the default, the addresses sent to; anyone at all
   * is `{ hostname: "0.0.0.0" }`). Returns the peer itself.
   *
   * @example
   * ```ts
   * import { UdpPeer } from "./udp.ts";
   * using server = UdpPeer.open();
   * using client = UdpPeer.open().expectFrom(server.addr);
   * ```
   */
  expectFrom(peer: Peer | undefined): this {
    this.#expected = peer;
    return this;
  }

  /**
   * The first datagrams of two clients running at once, one each, bounded;
   * if either client fails first, that failure is the answer.
   *
   * @example
   * ```ts ignore
   * const [first, second] = await fake.receiveFromTwoClients([a, b], section);
   * first.addr.port !== second.addr.port; // each client bound its own port
   * ```
   */
  async receiveFromTwoClients(
    clients: Promise<unknown>[],
    section: Section,
  ): Promise<[Datagram, Datagram]> {
    const watch = Promise.race(clients);
    const first = await this.receive({ awaiting: "the first client's datagram", watch, section });
    const second = await this.receive({ awaiting: "the second client's datagram", watch, section });
    return [first, second];
  }

  /**
   * Receives the next datagram, failing the test if none arrives in time.
   * Only the expected peer is accepted: `from`, else the one given to
   * {@linkcode UdpPeer.expectFrom}, else every address this peer has sent to
   * (a peer that has sent nothing accepts anyone). Datagrams from anyone else
   * are recorded as strangers and skipped. Where the test inspects the
   * source itself, name the host only (`from: { hostname }`: any port) and
   * assert on the port. A datagram that arrives after a timeout is kept for
   * the next call.
   *
   * @example
   * ```ts
   * import { UdpPeer } from "./udp.ts";
   * using a = UdpPeer.open();
   * using b = UdpPeer.open();
   * await a.send("hello", b.addr);
   * const got = await b.receive({
   *   awaiting: "hello",
   *   from: a.addr,
   *   section: { lesson: "lesson-03", heading: "Sockets" },
   * });
   * ```
   */
  async receive(wait: Receiving): Promise<Datagram> {
    const expected = this.#accepting(wait.from);
    let abandoned = false;
    let strangers = 0;
    const next = async (): Promise<Datagram> => {
      while (true) {
        this.#pending ??= this.#socket.receive(new Uint8Array(65536));
        const [data, addr] = await this.#pending;
        if (abandoned) return { data, addr: addr as Deno.NetAddr }; // kept for the next call
        this.#pending = undefined;
        if (this.#isOwnMarker(addr, data)) continue; // a spare copy from an earlier drain()
        if (expected && !isFromAny(addr, expected)) {
          strangers++;
          recordStranger(addr, this.addr, data, expected);
          continue;
        }
        wire.record({ transport: "udp", from: hostPort(addr), to: hostPort(this.addr), data });
        return { data, addr: addr as Deno.NetAddr };
      }
    };
    const receiving = next();
    receiving.catch(() => {}); // a receive abandoned at a timeout settles when the socket closes
    try {
      return await within(receiving, wait);
    } catch (error) {
      if (strangers && error instanceof Error) {
        error.message = error.message.replace(
          "\n",
          `\n  (${strangers} datagram(s) from other addresses were ignored)\n`,
        );
      }
      throw error;
    } finally {
      abandoned = true;
    }
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
   *
   * Only the expected peer is accepted, as for {@linkcode UdpPeer.receive}
   * (`from`, else expectFrom's, else every address sent to); datagrams from
   * anyone else are recorded as strangers and left out.
   */
  async collect(ms: number, from?: Peer): Promise<Datagram[]> {
    const expected = this.#accepting(from);
    const got: Datagram[] = [];
    const window = pause(ms).then(() => "done" as const);
    while (true) {
      this.#pending ??= this.#socket.receive(new Uint8Array(65536));
      const next = await Promise.race([this.#pending, window]);
      if (next === "done") return got;
      this.#pending = undefined;
      if (this.#isOwnMarker(next[1], next[0])) continue; // a spare copy from an earlier drain()
      if (expected && !isFromAny(next[1], expected)) {
        recordStranger(next[1], this.addr, next[0], expected);
        continue;
      }
      wire.record({
        transport: "udp",
        from: hostPort(next[1]),
        to: hostPort(this.addr),
        data: next[0],
      });
      got.push({ data: next[0], addr: next[1] as Deno.NetAddr });
    }
  }

  /**
   * Receives until a datagram for which `isLast` is true arrives (bounded by
   * `wait`), and returns it with every datagram from an expected peer that
   * came before it (strangers are recorded and left out, as for
   * {@linkcode UdpPeer.receive}). Where the right behaviour is silence, this
   * replaces a timed window: send the datagram that must go unanswered, then
   * one that must be answered; a peer that answers in order (one socket, one
   * loop) would have answered the first before the second.
   *
   * @example
   * ```ts ignore
   * await peer.send("junk", server);
   * await peer.send("abcdef01 GET x", server);
   * const { before } = await peer.receiveUntil((d) => d.data[0] === 0x61, { awaiting, section });
   * before.length; // 0: the junk went unanswered
   * ```
   */
  async receiveUntil(
    isLast: (datagram: Datagram) => boolean,
    wait: Receiving,
  ): Promise<{ before: Datagram[]; last: Datagram }> {
    const before: Datagram[] = [];
    const expected = this.#accepting(wait.from);
    let abandoned = false;
    const next = async (): Promise<Datagram> => {
      while (true) {
        this.#pending ??= this.#socket.receive(new Uint8Array(65536));
        const [data, from] = await this.#pending;
        if (abandoned) return { data, addr: from as Deno.NetAddr }; // kept for the next call
        this.#pending = undefined;
        const datagram = { data, addr: from as Deno.NetAddr };
        if (isLast(datagram)) return datagram;
        if (this.#isOwnMarker(from, data)) continue; // a spare copy from an earlier drain()
        if (expected && !isFromAny(from, expected)) {
          recordStranger(from, this.addr, data, expected);
          continue;
        }
        wire.record({ transport: "udp", from: hostPort(from), to: hostPort(this.addr), data });
        before.push(datagram);
      }
    };
    const receiving = next();
    receiving.catch(() => {}); // abandoned at a timeout: settles when the socket closes
    try {
      return { before, last: await within(receiving, wait) };
    } finally {
      abandoned = true;
    }
  }

  /**
   * Everything that reached this peer before now, without waiting out a
   * window: the peer sends itself a marker and receives until the marker is
   * back. Linux's loopback queues datagrams on a socket in the order they
   * were sent, so whatever the code under test sent before this call (its
   * send completed) is ahead of the marker. The fast, order-based form of
   * {@linkcode UdpPeer.collect}, for a client that must have sent nothing
   * more. Only expected peers are kept, as for {@linkcode UdpPeer.receive}.
   *
   * `atLeast`: how many datagrams a correct sender has surely sent by now.
   * Should the marker overtake one of them (possible in principle when the
   * kernel defers delivery under load and the sender changed CPUs), a new
   * marker is sent, up to {@linkcode DRAIN_ROUNDS} in all, so a correct
   * sender is never miscounted; fewer than `atLeast` is then what the sender
   * really sent. Against a sender that floods the socket, the marker is sent
   * again every few datagrams (a full queue drops it), and what the flood
   * sent meanwhile is returned too. Spare marker copies are skipped by every
   * later receive.
   *
   * @example
   * ```ts
   * import { UdpPeer } from "./udp.ts";
   * using peer = UdpPeer.open();
   * const extra = await peer.drain({
   *   awaiting: "the peer's own marker",
   *   section: { lesson: "lesson-03", heading: "Sockets" },
   * }); // []
   * ```
   */
  async drain(wait: Receiving, atLeast = 0): Promise<Datagram[]> {
    const kept: Datagram[] = [];
    const sends: Promise<void>[] = [];
    try {
      for (let round = 0; round < DRAIN_ROUNDS && (round === 0 || kept.length < atLeast); round++) {
        const marker = `${MARKER_PREFIX}${++this.#drains}`;
        const sendMarker = () =>
          sends.push(this.#socket.send(toBytes(marker), this.addr).then(() => {}));
        sendMarker();
        let others = 0;
        const { before } = await this.receiveUntil((d) => {
          if (isFrom(d.addr, this.addr) && new TextDecoder().decode(d.data) === marker) return true;
          // A flooding sender can fill the socket's queue so that the marker is dropped: send it
          // again once some room has been made.
          if (++others % DRAIN_RESEND_EVERY === 0) sendMarker();
          return false;
        }, wait);
        kept.push(...before);
      }
      return kept;
    } finally {
      await Promise.allSettled(sends);
    }
  }

  /** Whether a datagram is one of this peer's own {@linkcode UdpPeer.drain} markers. */
  #isOwnMarker(from: Deno.Addr, data: Uint8Array): boolean {
    return isFrom(from, this.addr) && new TextDecoder().decode(data).startsWith(MARKER_PREFIX);
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
