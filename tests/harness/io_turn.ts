/**
 * A turn of the event loop that polls for I/O. Bytes written to a loopback
 * socket are in the peer's receive queue when `write()` resolves, but a
 * `read()` waiting on that peer in this process only gets them once the
 * event loop next asks the OS which sockets are ready, and it does not ask
 * while promise jobs or message events are ready to run. So a writer that
 * wants each piece read on its own must make the loop ask between pieces:
 * a timer of 0 ms does (about 2 ms a piece here, as the loop clamps it), a
 * `MessageChannel` turn does not (28 one-byte pieces arrived as one read in
 * 20 runs of 20), and a byte sent to itself over a second socket pair, read
 * by a `read()` started before the write, does (28 reads of 28 in 50 runs of
 * 50, about 0.05 ms a piece): that read can only end in the poll that also
 * hands every other waiting reader its bytes.
 *
 * @module
 */

import { nextTurn } from "./deadline.ts";

/** A loopback socket pair whose round trip makes the event loop poll for I/O. */
export class IoTurns implements Disposable {
  readonly #out: Deno.TcpConn;
  readonly #in: Deno.TcpConn;
  readonly #byte = new Uint8Array(1);
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(out: Deno.TcpConn, into: Deno.TcpConn) {
    this.#out = out;
    this.#in = into;
  }

  /**
   * Connects a pair on 127.0.0.1 (the listener is closed once it has).
   *
   * @example
   * ```ts ignore
   * import { IoTurns } from "./io_turn.ts";
   * using turns = await IoTurns.open();
   * await conn.write(new Uint8Array([1]));
   * await turns.turn(); // a read() pending on the peer has the byte now
   * ```
   */
  static async open(): Promise<IoTurns> {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const out = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      const into = await listener.accept();
      out.setNoDelay(true);
      return new IoTurns(out, into);
    } finally {
      listener.close();
    }
  }

  /**
   * Resolves after the event loop has polled for I/O at least once since the
   * call: every `read()` then pending on a socket that had bytes has them.
   * Calls queue one behind the other; after `close()` it resolves at once.
   */
  turn(): Promise<void> {
    const next = this.#queue.then(async () => {
      if (this.#closed) return;
      try {
        const reading = this.#in.read(this.#byte); // pending before the byte is sent
        await this.#out.write(this.#byte);
        await reading;
      } catch {
        // closed meanwhile: nothing more to wait for
      }
    });
    this.#queue = next;
    return next;
  }

  /** Closes both sockets. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const conn of [this.#out, this.#in]) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }

  /** Same as {@linkcode IoTurns.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Resolves once the event loop has polled for I/O and then run one more turn
 * of its own: every operation the OS had finished has settled its promise,
 * and the runtime has dispatched `unhandledrejection` for any rejection that
 * nothing handled (it does so between turns). Costs about 0.4 ms here, where
 * a 0 ms timer that did the same cost about 2.2 ms; with no socket to spare
 * (out of file descriptors) it falls back to that timer.
 *
 * @example
 * ```ts ignore
 * import { pollOnce } from "./io_turn.ts";
 * server.close();
 * await pollOnce(); // a write the server left pending has rejected by now
 * ```
 */
export async function pollOnce(): Promise<void> {
  let turns: IoTurns | undefined;
  try {
    turns = await IoTurns.open();
  } catch {
    return await new Promise((resolve) => setTimeout(resolve, 0));
  }
  try {
    await turns.turn();
  } finally {
    turns.close();
  }
  await nextTurn();
}
