/**
 * Lesson 15 — Streams like files: newline-delimited JSON over TCP.
 *
 * Treat a connection as Web streams: decode its bytes to text, split the
 * text into lines whatever the reads did to them, carry one JSON value per
 * line (NDJSON), and write replies through the writable. Mind who owns the
 * connection: in Deno, `conn.readable` closes the whole connection at EOF,
 * and closing `conn.writable` closes it too. Read lessons/lesson-15/README.md
 * first.
 *
 * Test: deno task test lesson-15
 *
 * @module
 */

import { TextLineStream } from "@std/streams";

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

/**
 * A readable stream of the bytes arriving on `conn` that, unlike
 * `conn.readable`, leaves the connection open at EOF (and when cancelled):
 * whoever holds `conn` still writes on it and closes it.
 * ("Who owns the connection")
 */
export function readableOf(conn: Deno.Conn): ReadableStream<Uint8Array> {
  // TODO: new ReadableStream({ async pull(controller) { … } }):
  // TODO: conn.read() into a fresh buffer; null → controller.close(); else enqueue the bytes read.
  throw new Error("not implemented: readableOf");
}

/**
 * Decodes a byte stream as UTF-8 and splits it into lines (without their
 * `\n` or `\r\n`), whatever the chunks. ("From bytes to lines")
 */
export function lines(bytes: ReadableStream<Uint8Array>): ReadableStream<string> {
  // TODO: pipeThrough a TextDecoderStream, then a TextLineStream (imported above).
  throw new Error("not implemented: lines");
}

/**
 * One NDJSON message: the value as compact JSON and one `\n`.
 * ("One JSON value per line")
 */
export function encodeMessage(value: unknown): Uint8Array {
  // TODO: JSON.stringify (compact!) plus "\n", encoded as UTF-8.
  throw new Error("not implemented: encodeMessage");
}

/**
 * Listens, and on every connection answers each NDJSON line with one NDJSON
 * line: `handler(message)`, or {@linkcode MALFORMED} for a line that is not
 * JSON (blank lines are skipped). Replies keep the order of the requests.
 * When the client half-closes, the server finishes its replies and closes.
 * ("An NDJSON server")
 */
export function serveNdjson(handler: Handler, options: ServerOptions = {}): NdjsonServer {
  // TODO: Deno.listen; an accept loop starting one handler per connection (not awaited).
  // TODO: if accept() fails and close() was not called (a client reset before you
  //       accepted it: NotConnected; out of file descriptors: rest ~10 ms), log it
  //       and accept the next: only close() ends the loop. (lesson 11 README,
  //       "When accept() fails for one connection")
  // TODO: per connection: writer = conn.writable.getWriter(); for await (line of lines(readableOf(conn))).
  // TODO: JSON.parse each non-blank line (a SyntaxError → MALFORMED), write encodeMessage(reply).
  // TODO: at EOF, writer.close(); on any error, close the connection; keep it in a Set meanwhile.
  // TODO: close() closes the listener and every open connection; done settles when all ended.
  throw new Error("not implemented: serveNdjson");
}

/**
 * The client: connects, writes every value as an NDJSON line (pipelined: no
 * waiting for the replies, but await each write), half-closes, then reads
 * the reply lines until the server closes,
 * and returns them parsed. ("The client: pipelining and half-closing")
 */
export async function requestAll(server: Deno.NetAddr, values: unknown[]): Promise<unknown[]> {
  // TODO: Deno.connect; write each encodeMessage(value) through conn.writable.getWriter().
  // TODO: release the writer and half-close with conn.closeWrite() (not writer.close()!).
  // TODO: parse every non-blank line of lines(conn.readable); close quietly at the end.
  throw new Error("not implemented: requestAll");
}
