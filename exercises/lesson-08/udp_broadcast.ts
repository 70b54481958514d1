/**
 * Lesson 08 — Socket options and broadcast: the book's udp_broadcast.
 *
 * The server binds all interfaces (0.0.0.0), sharing its port with other
 * copies (`reuseAddress: true`), and prints every datagram it hears. The
 * client sends `Broadcast datagram!` to a broadcast address; on Linux
 * loopback that is 127.255.255.255. Read lessons/lesson-08/README.md first.
 *
 * Test:    deno task test lesson-08
 * Run it:  deno task run lesson-08 server     (in one or more terminals)
 *          deno task run lesson-08 client 127.255.255.255
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** What the book's client sends (19 bytes, no newline). */
export const BROADCAST_MESSAGE = "Broadcast datagram!";

/** The broadcast address of loopback's 127.0.0.0/8: the only one this course sends to. */
export const LOOPBACK_BROADCAST = "127.255.255.255";

/** The wildcard address: a socket bound here hears every interface, broadcasts included. */
export const ALL_INTERFACES = "0.0.0.0";

/**
 * The broadcast address of the subnet `address/prefixLength`: the address
 * with every host bit (the last 32 − prefixLength bits) set to 1, e.g.
 * ("192.168.1.23", 24) → "192.168.1.255". Throws a RangeError for bad input.
 * ("The broadcast address of a subnet")
 */
export function broadcastAddress(address: string, prefixLength: number): string {
  // TODO: the four numbers → one 32-bit value; set the low (32 - prefixLength) bits; back to
  //       four numbers. (Bitwise operators work on signed 32 bits: `>>> 0` makes a result unsigned.)
  throw new Error("not implemented: broadcastAddress");
}

/**
 * The server's line for one datagram:
 * `The client at (127.0.0.1, 54321) says: 'Broadcast datagram!'`.
 * ("Running it as a program")
 */
export function broadcastLine(from: Deno.NetAddr, data: Uint8Array): string {
  // TODO: decode the data with a default TextDecoder (bad bytes become �, nothing throws)
  //       and put it between single quotes.
  throw new Error("not implemented: broadcastLine");
}

/**
 * The program's `server` role: bind 0.0.0.0 on options.port (whatever
 * options.hostname says, like the book's) with `reuseAddress: true`, log
 * `Listening for broadcasts at 0.0.0.0:PORT`, then one broadcastLine per
 * datagram, until options.signal aborts. ("Who hears a broadcast",
 * "Sharing a port: reuseAddress", "Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: Deno.listenDatagram({ hostname: ALL_INTERFACES, port, transport: "udp", reuseAddress: true }).
  // TODO: close the socket when options.signal aborts; the pending receive() then rejects: return.
  throw new Error("not implemented: server");
}

/**
 * The program's `client` role: send BROADCAST_MESSAGE once to
 * options.hostname:options.port and log `Sent 'Broadcast datagram!' to HOST:PORT`.
 * ("Sending a broadcast")
 */
export async function client(options: ProgramOptions): Promise<void> {
  // TODO: bind 127.0.0.1 port 0, send, close the socket (also on error).
  throw new Error("not implemented: client");
}
