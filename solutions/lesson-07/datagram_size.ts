/**
 * Lesson 07 — Datagram size: the limits (reference solution).
 *
 * How big a UDP datagram may be, how many IP packets it becomes on a link
 * with a given MTU, how likely it is to arrive, and sending and receiving
 * that refuse oversize datagrams with a clear error instead of failing
 * obscurely or trusting a truncated copy.
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

  /**
   * @example
   * ```ts
   * import { DatagramTooLargeError } from "./datagram_size.ts";
   * const e = new DatagramTooLargeError("too big", 70_000, 65_507);
   * e.size - e.limit; // 4493
   * ```
   */
  constructor(message: string, size: number, limit: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatagramTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The largest UDP payload that fits in one IPv4 packet on a link of `mtu`
 * bytes: the MTU minus the IPv4 and UDP headers.
 *
 * @example
 * ```ts
 * import { payloadBudget } from "./datagram_size.ts";
 * payloadBudget(1500); // 1472
 * ```
 */
export function payloadBudget(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu < 68) {
    throw new RangeError(`an IPv4 MTU is a whole number of at least 68 bytes, not ${mtu}`);
  }
  return mtu - IPV4_HEADER_BYTES - UDP_HEADER_BYTES;
}

/**
 * How many IPv4 packets a UDP datagram with `payloadBytes` of payload
 * becomes on a link of `mtu` bytes. IP fragments the UDP header and payload
 * together; every fragment but the last carries `mtu - 20` bytes rounded
 * down to a multiple of 8, and the last carries the rest, up to `mtu - 20`.
 *
 * @example
 * ```ts
 * import { fragmentCount } from "./datagram_size.ts";
 * fragmentCount(1472, 1500); // 1
 * fragmentCount(1473, 1500); // 2
 * fragmentCount(65_507, 1500); // 45
 * ```
 */
export function fragmentCount(payloadBytes: number, mtu: number): number {
  payloadBudget(mtu); // validates mtu
  const ipPayload = payloadBytes + UDP_HEADER_BYTES;
  const room = mtu - IPV4_HEADER_BYTES; // what one packet carries: the last fragment may fill it
  if (ipPayload <= room) return 1;
  const perFragment = Math.floor(room / 8) * 8; // every fragment but the last: a multiple of 8
  return 1 + Math.ceil((ipPayload - room) / perFragment);
}

/**
 * The chance that a datagram split into `packets` IP packets arrives, when
 * each packet is lost independently with probability `lossPerPacket`: every
 * piece must arrive, so it is (1 − p)^k.
 *
 * @example
 * ```ts
 * import { deliveryProbability } from "./datagram_size.ts";
 * deliveryProbability(0.01, 45).toFixed(3); // "0.636"
 * ```
 */
export function deliveryProbability(lossPerPacket: number, packets: number): number {
  if (lossPerPacket < 0 || lossPerPacket > 1) {
    throw new RangeError(`a probability is between 0 and 1, not ${lossPerPacket}`);
  }
  return (1 - lossPerPacket) ** packets;
}

/** Whether an error is the OS refusing an oversize datagram (EMSGSIZE). */
function isMessageTooLong(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === "EMSGSIZE" || /message too long|os error (90|10040)\b/i.test(error.message);
}

/**
 * Sends `data` as one datagram, refusing it up front when it is longer than
 * `limit`, and turning the OS's "Message too long" into the same clear
 * {@linkcode DatagramTooLargeError}. Returns the bytes sent.
 *
 * @example
 * ```ts
 * import { DatagramTooLargeError, sendChecked } from "./datagram_size.ts";
 * const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 * try {
 *   await sendChecked(socket, new Uint8Array(2000), socket.addr as Deno.NetAddr, 1472);
 * } catch (e) {
 *   console.log(e instanceof DatagramTooLargeError); // true: nothing was sent
 * } finally {
 *   socket.close();
 * }
 * ```
 */
export async function sendChecked(
  socket: Deno.DatagramConn,
  data: Uint8Array,
  to: Deno.NetAddr,
  limit: number = MAX_UDP_PAYLOAD_IPV4,
): Promise<number> {
  if (data.length > limit) {
    throw new DatagramTooLargeError(
      `a datagram of ${data.length} bytes is over the limit of ${limit} bytes: split it`,
      data.length,
      limit,
    );
  }
  try {
    return await socket.send(data, to);
  } catch (error) {
    if (!isMessageTooLong(error)) throw error;
    throw new DatagramTooLargeError(
      `the OS refused a datagram of ${data.length} bytes as too long ` +
        `(UDP over IPv4 carries at most ${MAX_UDP_PAYLOAD_IPV4}): split it`,
      data.length,
      MAX_UDP_PAYLOAD_IPV4,
      { cause: error },
    );
  }
}

/**
 * Receives one datagram of at most `maxBytes`. The buffer has one byte to
 * spare: a datagram that fills it was longer than `maxBytes`, and its end
 * was cut off, so it is refused with a {@linkcode DatagramTooLargeError}
 * rather than returned truncated.
 *
 * @example
 * ```ts
 * import { receiveChecked } from "./datagram_size.ts";
 * const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
 * await socket.send(new Uint8Array(10), socket.addr);
 * const [data] = await receiveChecked(socket, 100);
 * socket.close();
 * data.length; // 10
 * ```
 */
export async function receiveChecked(
  socket: Deno.DatagramConn,
  maxBytes: number,
): Promise<[Uint8Array, Deno.NetAddr]> {
  const [data, from] = await socket.receive(new Uint8Array(maxBytes + 1));
  const sender = from as Deno.NetAddr;
  if (data.length > maxBytes) {
    throw new DatagramTooLargeError(
      `a datagram from ${sender.hostname}:${sender.port} was longer than ${maxBytes} bytes ` +
        `and arrived truncated: refused`,
      data.length,
      maxBytes,
    );
  }
  return [data, sender];
}
