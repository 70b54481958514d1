/**
 * Lesson 13 — Deadlock (reference solution).
 *
 * The book's tcp_deadlock: the client sends `capitalize this!` over and over
 * (the byte count rounded up to a multiple of 16), half-closes, and reads
 * everything the server sends back; the server reads chunks and writes each
 * back upper-cased, closing at EOF. The book's client writes everything
 * before reading and deadlocks once the data outgrows the socket buffers;
 * this one writes and reads at the same time.
 * Run it: `deno task run lesson-13 server` and `deno task run lesson-13 client 127.0.0.1 32000000`.
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** accept() failed because the process (24) or the system (23) ran out of file descriptors. */
const OUT_OF_DESCRIPTORS = /\(os error 2[34]\)/;

/** How long the accept loop rests after running out of file descriptors, in milliseconds. */
const ACCEPT_BACKOFF_MS = 10;

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** The book's default byte count for the client. */
export const DEFAULT_BYTECOUNT = 16;

/** The 16-byte message the client repeats. */
export const MESSAGE = "capitalize this!";

/** How many bytes the server reads at a time (the book's server reads 1024). */
export const CHUNK_SIZE = 256 * 1024;

/** A running capitalizing server. */
export interface CapitalizeServer {
  /** The listening socket's name (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the accept loop and every connection have ended after close(). */
  readonly done: Promise<void>;
  /** Closes the listener and every open connection. */
  close(): void;
}

/** Where a server listens, and where it reports what it does. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Called with each line the server prints. */
  log?: (line: string) => void;
}

/** What one exchange moved. */
export interface Transfer {
  /** Bytes written to the server. */
  sent: number;
  /** Bytes read back before EOF. */
  received: number;
  /** The first chunk read back (empty if none). */
  first: Uint8Array;
}

/** What a bulk transfer moved, and how long it took. */
export interface BulkResult extends Transfer {
  /** Milliseconds from before connecting to after EOF. */
  ms: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes every byte, looping over partial writes (lesson 10's `writeAll`, given).
 *
 * @example
 * ```ts
 * import { writeAll } from "./tcp_deadlock.ts";
 * const sink = { write: (p: Uint8Array) => Promise.resolve(Math.min(p.length, 3)) };
 * await writeAll(sink, new TextEncoder().encode("hello"));
 * ```
 */
export async function writeAll(conn: Pick<Deno.Conn, "write">, data: Uint8Array): Promise<void> {
  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
}

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./tcp_deadlock.ts";
 * formatAddr({ transport: "tcp", hostname: "127.0.0.1", port: 1060 }); // "127.0.0.1:1060"
 * ```
 */
export function formatAddr(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `${hostname}:${port}`;
}

/**
 * What the client sends: `capitalize this!` repeated until `bytecount`,
 * rounded up to a multiple of 16, is reached.
 *
 * @example
 * ```ts
 * import { payload } from "./tcp_deadlock.ts";
 * payload(17).length; // 32
 * new TextDecoder().decode(payload(16)); // "capitalize this!"
 * ```
 */
export function payload(bytecount: number): Uint8Array {
  const message = encoder.encode(MESSAGE);
  const total = Math.ceil(bytecount / message.length) * message.length;
  const data = new Uint8Array(total);
  for (let at = 0; at < total; at += message.length) data.set(message, at);
  return data;
}

/**
 * Upper-cases the ASCII letters a–z of `bytes`; every other byte (digits,
 * punctuation, any byte of a multi-byte UTF-8 character, invalid UTF-8) is
 * left as it is, so the length never changes and a chunk boundary in the
 * middle of a character does no harm.
 *
 * @example
 * ```ts
 * import { upperAscii } from "./tcp_deadlock.ts";
 * new TextDecoder().decode(upperAscii(new TextEncoder().encode("straße café"))); // "STRAßE CAFé"
 * ```
 */
export function upperAscii(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    out[i] = b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
  }
  return out;
}

/**
 * The server's fast path: upper-cases a–z in the first `n` bytes of
 * `buffer` (which starts at offset 0 of its ArrayBuffer) in place, and
 * returns how many bytes were ≥ 0x80. It reads the bytes four at a time as
 * one 32-bit word and tests all four lanes with additions that never carry
 * from one byte into the next: for a byte b below 0x80, b + 0x1f reaches
 * 0x80 exactly when b ≥ 0x61 (`a`), and b + 0x05 when b ≥ 0x7b (past `z`).
 * The lanes that are letters get their 0x20 bit flipped. A byte loop like
 * upperAscii's costs about 4 ns a byte here, this about one.
 */
function upperAsciiInPlace(buffer: Uint8Array, n: number): number {
  const words = new Uint32Array(buffer.buffer, 0, n >>> 2);
  let nonAscii = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    let high = word & 0x80808080; // the lanes ≥ 0x80: left as they are, counted
    for (; high !== 0; high &= high - 1) nonAscii++;
    const low = word & 0x7f7f7f7f;
    const fromA = (low + 0x1f1f1f1f) & 0x80808080;
    const pastZ = (low + 0x05050505) & 0x80808080;
    const letters = fromA & ~pastZ & ~(word & 0x80808080);
    words[i] = word ^ (letters >>> 2); // 0x80 >>> 2 is 0x20, the case bit
  }
  for (let i = words.length * 4; i < n; i++) {
    const b = buffer[i];
    if (b >= 0x80) nonAscii++;
    else if (b >= 0x61 && b <= 0x7a) buffer[i] = b - 0x20;
  }
  return nonAscii;
}

/**
 * Listens and capitalizes: for each connection, read a chunk, write it back
 * upper-cased, until EOF; then close. Connections are served concurrently,
 * and an error (or a non-ASCII byte) ends nothing but, at most, that one
 * connection.
 *
 * @example
 * ```ts
 * import { startServer } from "./tcp_deadlock.ts";
 * const server = startServer();
 * console.log(server.addr.port);
 * server.close();
 * await server.done;
 * ```
 */
export function startServer(options: ServerOptions = {}): CapitalizeServer {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "tcp",
  });
  const log = options.log ?? (() => {});
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let closing = false;

  async function capitalize(conn: Deno.Conn): Promise<void> {
    const peer = formatAddr(conn.remoteAddr);
    log(`Processing up to ${CHUNK_SIZE} bytes at a time from ${peer}`);
    let processed = 0;
    let nonAscii = 0;
    try {
      const buffer = new Uint8Array(CHUNK_SIZE);
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        // What upperAscii does, in place, four bytes at a time, counting the
        // non-ASCII bytes on the way: see "Going deeper" for why and how fast.
        nonAscii += upperAsciiInPlace(buffer, n);
        await writeAll(conn, buffer.subarray(0, n));
        processed += n;
      }
      const report = nonAscii ? ` (${nonAscii} non-ASCII, passed through unchanged)` : "";
      log(`  ${processed} bytes processed${report}, socket closed`);
    } catch (error) {
      if (!closing) {
        log(`  ${processed} bytes processed, then ${(error as Error).message}; socket closed`);
      }
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed by close()
      }
    }
  }

  async function loop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) break;
        // One pending connection failed (reset before accept: NotConnected), or
        // the process ran out of file descriptors: the listener is fine, go on.
        log(`accept() failed: ${(error as Error).message}`);
        if (OUT_OF_DESCRIPTORS.test((error as Error).message)) {
          await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));
        }
        continue;
      }
      open.add(conn);
      const task = capitalize(conn);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
    await Promise.all(tasks);
  }

  const done = loop();
  return {
    addr: listener.addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

/**
 * Writes `data` and then half-closes, while reading everything the server
 * sends back until EOF, at the same time, so that neither side's buffers can
 * fill up for good. `onData` sees each chunk as it arrives (the chunk is only
 * valid during the call).
 *
 * @example
 * ```ts
 * import { exchange, payload, startServer } from "./tcp_deadlock.ts";
 * const server = startServer();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const { received } = await exchange(conn, payload(32));
 * conn.close();
 * server.close();
 * await server.done;
 * received; // 32
 * ```
 */
export async function exchange(
  conn: Deno.Conn,
  data: Uint8Array,
  onData?: (chunk: Uint8Array) => void,
): Promise<Transfer> {
  let received = 0;
  let first = new Uint8Array(0);
  const writing = (async () => {
    await writeAll(conn, data);
    await conn.closeWrite();
  })();
  const reading = (async () => {
    const buffer = new Uint8Array(CHUNK_SIZE);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return;
      if (received === 0) first = buffer.slice(0, n);
      received += n;
      onData?.(buffer.subarray(0, n));
    }
  })();
  await Promise.all([writing, reading]);
  return { sent: data.length, received, first };
}

/**
 * Connects, sends `payload(bytecount)` through {@linkcode exchange}, closes,
 * and times it: the reference bulk transfer, for benchmarks.
 *
 * @example
 * ```ts
 * import { bulkTransfer, startServer } from "./tcp_deadlock.ts";
 * const server = startServer();
 * const result = await bulkTransfer({ hostname: "127.0.0.1", port: server.addr.port, bytecount: 1_000_000 });
 * server.close();
 * await server.done;
 * console.log(`${(result.received / 1e6 / (result.ms / 1000)).toFixed(0)} MB/s`);
 * ```
 */
export async function bulkTransfer(
  options: { hostname: string; port: number; bytecount: number },
): Promise<BulkResult> {
  const data = payload(options.bytecount);
  const started = performance.now();
  const conn = await Deno.connect({ hostname: options.hostname, port: options.port });
  try {
    const transfer = await exchange(conn, data);
    return { ...transfer, ms: performance.now() - started };
  } finally {
    conn.close();
  }
}

/**
 * Reads the client's byte count from the program's extra arguments (the
 * book's `bytecount`), default {@linkcode DEFAULT_BYTECOUNT}.
 *
 * @example
 * ```ts
 * import { parseBytecount } from "./tcp_deadlock.ts";
 * parseBytecount(["32000000"]); // 32000000
 * parseBytecount([]); // 16
 * ```
 */
export function parseBytecount(args: readonly string[] = []): number {
  if (args.length === 0) return DEFAULT_BYTECOUNT;
  if (!/^\d+$/.test(args[0])) {
    throw new RangeError(`the byte count must be a whole number of bytes, not "${args[0]}"`);
  }
  return Number(args[0]);
}

/**
 * The program's server role: capitalize for every client until stopped.
 *
 * @example
 * ```ts
 * import { server } from "./tcp_deadlock.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const running = startServer(options);
  options.log(`Listening at ${formatAddr(running.addr)}`);
  if (options.signal.aborted) running.close();
  options.signal.addEventListener("abort", () => running.close(), { once: true });
  await running.done;
}

/**
 * The program's client role: send the byte count given after the host
 * (default 16) and report what came back.
 *
 * @example
 * ```ts ignore
 * import { client } from "./tcp_deadlock.ts";
 * await client({ hostname: "127.0.0.1", port: 1060, log: console.log, signal: new AbortController().signal, args: ["32000000"] });
 * ```
 */
export async function client(options: ProgramOptions): Promise<void> {
  const bytecount = parseBytecount(options.args);
  const total = Math.ceil(bytecount / MESSAGE.length) * MESSAGE.length;
  options.log(`Sending ${total} bytes of data, reading the reply at the same time`);
  const result = await bulkTransfer({ hostname: options.hostname, port: options.port, bytecount });
  options.log(
    `  The first data received says ${
      JSON.stringify(decoder.decode(result.first.subarray(0, 32)))
    }`,
  );
  options.log(
    `  ${result.sent} bytes sent, ${result.received} bytes received in ${Math.round(result.ms)} ms`,
  );
}
