/**
 * A deterministic UDP fault proxy. Clients send to the relay's address; the
 * relay forwards each datagram to the server, and each reply back to the
 * client (from the relay's own address, the one the client asked), applying a
 * plan that drops, duplicates, delays or holds back datagrams by their index.
 * Loss and reordering come from the plan (or a seed), never from chance, and
 * every datagram is recorded with its time for assertions and transcripts.
 * The relay's side towards the server accepts datagrams from the server
 * only: anything else reaching it is a stranger, recorded in the wire
 * transcript and never passed on as a reply.
 *
 * @module
 */

import { type Awaiting, pause, within } from "./deadline.ts";
import type { Sleep } from "./manual_clock.ts";
import { seeded } from "./random.ts";
import { describe } from "./bytes.ts";
import { hostPort, wire } from "./wire.ts";
import { isFrom, recordStranger } from "./udp.ts";

/** Which way a datagram travels through the relay. */
export type Direction = "request" | "reply";

/**
 * What to do with one datagram: pass it on; drop it; pass it on twice; hold it
 * until the next datagram in the same direction has been passed on (a
 * deterministic reordering); or pass it on after a delay.
 */
export type Action = "forward" | "drop" | "duplicate" | "hold" | { delayMs: number };

/** Decides the fate of the `index`-th datagram (from 0) in a direction. */
export type Plan = (datagram: { direction: Direction; index: number; data: Uint8Array }) => Action;

/** One datagram as the relay saw it. */
export interface RelayEvent {
  /** Milliseconds since the relay opened. */
  at: number;
  /** Which way it travelled. */
  direction: Direction;
  /** Its index in that direction, from 0. */
  index: number;
  /** The payload. */
  data: Uint8Array;
  /** The client it came from (requests) or went to (replies). */
  client: Deno.NetAddr;
  /** What the plan did with it. */
  action: Action;
}

/**
 * Passes everything on.
 *
 * @example
 * ```ts
 * import { forwardAll } from "./udp_relay.ts";
 * forwardAll({ direction: "request", index: 0, data: new Uint8Array() }); // "forward"
 * ```
 */
export const forwardAll: Plan = () => "forward";

/**
 * Drops the first `count` datagrams in `direction`, then passes the rest on.
 *
 * @example
 * ```ts
 * import { dropFirst } from "./udp_relay.ts";
 * const plan = dropFirst(2);
 * plan({ direction: "request", index: 1, data: new Uint8Array() }); // "drop"
 * ```
 */
export function dropFirst(count: number, direction: Direction = "request"): Plan {
  return (d) => d.direction === direction && d.index < count ? "drop" : "forward";
}

/**
 * Drops every datagram in `direction` (a server that is down, or deaf).
 *
 * @example
 * ```ts
 * import { dropAll } from "./udp_relay.ts";
 * dropAll()({ direction: "request", index: 7, data: new Uint8Array() }); // "drop"
 * ```
 */
export function dropAll(direction: Direction = "request"): Plan {
  return (d) => d.direction === direction ? "drop" : "forward";
}

/**
 * Applies `actions[i]` to the i-th datagram in `direction`; later ones are forwarded.
 *
 * @example
 * ```ts
 * import { script } from "./udp_relay.ts";
 * const plan = script(["hold", "forward"]);
 * plan({ direction: "request", index: 0, data: new Uint8Array() }); // "hold"
 * ```
 */
export function script(actions: Action[], direction: Direction = "request"): Plan {
  return (d) => d.direction === direction ? actions[d.index] ?? "forward" : "forward";
}

/**
 * Drops each datagram in `direction` with probability `p`, from a seeded
 * generator: the same seed always drops the same datagrams.
 *
 * @example
 * ```ts
 * import { seededLoss } from "./udp_relay.ts";
 * const plan = seededLoss(7, 0.5);
 * ```
 */
export function seededLoss(seed: number, p: number, direction: Direction = "request"): Plan {
  const random = seeded(seed);
  return (d) => d.direction === direction && random() < p ? "drop" : "forward";
}

/** The fault proxy. Create with {@linkcode UdpRelay.open}. */
export class UdpRelay implements Disposable {
  readonly #front: Deno.DatagramConn;
  readonly #upstream: Deno.NetAddr;
  readonly #plan: Plan;
  readonly #sides = new Map<string, { socket: Deno.DatagramConn; client: Deno.NetAddr }>();
  readonly #held: Record<Direction, (() => Promise<void>)[]> = { request: [], reply: [] };
  readonly #counts: Record<Direction, number> = { request: 0, reply: 0 };
  readonly #started = performance.now();
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  /** Datagrams dropped or held so far, and how many of them a timer has already ended on. */
  #losses = 0;
  #lossesUsed = 0;
  readonly #lossWaiters = new Set<() => void>();
  /** Every datagram seen, in order. */
  readonly events: RelayEvent[] = [];
  /** Where clients send: the relay's own address. */
  readonly addr: Deno.NetAddr;

  private constructor(front: Deno.DatagramConn, upstream: Deno.NetAddr, plan: Plan) {
    this.#front = front;
    this.#upstream = upstream;
    this.#plan = plan;
    this.addr = front.addr as Deno.NetAddr;
    this.#loops.push(this.#pump(front, "request"));
  }

  /**
   * Opens a relay on 127.0.0.1, port 0, in front of `upstream`.
   *
   * @example
   * ```ts
   * import { UdpRelay, dropFirst } from "./udp_relay.ts";
   * import { UdpPeer } from "./udp.ts";
   * using server = UdpPeer.open();
   * using relay = UdpRelay.open(server.addr, dropFirst(1));
   * ```
   */
  static open(upstream: Deno.NetAddr, plan: Plan = forwardAll): UdpRelay {
    return new UdpRelay(
      Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" }),
      upstream,
      plan,
    );
  }

  /** The datagrams seen in one direction. */
  seen(direction: Direction): RelayEvent[] {
    return this.events.filter((e) => e.direction === direction);
  }

  /**
   * Waits (bounded) until `count` datagrams have been seen in `direction`.
   *
   * @example
   * ```ts ignore
   * await relay.waitFor(3, "request", { awaiting: "the third send", section });
   * ```
   */
  async waitFor(count: number, direction: Direction, wait: Awaiting): Promise<RelayEvent[]> {
    const reached = async () => {
      while (this.seen(direction).length < count) await new Promise<void>((r) => this.#wake = r);
      return this.seen(direction);
    };
    return await within(reached(), wait); // the failure ends with the wire transcript (wire.ts)
  }

  /**
   * A re-send timer for the one client behind this relay that ends a wait as
   * soon as the relay has dropped or held back a datagram that no earlier
   * wait ended on: each loss ends exactly one wait, so a client re-sends once
   * per loss without waiting out real time. A wait with no loss to end it
   * lasts until its signal aborts (the client's reply came): no real timer,
   * so a loaded machine cannot end a wait early, add a re-send, and shift
   * which datagrams a seeded plan drops. A client whose reply never comes
   * without a loss is left waiting, for the test's bound to catch. Use it
   * for one client at a time.
   *
   * @example
   * ```ts ignore
   * using relay = UdpRelay.open(server.addr, dropFirst(2));
   * using client = CounterClient.open(relay.addr, { sleep: relay.lossTimer() });
   * ```
   */
  lossTimer(): Sleep {
    return (_ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        if (this.#losses > this.#lossesUsed) {
          this.#lossesUsed++;
          return resolve();
        }
        const finish = () => {
          signal.removeEventListener("abort", finish);
          this.#lossWaiters.delete(onLoss);
          resolve();
        };
        const onLoss = () => {
          if (this.#losses <= this.#lossesUsed) return;
          this.#lossesUsed++;
          finish();
        };
        signal.addEventListener("abort", finish);
        this.#lossWaiters.add(onLoss);
      });
  }

  /**
   * The exchange so far, one line per datagram, for failure messages.
   *
   * @example
   * ```ts ignore
   * console.log(relay.transcript());
   * ```
   */
  transcript(): string {
    if (!this.events.length) return "  wire: nothing crossed the relay";
    return this.events.map((e) => {
      const arrow = e.direction === "request"
        ? `${hostPort(e.client)} → server`
        : `server → ${hostPort(e.client)}`;
      const action = typeof e.action === "string" ? e.action : `delay ${e.action.delayMs} ms`;
      return `  wire: +${e.at.toFixed(0).padStart(5)} ms  ${arrow}  ${
        describe(e.data)
      }  [${action}]`;
    }).join("\n");
  }

  async #pump(
    socket: Deno.DatagramConn,
    direction: Direction,
    client?: Deno.NetAddr,
  ): Promise<void> {
    while (true) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await socket.receive(new Uint8Array(65536));
      } catch {
        return; // closed
      }
      if (direction === "reply" && !isFrom(from, this.#upstream)) {
        recordStranger(from, socket.addr, data, this.#upstream);
        continue;
      }
      const peer = client ?? (from as Deno.NetAddr);
      const index = this.#counts[direction]++;
      const action = this.#plan({ direction, index, data });
      this.events.push({
        at: performance.now() - this.#started,
        direction,
        index,
        data,
        client: peer,
        action,
      });
      this.#wake?.();
      if (action === "drop" || action === "hold") {
        this.#losses++;
        for (const waiter of [...this.#lossWaiters]) waiter();
      }
      const upstream = hostPort(this.#upstream);
      wire.record({
        transport: "udp",
        from: direction === "request" ? hostPort(peer) : upstream,
        to: direction === "request" ? upstream : hostPort(peer),
        data,
        note: `via the relay: ${
          typeof action === "string" ? action : `delayed ${action.delayMs} ms`
        }`,
      });
      const send = () => this.#deliver(direction, peer, data);
      if (action === "drop") continue;
      if (action === "hold") {
        this.#held[direction].push(send);
        continue;
      }
      if (typeof action === "object") {
        pause(action.delayMs, this.#stop.signal).then(() => this.#closed ? undefined : send())
          .catch(() => {});
        continue;
      }
      await send();
      if (action === "duplicate") await send();
      for (const release of this.#held[direction].splice(0)) await release();
    }
  }

  async #deliver(direction: Direction, client: Deno.NetAddr, data: Uint8Array): Promise<void> {
    try {
      if (direction === "reply") {
        await this.#front.send(data, client);
        return;
      }
      const key = hostPort(client);
      let side = this.#sides.get(key);
      if (!side) {
        const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
        side = { socket, client };
        this.#sides.set(key, side);
        this.#loops.push(this.#pump(socket, "reply", client));
      }
      await side.socket.send(data, this.#upstream);
    } catch {
      // the relay was closed meanwhile
    }
  }

  /** Closes every socket of the relay and waits for its loops to end. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    this.#front.close();
    for (const side of this.#sides.values()) side.socket.close();
    await Promise.all(this.#loops);
  }

  /** Closes the relay; with `await using`, also waits for its loops. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Closes the relay's sockets (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}
