/**
 * Lesson 08 — A discovery protocol over broadcast.
 *
 * A client broadcasts `DISCOVER <id>` (id: 8 lowercase hex digits) and
 * collects, for a short window, the answers `HERE <id> <name>` that
 * responders send straight back to it. Responders bind 0.0.0.0 and share
 * the port (`reuseAddress: true`). Anything malformed, or carrying another
 * id, is ignored. Read lessons/lesson-08/README.md ("A discovery protocol",
 * "Collecting answers in a window").
 *
 * Test:    deno task test lesson-08
 *
 * @module
 */

/** The loopback broadcast address this course sends to. */
export const LOOPBACK_BROADCAST = "127.255.255.255";

/** A responder that answered a discovery. */
export interface Found {
  /** The name it gave. */
  name: string;
  /** Where its answer came from. */
  addr: Deno.NetAddr;
}

/** A running responder. */
export interface Responder {
  /** The socket name it is bound to (0.0.0.0 and the port). */
  readonly addr: Deno.NetAddr;
  /** Settles once the responder has stopped after {@linkcode Responder.close}. */
  readonly done: Promise<void>;
  /** Stops answering and closes the socket. */
  close(): void;
}

/** Options for {@linkcode startResponder}. */
export interface ResponderOptions {
  /** The name to answer with (no line breaks). */
  name: string;
  /**
   * The port to listen on. 0 lets the OS pick, but with `reuseAddress` it may pick a port
   * another reusing socket holds: to run several responders on one port, find a free port
   * first ("Picking a port to share").
   */
  port: number;
  /** The address to bind (default 0.0.0.0: only that hears broadcasts). */
  hostname?: string;
}

/** Options for {@linkcode discover}. */
export interface DiscoverOptions {
  /** The responders' port. */
  port: number;
  /** How long to collect answers, in milliseconds. */
  windowMs: number;
  /** Where to broadcast (default 127.255.255.255). */
  broadcast?: string;
  /** Called once per responder as soon as its first good answer arrives (to show it at once). */
  onFound?: (found: Found) => void;
  /** How to wait out the window (default a real timer); tests pass a fake clock. */
  sleep?: Sleep;
}

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first. Either way it
 * resolves, and it leaves no timer behind.
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** A fresh discovery id: 8 random lowercase hex digits. ("A discovery protocol") */
export function discoveryId(): string {
  // TODO: crypto.getRandomValues(new Uint32Array(1)), as hex, padded to 8 digits.
  throw new Error("not implemented: discoveryId");
}

/**
 * The name in an answer to discovery `id`, or undefined when the datagram is
 * not such an answer (not UTF-8, not `HERE <id> <name>`, another id, no name).
 * ("A discovery protocol")
 */
export function parseAnswer(data: Uint8Array, id: string): string | undefined {
  // TODO: new TextDecoder("utf-8", { fatal: true }) throws on bytes that are not UTF-8.
  throw new Error("not implemented: parseAnswer");
}

/**
 * Starts a responder: binds options.hostname (default 0.0.0.0) on
 * options.port with `reuseAddress: true`, and answers every exact
 * `DISCOVER <id>` with `HERE <id> <name>`, sent back to its sender.
 * ("Who hears a broadcast", "Sharing a port: reuseAddress")
 */
export function startResponder(options: ResponderOptions): Responder {
  // TODO: bind synchronously, start a receive loop without awaiting it, return { addr, done, close }.
  // TODO: skip anything that is not /^DISCOVER [0-9a-f]{8}$/ (and keep looping).
  throw new Error("not implemented: startResponder");
}

/**
 * Broadcasts `DISCOVER <id>` to options.broadcast:options.port and collects
 * the well-formed answers with that id that arrive within options.windowMs,
 * one per responder (address and name), calling options.onFound for each as
 * it comes. Always returns after the window. ("Collecting answers in a window")
 */
export async function discover(options: DiscoverOptions): Promise<Found[]> {
  // TODO: bind 127.0.0.1 port 0; start ONE wait for the whole window, before sending:
  // TODO:   options.sleep(windowMs, signal) (default a real timer: setTimeout, cleared on abort).
  // TODO: race receive() against the window; parseAnswer; a Map keyed by "host:port name";
  // TODO:   call options.onFound once for each new entry.
  // TODO: finally: abort the window's wait, mark a still-pending receive handled
  // TODO:   (.catch(() => {})) and close the socket.
  throw new Error("not implemented: discover");
}
