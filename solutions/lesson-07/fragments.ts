/**
 * Lesson 07 — Splitting a message into datagrams and putting it back
 * together (reference solution).
 *
 * Each datagram carries an 8-byte header (message id, fragment index,
 * fragment count, big-endian) and a slice of the message. The receiver
 * reassembles by index, so reordering and duplicates do no harm, and it
 * reports a missing piece as an {@linkcode IncompleteMessageError} once no
 * fragment has arrived for a while, instead of waiting forever.
 *
 * @module
 */

import { sendChecked } from "./datagram_size.ts";

/** Bytes of the fragment header: id (4), index (2), count (2). */
export const HEADER_BYTES = 8;

/** The most fragments one message may have (the count is 16 bits). */
export const MAX_FRAGMENTS = 65_535;

/** One decoded fragment. */
export interface Fragment {
  /** Which message it belongs to (32 bits). */
  id: number;
  /** Its position in the message, from 0. */
  index: number;
  /** How many fragments the message has. */
  count: number;
  /** Its slice of the message. */
  payload: Uint8Array;
}

/** A message put back together. */
export interface ReceivedMessage {
  /** The message id from the headers. */
  id: number;
  /** The whole message. */
  message: Uint8Array;
  /** Where its fragments came from. */
  from: Deno.NetAddr;
}

/** Options for {@linkcode receiveMessage}. */
export interface ReceiveOptions {
  /** Give up when no fragment has arrived for this many milliseconds. */
  idleMs: number;
  /** Keeps partial messages (and finished ids) across calls; a fresh one by default. */
  reassembler?: Reassembler;
  /** How to wait for the idle limit (default a real timer); tests pass a fake clock. */
  sleep?: Sleep;
}

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first. Either way it
 * resolves, and it leaves no timer behind.
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** The default {@linkcode Sleep}: a real timer, cleared when `signal` aborts. */
function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", end);
      resolve();
    };
    const timer = setTimeout(end, ms);
    signal.addEventListener("abort", end, { once: true });
    if (signal.aborted) end();
  });
}

/** A message that could not be completed: some fragment never came. */
export class IncompleteMessageError extends Error {
  /** The incomplete message's id (undefined when no fragment arrived at all). */
  readonly id: number | undefined;
  /** The indexes that never arrived. */
  readonly missing: number[];

  /**
   * @example
   * ```ts
   * import { IncompleteMessageError } from "./fragments.ts";
   * new IncompleteMessageError("lost", 7, [2]).missing; // [2]
   * ```
   */
  constructor(message: string, id: number | undefined, missing: number[]) {
    super(message);
    this.name = "IncompleteMessageError";
    this.id = id;
    this.missing = missing;
  }
}

/**
 * Writes a fragment as header + payload.
 *
 * @example
 * ```ts
 * import { encodeFragment } from "./fragments.ts";
 * const bytes = encodeFragment({ id: 1, index: 0, count: 1, payload: new Uint8Array([9]) });
 * bytes; // Uint8Array [0, 0, 0, 1, 0, 0, 0, 1, 9]
 * ```
 */
export function encodeFragment(fragment: Fragment): Uint8Array {
  return writeFragment(new Uint8Array(HEADER_BYTES + fragment.payload.length), fragment);
}

/** Writes the header, then the payload, into `into` (exactly that long); returns `into`. */
function writeFragment(into: Uint8Array, fragment: Fragment): Uint8Array {
  const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
  view.setUint32(0, fragment.id);
  view.setUint16(4, fragment.index);
  view.setUint16(6, fragment.count);
  into.set(fragment.payload, HEADER_BYTES);
  return into;
}

/**
 * Reads a fragment; throws a RangeError for a datagram that cannot be one
 * (shorter than the header, count 0, index not below count).
 *
 * @example
 * ```ts
 * import { decodeFragment } from "./fragments.ts";
 * decodeFragment(new Uint8Array([0, 0, 0, 1, 0, 2, 0, 3, 42])).index; // 2
 * ```
 */
export function decodeFragment(datagram: Uint8Array): Fragment {
  if (datagram.length < HEADER_BYTES) {
    throw new RangeError(`a fragment has an ${HEADER_BYTES}-byte header; got ${datagram.length}`);
  }
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const fragment = {
    id: view.getUint32(0),
    index: view.getUint16(4),
    count: view.getUint16(6),
    payload: datagram.subarray(HEADER_BYTES),
  };
  if (fragment.count === 0 || fragment.index >= fragment.count) {
    throw new RangeError(`fragment ${fragment.index} of ${fragment.count} is not a valid position`);
  }
  return fragment;
}

/**
 * Splits `message` into datagrams of at most `maxDatagram` bytes each,
 * header included. An empty message is one fragment with an empty payload.
 *
 * @example
 * ```ts
 * import { splitMessage } from "./fragments.ts";
 * const datagrams = splitMessage(new Uint8Array(30), 7, 18); // 10 payload bytes per datagram
 * datagrams.map((d) => d.length); // [18, 18, 18]
 * ```
 */
export function splitMessage(message: Uint8Array, id: number, maxDatagram: number): Uint8Array[] {
  const room = maxDatagram - HEADER_BYTES;
  if (room < 1) {
    throw new RangeError(`a datagram of ${maxDatagram} bytes leaves no room after the header`);
  }
  const count = Math.max(1, Math.ceil(message.length / room));
  if (count > MAX_FRAGMENTS) {
    throw new RangeError(
      `${message.length} bytes need ${count} fragments; at most ${MAX_FRAGMENTS}`,
    );
  }
  // Each datagram is a view of its own stretch of one buffer: 65,535 fragments are one allocation.
  const all = new Uint8Array(count * HEADER_BYTES + message.length);
  const datagrams: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const payload = message.subarray(index * room, (index + 1) * room);
    const at = index * (HEADER_BYTES + room);
    const datagram = all.subarray(at, at + HEADER_BYTES + payload.length);
    datagrams.push(writeFragment(datagram, { id, index, count, payload }));
  }
  return datagrams;
}

/** Partial messages by id, filled in by index. */
export class Reassembler {
  readonly #partial = new Map<number, { parts: (Uint8Array | undefined)[]; have: number }>();
  readonly #finished = new Set<number>();

  /**
   * Adds one fragment; returns the whole message once its last missing
   * piece arrives, else undefined. Duplicates, fragments of finished
   * messages and fragments whose count disagrees are ignored.
   *
   * @example
   * ```ts
   * import { Reassembler } from "./fragments.ts";
   * const r = new Reassembler();
   * r.add({ id: 5, index: 1, count: 2, payload: new Uint8Array([2]) }); // undefined
   * r.add({ id: 5, index: 0, count: 2, payload: new Uint8Array([1]) }); // Uint8Array [1, 2]
   * ```
   */
  add(fragment: Fragment): Uint8Array | undefined {
    if (this.#finished.has(fragment.id)) return undefined;
    let entry = this.#partial.get(fragment.id);
    if (!entry) {
      entry = { parts: new Array(fragment.count).fill(undefined), have: 0 };
      this.#partial.set(fragment.id, entry);
    }
    if (entry.parts.length !== fragment.count) return undefined;
    if (entry.parts[fragment.index] !== undefined) return undefined;
    entry.parts[fragment.index] = fragment.payload.slice();
    entry.have++;
    if (entry.have < fragment.count) return undefined;
    this.#partial.delete(fragment.id);
    this.#finished.add(fragment.id);
    const parts = entry.parts as Uint8Array[];
    const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      message.set(part, at);
      at += part.length;
    }
    return message;
  }

  /**
   * The incomplete messages: id, fragment count and the missing indexes.
   *
   * @example
   * ```ts
   * import { Reassembler } from "./fragments.ts";
   * const r = new Reassembler();
   * r.add({ id: 5, index: 1, count: 3, payload: new Uint8Array([2]) });
   * r.incomplete(); // [{ id: 5, count: 3, missing: [0, 2] }]
   * ```
   */
  incomplete(): { id: number; count: number; missing: number[] }[] {
    return [...this.#partial].map(([id, { parts }]) => ({
      id,
      count: parts.length,
      missing: parts.flatMap((p, i) => (p === undefined ? [i] : [])),
    }));
  }
}

/**
 * A random 32-bit message id.
 *
 * @example
 * ```ts
 * import { randomMessageId } from "./fragments.ts";
 * randomMessageId() <= 0xffffffff; // true
 * ```
 */
export function randomMessageId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/**
 * Splits `message` and sends every fragment to `to`, each datagram at most
 * `maxDatagram` bytes (checked on the way out). Returns the number of datagrams.
 *
 * @example
 * ```ts
 * import { sendMessage } from "./fragments.ts";
 * const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 * const sent = await sendMessage(socket, new Uint8Array(3000), socket.addr as Deno.NetAddr, {
 *   maxDatagram: 1472,
 * });
 * socket.close();
 * sent; // 3
 * ```
 */
export async function sendMessage(
  socket: Deno.DatagramConn,
  message: Uint8Array,
  to: Deno.NetAddr,
  options: { maxDatagram: number; id?: number },
): Promise<number> {
  const datagrams = splitMessage(message, options.id ?? randomMessageId(), options.maxDatagram);
  for (const datagram of datagrams) await sendChecked(socket, datagram, to, options.maxDatagram);
  return datagrams.length;
}

/**
 * Receives fragments until one message is complete and returns it. Datagrams
 * that are not fragments are ignored. When no fragment arrives for
 * `options.idleMs`, rejects with an {@linkcode IncompleteMessageError} naming
 * what is missing; the receive still pending then is abandoned, so close the
 * socket (or keep using only this function on it).
 *
 * @example
 * ```ts
 * import { receiveMessage, sendMessage } from "./fragments.ts";
 * const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 * const text = new TextEncoder().encode("hello, ".repeat(500));
 * await sendMessage(socket, text, socket.addr as Deno.NetAddr, { maxDatagram: 512 });
 * const { message } = await receiveMessage(socket, { idleMs: 100 });
 * socket.close();
 * message.length; // 3500
 * ```
 */
export async function receiveMessage(
  socket: Deno.DatagramConn,
  options: ReceiveOptions,
): Promise<ReceivedMessage> {
  const reassembler = options.reassembler ?? new Reassembler();
  const sleep = options.sleep ?? realSleep;
  const buffer = new Uint8Array(65_536);
  while (true) {
    const pending = socket.receive(buffer);
    const quiet = new AbortController();
    const idle = sleep(options.idleMs, quiet.signal).then(() => "idle" as const);
    let next: [Uint8Array, Deno.Addr] | "idle";
    try {
      next = await Promise.race([pending, idle]);
    } finally {
      quiet.abort();
    }
    if (next === "idle") {
      pending.catch(() => {}); // abandoned: it settles when the socket closes
      const [first] = reassembler.incomplete();
      if (!first) {
        throw new IncompleteMessageError(
          `no fragment arrived within ${options.idleMs} ms`,
          undefined,
          [],
        );
      }
      throw new IncompleteMessageError(
        `message ${first.id} is incomplete: nothing arrived for ${options.idleMs} ms, ` +
          `missing fragment(s) ${first.missing.join(", ")} of ${first.count}`,
        first.id,
        first.missing,
      );
    }
    const [data, from] = next;
    let fragment: Fragment;
    try {
      fragment = decodeFragment(data);
    } catch {
      continue; // not one of ours
    }
    const message = reassembler.add(fragment);
    if (message) return { id: fragment.id, message, from: from as Deno.NetAddr };
  }
}
