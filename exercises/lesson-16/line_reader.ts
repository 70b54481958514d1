/**
 * Lesson 16 — A robust line-protocol server: a bounded line reader.
 *
 * Split a byte stream into lines at `\n`, at the byte level (so invalid
 * UTF-8 can be reported per line), and never hold more than `maxBytes` of
 * one line: report a longer line as soon as it passes the limit, then skip
 * it up to its newline. Read lessons/lesson-16/README.md first.
 *
 * Test: deno task test lesson-16
 *
 * @module
 */

/** Anything with Deno's `read()`: a `Deno.Conn`, or a wrapper around one. */
export interface Source {
  /** Reads into `buffer`; resolves to the number of bytes read, or `null` at EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** What {@linkcode LineReader.next} found. */
export type LineResult =
  /** A complete line, without its `\n` (and without the `\r` of a `\r\n`). */
  | { kind: "line"; bytes: Uint8Array }
  /** The current line passed the limit; the reader skips the rest of it, up to its `\n`. */
  | { kind: "too-long" }
  /** EOF; `partial` bytes of an unfinished last line were dropped. */
  | { kind: "end"; partial: number };

/**
 * Reads `\n`-terminated lines of at most `maxBytes` bytes from a source.
 * ("Framing: a bounded line reader")
 */
export class LineReader {
  /** The longest line accepted, in bytes, not counting its `\n`. */
  readonly maxBytes: number;

  /** Reads from `source`; lines longer than `maxBytes` are reported as `too-long`. */
  constructor(source: Source, maxBytes: number) {
    this.maxBytes = maxBytes;
    // TODO: keep the source; a read buffer (a few KiB) with start/end positions of unused bytes;
    // TODO: the pieces of the current line and their total length; a "skipping" flag.
  }

  /**
   * The next line, a `too-long` report, or the end. Reads from the source
   * only when the bytes already received hold no complete line. After the
   * end, it keeps reporting the end, with nothing more dropped (`partial: 0`).
   */
  async next(): Promise<LineResult> {
    // TODO: loop: look for "\n" in the unused bytes (indexOf(0x0a)).
    // TODO: while skipping, drop bytes up to and including the next "\n".
    // TODO: if the current line would pass maxBytes: forget it, skip to its "\n", return too-long
    // TODO:   at once (do not wait for the newline: an endless line must not grow memory).
    // TODO: a "\n" completes a line: return it without "\n" and without a "\r" just before it.
    // TODO: no complete line yet: read more; at null return { kind: "end", partial }.
    throw new Error("not implemented: LineReader.next");
  }
}
