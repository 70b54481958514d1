/**
 * Lesson 16 — A robust line-protocol server: a bounded line reader
 * (reference solution).
 *
 * Splits a byte stream into lines at `\n`, at the byte level (so invalid
 * UTF-8 can be reported per line), and never holds more than `maxBytes` of
 * one line: a longer line is reported as soon as it passes the limit, then
 * skipped up to its newline.
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

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Reads `\n`-terminated lines of at most `maxBytes` bytes from a source.
 *
 * @example
 * ```ts
 * import { LineReader } from "./line_reader.ts";
 * const bytes = new TextEncoder().encode("ECHO hi\r\nQUIT\n");
 * let offered = false;
 * const source = {
 *   read(buffer: Uint8Array): Promise<number | null> {
 *     if (offered) return Promise.resolve(null);
 *     offered = true;
 *     buffer.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const reader = new LineReader(source, 1024);
 * await reader.next(); // { kind: "line", bytes: "ECHO hi" as bytes }
 * await reader.next(); // { kind: "line", bytes: "QUIT" as bytes }
 * await reader.next(); // { kind: "end", partial: 0 }
 * ```
 */
export class LineReader {
  readonly #source: Source;
  readonly #buffer = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  #pieces: Uint8Array[] = [];
  #length = 0;
  #skipping = false;
  /** The longest line accepted, in bytes, not counting its `\n`. */
  readonly maxBytes: number;

  /** Reads from `source`; lines longer than `maxBytes` are reported as `too-long`. */
  constructor(source: Source, maxBytes: number) {
    this.#source = source;
    this.maxBytes = maxBytes;
  }

  /**
   * The next line, a `too-long` report, or the end. Reads from the source
   * only when the bytes already received hold no complete line. After the
   * end, it keeps reporting the end, with nothing more dropped (`partial: 0`).
   */
  async next(): Promise<LineResult> {
    while (true) {
      while (this.#start < this.#end) {
        const chunk = this.#buffer.subarray(this.#start, this.#end);
        const newline = chunk.indexOf(NEWLINE);
        if (this.#skipping) {
          if (newline === -1) {
            this.#start = this.#end;
            break;
          }
          this.#start += newline + 1;
          this.#skipping = false;
          continue;
        }
        const piece = newline === -1 ? chunk : chunk.subarray(0, newline);
        if (this.#length + piece.length > this.maxBytes) {
          this.#forget();
          this.#skipping = newline === -1; // when the newline is here, the long line ends here
          this.#start += newline === -1 ? chunk.length : newline + 1;
          return { kind: "too-long" };
        }
        this.#pieces.push(piece.slice());
        this.#length += piece.length;
        if (newline === -1) {
          this.#start = this.#end;
          break;
        }
        this.#start += newline + 1;
        return { kind: "line", bytes: this.#takeLine() };
      }
      const n = await this.#source.read(this.#buffer);
      if (n === null) {
        const partial = this.#length;
        this.#forget();
        return { kind: "end", partial };
      }
      this.#start = 0;
      this.#end = n;
    }
  }

  #takeLine(): Uint8Array {
    const line = new Uint8Array(this.#length);
    let at = 0;
    for (const piece of this.#pieces) {
      line.set(piece, at);
      at += piece.length;
    }
    this.#forget();
    return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
  }

  /** Drops the pieces of the current line. */
  #forget(): void {
    this.#pieces = [];
    this.#length = 0;
  }
}
