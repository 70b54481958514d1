/**
 * Lesson 09 — The counter protocol's messages (reference solution).
 *
 * One request, one reply, each a single small datagram of ASCII text:
 *
 * - request: `<id> <OP> <name>`, e.g. `5f3a09c1 INCR visits`
 * - reply:   `<id> OK <value>` or `<id> ERR <reason>`
 *
 * The id is 8 random lowercase hex digits; OP is `INCR` or `GET`; a name is
 * 1 to 64 of `A-Z a-z 0-9 _ . -`. A request is at most
 * {@linkcode MAX_REQUEST_BYTES} bytes.
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

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

const ID = /^([0-9a-f]{8}) /;
const REQUEST = /^([0-9a-f]{8}) (INCR|GET) ([A-Za-z0-9_.-]{1,64})$/;
const REPLY = /^([0-9a-f]{8}) (?:OK (0|[1-9][0-9]*)|ERR (.+))$/;

function text(data: Uint8Array): string | undefined {
  try {
    return strict.decode(data);
  } catch {
    return undefined;
  }
}

/**
 * A fresh request id: 32 random bits as 8 lowercase hex digits. Random, not
 * sequential, so a stale reply cannot match and a stranger cannot guess.
 *
 * @example
 * ```ts
 * import { newRequestId } from "./protocol.ts";
 * /^[0-9a-f]{8}$/.test(newRequestId()); // true
 * ```
 */
export function newRequestId(): string {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return n.toString(16).padStart(8, "0");
}

/**
 * Writes a request.
 *
 * @example
 * ```ts
 * import { encodeRequest } from "./protocol.ts";
 * new TextDecoder().decode(encodeRequest({ id: "5f3a09c1", op: "INCR", name: "visits" }));
 * // "5f3a09c1 INCR visits"
 * ```
 */
export function encodeRequest(request: Request): Uint8Array {
  return encoder.encode(`${request.id} ${request.op} ${request.name}`);
}

/**
 * The id at the start of a datagram (`<8 hex digits> `), or undefined: the
 * server needs it to answer even a request it cannot carry out.
 *
 * @example
 * ```ts
 * import { requestId } from "./protocol.ts";
 * requestId(new TextEncoder().encode("5f3a09c1 FROB x")); // "5f3a09c1"
 * ```
 */
export function requestId(data: Uint8Array): string | undefined {
  const head = text(data.subarray(0, 9));
  return head?.match(ID)?.[1];
}

/**
 * Reads a request; undefined when the datagram is not a valid one.
 *
 * @example
 * ```ts
 * import { parseRequest } from "./protocol.ts";
 * parseRequest(new TextEncoder().encode("5f3a09c1 GET visits"))?.op; // "GET"
 * ```
 */
export function parseRequest(data: Uint8Array): Request | undefined {
  const m = text(data)?.match(REQUEST);
  return m ? { id: m[1], op: m[2] as Operation, name: m[3] } : undefined;
}

/**
 * Writes a reply.
 *
 * @example
 * ```ts
 * import { encodeReply } from "./protocol.ts";
 * new TextDecoder().decode(encodeReply({ id: "5f3a09c1", ok: true, value: 3 })); // "5f3a09c1 OK 3"
 * ```
 */
export function encodeReply(reply: Reply): Uint8Array {
  return encoder.encode(
    reply.ok ? `${reply.id} OK ${reply.value}` : `${reply.id} ERR ${reply.reason}`,
  );
}

/**
 * Reads a reply; undefined when the datagram is not a valid one.
 *
 * @example
 * ```ts
 * import { parseReply } from "./protocol.ts";
 * parseReply(new TextEncoder().encode("5f3a09c1 ERR too large")); // { id: "5f3a09c1", ok: false, reason: "too large" }
 * ```
 */
export function parseReply(data: Uint8Array): Reply | undefined {
  const m = text(data)?.match(REPLY);
  if (!m) return undefined;
  return m[2] !== undefined ? { id: m[1], ok: true, value: Number(m[2]) } : {
    id: m[1],
    ok: false,
    reason: m[3],
  };
}
