/**
 * Misbehaving TCP clients, for tests of servers that must keep serving:
 *
 * - {@linkcode resetBeforeAccept}: a client that connects and resets (RST)
 *   the connection before the server has accepted it, so that the server's
 *   next `accept()` fails for that one connection (on Linux, Deno reports
 *   `NotConnected (os error 107)`) while the listener is fine.
 * - {@linkcode resetMidRequest}: a client that sends part of a request, then
 *   resets instead of closing.
 * - {@linkcode openIdle}: many connections that stay open and say nothing.
 *
 * Deno's own API cannot send a reset; Node compatibility's
 * `socket.resetAndDestroy()` (SO_LINGER 0, then close) can; a worker (another
 * thread) makes every reset, so Node's `net` is never loaded on the test's
 * thread. The reset before accept is deterministic, with no sleep: the
 * server's accept loop runs on the test's thread, so the harness blocks that
 * thread (`Atomics.wait`) while the worker connects and resets; the kernel
 * completes the handshake without the server, and the server's `accept()`
 * only runs once the reset is done.
 *
 * @module
 */

import { type Awaiting, within } from "./deadline.ts";
import { isNotImplemented } from "./expect.ts";
import { fail, type Section } from "./failure.ts";
import { hookMethod } from "./method_hook.ts";
import { hostPort, wire } from "./wire.ts";

/**
 * The mistake named when a server stops serving after one connection failed
 * before accept (the `caughtBy` phrase of the lessons' "rethrows accept
 * errors" mistakes).
 */
export const RETHROWS_ACCEPT = "the accept loop rethrows accept errors: an accept() that " +
  "fails for one connection (NotConnected: it was reset before accept) is logged and " +
  "the loop accepts the next; only close() ends it";

/** How long the blocked thread waits for the worker's reset, in milliseconds. */
const RESET_WAIT_MS = 5000;

/** What the worker's shared flag says: still waiting, reset done, or connect failed. */
const WAITING = 0;
const RESET = 1;
const FAILED = 2;

/**
 * The worker that makes every reset, as module source. It runs from a `blob:`
 * URL, so starting it reads no file (tests run without `--allow-read`). It
 * takes two kinds of message:
 *
 * - `{ port, flag }`: connect to 127.0.0.1:port, abort the connection with a
 *   reset (SO_LINGER 0, then close: an RST, not a FIN), and raise the shared
 *   flag once the socket is closed ({@linkcode resetBeforeAccept});
 * - `{ id, connect: { host, port } }`, then `{ id, send }` (bytes to write
 *   before the reset) or `{ id, drop: true }`: one client of
 *   {@linkcode resetMidRequest}, which answers `{ id, from }` once connected,
 *   `{ id, written: true }`, `{ id, reset: true }` once its socket is closed,
 *   or `{ id, error }`.
 */
const WORKER_SOURCE = `import net from "node:net";
const sockets = new Map();
const onRequest = ({ id, connect, send, drop }) => {
  if (connect) {
    const socket = net.connect(connect);
    sockets.set(id, socket);
    socket.once("error", (error) => {
      sockets.delete(id);
      postMessage({ id, error: String(error?.message ?? error) });
    });
    socket.once("connect", () => postMessage({ id, from: socket.localAddress + ":" + socket.localPort }));
    return;
  }
  const socket = sockets.get(id);
  if (!socket) return;
  if (drop) {
    sockets.delete(id);
    socket.destroy();
    return;
  }
  socket.write(send, () => {
    postMessage({ id, written: true });
    socket.once("close", () => {
      sockets.delete(id);
      postMessage({ id, reset: true });
    });
    socket.resetAndDestroy();
  });
};
addEventListener("message", (event) => {
  if (event.data.id !== undefined) return onRequest(event.data);
  const { port, flag } = event.data;
  const cell = new Int32Array(flag);
  const finish = (value) => {
    Atomics.store(cell, 0, value);
    Atomics.notify(cell, 0);
  };
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.once("error", () => finish(${FAILED}));
  socket.once("connect", () => {
    socket.once("close", () => finish(${RESET}));
    socket.resetAndDestroy();
  });
});
`;

/** What the worker answers a {@linkcode resetMidRequest} client with. */
interface WorkerReply {
  id: number;
  from?: string;
  written?: true;
  reset?: true;
  error?: string;
}

/**
 * The worker that makes the resets, started when this module is loaded and
 * shared by every test that loads it: started inside a test, it would count
 * as that test's leaked operation; one per test cost about 0.15 s of CPU time
 * (a thread, an isolate and node:net) each time. Node compatibility's `net`
 * is loaded there, on the worker's thread, and not in the test's isolate
 * (about 40 ms of the suite's time on the test's thread, measured). It is
 * never terminated, and does not keep the test process alive.
 */
const resetter = (() => {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  try {
    return new Worker(url, { type: "module" });
  } finally {
    URL.revokeObjectURL(url);
  }
})();

/**
 * The connections that `accept()` has handed to a server in this isolate
 * (from any listener, `for await` loops included), as `host:port` of the
 * client's end, each with when it was accepted: the proof
 * {@linkcode resetMidRequest} waits for before it resets. The hook on the
 * listeners' shared `accept()` is made when this module loads, before any
 * server starts, so that an `accept()` a server already has pending is seen
 * too; it is never removed (hooks made later wrap it, and restore it).
 */
const acceptedAt = new Map<string, number>();
/** Wakes the {@linkcode resetMidRequest} calls waiting for an accept. */
const acceptWaiters = new Set<() => void>();
{
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  probe.close();
  const note = (conn: Deno.Conn) => {
    if (conn.remoteAddr.transport !== "tcp") return;
    const from = hostPort(conn.remoteAddr);
    acceptedAt.delete(from); // keeps the map in order of acceptance
    acceptedAt.set(from, performance.now());
    if (acceptedAt.size > 4096) acceptedAt.delete(acceptedAt.keys().next().value!);
    for (const wake of acceptWaiters) wake();
  };
  hookMethod<(this: Deno.Listener) => Promise<Deno.Conn>>(probe, "accept", (real) =>
    function () {
      // The server gets the very promise accept() made: the hook costs it no turn.
      const accepting = real.call(this);
      accepting.then(note, () => {});
      return accepting;
    });
}

/** Resolves once a listener in this isolate has accepted `from` (a `host:port`) after `since`. */
async function acceptOf(from: string, since: number): Promise<void> {
  while ((acceptedAt.get(from) ?? -1) < since) {
    await new Promise<void>((resolve) => {
      const wake = () => {
        acceptWaiters.delete(wake);
        resolve();
      };
      acceptWaiters.add(wake);
    });
  }
}

/** The {@linkcode resetMidRequest} clients waiting for the worker's replies, by id. */
const waiting = new Map<number, (reply: WorkerReply) => void>();
let nextId = 0;
resetter.addEventListener("message", (event) => {
  const reply = (event as MessageEvent<WorkerReply>).data;
  waiting.get(reply.id)?.(reply);
});

/**
 * Connects to `server` from another thread and resets the connection before
 * the server can accept it, blocking this thread (and so the server's accept
 * loop, if it runs here) until the reset is done. The server's next
 * `accept()` then fails for that connection. Fails the test, naming
 * `section`, if the reset could not be made within 5 s.
 *
 * @example
 * ```ts
 * import { resetBeforeAccept } from "./tcp_misbehave.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * resetBeforeAccept(listener.addr, { lesson: "lesson-11", heading: "x" });
 * await listener.accept().catch((error) => console.log(error.name)); // "NotConnected"
 * listener.close();
 * ```
 */
export function resetBeforeAccept(server: Deno.NetAddr, section: Section): void {
  const flag = new SharedArrayBuffer(4);
  const cell = new Int32Array(flag);
  resetter.postMessage({ port: server.port, flag });
  Atomics.wait(cell, 0, WAITING, RESET_WAIT_MS);
  const outcome = Atomics.load(cell, 0);
  if (outcome !== RESET) {
    fail({
      summary: outcome === WAITING
        ? `a test client could not connect to ${
          hostPort(server)
        } and reset within ${RESET_WAIT_MS} ms`
        : `a test client could not connect to ${hostPort(server)} to reset it`,
      section,
    });
  }
  wire.record({
    transport: "tcp",
    from: "127.0.0.1",
    to: hostPort(server),
    data: "connect, then reset (RST) before the server's accept()",
  });
}

/**
 * Resets a connection before `server` accepts it ({@linkcode resetBeforeAccept}),
 * then runs `client`, one ordinary exchange with the same server, which must
 * succeed. `client` gets a `watch` promise for its bounded waits: it fails,
 * naming {@linkcode RETHROWS_ACCEPT}, as soon as the server's loop ends.
 *
 * @example
 * ```ts
 * import { expectServesAfterResetBeforeAccept } from "./tcp_misbehave.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const done = (async () => {
 *   while (true) {
 *     try {
 *       (await listener.accept()).close();
 *     } catch (error) {
 *       if (error instanceof Deno.errors.BadResource) return; // close()d
 *     }
 *   }
 * })();
 * const section = { lesson: "lesson-11", heading: "x" };
 * await expectServesAfterResetBeforeAccept({ addr: listener.addr, done }, section, async () => {
 *   (await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port })).close();
 * });
 * listener.close();
 * await done;
 * ```
 */
export async function expectServesAfterResetBeforeAccept(
  server: { addr: Deno.NetAddr; done: Promise<unknown> },
  section: Section,
  client: (watch: Promise<never>) => Promise<void>,
): Promise<void> {
  resetBeforeAccept(server.addr, section);
  const watch = stillServing(server, {
    summary: "the server stopped serving after a client reset before accept()",
    section,
    mistake: RETHROWS_ACCEPT,
  });
  await Promise.race([client(watch), watch]);
}

/** What {@linkcode stillServing} says when the server's loop ends. */
export interface StoppedServing {
  /** What happened, e.g. `the server stopped serving after …`. */
  summary: string;
  /** Where the behaviour is taught. */
  section: Section;
  /**
   * The mistake it most likely comes from, or a function of what `done`
   * rejected with (undefined when it resolved) that names it.
   */
  mistake: string | ((error: unknown) => string | undefined);
}

/**
 * A promise that never resolves, and fails the test (a handled rejection)
 * as soon as `server.done` settles, although close() was not called: pass
 * it as `watch` to every bounded wait while the server must keep serving.
 * A stub's "not implemented" passes through as it is.
 *
 * @example
 * ```ts
 * import { stillServing } from "./tcp_misbehave.ts";
 * const section = { lesson: "lesson-11", heading: "x" };
 * const watch = stillServing({ done: new Promise(() => {}) }, {
 *   summary: "the server stopped",
 *   section,
 *   mistake: "only close() ends the loop",
 * });
 * ```
 */
export function stillServing(
  server: { done: Promise<unknown> },
  stopped: StoppedServing,
): Promise<never> {
  const named = (error: unknown) =>
    typeof stopped.mistake === "function" ? stopped.mistake(error) : stopped.mistake;
  const watch = server.done.then(
    (): never =>
      fail({
        ...stopped,
        got: "done resolved, although close() was not called",
        mistake: named(undefined),
      }),
    (error): never => {
      if (isNotImplemented(error)) throw error;
      fail({
        ...stopped,
        mistake: named(error),
        got: `done rejected: ${
          error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        }`,
      });
    },
  );
  watch.catch(() => {});
  return watch;
}

/**
 * Connects to `server`, writes `request` (part of a request, say), then
 * resets the connection instead of closing it; resolves once the socket is
 * closed. Every step is bounded by `wait`. The server meets the reset on an
 * accepted connection (a reset that comes before `accept()` makes the accept
 * fail instead, as lesson 11 explains): nothing is sent before a listener in
 * this isolate has accepted the connection, or, if `accepted` is given,
 * before the promise it returns resolves (it gets the client's `host:port`:
 * wait there for the server to show it accepted it, a log line naming it).
 *
 * @example
 * ```ts
 * import { resetMidRequest } from "./tcp_misbehave.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const section = { lesson: "lesson-16", heading: "x" };
 * const reset = resetMidRequest(listener.addr, "ECHO half a li", { awaiting: "a reset", section });
 * const conn = await listener.accept();
 * await reset;
 * await conn.read(new Uint8Array(64)).catch((error) => console.log(error.name)); // "ConnectionReset"
 * conn.close();
 * listener.close();
 * ```
 */
export async function resetMidRequest(
  server: Deno.NetAddr,
  request: string | Uint8Array,
  wait: Awaiting,
  accepted?: (client: string) => Promise<unknown>,
): Promise<void> {
  const id = nextId++;
  const replies: WorkerReply[] = [];
  let wake = () => {};
  waiting.set(id, (reply) => {
    replies.push(reply);
    wake();
  });
  /** The worker's next reply with `key`; its error, if it reports one, rejects. */
  const next = async (key: "from" | "written" | "reset"): Promise<WorkerReply> => {
    while (true) {
      const reply = replies.shift();
      if (reply?.error !== undefined) throw new Error(reply.error);
      if (reply?.[key] !== undefined) return reply;
      if (!reply) await new Promise<void>((resolve) => wake = resolve);
    }
  };
  let done = false;
  try {
    const since = performance.now();
    resetter.postMessage({ id, connect: { host: server.hostname, port: server.port } });
    const { from } = await within(next("from"), wait);
    // On another thread the reset could beat the server's accept(), which would then fail
    // instead (a reset before accept): wait for proof that the connection was accepted.
    await (accepted
      ? accepted(from!)
      : within(acceptOf(from!, since), { ...wait, awaiting: `the server to accept ${from}` }));
    const bytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
    resetter.postMessage({ id, send: bytes });
    // The worker needs nothing from the server to send and reset: these waits do not watch it, so
    // a server that fails at the reset is reported by the test's next wait, the same on every run.
    const unwatched = { ...wait, watch: undefined };
    await within(next("written"), unwatched);
    wire.record({ transport: "tcp", from: from!, to: hostPort(server), data: bytes });
    await within(next("reset"), unwatched);
    done = true;
    wire.record({ transport: "tcp", from: from!, to: hostPort(server), data: "reset (RST)" });
  } finally {
    waiting.delete(id);
    if (!done) resetter.postMessage({ id, drop: true });
  }
}

/** Connections held open by {@linkcode openIdle}; disposing closes them all. */
export interface IdleClients extends Disposable {
  /** The open connections, in the order they connected. */
  readonly conns: Deno.TcpConn[];
}

/**
 * Opens `count` connections to `server` that say nothing and stay open
 * until disposed (`using`). Each connect is bounded by `wait`.
 *
 * @example
 * ```ts
 * import { openIdle } from "./tcp_misbehave.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * {
 *   using idle = await openIdle(listener.addr, 3, { awaiting: "3 connections", section: { lesson: "lesson-16", heading: "x" } });
 *   console.log(idle.conns.length); // 3 (the kernel completes them before accept)
 * }
 * listener.close();
 * ```
 */
export async function openIdle(
  server: Deno.NetAddr,
  count: number,
  wait: Awaiting,
): Promise<IdleClients> {
  const conns: Deno.TcpConn[] = [];
  const dispose = () => {
    for (const conn of conns.splice(0)) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  try {
    for (let i = 0; i < count; i++) {
      conns.push(
        await within(Deno.connect({ hostname: server.hostname, port: server.port }), wait),
      );
    }
  } catch (error) {
    dispose();
    throw error;
  }
  wire.record({
    transport: "tcp",
    from: "127.0.0.1",
    to: hostPort(server),
    data: `${count} connections that stay silent`,
  });
  return { conns, [Symbol.dispose]: dispose };
}
