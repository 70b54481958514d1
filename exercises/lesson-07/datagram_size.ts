/**
 * Lesson 07 — Datagram size, fragmentation and MTU: the limits.
 *
 * How big a UDP datagram may be, how many IP packets it becomes on a link
 * with a given MTU, how likely it is to arrive, and a send and a receive
 * that refuse oversize datagrams with a clear error. Read
 * lessons/lesson-07/README.md first ("How big can a datagram be?" to
 * "Refusing oversize datagrams up front").
 *
 * Test:    deno task test lesson-07
 *
 * @module
 */

/** Bytes of an IPv4 header without options. */
export const IPV4_HEADER_BYTES = 20;

/** Bytes of a UDP header: source port, destination port, length, checksum. */
export const UDP_HEADER_BYTES = 8;

/** The largest UDP payload over IPv4: 65,535 − 20 − 8. One byte more is "Message too long". */
export const MAX_UDP_PAYLOAD_IPV4 = 65_507;

/** The MTU of Ethernet, and so of most paths on the internet. */
export const ETHERNET_MTU = 1500;

/** Thrown when a datagram is too big to send, or was too big to receive whole. */
export class DatagramTooLargeError extends Error {
  /** The datagram's size in bytes (when receiving: at least this many). */
  readonly size: number;
  /** The limit it broke. */
  readonly limit: number;

  /** Given: keep as it is. */
  constructor(message: string, size: number, limit: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatagramTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The largest UDP payload that fits in one IPv4 packet on a link of `mtu`
 * bytes, e.g. 1472 for 1500. ("IP fragmentation")
 */
export function payloadBudget(mtu: number): number {
  // TODO: subtract the IPv4 and UDP headers; throw a RangeError for an mtu below 68.
  throw new Error("not implemented: payloadBudget");
}

/**
 * How many IPv4 packets a UDP datagram with `payloadBytes` of payload
 * becomes on a link of `mtu` bytes, e.g. 45 for 65,507 bytes at 1500.
 * ("IP fragmentation")
 */
export function fragmentCount(payloadBytes: number, mtu: number): number {
  // TODO: IP splits the UDP header + payload; each fragment but the last carries
  // (mtu - 20) rounded down to a multiple of 8 bytes, the last the rest (up to mtu - 20).
  throw new Error("not implemented: fragmentCount");
}

/**
 * The chance that a datagram of `packets` IP packets arrives when each is
 * lost with probability `lossPerPacket`: (1 − p)^k. ("Why big datagrams get lost")
 */
export function deliveryProbability(lossPerPacket: number, packets: number): number {
  // TODO: every packet must arrive.
  throw new Error("not implemented: deliveryProbability");
}

/**
 * Sends `data` as one datagram; throws a {@linkcode DatagramTooLargeError}
 * without sending when it is longer than `limit`, and turns the OS's
 * "Message too long" into the same error. Returns the bytes sent.
 * ("Message too long", "Refusing oversize datagrams up front")
 */
export async function sendChecked(
  socket: Deno.DatagramConn,
  data: Uint8Array,
  to: Deno.NetAddr,
  limit: number = MAX_UDP_PAYLOAD_IPV4,
): Promise<number> {
  // TODO: refuse data.length > limit up front.
  // TODO: send; if the error's code is "EMSGSIZE" (os error 90), throw a DatagramTooLargeError
  //       (pass { cause: error }); rethrow any other error.
  throw new Error("not implemented: sendChecked");
}

/**
 * Receives one datagram of at most `maxBytes`, throwing a
 * {@linkcode DatagramTooLargeError} for a longer one instead of returning
 * it truncated. ("Silent truncation")
 */
export async function receiveChecked(
  socket: Deno.DatagramConn,
  maxBytes: number,
): Promise<[Uint8Array, Deno.NetAddr]> {
  // TODO: receive into a buffer one byte bigger than maxBytes; a datagram that fills it
  //       was cut off.
  throw new Error("not implemented: receiveChecked");
}
