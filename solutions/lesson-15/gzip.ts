/**
 * Lesson 15 — Streams like files: gzip over a connection (reference
 * solution).
 *
 * The Web-streams version of handing a socket to zlib: pipe the bytes
 * through a `CompressionStream` into the connection, and the connection's
 * bytes through a `DecompressionStream` out of it.
 *
 * @module
 */

import { toBytes } from "@std/streams";

/**
 * Compresses `chunks` with gzip onto `conn`, then closes the connection
 * (the end of the gzip data and the end of the stream coincide).
 *
 * @example
 * ```ts ignore
 * import { sendCompressed } from "./gzip.ts";
 * const encoder = new TextEncoder();
 * await sendCompressed(conn, [encoder.encode("hello, "), encoder.encode("world")]);
 * ```
 */
export async function sendCompressed(
  conn: Deno.Conn,
  chunks: Iterable<Uint8Array<ArrayBuffer>>,
): Promise<void> {
  const gzip = new CompressionStream("gzip");
  const sending = gzip.readable.pipeTo(conn.writable); // closes the connection when gzip ends
  const writer = gzip.writable.getWriter();
  for (const chunk of chunks) await writer.write(chunk);
  await writer.close(); // flushes the compressor: its last block and the gzip trailer
  await sending;
}

/**
 * Reads gzip data from `conn` to EOF and returns it decompressed. The
 * connection is closed afterwards (its readable owns it).
 *
 * @example
 * ```ts ignore
 * import { receiveCompressed } from "./gzip.ts";
 * const text = new TextDecoder().decode(await receiveCompressed(conn));
 * ```
 */
export async function receiveCompressed(conn: Deno.Conn): Promise<Uint8Array> {
  return await toBytes(conn.readable.pipeThrough(new DecompressionStream("gzip")));
}
