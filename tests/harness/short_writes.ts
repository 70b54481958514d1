/**
 * Short writes on demand. `write()` on a TCP connection may take only part
 * of the bytes it is given and resolve to that count: Deno's sockets are
 * non-blocking underneath, so a write that finds the send buffer nearly full
 * takes what fits (lesson 10, "The three outcomes of write()"). Over
 * loopback the buffers grow to megabytes, so a server writing small chunks
 * almost never meets one, and a test cannot wait for luck. Here the test
 * makes it happen: while a {@linkcode ShortWrites} is in use, every
 * `write()` on the connections it matches takes half of its bytes (at least
 * one), as the API allows. Code that loops over the count (`writeAll`) loses
 * nothing; code that ignores it loses bytes, and code that loops on the
 * wrong count goes round forever (the test's bounded wait says so).
 *
 * Only `write()` itself is cut: `conn.writable` writes through Deno's own
 * loop, which already continues partial writes.
 *
 * @module
 */

/** Which connections' writes to cut: by the port at either end. */
export interface ShortWritesMatch {
  /** Connections whose own (local) port is this: a server's side of each connection. */
  localPort?: number;
  /** Connections to this port: a client's side of its connection to a server. */
  remotePort?: number;
}

/** While in use, matching connections' `write()` calls take half their bytes. */
export interface ShortWrites extends Disposable {
  /** How many writes were cut short so far. */
  readonly cut: number;
  /** How many writes were seen on matching connections so far. */
  readonly writes: number;
}

/**
 * What a failing test says about the writes it cut, for `whose` writes.
 *
 * @example
 * ```ts
 * import { shortWritesNote } from "./short_writes.ts";
 * shortWritesNote("the server"); // "each of the server's write() calls took only half …"
 * ```
 */
export function shortWritesNote(whose: string): string {
  return `each of ${whose}'s write() calls took only half of its bytes (at least one), as ` +
    "write() may when the send buffer is nearly full";
}

/**
 * The mistake when only the start of `what` arrived: a write() whose count
 * was ignored.
 *
 * @example
 * ```ts
 * import { onlyPartWritten } from "./short_writes.ts";
 * onlyPartWritten("the greeting"); // "only the start of the greeting arrived: …"
 * ```
 */
export function onlyPartWritten(what: string): string {
  return `only the start of ${what} arrived: write() may take only part of the bytes and ` +
    "resolves to how many it took; write the rest until all are sent";
}

/** The prototype that owns `write` for TCP connections (found on a probe connection). */
async function connWriteOwner(): Promise<{ write: Deno.Conn["write"] } | null> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  let proto = Object.getPrototypeOf(server);
  client.close();
  server.close();
  while (proto && !Object.hasOwn(proto, "write")) proto = Object.getPrototypeOf(proto);
  return proto;
}

/**
 * Cuts every `write()` on the TCP connections that `match` names to half its
 * bytes (at least one), until disposed. `write` is wrapped on the
 * connections' prototype, so the code under test is reached however it made
 * or accepted its connections; the test's own connections (other ports) are
 * not touched.
 *
 * @example
 * ```ts ignore
 * import { shortWrites } from "./short_writes.ts";
 * using cutting = await shortWrites({ localPort: server.addr.port });
 * // … an exchange with the server …
 * cutting.cut; // how many of the server's writes were cut short
 * ```
 */
export async function shortWrites(match: ShortWritesMatch): Promise<ShortWrites> {
  if (match.localPort === undefined && match.remotePort === undefined) {
    throw new RangeError("shortWrites needs a localPort or a remotePort to match");
  }
  const owner = await connWriteOwner();
  let cut = 0;
  let writes = 0;
  if (!owner) throw new Error("no prototype owns write() on a TCP connection");
  const write = owner.write;
  const matches = (conn: Deno.Conn): boolean => {
    const local = conn.localAddr as Deno.NetAddr;
    const remote = conn.remoteAddr as Deno.NetAddr;
    if (local.transport !== "tcp") return false;
    return (match.localPort === undefined || local.port === match.localPort) &&
      (match.remotePort === undefined || remote.port === match.remotePort);
  };
  owner.write = function (this: Deno.Conn, data: Uint8Array): Promise<number> {
    let ours = false;
    try {
      ours = matches(this);
    } catch {
      // a closed connection has no address: the real write() says what is wrong
    }
    if (!ours) return write.call(this, data);
    writes++;
    if (data.length < 2) return write.call(this, data);
    cut++;
    return write.call(this, data.subarray(0, Math.ceil(data.length / 2)));
  };
  return {
    get cut() {
      return cut;
    },
    get writes() {
      return writes;
    },
    [Symbol.dispose]() {
      owner.write = write;
    },
  };
}
