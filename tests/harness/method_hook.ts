/**
 * Wraps a method where Deno's objects of one kind share it: on the prototype
 * that owns it (found from a probe object of that kind), so that a test sees
 * every call the code under test makes, however it made its sockets. Used by
 * the connection hooks (`conn_hook.ts`), the count of failed `accept()`
 * calls (`fd_exhaustion.ts`), the count of pending UDP receives
 * (`udp_receives.ts`), the held reply sends of a UDP server (`held_sends.ts`),
 * and the record of `accept()` calls (`accept_record.ts`).
 *
 * @module
 */

/**
 * Replaces `method` on the prototype that owns it for `probe` (and so for
 * every object that shares that prototype) with `wrap(real)`, until
 * disposed. Hooks on one method must be disposed in the reverse order of
 * their making (`using` does that).
 *
 * @example
 * ```ts
 * import { hookMethod } from "./method_hook.ts";
 * const probe = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 * probe.close();
 * let calls = 0;
 * type Send = (this: Deno.DatagramConn, p: Uint8Array, a: Deno.Addr) => Promise<number>;
 * {
 *   using _hook = hookMethod<Send>(probe, "send", (real) =>
 *     function (data, addr) {
 *       calls++;
 *       return real.call(this, data, addr);
 *     });
 * }
 * calls; // 0: nothing was sent while the hook was in place
 * ```
 */
export function hookMethod<F extends (this: never, ...args: never[]) => unknown>(
  probe: object,
  method: string,
  wrap: (real: F) => F,
): Disposable {
  let proto: object | null = Object.getPrototypeOf(probe);
  while (proto && !Object.hasOwn(proto, method)) proto = Object.getPrototypeOf(proto);
  if (!proto) throw new Error(`no prototype owns ${method}()`);
  const owner = proto as Record<string, F>;
  const real = owner[method];
  const wrapper = wrap(real);
  owner[method] = wrapper;
  return {
    [Symbol.dispose]() {
      if (owner[method] !== wrapper) {
        throw new Error(`hooks on ${method}() must be disposed in reverse order`);
      }
      owner[method] = real;
    },
  };
}
