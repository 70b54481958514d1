/**
 * Lesson 07 — Splitting a message into datagrams and putting it back together.
 *
 * Each datagram carries an 8-byte header (message id u32, fragment index
 * u16, fragment count u16, big-endian) and a slice of the message. The
 * receiver reassembles by index, ignores duplicates, and reports a missing
 * piece as an IncompleteMessageError instead of waiting forever. Read
 * lessons/lesson-07/README.md first ("Splitting a message" to "Giving up on
 * a missing piece").
 *
 * Test:    deno task test lesson-07
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

/** A message that could not be completed: some fragment never came. */
export class IncompleteMessageError extends Error {
  /** The incomplete message's id (undefined when no fragment arrived at all). */
  readonly id: number | undefined;
  /** The indexes that never arrived. */
  readonly missing: number[];

  /** Given: keep as it is. */
  constructor(message: string, id: number | undefined, missing: number[]) {
    super(message);
    this.name = "IncompleteMessageError";
    this.id = id;
    this.missing = missing;
  }
}

/** Writes a fragment as header + payload. ("A header for each piece") */
export function encodeFragment(fragment: Fragment): Uint8Array {
  // TODO: a Uint8Array of HEADER_BYTES + payload length; a DataView writes
  //       setUint32(0, id), setUint16(4, index), setUint16(6, count) (big-endian by default).
  throw new Error("not implemented: encodeFragment");
}

/**
 * Reads a fragment; throws a RangeError for a datagram that cannot be one
 * (shorter than the header, count 0, index not below count).
 * ("A header for each piece")
 */
export function decodeFragment(datagram: Uint8Array): Fragment {
  // TODO: mind datagram.byteOffset when making the DataView.
  throw new Error("not implemented: decodeFragment");
}

/**
 * Splits `message` into datagrams of at most `maxDatagram` bytes each,
 * header included. An empty message is one fragment with an empty payload.
 * ("Splitting a message")
 */
export function splitMessage(message: Uint8Array, id: number, maxDatagram: number): Uint8Array[] {
  // TODO: room = maxDatagram - HEADER_BYTES (a RangeError if < 1); count = ceil(length / room), at least 1.
  throw new Error("not implemented: splitMessage");
}

/** Partial messages by id, filled in by index. ("Reassembly: order, duplicates, loss") */
export class Reassembler {
  /**
   * Adds one fragment; returns the whole message once its last missing
   * piece arrives, else undefined. Duplicates, fragments of finished
   * messages and fragments whose count disagrees are ignored.
   */
  add(fragment: Fragment): Uint8Array | undefined {
    // TODO: a Map from id to its parts (one slot per index) and how many are filled;
    //       a Set of finished ids. Copy the payload (the receive buffer gets reused).
    throw new Error("not implemented: Reassembler.add");
  }

  /** The incomplete messages: id, fragment count and the missing indexes. */
  incomplete(): { id: number; count: number; missing: number[] }[] {
    // TODO: one entry per partial message.
    throw new Error("not implemented: Reassembler.incomplete");
  }
}

/** A random 32-bit message id. ("A header for each piece") */
export function randomMessageId(): number {
  // TODO: crypto.getRandomValues(new Uint32Array(1))[0].
  throw new Error("not implemented: randomMessageId");
}

/**
 * Splits `message` and sends every fragment to `to`, each datagram at most
 * `maxDatagram` bytes (use sendChecked). Returns the number of datagrams.
 * ("Splitting a message")
 */
export async function sendMessage(
  socket: Deno.DatagramConn,
  message: Uint8Array,
  to: Deno.NetAddr,
  options: { maxDatagram: number; id?: number },
): Promise<number> {
  // TODO: splitMessage with options.id ?? randomMessageId(), then sendChecked each.
  throw new Error("not implemented: sendMessage");
}

/**
 * Receives fragments until one message is complete and returns it, skipping
 * datagrams that are not fragments. When nothing arrives for
 * `options.idleMs`, rejects with an {@linkcode IncompleteMessageError}
 * naming the missing indexes. ("Giving up on a missing piece")
 */
export async function receiveMessage(
  socket: Deno.DatagramConn,
  options: ReceiveOptions,
): Promise<ReceivedMessage> {
  // TODO: loop: race socket.receive(buffer) against options.sleep(idleMs, signal) (default a
  // TODO:   real timer: setTimeout, cleared on abort); abort that sleep once the race is decided.
  // TODO: on a timeout: mark the pending receive handled (.catch(() => {})) and throw,
  //       naming reassembler.incomplete()'s first entry (or "no fragment arrived").
  // TODO: otherwise decodeFragment (skip a RangeError) and reassembler.add.
  throw new Error("not implemented: receiveMessage");
}
