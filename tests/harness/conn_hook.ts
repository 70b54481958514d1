/**
 * Hooks on the TCP connections of the code under test. Deno's connections
 * share one prototype, so a test can wrap `read` or `write` there for a
 * while and see (or shape) what the learner's code does on its sockets,
 * however it made or accepted them. A {@linkcode ConnMatch} picks the
 * connections by port, so the test's own connections are left alone.
 *
 * @module
 */

import { hookMethod } from "./method_hook.ts";

/** Which connections a hook applies to: by the port at either end. */
export interface ConnMatch {
  /** Connections whose own (local) port is this: a server's side of each connection. */
  localPort?: number;
  /** Connections to this port: a client's side of its connection to a server. */
  remotePort?: number;
}

/** A method of Deno's connections that a hook can wrap. */
export type ConnMethod = "read" | "write";

type Method = (this: Deno.Conn, data: Uint8Array) => Promise<number | null>;

/** A TCP connection, already closed, whose prototype is every TCP connection's. */
async function probeConn(): Promise<Deno.Conn> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  client.close();
  server.close();
  return server;
}

/**
 * Whether `conn` is a TCP connection that `match` names. A closed connection
 * keeps its addresses (measured, Deno 2.9.6), so it still matches, and the
 * real method reports the closed connection.
 */
function matches(conn: Deno.Conn, match: ConnMatch): boolean {
  const local = conn.localAddr as Deno.NetAddr;
  const remote = conn.remoteAddr as Deno.NetAddr;
  return local.transport === "tcp" &&
    (match.localPort === undefined || local.port === match.localPort) &&
    (match.remotePort === undefined || remote.port === match.remotePort);
}

/**
 * Wraps `method` on the TCP connections' prototype until disposed: calls on
 * connections that `match` names go to `hook` (given the real method, bound
 * to the connection, the bytes, and the connection), all others to the real
 * method.
 *
 * @example
 * ```ts ignore
 * import { hookConns } from "./conn_hook.ts";
 * using _hook = await hookConns("write", { localPort: 8080 }, (write, data) =>
 *   write(data.subarray(0, 1))
 * );
 * ```
 */
export async function hookConns(
  method: ConnMethod,
  match: ConnMatch,
  hook: (
    real: (data: Uint8Array) => Promise<number | null>,
    data: Uint8Array,
    conn: Deno.Conn,
  ) => Promise<number | null>,
): Promise<Disposable> {
  if (match.localPort === undefined && match.remotePort === undefined) {
    throw new RangeError("a connection hook needs a localPort or a remotePort to match");
  }
  return hookMethod<Method>(
    await probeConn(),
    method,
    (real) =>
      function (this: Deno.Conn, data: Uint8Array) {
        if (!matches(this, match)) return real.call(this, data);
        return hook((bytes) => real.call(this, bytes), data, this);
      },
  );
}

/** Reads held by {@linkcode holdReads}, until released. */
export interface HeldReads extends Disposable {
  /** Resolves once a matched connection has called `read()`. */
  reading: Promise<void>;
  /** Lets every held read settle, and every later one at once. */
  release(): void;
}

/**
 * Holds the reads of the connections `match` names until released: each
 * read still goes to the socket, but settles (with its bytes, or its error
 * once the connection is closed under it) only after
 * {@linkcode HeldReads.release}. A server's handler whose `read()` is held
 * stays at work, whatever `close()` does to its connection: what a test of
 * `done` needs. The hook is removed when disposed.
 *
 * @example
 * ```ts ignore
 * import { holdReads } from "./conn_hook.ts";
 * using held = await holdReads({ localPort: server.addr.port });
 * // … a client connects …
 * await held.reading; // the server's handler is in read(), and stays there
 * held.release();
 * ```
 */
export async function holdReads(match: ConnMatch): Promise<HeldReads> {
  let started: () => void = () => {};
  const reading = new Promise<void>((resolve) => started = resolve);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const hook = await hookConns("read", match, (read, data) => {
    started();
    return read(data).finally(() => gate);
  });
  return {
    reading,
    release,
    [Symbol.dispose]() {
      release();
      hook[Symbol.dispose]();
    },
  };
}

/** A write failure set up by {@linkcode failFirstWrite}. */
export interface FailedWrite extends Disposable {
  /** Whether the first write came, and was failed (writes through `conn.writable` never come). */
  readonly failed: boolean;
}

/**
 * Makes the first `write()` on the connections `match` names reject with
 * `error` (by default the `ConnectionReset` a write to a connection the
 * peer reset gets), and lets every later one through, until disposed. A
 * client's reset cannot be timed to land between a server's read and its
 * write; this makes that write fail the same way on every run.
 *
 * @example
 * ```ts ignore
 * import { failFirstWrite } from "./conn_hook.ts";
 * using reset = await failFirstWrite({ localPort: server.addr.port });
 * // client #1's reply fails to be written; client #2 must still be served
 * if (reset.failed) console.log("client #1's write() failed");
 * ```
 */
export async function failFirstWrite(
  match: ConnMatch,
  error: Error = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)"),
): Promise<FailedWrite> {
  let failed = false;
  const hook = await hookConns("write", match, (write, data) => {
    if (failed) return write(data);
    failed = true;
    return Promise.reject(error);
  });
  return {
    get failed() {
      return failed;
    },
    [Symbol.dispose]: () => hook[Symbol.dispose](),
  };
}
