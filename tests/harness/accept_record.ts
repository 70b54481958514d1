/**
 * A record of every `accept()` a TCP listener in this isolate starts: a test
 * can wait for the one a server's loop has pending (to know that a second
 * client was taken, or that `close()` has ended the loop) instead of for a
 * stretch of time.
 *
 * @module
 */

import { hookMethod } from "./method_hook.ts";

/** The promises of the `accept()` calls made while the record is in use. */
export interface AcceptRecord extends Disposable {
  /**
   * Every `accept()` started, in order, each settling when that call does
   * (never rejecting: a call that failed settles as undefined).
   */
  calls: Promise<unknown>[];
}

/**
 * Records, until disposed, the promise of every `accept()` called on a TCP
 * listener (it wraps `accept()` on the prototype Deno's TCP listeners share,
 * so `for await (const conn of listener)` is seen too).
 *
 * @example
 * ```ts
 * import { recordAccepts } from "./accept_record.ts";
 * using accepts = recordAccepts();
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepting = listener.accept().catch(() => undefined);
 * listener.close();
 * await accepting;
 * await accepts.calls[0]; // settled: the accept() that close() interrupted
 * ```
 */
export function recordAccepts(): AcceptRecord {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  probe.close();
  const calls: Promise<unknown>[] = [];
  const hook = hookMethod<(this: Deno.Listener) => Promise<Deno.Conn>>(
    probe,
    "accept",
    (real) =>
      function () {
        const accepting = real.call(this);
        calls.push(accepting.catch(() => {}));
        return accepting;
      },
  );
  return { calls, [Symbol.dispose]: () => hook[Symbol.dispose]() };
}
