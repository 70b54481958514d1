/**
 * Lesson 02 — Addresses and port numbers (reference solution).
 *
 * Reading and writing `host:port`, telling a dotted-quad IPv4 address from
 * other text, sorting ports into their three tiers, looking a service up in
 * /etc/services-format text, and letting the OS pick a free port.
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
 * Throws a RangeError unless `port` is an integer from 0 to 65535.
 *
 * @example
 * ```ts
 * import { checkPort } from "./addresses.ts";
 * checkPort(1060); // fine
 * try {
 *   checkPort(70000);
 * } catch (e) {
 *   (e as Error).message; // "port 70000 is out of range: a port is 16 bits, 0 to 65535"
 * }
 * ```
 */
export function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
    throw new RangeError(`port ${port} is out of range: a port is 16 bits, 0 to ${MAX_PORT}`);
  }
}

/**
 * Splits `host:port` text. An IPv6 address goes in brackets (`[::1]:1060`),
 * because it is full of colons itself. Without a port, `defaultPort` is used.
 * Throws a TypeError for malformed text (empty host, a port that is not
 * decimal digits, IPv6 without brackets, no port and no default) and a
 * RangeError for a port above 65535.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./addresses.ts";
 * parseHostPort("127.0.0.1:1060"); // { hostname: "127.0.0.1", port: 1060 }
 * parseHostPort("[::1]:1060"); // { hostname: "::1", port: 1060 }
 * parseHostPort("localhost", 1060); // { hostname: "localhost", port: 1060 }
 * ```
 */
export function parseHostPort(text: string, defaultPort?: number): HostPort {
  const [hostname, portText] = splitHostPort(text);
  if (hostname === "") throw new TypeError(`"${text}": the host is empty`);
  if (portText === undefined) {
    if (defaultPort === undefined) {
      throw new TypeError(`"${text}": no port given and no default port`);
    }
    checkPort(defaultPort);
    return { hostname, port: defaultPort };
  }
  if (!/^[0-9]+$/.test(portText)) {
    throw new TypeError(`"${text}": the port "${portText}" is not a decimal number`);
  }
  const port = Number(portText);
  checkPort(port);
  return { hostname, port };
}

/** Splits text into the host (brackets removed) and the port text, if any. */
function splitHostPort(text: string): [string, string | undefined] {
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new TypeError(`"${text}": "[" without a closing "]"`);
    const rest = text.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) {
      throw new TypeError(`"${text}": expected ":PORT" after "]"`);
    }
    return [text.slice(1, end), rest === "" ? undefined : rest.slice(1)];
  }
  const colon = text.lastIndexOf(":");
  if (colon < 0) return [text, undefined];
  const hostname = text.slice(0, colon);
  if (hostname.includes(":")) {
    throw new TypeError(`"${text}": an IPv6 address needs brackets, as in [::1]:1060`);
  }
  return [hostname, text.slice(colon + 1)];
}

/**
 * Writes a host and port as text, with brackets around an IPv6 address.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./addresses.ts";
 * formatHostPort({ hostname: "127.0.0.1", port: 1060 }); // "127.0.0.1:1060"
 * formatHostPort({ hostname: "::1", port: 1060 }); // "[::1]:1060"
 * ```
 */
export function formatHostPort(addr: HostPort): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * Whether `text` is an IPv4 address in dotted-quad form: exactly four
 * decimal numbers from 0 to 255, separated by dots, without leading zeros
 * (`010` could mean 8, in octal, to some parsers) and without spaces.
 *
 * @example
 * ```ts
 * import { isIPv4 } from "./addresses.ts";
 * isIPv4("127.0.0.1"); // true
 * isIPv4("256.0.0.1"); // false
 * isIPv4("localhost"); // false
 * ```
 */
export function isIPv4(text: string): boolean {
  const quads = text.split(".");
  return quads.length === 4 &&
    quads.every((quad) => /^(0|[1-9][0-9]{0,2})$/.test(quad) && Number(quad) <= 255);
}

/**
 * The tier a port belongs to: well-known (0–1023), registered (1024–49151)
 * or dynamic (49152–65535). Throws a RangeError outside 0–65535.
 *
 * @example
 * ```ts
 * import { portTier } from "./addresses.ts";
 * portTier(80); // "well-known"
 * portTier(1060); // "registered"
 * portTier(50000); // "dynamic"
 * ```
 */
export function portTier(port: number): PortTier {
  checkPort(port);
  if (port <= 1023) return "well-known";
  if (port <= 49151) return "registered";
  return "dynamic";
}

/**
 * Looks a service up in text laid out like /etc/services
 * (`name  port/protocol  aliases…  # comment`): the port of the entry whose
 * name or an alias is `name`, for `protocol`; `undefined` when there is
 * none. Everything after a `#` is a comment.
 *
 * @example
 * ```ts
 * import { lookupService } from "./addresses.ts";
 * const services = "http  80/tcp  www  # WorldWideWeb HTTP\ndomain  53/udp\n";
 * lookupService(services, "www", "tcp"); // 80
 * lookupService(services, "domain", "tcp"); // undefined: only udp is listed
 * ```
 */
export function lookupService(
  servicesText: string,
  name: string,
  protocol: Protocol,
): number | undefined {
  for (const line of servicesText.split("\n")) {
    const fields = line.replace(/#.*/, "").trim().split(/\s+/);
    if (fields.length < 2) continue;
    const [service, portAndProtocol, ...aliases] = fields;
    const m = portAndProtocol.match(/^([0-9]+)\/([a-z]+)$/);
    if (!m) continue;
    if (m[2] !== protocol) continue;
    if (service === name || aliases.includes(name)) return Number(m[1]);
  }
  return undefined;
}

/**
 * Listens for TCP on `hostname` at port 0, so that the OS picks a free port,
 * and reports the address actually bound.
 *
 * @example
 * ```ts
 * import { listenOnAnyPort } from "./addresses.ts";
 * const listener = listenOnAnyPort("127.0.0.1");
 * console.log(listener.addr.port); // e.g. 41703, never 0
 * listener.close();
 * ```
 */
export function listenOnAnyPort(hostname = "127.0.0.1"): AnyPortListener {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  return {
    addr: listener.addr,
    close: () => listener.close(),
  };
}
