/**
 * Lesson 09 — When to use UDP (capstone): the counter protocol's messages.
 *
 * One request, one reply, each a single small datagram of ASCII text:
 *
 * - request: `<id> <OP> <name>`, e.g. `5f3a09c1 INCR visits`
 * - reply:   `<id> OK <value>` or `<id> ERR <reason>`
 *
 * The id is 8 random lowercase hex digits; OP is `INCR` or `GET`; a name is
 * 1 to 64 of `A-Z a-z 0-9 _ . -`. Read lessons/lesson-09/README.md first
 * ("The protocol", "Random request ids").
 *
 * Test:    deno task test lesson-09
 *
 * @module
 */

/** The largest request the protocol allows, in bytes. */
export const MAX_REQUEST_BYTES = 512;

/** The operations: add one and return the new value, or just read it. */
export type Operation = "INCR" | "GET";

/** A request, decoded. */
export interface Request {
  /** 8 lowercase hex digits, random per request (re-sends keep it). */
  id: string;
  /** What to do. */
  op: Operation;
  /** Which counter. */
  name: string;
}

/** A reply, decoded. */
export type Reply =
  | { id: string; ok: true; value: number }
  | { id: string; ok: false; reason: string };

/** A fresh request id: 32 random bits as 8 lowercase hex digits. ("Random request ids") */
export function newRequestId(): string {
  // TODO: crypto.getRandomValues(new Uint32Array(1)); toString(16); padStart(8, "0").
  throw new Error("not implemented: newRequestId");
}

/** Writes a request: `<id> <OP> <name>`. ("The protocol") */
export function encodeRequest(request: Request): Uint8Array {
  // TODO: encode the text as UTF-8 (it is ASCII).
  throw new Error("not implemented: encodeRequest");
}

/**
 * The id at the start of a datagram (`<8 lowercase hex digits> `), or
 * undefined: the server needs it to answer even a request it cannot carry
 * out. ("The protocol")
 */
export function requestId(data: Uint8Array): string | undefined {
  // TODO: look at the first 9 bytes only.
  throw new Error("not implemented: requestId");
}

/** Reads a request; undefined when the datagram is not a valid one. ("The protocol") */
export function parseRequest(data: Uint8Array): Request | undefined {
  // TODO: decode strictly (new TextDecoder("utf-8", { fatal: true })), then one regular expression.
  throw new Error("not implemented: parseRequest");
}

/** Writes a reply: `<id> OK <value>` or `<id> ERR <reason>`. ("The protocol") */
export function encodeReply(reply: Reply): Uint8Array {
  // TODO: reply.ok tells which form.
  throw new Error("not implemented: encodeReply");
}

/** Reads a reply; undefined when the datagram is not a valid one. ("The protocol") */
export function parseReply(data: Uint8Array): Reply | undefined {
  // TODO: the value is a whole number; the reason is the rest of the text.
  throw new Error("not implemented: parseReply");
}
