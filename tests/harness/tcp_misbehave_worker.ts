/**
 * The worker behind {@linkcode resetBeforeAccept} (tcp_misbehave.ts): told a
 * port and a shared flag, it connects to 127.0.0.1:port, aborts the
 * connection with a reset (SO_LINGER 0, then close: an RST, not a FIN), and
 * raises the flag once its socket is closed. It runs on a thread of its own,
 * so it can do all this while the test's thread, where the server's accept
 * loop lives, is blocked.
 *
 * It has no exports; the harness starts it as a module worker.
 *
 * @example
 * ```ts ignore
 * new Worker(new URL("./tcp_misbehave_worker.ts", import.meta.url), { type: "module" });
 * ```
 *
 * @module
 */

import net from "node:net";

/** Flag values, shared with tcp_misbehave.ts. */
const RESET = 1;
const FAILED = 2;

globalThis.addEventListener("message", (event: Event) => {
  const { port, flag } = (event as MessageEvent).data as { port: number; flag: SharedArrayBuffer };
  const cell = new Int32Array(flag);
  const finish = (value: number) => {
    Atomics.store(cell, 0, value);
    Atomics.notify(cell, 0);
  };
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.once("error", () => finish(FAILED));
  socket.once("connect", () => {
    socket.once("close", () => finish(RESET));
    socket.resetAndDestroy();
  });
});
