/**
 * Lesson 08 — Broadcast: the book's udp_broadcast (reference solution).
 *
 * The server binds all interfaces (0.0.0.0), sharing its port with any
 * other copy (`reuseAddress`), and prints every datagram it hears. The
 * client sends `Broadcast datagram!` to a broadcast address; on Linux
 * loopback that is 127.255.255.255.
 * Run it: `deno task run lesson-08 server` and
 * `deno task run lesson-08 client 127.255.255.255`.
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The broadcast address of the subnet `address/prefixLength`: the address
 * with every host bit (the last 32 − prefixLength bits) set to 1.
 *
 * @example
 * ```ts
 * import { broadcastAddress } from "./udp_broadcast.ts";
 * broadcastAddress("192.168.1.23", 24); // "192.168.1.255"
 * broadcastAddress("127.0.0.1", 8); // "127.255.255.255"
 * ```
 */
export function broadcastAddress(address: string, prefixLength: number): string {
  const texts = address.split(".");
  const parts = texts.map(Number);
  if (
    parts.length !== 4 || texts.some((t) => !/^[0-9]{1,3}$/.test(t)) ||
    parts.some((p) => p > 255) ||
    !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32
  ) {
    throw new RangeError(`not an IPv4 address and prefix length: ${address}/${prefixLength}`);
  }
  const value = parts.reduce((n, p) => n * 256 + p, 0);
  const hostBits = 2 ** (32 - prefixLength) - 1; // as a number: 2 ** 32 - 1 fits exactly
  const broadcast = (value - (value % (hostBits + 1))) + hostBits;
  return [24, 16, 8, 0].map((shift) => Math.floor(broadcast / 2 ** shift) % 256).join(".");
}

/**
 * The server's line for one datagram, in the book's shape:
 * `The client at (127.0.0.1, 54321) says: 'Broadcast datagram!'`.
 *
 * @example
 * ```ts
 * import { broadcastLine } from "./udp_broadcast.ts";
 * broadcastLine(
 *   { transport: "udp", hostname: "127.0.0.1", port: 54321 },
 *   new TextEncoder().encode("Broadcast datagram!"),
 * ); // "The client at (127.0.0.1, 54321) says: 'Broadcast datagram!'"
 * ```
 */
export function broadcastLine(from: Deno.NetAddr, data: Uint8Array): string {
  const text = JSON.stringify(decoder.decode(data)).slice(1, -1)
    .replaceAll('\\"', '"').replaceAll("'", "\\'");
  return `The client at (${from.hostname}, ${from.port}) says: '${text}'`;
}

/**
 * The program's `server` role: bind all interfaces on options.port (like the
 * book's, whatever host is given), sharing the port with other copies, log
 * `Listening for broadcasts at 0.0.0.0:PORT` and then one
 * {@linkcode broadcastLine} per datagram, until options.signal aborts.
 *
 * @example
 * ```ts ignore
 * import { server } from "./udp_broadcast.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "0.0.0.0", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const socket = Deno.listenDatagram({
    hostname: ALL_INTERFACES,
    port: options.port,
    transport: "udp",
    reuseAddress: true,
  });
  const addr = socket.addr as Deno.NetAddr;
  options.log(`Listening for broadcasts at ${addr.hostname}:${addr.port}`);
  const stop = () => socket.close();
  if (options.signal.aborted) stop();
  options.signal.addEventListener("abort", stop, { once: true });
  try {
    while (true) {
      const [data, from] = await socket.receive();
      options.log(broadcastLine(from as Deno.NetAddr, data));
    }
  } catch (error) {
    if (!options.signal.aborted) throw error;
  } finally {
    options.signal.removeEventListener("abort", stop);
    if (!options.signal.aborted) socket.close();
  }
}

/**
 * The program's `client` role: send {@linkcode BROADCAST_MESSAGE} once to
 * options.hostname:options.port (a broadcast address, e.g. 127.255.255.255)
 * and log `Sent 'Broadcast datagram!' to HOST:PORT`.
 *
 * @example
 * ```ts ignore
 * import { client } from "./udp_broadcast.ts";
 * await client({
 *   hostname: "127.255.255.255",
 *   port: 1060,
 *   log: console.log,
 *   signal: new AbortController().signal,
 * });
 * ```
 */
export async function client(options: ProgramOptions): Promise<void> {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    const to: Deno.NetAddr = { transport: "udp", hostname: options.hostname, port: options.port };
    await socket.send(encoder.encode(BROADCAST_MESSAGE), to);
    options.log(`Sent '${BROADCAST_MESSAGE}' to ${to.hostname}:${to.port}`);
  } finally {
    socket.close();
  }
}
