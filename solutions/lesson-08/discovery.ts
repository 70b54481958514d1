/**
 * Lesson 08 — A discovery protocol over broadcast (reference solution).
 *
 * A client broadcasts `DISCOVER <id>` (id: 8 lowercase hex digits) and
 * collects, for a short window, the answers `HERE <id> <name>` that
 * responders send straight back to it. Responders bind all interfaces and
 * share the port (`reuseAddress`), so several on one machine all hear one
 * broadcast. Anything malformed, or carrying another id, is ignored.
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

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

const REQUEST = /^DISCOVER ([0-9a-f]{8})$/;

/**
 * A fresh discovery id: 8 random lowercase hex digits.
 *
 * @example
 * ```ts
 * import { discoveryId } from "./discovery.ts";
 * /^[0-9a-f]{8}$/.test(discoveryId()); // true
 * ```
 */
export function discoveryId(): string {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return n.toString(16).padStart(8, "0");
}

/**
 * The name in an answer to discovery `id`, or undefined when the datagram is
 * not such an answer (not UTF-8, not `HERE <id> <name>`, another id, no name).
 *
 * @example
 * ```ts
 * import { parseAnswer } from "./discovery.ts";
 * const e = new TextEncoder();
 * parseAnswer(e.encode("HERE 0badcafe printer"), "0badcafe"); // "printer"
 * parseAnswer(e.encode("HERE 12345678 printer"), "0badcafe"); // undefined
 * ```
 */
export function parseAnswer(data: Uint8Array, id: string): string | undefined {
  let text: string;
  try {
    text = strict.decode(data);
  } catch {
    return undefined;
  }
  const prefix = `HERE ${id} `;
  if (!text.startsWith(prefix)) return undefined;
  const name = text.slice(prefix.length);
  if (!name.trim() || /[\r\n]/.test(name)) return undefined;
  return name;
}

/**
 * Starts a responder: binds options.hostname (default 0.0.0.0) on
 * options.port with `reuseAddress: true`, and answers every
 * `DISCOVER <id>` with `HERE <id> <name>`, sent back to its sender.
 * Anything else is ignored.
 *
 * @example
 * ```ts ignore
 * import { startResponder } from "./discovery.ts";
 * const responder = startResponder({ name: "printer", port: 0 });
 * responder.close();
 * await responder.done;
 * ```
 */
export function startResponder(options: ResponderOptions): Responder {
  const socket = Deno.listenDatagram({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port,
    transport: "udp",
    reuseAddress: true,
  });
  let closing = false;

  async function loop(): Promise<void> {
    while (true) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await socket.receive();
      } catch (error) {
        if (closing) return;
        throw error;
      }
      let text: string;
      try {
        text = strict.decode(data);
      } catch {
        continue;
      }
      const match = text.match(REQUEST);
      if (!match) continue;
      try {
        await socket.send(encoder.encode(`HERE ${match[1]} ${options.name}`), from);
      } catch (error) {
        if (closing) return;
        throw error;
      }
    }
  }

  const done = loop();
  return {
    addr: socket.addr as Deno.NetAddr,
    done,
    close() {
      if (closing) return;
      closing = true;
      socket.close();
    },
  };
}

/**
 * Broadcasts `DISCOVER <id>` to options.broadcast:options.port and collects
 * the well-formed answers with that id that arrive within options.windowMs,
 * one per responder (address and name: responders sharing a port on one
 * machine answer from the same address), telling options.onFound of each as
 * it comes. Always returns after the window, possibly with nothing.
 *
 * @example
 * ```ts ignore
 * import { discover } from "./discovery.ts";
 * const found = await discover({
 *   port: 1061,
 *   windowMs: 200,
 *   onFound: (f) => console.log(`found ${f.name}`),
 * });
 * console.log(found.map((f) => f.name));
 * ```
 */
export async function discover(options: DiscoverOptions): Promise<Found[]> {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const id = discoveryId();
  const found = new Map<string, Found>();
  const sleep = options.sleep ?? realSleep;
  const over = new AbortController();
  const windowOver = sleep(options.windowMs, over.signal).then(() => "over" as const);
  let pending: Promise<[Uint8Array, Deno.Addr]> | undefined;
  try {
    await socket.send(encoder.encode(`DISCOVER ${id}`), {
      transport: "udp",
      hostname: options.broadcast ?? LOOPBACK_BROADCAST,
      port: options.port,
    });
    while (true) {
      pending = socket.receive();
      const next = await Promise.race([pending, windowOver]);
      if (next === "over") break;
      pending = undefined;
      const [data, from] = next;
      const name = parseAnswer(data, id);
      if (name === undefined) continue;
      const addr = from as Deno.NetAddr;
      const key = `${addr.hostname}:${addr.port} ${name}`;
      if (found.has(key)) continue;
      const responder = { name, addr };
      found.set(key, responder);
      options.onFound?.(responder);
    }
  } finally {
    over.abort();
    pending?.catch(() => {});
    socket.close();
  }
  return [...found.values()];
}
