/**
 * Lesson 16 — A robust line-protocol server (reference solution).
 *
 * Serves the line protocol of protocol.ts to many clients at once, and
 * survives the clients that misbehave: over-long and endless lines, bytes
 * that are not UTF-8, clients that never speak (idle timeout), clients that
 * vanish mid-line. `close()` closes the listener and every connection, and
 * `done` settles once all of them have ended.
 *
 * Run it: `deno task run lesson-16 server`, then talk to it with
 * `deno task run lesson-16 client 127.0.0.1 "ECHO hi"` or `nc 127.0.0.1 1060`.
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";
import { LineReader, type Source } from "./line_reader.ts";
import { ERR_BUSY, ERR_IDLE, ERR_TOO_LONG, MAX_LINE_BYTES, respond } from "./protocol.ts";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/** How long a client may stay silent by default, in milliseconds. */
export const DEFAULT_IDLE_MS = 30_000;

/** accept() failed because the process (24) or the system (23) ran out of file descriptors. */
const OUT_OF_DESCRIPTORS = /\(os error 2[34]\)/;

/** How long the accept loop rests after running out of file descriptors, in milliseconds. */
const ACCEPT_BACKOFF_MS = 10;

/** How many connections the server serves at once by default. */
export const DEFAULT_MAX_CONNECTIONS = 256;

/** The lines the `client` role sends when the command line names none. */
export const DEMO_LINES: readonly string[] = ["ECHO Hello, server", "UPPER please shout this"];

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first. Either way it
 * resolves, and it leaves no timer behind.
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Where the server listens, its limits, and where it reports what it sees. */
export interface LineServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port to listen on (default 0: the OS picks). */
  port?: number;
  /** The longest request line, in bytes (default {@linkcode MAX_LINE_BYTES}). */
  maxLineBytes?: number;
  /** Close a connection that sent nothing for this long (default {@linkcode DEFAULT_IDLE_MS}). */
  idleMs?: number;
  /**
   * How many connections are served at once (default {@linkcode DEFAULT_MAX_CONNECTIONS}); one
   * more is answered {@linkcode ERR_BUSY} and closed.
   */
  maxConnections?: number;
  /** Called with one line per event: connections, disconnections, time-outs, failures. */
  log?: (line: string) => void;
  /** How the idle limit waits (default a real timer); tests pass a fake clock. */
  sleep?: Sleep;
}

/** A running line server. */
export interface LineServer {
  /** The socket name the server listens on (port 0 becomes the OS's choice). */
  readonly addr: Deno.NetAddr;
  /** Settles once the listener and every connection are closed after {@linkcode LineServer.close}. */
  readonly done: Promise<void>;
  /** Closes the listener and every open connection. */
  close(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

/** Thrown by an idle-limited read when the client sent nothing in time. */
class IdleTimeout extends Error {}

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./line_server.ts";
 * formatAddr({ transport: "tcp", hostname: "127.0.0.1", port: 1060 }); // "127.0.0.1:1060"
 * ```
 */
export function formatAddr(addr: Deno.NetAddr): string {
  return `${addr.hostname}:${addr.port}`;
}

/**
 * Starts the server. Every connection is served in its own task.
 *
 * @example
 * ```ts
 * import { startLineServer } from "./line_server.ts";
 * const server = startLineServer({ idleMs: 5_000 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await conn.write(new TextEncoder().encode("UPPER hello\nQUIT\n"));
 * const reply = await new Response(conn.readable).text(); // "OK HELLO\nBYE\n"
 * server.close();
 * await server.done;
 * ```
 */
export function startLineServer(options: LineServerOptions = {}): LineServer {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    transport: "tcp",
  });
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const log = options.log ?? (() => {});
  const sleep = options.sleep ?? realSleep;
  const open = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let served = 0;
  let closing = false;
  let wake = () => {};

  /** A source whose every read fails with IdleTimeout after idleMs without bytes. */
  function idleLimited(conn: Deno.Conn): Source {
    return {
      read: (buffer) =>
        new Promise((resolve, reject) => {
          const quiet = new AbortController();
          sleep(idleMs, quiet.signal).then(() => {
            if (!quiet.signal.aborted) reject(new IdleTimeout());
          });
          conn.read(buffer).then(resolve, reject).finally(() => quiet.abort());
        }),
    };
  }

  async function sendLine(conn: Deno.Conn, line: string): Promise<void> {
    const bytes = encoder.encode(line + "\n");
    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
  }

  async function handle(conn: Deno.Conn): Promise<void> {
    served++;
    const peer = formatAddr(conn.remoteAddr as Deno.NetAddr);
    log(`${peer} connected`);
    const reader = new LineReader(idleLimited(conn), maxLineBytes);
    try {
      while (true) {
        const result = await reader.next();
        if (result.kind === "end") {
          log(
            result.partial
              ? `${peer} disconnected mid-line (${result.partial} bytes dropped)`
              : `${peer} disconnected`,
          );
          return;
        }
        if (result.kind === "too-long") {
          await sendLine(conn, ERR_TOO_LONG);
          continue;
        }
        const reply = respond(result.bytes);
        await sendLine(conn, reply.line);
        if (reply.close) {
          log(`${peer} quit`);
          return;
        }
      }
    } catch (error) {
      if (error instanceof IdleTimeout) {
        log(`${peer} idle for ${idleMs} ms: closed`);
        await sendLine(conn, ERR_IDLE).catch(() => {});
      } else if (!closing) {
        log(`${peer} failed: ${(error as Error).message}`);
      }
    } finally {
      served--;
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed by close()
      }
    }
  }

  /** Waits `ms`, or less if close() comes first. */
  function rest(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Tells a client over the bound that the server is busy, and closes it. */
  async function turnAway(conn: Deno.Conn): Promise<void> {
    log(`${formatAddr(conn.remoteAddr as Deno.NetAddr)} turned away: ${maxConnections} open`);
    try {
      await sendLine(conn, ERR_BUSY);
    } catch {
      // it left already
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed by close()
      }
    }
  }

  async function acceptLoop(): Promise<void> {
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        // Only the listener's own closing ends the loop.
        if (closing || error instanceof Deno.errors.BadResource) return;
        // Anything else failed for one pending connection (it was reset before we
        // took it: NotConnected, ConnectionAborted), or the process is out of file
        // descriptors: log it, rest a moment if out of descriptors, accept the next.
        log(`accept() failed: ${(error as Error).message}`);
        if (OUT_OF_DESCRIPTORS.test((error as Error).message)) await rest(ACCEPT_BACKOFF_MS);
        continue;
      }
      open.add(conn);
      const handler = served < maxConnections ? handle(conn) : turnAway(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  }

  const loop = acceptLoop();
  const done = (async () => {
    await loop;
    while (handlers.size) await Promise.all(handlers);
  })();
  return {
    addr: listener.addr,
    done,
    close() {
      if (closing) return;
      closing = true;
      wake();
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // its handler closed it a moment ago
        }
      }
    },
  };
}

/**
 * The program's `server` role: serve on options.hostname:options.port, log
 * `Listening at HOST:PORT` and every event, stop when options.signal aborts.
 *
 * @example
 * ```ts
 * import { server } from "./line_server.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const running = startLineServer({
    hostname: options.hostname,
    port: options.port,
    log: options.log,
  });
  options.log(`Listening at ${formatAddr(running.addr)}`);
  if (options.signal.aborted) running.close();
  options.signal.addEventListener("abort", () => running.close(), { once: true });
  await running.done;
}

/**
 * The program's `client` role: connect to options.hostname:options.port, send
 * each line of options.args (or {@linkcode DEMO_LINES}) and then `QUIT`, all
 * at once, and log every line sent (`> …`) and every reply (`< …`) until the
 * server closes. An argument with a line break in it (`\n` or `\r`) would be
 * two requests: it is refused with a RangeError before connecting.
 *
 * @example
 * ```ts ignore
 * import { client } from "./line_server.ts";
 * const signal = new AbortController().signal;
 * await client({ hostname: "127.0.0.1", port: 1060, log: console.log, signal, args: ["ECHO hi"] });
 * ```
 */
export async function client(options: ProgramOptions): Promise<void> {
  const lines = [...(options.args?.length ? options.args : DEMO_LINES), "QUIT"];
  const broken = lines.find((line) => /[\r\n]/.test(line));
  if (broken !== undefined) {
    throw new RangeError(
      `each argument is one request line; ${JSON.stringify(broken)} has a line break in it`,
    );
  }
  const conn = await Deno.connect({ hostname: options.hostname, port: options.port });
  const abort = () => conn.close();
  options.signal.addEventListener("abort", abort, { once: true });
  try {
    const request = encoder.encode(lines.map((line) => line + "\n").join(""));
    for (let sent = 0; sent < request.length;) sent += await conn.write(request.subarray(sent));
    for (const line of lines) options.log(`> ${line}`);
    const replies = new LineReader(conn, MAX_LINE_BYTES);
    while (true) {
      const result = await replies.next();
      if (result.kind === "end") break;
      options.log(
        result.kind === "line"
          ? `< ${decoder.decode(result.bytes)}`
          : "< (a reply too long to show)",
      );
    }
  } finally {
    options.signal.removeEventListener("abort", abort);
    try {
      conn.close();
    } catch {
      // closed on abort
    }
  }
}
