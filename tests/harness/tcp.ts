/**
 * TCP helpers for tests: connect, accept, read to EOF or an exact count, all
 * bounded in time; a connection that must be refused; a fake server on port
 * 0 that closes cleanly (also via `using`).
 *
 * @module
 */

import { concat, describe } from "./bytes.ts";
import { type Awaiting, within } from "./deadline.ts";
import { type Check, expectRejects, settledWithin } from "./expect.ts";
import { fail, type Section } from "./failure.ts";
import { hostPort, wire } from "./wire.ts";

/** Records bytes (or EOF) the test read from `conn`. */
function received(conn: Deno.Conn, data: Uint8Array | string): void {
  wire.record({
    transport: "tcp",
    from: hostPort(conn.remoteAddr),
    to: hostPort(conn.localAddr),
    data,
  });
}

/**
 * Connects to `addr` (bounded), e.g. to the learner's server.
 *
 * @example
 * ```ts
 * import { connect, FakeServer } from "./tcp.ts";
 * using fake = FakeServer.open();
 * const conn = await connect(fake.addr, { awaiting: "a connection", section: { lesson: "lesson-10", heading: "x" } });
 * conn.close();
 * ```
 */
export async function connect(addr: Deno.NetAddr, wait: Awaiting): Promise<Deno.TcpConn> {
  const conn = await within(Deno.connect({ hostname: addr.hostname, port: addr.port }), wait);
  wire.record({
    transport: "tcp",
    from: hostPort(conn.localAddr),
    to: hostPort(conn.remoteAddr),
    data: "connect",
  });
  return conn;
}

/**
 * Asserts that connecting to `to` (host default 127.0.0.1) is refused
 * (`Deno.errors.ConnectionRefused`): nothing listens there, e.g. after a
 * server's `close()`, or on an address its listener is not bound to. The
 * connect is bounded; a connection that succeeds is closed and fails the check.
 *
 * @example
 * ```ts
 * import { expectRefused } from "./tcp.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * listener.close();
 * await expectRefused({ port }, {
 *   what: "connecting after close()",
 *   section: { lesson: "lesson-14", heading: "Closing a server" },
 *   mistake: "close() must close the listener too",
 * });
 * ```
 */
export async function expectRefused(
  to: { hostname?: string; port: number },
  check: Check,
): Promise<void> {
  const hostname = to.hostname ?? "127.0.0.1";
  await expectRejects(
    async () => {
      const conn = await within(Deno.connect({ hostname, port: to.port }), {
        awaiting: `a connection to ${hostname}:${to.port} to be refused`,
        section: check.section,
      });
      conn.close();
    },
    { ...check, kind: Deno.errors.ConnectionRefused },
  );
}

/**
 * Reads until the peer closes its sending side (EOF), bounded. Fails with
 * what arrived so far if EOF does not come in time, and, given `overflow`, as
 * soon as more than `overflow.atMost` bytes have arrived, naming
 * `overflow.mistake` (a peer that sends without end must not fill the test's
 * memory while the wait runs out).
 *
 * @example
 * ```ts ignore
 * import { readToEnd } from "./tcp.ts";
 * const bytes = await readToEnd(conn, { awaiting: "the greeting and EOF", section });
 * const echo = await readToEnd(conn, {
 *   awaiting: "the echo and EOF",
 *   section,
 *   overflow: { atMost: 1024, mistake: "the echo repeats bytes" },
 * });
 * ```
 */
export async function readToEnd(
  conn: Deno.Conn,
  wait: Awaiting & { overflow?: { atMost: number; mistake: string } },
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let overflowed = false;
  const reading = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) {
        received(conn, "EOF");
        return concat(chunks);
      }
      received(conn, buffer.subarray(0, n));
      chunks.push(buffer.slice(0, n));
      total += n;
      if (wait.overflow && total > wait.overflow.atMost) {
        overflowed = true;
        // The first bytes only: how many more had arrived by now depends on the reads' sizes.
        const first = concat(chunks).subarray(0, wait.overflow.atMost + 1);
        fail({
          summary: `more than ${wait.overflow.atMost} bytes arrived, awaiting ${wait.awaiting}`,
          section: wait.section,
          got: `${describe(first)}, and more, without EOF`,
          mistake: wait.overflow.mistake,
        });
      }
    }
  })();
  reading.catch(() => {});
  try {
    return await within(reading, wait);
  } catch (e) {
    if (e instanceof Error && !overflowed) {
      e.message = e.message.replace("\n", `\n  received so far: ${describe(concat(chunks))}\n`);
    }
    throw e;
  }
}

/**
 * Reads exactly `n` bytes, bounded; fails if the peer closes first.
 *
 * @example
 * ```ts ignore
 * import { readExactly } from "./tcp.ts";
 * const reply = await readExactly(conn, 16, { awaiting: "the 16-byte reply", section });
 * ```
 */
export async function readExactly(conn: Deno.Conn, n: number, wait: Awaiting): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  const reading = (async () => {
    while (got < n) {
      const r = await conn.read(out.subarray(got));
      received(conn, r === null ? "EOF" : out.subarray(got, got + r));
      if (r === null) {
        fail({
          summary:
            `the connection was closed after ${got} of the ${n} bytes awaited (${wait.awaiting})`,
          section: wait.section,
          got: describe(out.subarray(0, got)),
          mistake: wait.mistake,
        });
      }
      got += r;
    }
    return out;
  })();
  reading.catch(() => {});
  try {
    return await within(reading, wait);
  } catch (e) {
    if (e instanceof Error && !e.message.includes("was closed after")) {
      e.message = e.message.replace(
        "\n",
        `\n  received so far: ${describe(out.subarray(0, got))}\n`,
      );
    }
    throw e;
  }
}

/**
 * Writes every byte (looping over partial writes), bounded.
 *
 * @example
 * ```ts ignore
 * import { writeAll } from "./tcp.ts";
 * await writeAll(conn, "Hi there, server", { awaiting: "the request to be sent", section });
 * ```
 */
export async function writeAll(
  conn: Deno.Conn,
  data: string | Uint8Array,
  wait: Awaiting,
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const writing = (async () => {
    wire.record({
      transport: "tcp",
      from: hostPort(conn.localAddr),
      to: hostPort(conn.remoteAddr),
      data: bytes,
    });
    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
  })();
  writing.catch(() => {});
  await within(writing, wait);
}

/** How long {@linkcode FakeServer.resetAfterFirstByte} waits for the client's first byte. */
const FIRST_BYTE_MS = 5000;

/** A test's own TCP listener on 127.0.0.1 and an OS-chosen port. */
export class FakeServer implements Disposable {
  readonly #listener: Deno.TcpListener;
  readonly #accepted: Deno.TcpConn[] = [];
  #pending: Promise<Deno.TcpConn> | undefined;
  #closed = false;
  /** The address clients should connect to. */
  readonly addr: Deno.NetAddr;

  private constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
    this.addr = listener.addr;
  }

  /**
   * Listens on `hostname` (default 127.0.0.1), port 0.
   *
   * @example
   * ```ts
   * import { FakeServer } from "./tcp.ts";
   * using fake = FakeServer.open();
   * fake.addr.port > 0; // true
   * ```
   */
  static open(hostname = "127.0.0.1"): FakeServer {
    return new FakeServer(Deno.listen({ hostname, port: 0, transport: "tcp" }));
  }

  /**
   * Accepts the next connection, bounded. It is closed with the server.
   *
   * @example
   * ```ts ignore
   * const conn = await fake.accept({ awaiting: "the client to connect", section });
   * ```
   */
  async accept(wait: Awaiting): Promise<Deno.TcpConn> {
    this.#pending ??= this.#listener.accept();
    const conn = await within(this.#pending, wait);
    this.#pending = undefined;
    this.#accepted.push(conn);
    wire.record({
      transport: "tcp",
      from: hostPort(conn.remoteAddr),
      to: hostPort(conn.localAddr),
      data: "connect",
    });
    return conn;
  }

  /**
   * Plays a server that goes away mid-request: accepts the client's
   * connection, reads its first byte, and closes with the rest unread, so the
   * kernel answers with a reset (RST). Then waits for the client and returns
   * how it settled: its error, or the value it wrongly returned. A lesson
   * failure or "not implemented" is rethrown. The client must still be
   * writing when the reset comes (send more than the loopback buffers hold,
   * about 10 MB): a reset after its half-close reads as a plain EOF on Linux.
   *
   * @example
   * ```ts ignore
   * const outcome = await fake.resetAfterFirstByte(asking, { client: "request()", section });
   * ```
   */
  async resetAfterFirstByte(
    asking: Promise<unknown>,
    wait: { client: string; section: Section; watch?: Promise<unknown> },
  ): Promise<unknown> {
    const { section } = wait;
    const conn = await this.accept({
      awaiting: "the client to connect",
      watch: wait.watch ?? asking,
      section,
    });
    // A client may have much to encode before its first write (lesson 15 sends 21 MB of JSON): on a
    // loaded machine that took over a second, so this wait is longer, and ends at once if it fails.
    await within(conn.read(new Uint8Array(1)), {
      awaiting: "the client's first byte",
      section,
      ms: FIRST_BYTE_MS,
      watch: wait.watch ?? asking,
    });
    conn.close(); // the rest unread: the kernel answers with a reset (RST)
    wire.record({
      transport: "tcp",
      from: hostPort(conn.localAddr),
      to: hostPort(conn.remoteAddr),
      data: "reset (RST)",
    });
    return await settledWithin(asking, {
      awaiting: `${wait.client} to fail after the server reset the connection`,
      section,
    });
  }

  /** Closes the listener and every accepted connection still open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.catch(() => {});
    this.#listener.close();
    for (const conn of this.#accepted) closeQuietly(conn);
  }

  /** Same as {@linkcode FakeServer.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Closes a connection or socket that may already be closed.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./tcp.ts";
 * closeQuietly({ close() {} });
 * ```
 */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // already closed
  }
}
