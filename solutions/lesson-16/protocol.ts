/**
 * Lesson 16 — A robust line-protocol server: the protocol itself
 * (reference solution).
 *
 * One request line in, one reply line out. `ECHO text` → `OK text`,
 * `UPPER text` → `OK TEXT`, `QUIT` → `BYE` (and the server closes); anything
 * else is answered with an `ERR …` line, never with a crash.
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

const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Answers one request line (its bytes, without the `\n`).
 *
 * @example
 * ```ts
 * import { respond } from "./protocol.ts";
 * const line = (text: string) => new TextEncoder().encode(text);
 * respond(line("ECHO hello")); // { line: "OK hello", close: false }
 * respond(line("UPPER straße")); // { line: "OK STRASSE", close: false }
 * respond(line("QUIT")); // { line: "BYE", close: true }
 * respond(line("HELLO")); // { line: "ERR unknown command", close: false }
 * respond(new Uint8Array([0xff])); // { line: "ERR invalid UTF-8", close: false }
 * ```
 */
export function respond(line: Uint8Array): Reply {
  let text: string;
  try {
    text = strict.decode(line);
  } catch {
    return { line: ERR_UTF8, close: false };
  }
  const space = text.indexOf(" ");
  const verb = space === -1 ? text : text.slice(0, space);
  const argument = space === -1 ? "" : text.slice(space + 1);
  switch (verb) {
    case "ECHO":
      return { line: ok(argument), close: false };
    case "UPPER":
      return { line: ok(argument.toUpperCase()), close: false };
    case "QUIT":
      return { line: BYE, close: true };
    default:
      return { line: ERR_UNKNOWN, close: false };
  }
}

function ok(text: string): string {
  return text === "" ? "OK" : `OK ${text}`;
}
