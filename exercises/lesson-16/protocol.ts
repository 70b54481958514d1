/**
 * Lesson 16 — A robust line-protocol server: the protocol itself.
 *
 * One request line in, one reply line out. `ECHO text` → `OK text`,
 * `UPPER text` → `OK TEXT`, `QUIT` → `BYE` (and the server closes); anything
 * else is answered with an `ERR …` line, never with a crash. Read
 * lessons/lesson-16/README.md ("The protocol") first.
 *
 * Test: deno task test lesson-16
 *
 * @module
 */

/** The longest request line the server accepts, in bytes, not counting its `\n`. */
export const MAX_LINE_BYTES = 1024;

/** The reply to a line that decodes but is not a command. */
export const ERR_UNKNOWN = "ERR unknown command";
/** The reply to a line that is not valid UTF-8. */
export const ERR_UTF8 = "ERR invalid UTF-8";
/** The reply to a line longer than the limit (sent as soon as it passes the limit). */
export const ERR_TOO_LONG = "ERR line too long";
/** The last line to a client that said nothing for too long. */
export const ERR_IDLE = "ERR idle timeout";
/** The only line to a client that connects while the server is at its connection bound. */
export const ERR_BUSY = "ERR server busy";
/** The reply to `QUIT`, after which the server closes the connection. */
export const BYE = "BYE";

/** The answer to one request line. */
export interface Reply {
  /** The reply line, without its `\n`. */
  line: string;
  /** Whether the server closes the connection after sending it. */
  close: boolean;
}

/**
 * Answers one request line (its bytes, without the `\n`). ("The protocol")
 */
export function respond(line: Uint8Array): Reply {
  // TODO: decode with new TextDecoder("utf-8", { fatal: true }); a failure → ERR_UTF8.
  // TODO: the verb is the text up to the first space, the argument the rest ("" if none).
  // TODO: ECHO → "OK " + argument ("OK" alone if empty); UPPER → the same, upper-cased;
  // TODO: QUIT → BYE and close; anything else → ERR_UNKNOWN. Never throw.
  throw new Error("not implemented: respond");
}
