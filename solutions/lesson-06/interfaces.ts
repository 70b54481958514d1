/**
 * Lesson 06 — Binding to interfaces (reference solution).
 *
 * A socket name is an IP address and a port. A server bound to 127.0.0.1
 * hears only datagrams addressed to 127.0.0.1; one bound to 0.0.0.0 hears
 * every local address; two sockets may not share one name, but may share a
 * port on different addresses.
 *
 * @module
 */

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
  /** The interface address to bind: 127.0.0.1, 127.0.0.2, 0.0.0.0 (all), … (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: the OS picks). */
  port?: number;
  /** Called with `The client at HOST:PORT says "TEXT"` per datagram. */
  log?: (line: string) => void;
}

/** How the client binds its own end. */
export interface AskOptions {
  /** The local address the client binds, port 0 (default 127.0.0.1; 0.0.0.0 lets the OS pick). */
  bind?: string;
}

/** What the client saw of one exchange. */
export interface Exchange {
  /** The server's reply, decoded. */
  reply: string;
  /** Where the reply came from. */
  from: Deno.NetAddr;
  /** The client's own socket name, as its socket reports it. */
  local: Deno.NetAddr;
}

/**
 * Binding failed because another socket already holds the socket name.
 *
 * @example
 * ```ts
 * import { AddressInUseError } from "./interfaces.ts";
 * const e = new AddressInUseError("127.0.0.1:1060");
 * e.message.startsWith("cannot bind 127.0.0.1:1060"); // true
 * ```
 */
export class AddressInUseError extends Error {
  /** The socket name that was taken, e.g. `127.0.0.1:1060`. */
  readonly socketName: string;

  constructor(socketName: string, options?: ErrorOptions) {
    super(
      `cannot bind ${socketName}: another socket already holds this socket name (address and ` +
        "port); stop the other program, or choose another port or address",
      options,
    );
    this.name = "AddressInUseError";
    this.socketName = socketName;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The server's reply to a datagram of `byteCount` bytes.
 *
 * @example
 * ```ts
 * import { replyFor } from "./interfaces.ts";
 * replyFor(5); // "Your data was 5 bytes long"
 * ```
 */
export function replyFor(byteCount: number): string {
  return `Your data was ${byteCount} bytes long`;
}

/**
 * Writes a socket name as `HOST:PORT`; an IPv6 address goes in brackets, so
 * that its colons are not mistaken for the port's.
 *
 * @example
 * ```ts
 * import { socketName } from "./interfaces.ts";
 * socketName({ transport: "udp", hostname: "127.0.0.2", port: 1060 }); // "127.0.0.2:1060"
 * socketName({ transport: "udp", hostname: "::1", port: 1060 }); // "[::1]:1060"
 * ```
 */
export function socketName(addr: Deno.NetAddr): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * Binds a UDP socket to `hostname`:`port`. When another socket already holds
 * that name, throws an {@linkcode AddressInUseError} that names it (the
 * original error as its `cause`) instead of Deno's bare `AddrInUse`.
 *
 * @example
 * ```ts
 * import { AddressInUseError, bindUdp } from "./interfaces.ts";
 * const first = bindUdp("127.0.0.1", 0);
 * const { port } = first.addr as Deno.NetAddr;
 * try {
 *   bindUdp("127.0.0.1", port);
 * } catch (e) {
 *   console.log(e instanceof AddressInUseError); // true
 * }
 * first.close();
 * ```
 */
export function bindUdp(hostname: string, port: number): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({ hostname, port, transport: "udp" });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new AddressInUseError(socketName({ transport: "udp", hostname, port }), {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Binds `hostname`:`port` with {@linkcode bindUdp} and answers every
 * datagram with `Your data was N bytes long`, sent to the sender, until
 * `close()`.
 *
 * @example
 * ```ts
 * import { startServer } from "./interfaces.ts";
 * const server = startServer({ hostname: "127.0.0.1" });
 * console.log(server.addr); // { transport: "udp", hostname: "127.0.0.1", port: … }
 * server.close();
 * await server.done;
 * ```
 */
export function startServer(options: ServerOptions = {}): UdpServer {
  const socket = bindUdp(options.hostname ?? "127.0.0.1", options.port ?? 0);
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
        `The client at ${socketName(from)} says ${JSON.stringify(decoder.decode(data))}`,
      );
      await socket.send(encoder.encode(replyFor(data.length)), from);
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
 * Binds a client socket to `options.bind` (port 0), sends `text` to `to`,
 * waits for one reply, closes the socket, and reports the exchange.
 *
 * @example
 * ```ts
 * import { ask, startServer } from "./interfaces.ts";
 * const server = startServer();
 * const { reply, local } = await ask(server.addr, "hello", { bind: "127.0.0.1" });
 * server.close();
 * await server.done;
 * reply; // "Your data was 5 bytes long"
 * ```
 */
export async function ask(
  to: Deno.NetAddr,
  text: string,
  options: AskOptions = {},
): Promise<Exchange> {
  const socket = Deno.listenDatagram({
    hostname: options.bind ?? "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  try {
    await socket.send(encoder.encode(text), to);
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
