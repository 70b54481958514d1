/**
 * Lesson 03 — A first UDP server and client (reference solution).
 *
 * The book's udp_local: the client sends `The time is <timestamp>`, the
 * server answers the sender with `Your data was N bytes long`.
 * Run it: `deno task run lesson-03 server` and `deno task run lesson-03 client`.
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** More than any UDP payload (at most 65,527 bytes; 65,507 over IPv4): a receive buffer this big never truncates. */
export const MAX_DATAGRAM = 65535;

/** A running UDP server. */
export interface UdpServer {
  /** The socket name the server is bound to (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the server loop has ended after {@linkcode UdpServer.close}. */
  readonly done: Promise<void>;
  /** Stops the loop and closes the socket. */
  close(): void;
}

/** Where a server binds, and where it reports what it sees. */
export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Called with one line per datagram received. */
  log?: (line: string) => void;
}

/** What the client saw of one exchange. */
export interface Exchange {
  /** The server's reply, decoded. */
  reply: string;
  /** Where the reply came from. */
  from: Deno.NetAddr;
  /** The client's own socket name, chosen by the OS. */
  local: Deno.NetAddr;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The server's reply to a datagram of `byteCount` bytes.
 *
 * @example
 * ```ts
 * import { replyFor } from "./udp_local.ts";
 * replyFor(16); // "Your data was 16 bytes long"
 * ```
 */
export function replyFor(byteCount: number): string {
  return `Your data was ${byteCount} bytes long`;
}

/**
 * The client's message: `The time is ` and the local time written the way
 * Python prints a datetime (`2026-11-25 14:30:01.123000`).
 *
 * @example
 * ```ts
 * import { timeMessage } from "./udp_local.ts";
 * timeMessage(new Date(2026, 10, 25, 14, 30, 1, 123)); // "The time is 2026-11-25 14:30:01.123000"
 * ```
 */
export function timeMessage(now: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const date = `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
  const time = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  const micros = String(now.getMilliseconds() * 1000).padStart(6, "0");
  return `The time is ${date} ${time}.${micros}`;
}

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./udp_local.ts";
 * formatAddr({ transport: "udp", hostname: "127.0.0.1", port: 1060 }); // "127.0.0.1:1060"
 * ```
 */
export function formatAddr(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

/**
 * Binds a UDP socket and answers every datagram, until closed.
 *
 * @example
 * ```ts
 * import { startServer } from "./udp_local.ts";
 * const server = startServer();
 * console.log(server.addr.port); // the port the OS picked
 * server.close();
 * await server.done;
 * ```
 */
export function startServer(options: ServerOptions = {}): UdpServer {
  const socket = Deno.listenDatagram({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "udp",
  });
  const addr = socket.addr as Deno.NetAddr;
  let closing = false;

  async function loop(): Promise<void> {
    const buffer = new Uint8Array(MAX_DATAGRAM);
    while (true) {
      let data: Uint8Array;
      let sender: Deno.Addr;
      try {
        [data, sender] = await socket.receive(buffer);
      } catch (error) {
        if (closing) return;
        throw error;
      }
      const from = sender as Deno.NetAddr;
      options.log?.(
        `The client at ${formatAddr(from)} says ${JSON.stringify(decoder.decode(data))}`,
      );
      await socket.send(encoder.encode(replyFor(data.length)), from);
    }
  }

  const done = loop();
  return {
    addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      socket.close();
    },
  };
}

/**
 * Sends `text` to `server` from a fresh socket on an OS-chosen port, waits
 * for one reply, and closes the socket.
 *
 * @example
 * ```ts
 * import { ask, startServer } from "./udp_local.ts";
 * const server = startServer();
 * const { reply } = await ask(server.addr, "hello");
 * server.close();
 * await server.done;
 * reply; // "Your data was 5 bytes long"
 * ```
 */
export async function ask(server: Deno.NetAddr, text: string): Promise<Exchange> {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    await socket.send(encoder.encode(text), server);
    const [data, from] = await socket.receive(new Uint8Array(MAX_DATAGRAM));
    return {
      reply: decoder.decode(data),
      from: from as Deno.NetAddr,
      local: socket.addr as Deno.NetAddr,
    };
  } finally {
    socket.close();
  }
}

/**
 * The program's server role: listen, print each datagram, until stopped.
 *
 * @example
 * ```ts
 * import { server } from "./udp_local.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const running = startServer(options);
  options.log(`Listening at ${formatAddr(running.addr)}`);
  if (options.signal.aborted) running.close();
  options.signal.addEventListener("abort", () => running.close(), { once: true });
  await running.done;
}

/**
 * The program's client role: send the time once, print what happened.
 *
 * @example
 * ```ts ignore
 * import { client } from "./udp_local.ts";
 * await client({ hostname: "127.0.0.1", port: 1060, log: console.log, signal: new AbortController().signal });
 * ```
 */
export async function client(options: ProgramOptions): Promise<void> {
  const to: Deno.NetAddr = { transport: "udp", hostname: options.hostname, port: options.port };
  const { reply, from, local } = await ask(to, timeMessage(new Date()));
  options.log(`The OS assigned me the address ${formatAddr(local)}`);
  options.log(`The server ${formatAddr(from)} replied ${JSON.stringify(reply)}`);
}
