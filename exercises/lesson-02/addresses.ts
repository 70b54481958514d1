/**
 * Lesson 02 — Addresses and port numbers.
 *
 * Read and write `host:port`, recognise a dotted-quad IPv4 address, sort
 * ports into their three tiers, look a service up in /etc/services-format
 * text, and let the OS pick a free port. Read lessons/lesson-02/README.md
 * first.
 *
 * Test:  deno task test lesson-02
 *
 * @module
 */

/** A host (name, IPv4 or IPv6 address, without brackets) and a port. */
export interface HostPort {
  /** e.g. `127.0.0.1`, `::1` or `localhost`. */
  hostname: string;
  /** 0 to 65535. */
  port: number;
}

/** The three tiers of port numbers. */
export type PortTier = "well-known" | "registered" | "dynamic";

/** The transport protocols /etc/services lists ports for. */
export type Protocol = "tcp" | "udp";

/** A listener on a port the OS chose. */
export interface AnyPortListener {
  /** The address actually bound, with the port the OS picked. */
  readonly addr: Deno.NetAddr;
  /** Closes the listener, freeing the port. */
  close(): void;
}

/** The largest port number: ports are 16-bit numbers. */
export const MAX_PORT = 65535;

/**
 * Throws a RangeError unless `port` is an integer from 0 to 65535, with a
 * message like `port 70000 is out of range: a port is 16 bits, 0 to 65535`.
 * ("Port numbers are 16 bits")
 */
export function checkPort(port: number): void {
  // TODO: Number.isInteger, then the two bounds.
  throw new Error("not implemented: checkPort");
}

/**
 * Splits `host:port` text: `127.0.0.1:1060`, `[::1]:1060` (an IPv6 address
 * goes in brackets), or just a host, which gets `defaultPort`.
 * Throws a TypeError for malformed text (empty host, a port that is not
 * decimal digits, IPv6 without brackets, no port and no default) and a
 * RangeError for a port above 65535 (use `checkPort`).
 * ("The port follows a colon")
 */
export function parseHostPort(text: string, defaultPort?: number): HostPort {
  // TODO: text starting with "[": the host runs to "]", then nothing or ":PORT".
  // TODO: otherwise the port is after the LAST colon; a host that still holds
  //       a colon is IPv6 without brackets: reject it.
  // TODO: the port text must be digits only (/^[0-9]+$/) before Number(), then checkPort.
  throw new Error("not implemented: parseHostPort");
}

/**
 * Writes a host and port as text: `127.0.0.1:1060`, and `[::1]:1060` for an
 * IPv6 address. ("The port follows a colon")
 */
export function formatHostPort(addr: HostPort): string {
  // TODO: brackets when the hostname contains a colon.
  throw new Error("not implemented: formatHostPort");
}

/**
 * Whether `text` is an IPv4 address in dotted-quad form: exactly four
 * decimal numbers from 0 to 255, separated by dots, without leading zeros
 * and without spaces. ("IPv4: four numbers and three dots")
 */
export function isIPv4(text: string): boolean {
  // TODO: split on ".", check there are four parts, and check each part.
  throw new Error("not implemented: isIPv4");
}

/**
 * The tier a port belongs to: "well-known" (0–1023), "registered"
 * (1024–49151) or "dynamic" (49152–65535). Throws a RangeError outside
 * 0–65535. ("Three tiers of ports")
 */
export function portTier(port: number): PortTier {
  // TODO: checkPort, then compare with the tier boundaries.
  throw new Error("not implemented: portTier");
}

/**
 * Looks a service up in text laid out like /etc/services
 * (`name  port/protocol  aliases…  # comment`): the port of the entry whose
 * name or an alias is `name`, for `protocol`; `undefined` when there is
 * none. Everything after a `#` is a comment.
 * ("Ports that are spoken for: /etc/services")
 */
export function lookupService(
  servicesText: string,
  name: string,
  protocol: Protocol,
): number | undefined {
  // TODO: for each line: drop the comment, split on whitespace,
  //       read "port/protocol" from the second field, compare name, aliases, protocol.
  throw new Error("not implemented: lookupService");
}

/**
 * Listens for TCP on `hostname` at port 0, so that the OS picks a free port,
 * and reports the address actually bound (never port 0).
 * ("Port 0: let the OS choose")
 */
export function listenOnAnyPort(hostname = "127.0.0.1"): AnyPortListener {
  // TODO: Deno.listen with port 0; report listener.addr; close() closes the listener.
  throw new Error("not implemented: listenOnAnyPort");
}
