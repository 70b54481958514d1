/**
 * Lesson 15 — Streams like files: gzip over a connection.
 *
 * The Web-streams version of handing a socket to zlib: pipe bytes through a
 * `CompressionStream` into the connection, and the connection's bytes
 * through a `DecompressionStream` out of it. Read
 * lessons/lesson-15/README.md ("Compression on the wire") first.
 *
 * Test: deno task test lesson-15
 *
 * @module
 */

import { toBytes } from "@std/streams";

/**
 * Compresses `chunks` with gzip onto `conn`, then closes the connection
 * (the end of the gzip data and the end of the stream coincide).
 * ("Compression on the wire")
 */
export async function sendCompressed(
  conn: Deno.Conn,
  chunks: Iterable<Uint8Array<ArrayBuffer>>,
): Promise<void> {
  // TODO: a CompressionStream("gzip"); pipe its readable to conn.writable (keep the promise).
  // TODO: write each chunk through its writable's writer, then close the writer, then await the pipe.
  throw new Error("not implemented: sendCompressed");
}

/**
 * Reads gzip data from `conn` to EOF and returns it decompressed.
 * ("Compression on the wire")
 */
export async function receiveCompressed(conn: Deno.Conn): Promise<Uint8Array> {
  // TODO: conn.readable through a DecompressionStream("gzip"), collected with toBytes (imported above).
  throw new Error("not implemented: receiveCompressed");
}
