/**
 * A count of the receive() calls pending on the code under test's UDP
 * sockets. Deno's UDP sockets share one prototype, so a test can wrap
 * `receive` there for a while and see how many receives the learner's code
 * keeps pending on its socket at once, however it made the socket: a client
 * that starts a new receive() for each wait leaves the earlier ones pending,
 * and they take the datagrams meant for the later one.
 *
 * @module
 */

import { hookMethod } from "./method_hook.ts";

/** While in use, the most receive() calls a UDP socket had pending at once. */
export interface PendingReceives extends Disposable {
  /** The highest count so far, over every socket but the test's own. */
  readonly most: number;
}

/**
 * Wraps receive() on the prototype Deno's UDP sockets share (found on a probe
 * socket), so that every call on a socket not bound to one of `ownPorts` (the
 * test's own) counts as pending until it settles. The caller gets a promise
 * that settles as the real one does.
 *
 * @example
 * ```ts ignore
 * import { countPendingReceives } from "./udp_receives.ts";
 * import { UdpPeer } from "./udp.ts";
 * using fake = UdpPeer.open();
 * using receives = countPendingReceives([fake.addr.port]);
 * // … let the client under test wait, time out and re-send …
 * receives.most; // 1 for a client that keeps one receive() pending across its waits
 * ```
 */
export function countPendingReceives(ownPorts: number[]): PendingReceives {
  type Receive = (this: Deno.DatagramConn, p?: Uint8Array) => Promise<[Uint8Array, Deno.Addr]>;
  const probe = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  probe.close();
  const pending = new Map<Deno.DatagramConn, number>();
  let most = 0;
  const hook = hookMethod<Receive>(probe, "receive", (real) =>
    function (buffer) {
      const receiving = real.call(this, buffer);
      if (ownPorts.includes((this.addr as Deno.NetAddr).port)) return receiving;
      pending.set(this, (pending.get(this) ?? 0) + 1);
      most = Math.max(most, pending.get(this)!);
      const settled = () => void pending.set(this, pending.get(this)! - 1);
      return receiving.then((got) => (settled(), got), (error) => {
        settled();
        throw error;
      });
    });
  return {
    get most() {
      return most;
    },
    [Symbol.dispose]: () => hook[Symbol.dispose](),
  };
}
