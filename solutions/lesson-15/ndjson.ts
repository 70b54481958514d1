/**
 * Lesson 15 — Streams like files: newline-delimited JSON over TCP
 * (reference solution).
 *
 * A connection as Web streams: bytes in through a readable, decoded to text
 * and split into lines however the reads happened to cut them; one JSON
 * value per line (NDJSON); replies out through the writable. Mind who owns
 * the connection: in Deno, `conn.readable` closes the whole connection at
 * EOF, and closing `conn.writable` closes it too.
 *
 * @module
 */

import { TextLineStream } from "@std/streams";

/** accept() failed because the process (24) or the system (23) ran out of file descriptors. */
const OUT_OF_DESCRIPTORS = /\(os error 2[34]\)/;

/** How long the accept loop rests after running out of file descriptors, in milliseconds. */
const ACCEPT_BACKOFF_MS = 10;

/** Answers one message: returns the reply value (or a promise of it). */
export type Handler = (message: unknown) => unknown;

/** A running NDJSON server. */
export interface NdjsonServer {
  /** The socket name the server listens on (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the listener and every connection are closed after {@linkcode NdjsonServer.close}. */
  readonly done: Promise<void>;
  /** Closes the listener and every open connection. */
  close(): void;
}

/** Where the server listens, and where it reports what it sees. */
export interface ServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port to listen on (default 0: the OS picks). */
  port?: number;
  /** Called with one line per event (a connection that failed). */
  log?: (line: string) => void;
}

/** The reply to a line that is not JSON. */
export const MALFORMED = { error: "malformed JSON" };

const encoder = new TextEncoder();

/**
 * A readable stream of the bytes arriving on `conn` that, unlike
 * `conn.readable`, leaves the connection open at EOF (and when cancelled):
 * whoever holds `conn` still writes on it and closes it.
 *
 * @example
 * ```ts ignore
 * import { readableOf } from "./ndjson.ts";
 * for await (const chunk of readableOf(conn)) console.log(chunk.length);
 * await conn.write(new TextEncoder().encode("still open\n")); // works after EOF
 * ```
 */
export function readableOf(conn: Deno.Conn): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffer = new Uint8Array(16 * 1024);
      const n = await conn.read(buffer);
      if (n === null) controller.close();
      else controller.enqueue(buffer.subarray(0, n));
    },
  });
}

/**
 * Decodes a byte stream as UTF-8 and splits it into lines (without their
 * `\n` or `\r\n`), whatever the chunks: a line split across chunks comes out
 * whole, several lines in one chunk come out one by one, and a character
 * whose bytes straddle two chunks is decoded correctly.
 *
 * @example
 * ```ts
 * import { lines } from "./ndjson.ts";
 * const bytes = ReadableStream.from([new Uint8Array([0x61, 0x0a, 0x62, 0xc3]), new Uint8Array([0xa9, 0x0a])]);
 * await Array.fromAsync(lines(bytes)); // ["a", "bé"]
 * ```
 */
export function lines(bytes: ReadableStream<Uint8Array>): ReadableStream<string> {
  return bytes.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream());
}

/**
 * One NDJSON message: the value as compact JSON and one `\n`. (JSON escapes
 * a newline inside a string as `\n`, so the only newline is the last byte.)
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./ndjson.ts";
 * new TextDecoder().decode(encodeMessage({ text: "hi" })); // '{"text":"hi"}\n'
 * ```
 */
export function encodeMessage(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}

/**
 * Listens, and on every connection answers each NDJSON line with one NDJSON
 * line: `handler(message)`, or {@linkcode MALFORMED} for a line that is not
 * JSON (blank lines are skipped). Replies keep the order of the requests.
 * When the client half-closes, the server finishes its replies and closes.
 *
 * @example
 * ```ts
 * import { serveNdjson } from "./ndjson.ts";
 * const server = serveNdjson((message) => ({ echo: message }));
 * console.log(server.addr.port); // the port the OS picked
 * server.close();
 * await server.done;
 * ```
 */
export function serveNdjson(handler: Handler, options: ServerOptions = {}): NdjsonServer {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "tcp",
  });
  const open = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let closing = false;

  async function handle(conn: Deno.Conn): Promise<void> {
    const writer = conn.writable.getWriter();
    try {
      for await (const line of lines(readableOf(conn))) {
        if (line.trim() === "") continue;
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          await writer.write(encodeMessage(MALFORMED));
          continue;
        }
        await writer.write(encodeMessage(await handler(message)));
      }
      await writer.close(); // every reply is written: this closes the connection
    } catch (error) {
      if (!closing) options.log?.(`connection failed: ${(error as Error).message}`);
    } finally {
      open.delete(conn);
      closeQuietly(conn);
    }
  }

  async function acceptLoop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        // One pending connection failed (reset before accept: NotConnected), or
        // the process ran out of file descriptors: the listener is fine, go on.
        options.log?.(`accept() failed: ${(error as Error).message}`);
        if (OUT_OF_DESCRIPTORS.test((error as Error).message)) {
          await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));
        }
        continue;
      }
      open.add(conn);
      const handler = handle(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  }

  const loop = acceptLoop();
  const done = (async () => {
    await loop;
    while (handlers.size) await Promise.all(handlers);
  })();
  return {
    addr: listener.addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      closeQuietly(listener);
      for (const conn of open) closeQuietly(conn);
    },
  };
}

/**
 * The client: connects, writes every value as an NDJSON line (pipelined, no
 * waiting), half-closes, then reads the reply lines until the server closes,
 * and returns them parsed.
 *
 * @example
 * ```ts
 * import { requestAll, serveNdjson } from "./ndjson.ts";
 * const server = serveNdjson((n) => (n as number) * 2);
 * const replies = await requestAll(server.addr, [1, 2, 3]);
 * server.close();
 * await server.done;
 * replies; // [2, 4, 6]
 * ```
 */
export async function requestAll(server: Deno.NetAddr, values: unknown[]): Promise<unknown[]> {
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  try {
    const writer = conn.writable.getWriter();
    for (const value of values) await writer.write(encodeMessage(value));
    writer.releaseLock();
    await conn.closeWrite(); // not writer.close(): that would close the whole connection
    const replies: unknown[] = [];
    for await (const line of lines(conn.readable)) {
      if (line.trim() !== "") replies.push(JSON.parse(line));
    }
    return replies; // conn.readable closed the connection at EOF
  } finally {
    closeQuietly(conn);
  }
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // already closed (by us, or by one of the connection's streams)
  }
}
