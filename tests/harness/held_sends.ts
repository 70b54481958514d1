/**
 * Holding a UDP server's reply sends: each datagram goes out at once, but
 * the promise its `send()` returned settles only when the test says so. A
 * server loop that awaits its reply's `send()` is then still inside that
 * await when the test calls `close()`, so its `done` stays pending; a loop
 * that does not await it is already back in `receive()`, which `close()`
 * ends, and its `done` settles with the reply still being sent (and a send
 * that failed would escape as an unhandled rejection, which ends a Deno
 * program). Deno's UDP sockets share one prototype, so the hook sees the
 * sends of the learner's socket however it was made.
 *
 * @module
 */

import { within } from "./deadline.ts";
import { expectEqual } from "./expect.ts";
import type { Section } from "./failure.ts";
import { pollOnce } from "./io_turn.ts";
import { hookMethod } from "./method_hook.ts";
import { type ServerLoop, stopAfter, stopServer } from "./server_loop.ts";
import { UdpPeer } from "./udp.ts";

/**
 * Sends held by {@linkcode holdServerSends}: each goes out at once, but its
 * promise settles only after the release.
 */
export interface HeldSends extends Disposable {
  /** Resolves once the server has called send(). */
  sending: Promise<void>;
  /** The last receive() the server called (settling, never rejecting, as it does). */
  lastReceive(): Promise<unknown>;
  /** Lets every held send settle, and every later one at once. */
  release(): void;
}

/**
 * Holds the sends of the UDP socket bound to `port` (see
 * {@linkcode HeldSends}), and records its last `receive()`, until disposed.
 * The test's own sockets, on other ports, are left alone.
 *
 * @example
 * ```ts
 * import { holdServerSends } from "./held_sends.ts";
 * const server = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 * {
 *   using held = holdServerSends((server.addr as Deno.NetAddr).port);
 *   const sent = server.send(new Uint8Array([1]), server.addr); // the datagram goes out now
 *   await held.sending;
 *   held.release(); // and only now may `sent` settle
 *   await sent;
 * }
 * server.close();
 * ```
 */
export function holdServerSends(port: number): HeldSends {
  type Send = (this: Deno.DatagramConn, data: Uint8Array, addr: Deno.Addr) => Promise<number>;
  type Receive = (this: Deno.DatagramConn, p?: Uint8Array) => Promise<[Uint8Array, Deno.Addr]>;
  const probe = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  probe.close();
  const ours = (socket: Deno.DatagramConn) => (socket.addr as Deno.NetAddr).port === port;
  let started = () => {};
  const sending = new Promise<void>((resolve) => started = resolve);
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  let last: Promise<unknown> = Promise.resolve();
  const sends = hookMethod<Send>(probe, "send", (real) =>
    function (data, addr) {
      if (!ours(this)) return real.call(this, data, addr);
      const sent = real.call(this, data, addr);
      sent.catch(() => {}); // its outcome is the caller's, once released
      started();
      return gate.then(() => sent);
    });
  const receives = hookMethod<Receive>(probe, "receive", (real) =>
    function (buffer) {
      const receiving = real.call(this, buffer);
      if (ours(this)) last = receiving.catch(() => {});
      return receiving;
    });
  return {
    sending,
    lastReceive: () => last,
    release,
    [Symbol.dispose]() {
      release();
      receives[Symbol.dispose]();
      sends[Symbol.dispose]();
    },
  };
}

/** What {@linkcode expectDoneWaitsForReplySend} sends, and where its failures point. */
export interface ReplySendCheck {
  /** A datagram the server answers. */
  request: string | Uint8Array;
  /** Where the server loop and its `done` are taught: the failure's section. */
  section: Section;
  /** Where replying is taught: the wait for the server to send its reply. */
  replying: Section;
  /** What the lesson calls its server ("server" unless given: "responder", …). */
  name?: string;
}

/** The likely mistake when `done` settled while the reply's send() was held. */
export const REPLY_SEND_NOT_AWAITED = "the reply's send() was not awaited: the loop went back to " +
  "receive() with the reply still being sent, so close() ended it and done settled before the " +
  "reply had gone (and a send that fails would escape as an unhandled rejection): " +
  "await socket.send(…)";

/**
 * Starts a UDP server with `start`, sends it `check.request` from a test
 * socket, and holds the server's reply send ({@linkcode holdServerSends}).
 * Once the server has called `send()`, closes it, waits (bounded) for its
 * last `receive()` to settle, gives the event loop one turn, and requires
 * `done` still pending: a loop that awaits the send is still in it. Then
 * releases the send and stops the server (bounded). A `done` that settled
 * fails, named as {@linkcode REPLY_SEND_NOT_AWAITED}.
 *
 * @example
 * ```ts
 * import { expectDoneWaitsForReplySend } from "./held_sends.ts";
 * function startEcho() {
 *   const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 *   let closing = false;
 *   const done = (async () => {
 *     try {
 *       while (true) {
 *         const [data, from] = await socket.receive();
 *         await socket.send(data, from); // without await, this check fails
 *       }
 *     } catch {
 *       // closed
 *     }
 *   })();
 *   const close = () => {
 *     if (!closing) socket.close();
 *     closing = true;
 *   };
 *   return { addr: socket.addr as Deno.NetAddr, done, close };
 * }
 * const section = { lesson: "lesson-03", heading: "The server loop" };
 * await expectDoneWaitsForReplySend(startEcho, { request: "hi", section, replying: section });
 * ```
 */
export async function expectDoneWaitsForReplySend(
  start: () => ServerLoop & { addr: Deno.NetAddr },
  check: ReplySendCheck,
): Promise<void> {
  const { request, section, replying } = check;
  const name = check.name ?? "server";
  const running = start();
  let settled: string | undefined;
  running.done.then(() => settled = "resolved", () => settled = "rejected");
  using held = holdServerSends(running.addr.port);
  await stopAfter(async () => {
    using peer = UdpPeer.open();
    await peer.send(request, running.addr);
    await within(held.sending, {
      awaiting: `the ${name} to send its reply`,
      watch: running.done,
      section: replying,
    });
    running.close();
    // The loop's last receive() settles (at once, or once close() ends it), then a turn passes.
    await within(held.lastReceive(), {
      awaiting: `the ${name}'s last receive() to settle after close()`,
      section,
    });
    await pollOnce();
    expectEqual(settled ?? "pending", "pending", {
      what: `done, after close(), while the ${name}'s reply send() is still pending`,
      section,
      mistake: REPLY_SEND_NOT_AWAITED,
    });
  }, () => {
    held.release();
    return stopServer(running, {
      awaiting: `the ${name} loop to end once its reply was sent`,
      section,
    });
  });
}
