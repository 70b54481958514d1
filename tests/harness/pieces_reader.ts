/**
 * A reader with fixed read sizes, for unit tests of code that reads from a
 * connection (`readExactly`, a line reader): a real socket hands a busy
 * reader whatever has arrived, several dripped pieces at once on a loaded
 * machine, so a test whose verdict depends on the split feeds fixed pieces.
 *
 * @module
 */

import { nextTurn } from "./deadline.ts";

/**
 * Hands out one piece per `read()` (a piece larger than the buffer over
 * several reads), after a turn of the event loop as a socket would, then
 * `null` on every read after the last piece.
 *
 * @example
 * ```ts
 * import { PiecesReader } from "./pieces_reader.ts";
 * const reader = new PiecesReader(["ab", "c"]);
 * const buffer = new Uint8Array(8);
 * await reader.read(buffer); // 2 ("ab")
 * await reader.read(buffer); // 1 ("c")
 * await reader.read(buffer); // null
 * reader.offered; // [8, 8, 8]
 * ```
 */
export class PiecesReader {
  /** The size of every buffer `read()` was given, in order. */
  readonly offered: number[] = [];
  readonly #left: Uint8Array[];

  /** Reads `pieces` in order; strings as UTF-8. */
  constructor(pieces: (string | Uint8Array)[]) {
    const encoder = new TextEncoder();
    this.#left = pieces.map((piece) => typeof piece === "string" ? encoder.encode(piece) : piece);
  }

  /** Copies the next piece (or as much of it as fits) into `buffer`. */
  async read(buffer: Uint8Array): Promise<number | null> {
    this.offered.push(buffer.length);
    await nextTurn();
    const piece = this.#left.shift();
    if (!piece) return null;
    const n = Math.min(piece.length, buffer.length);
    buffer.set(piece.subarray(0, n));
    if (n < piece.length) this.#left.unshift(piece.subarray(n)); // the rest, at the next read
    return n;
  }
}
