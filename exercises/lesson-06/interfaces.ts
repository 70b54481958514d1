/**
 * Lesson 06 — Binding to interfaces.
 *
 * A socket name is an IP address and a port. Bind servers to the address you
 * are given (127.0.0.1, 127.0.0.2, or 0.0.0.0 for all), turn "address already
 * in use" into a clear error, and let clients bind where they are told.
 * Read lessons/lesson-06/README.md first.
 *
 * Test:    deno task test lesson-06
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

/** Binding failed because another socket already holds the socket name. */
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

/** The server's reply to a datagram of `byteCount` bytes. */
export function replyFor(byteCount: number): string {
  return `Your data was ${byteCount} bytes long`;
}

/**
 * Writes a socket name as `HOST:PORT`, an IPv6 address in brackets:
 * `127.0.0.1:1060`, `[::1]:1060`. ("Socket names")
 */
export function socketName(addr: Deno.NetAddr): string {
  // TODO: HOST:PORT; a hostname containing ":" (IPv6) goes in [brackets].
  throw new Error("not implemented: socketName");
}

/**
 * Binds a UDP socket to `hostname`:`port`; when the name is taken, throws an
 * AddressInUseError naming it (the original error as `cause`).
 * ("One socket per name")
 */
export function bindUdp(hostname: string, port: number): Deno.DatagramConn {
  // TODO: Deno.listenDatagram({ hostname, port, transport: "udp" }).
  // TODO: catch Deno.errors.AddrInUse only: throw new AddressInUseError(socketName(…), { cause }).
  // TODO: any other error: rethrow it unchanged.
  throw new Error("not implemented: bindUdp");
}

/**
 * Binds `hostname`:`port` with bindUdp and answers every datagram with
 * `Your data was N bytes long`, sent to the sender, until `close()`.
 * ("Binding to one interface", "Binding to all interfaces: 0.0.0.0")
 */
export function startServer(options: ServerOptions = {}): UdpServer {
  // TODO: bindUdp(hostname default 127.0.0.1, port default 0): the address you are GIVEN.
  // TODO: loop: receive, log `The client at NAME says "TEXT"`, reply to the sender.
  // TODO: close() closes the socket; the loop then ends and `done` settles.
  throw new Error("not implemented: startServer");
}

/**
 * Binds a client socket to `options.bind` (default 127.0.0.1), port 0; sends
 * `text` to `to`; waits for one reply; closes the socket; reports the
 * exchange, `local` being the socket's own addr. ("The client's name")
 */
export async function ask(
  to: Deno.NetAddr,
  text: string,
  options: AskOptions = {},
): Promise<Exchange> {
  // TODO: bind options.bind, port 0; send; receive one reply; close in a finally.
  throw new Error("not implemented: ask");
}
