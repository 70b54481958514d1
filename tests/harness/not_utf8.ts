/**
 * A UDP server that logs what it hears must go on serving when a datagram is
 * not text: a log line decoded with a fatal `TextDecoder` throws on it, and a
 * loop that lets the error out ends the server for every client. The test
 * sends one such datagram, then an ordinary one, and requires the server to
 * deal with both (reply, or log line: the lesson says which) while its
 * `done` stays pending.
 *
 * @module
 */

import { describe } from "./bytes.ts";
import { expectBytes, isNotImplemented } from "./expect.ts";
import type { LogLines } from "./log.ts";
import { fail, type Section } from "./failure.ts";
import { UdpPeer } from "./udp.ts";

/** `H`, a byte that never occurs in UTF-8 (`ff`), and a newline. */
export const NOT_UTF8: Uint8Array = new Uint8Array([0x48, 0xff, 0x0a]);

/** The mistake named when a datagram that is not UTF-8 ends the server (the `caughtBy` phrase). */
export const NOT_UTF8_ENDS_SERVER = "a datagram that is not UTF-8 ended the server: its log " +
  "line decoded it with a fatal TextDecoder, which throws; decode for the log with a default " +
  "TextDecoder (a bad byte shows as U+FFFD), and serve every datagram, text or not";

/**
 * How a test sees the server deal with one datagram `peer` just sent it (its
 * reply, its log line, …): bounded waits, each given `watch`, which fails the
 * test, naming {@linkcode NOT_UTF8_ENDS_SERVER}, as soon as the server stops.
 */
export type Handled = (peer: UdpPeer, sent: Uint8Array, watch: Promise<never>) => Promise<void>;

/**
 * Sends {@linkcode NOT_UTF8}, then `hello`, from one test socket to
 * `server.addr`, and after each runs `handled`. Fails, naming
 * {@linkcode NOT_UTF8_ENDS_SERVER}, if `server.done` settles meanwhile (a
 * stub's "not implemented" passes through as it is). Does not stop the
 * server: the caller does, in `finally`.
 *
 * @example
 * ```ts ignore
 * import { expectServesAfterNotUtf8 } from "./not_utf8.ts";
 * const log = new LogLines();
 * const server = startServer({ log: log.push });
 * try {
 *   await expectServesAfterNotUtf8(server, section("The server loop"), async (peer, sent, watch) => {
 *     const reply = await peer.receive({ awaiting: "the reply", watch, section: section("The server loop") });
 *     expectBytes(reply.data, `Your data was ${sent.length} bytes long`, { what: "the reply", section: section("The server loop") });
 *   });
 * } finally {
 *   await stopServer(server, { awaiting: "the server to stop", section: section("The server loop") });
 * }
 * ```
 */
export async function expectServesAfterNotUtf8(
  server: { addr: Deno.NetAddr; done: Promise<unknown> },
  section: Section,
  handled: Handled,
): Promise<void> {
  const stopped = {
    summary: "the server stopped after a datagram that is not UTF-8",
    section,
    mistake: NOT_UTF8_ENDS_SERVER,
  };
  const watch = server.done.then(
    (): never => fail({ ...stopped, got: "done resolved, although close() was not called" }),
    (error): never => {
      if (isNotImplemented(error)) throw error;
      fail({
        ...stopped,
        got: `done rejected: ${
          error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        }`,
      });
    },
  );
  watch.catch(() => {});
  using peer = UdpPeer.open();
  for (const datagram of [NOT_UTF8, new TextEncoder().encode("hello")]) {
    await peer.send(datagram, server.addr);
    await handled(peer, datagram, watch);
  }
}

/**
 * The {@linkcode Handled} of the servers of lessons 03, 04 and 06: the reply
 * `Your data was N bytes long` (N the bytes sent, checked under `reply`'s
 * section, naming `reply.mistake`'s verdict if any), then the log line
 * `The client at 127.0.0.1:PORT says …` for the test's socket. Waits are
 * bounded and cite `where`.
 *
 * @example
 * ```ts ignore
 * import { expectServesAfterNotUtf8, repliedAndLogged } from "./not_utf8.ts";
 * await expectServesAfterNotUtf8(server, where, repliedAndLogged(log, where, { section: where }));
 * ```
 */
export function repliedAndLogged(
  log: LogLines,
  where: Section,
  reply: { section: Section; mistake?: (sent: Uint8Array, got: Uint8Array) => string | undefined },
): Handled {
  return async (peer, sent, watch) => {
    const got = await peer.receive({
      awaiting: `the reply to the datagram ${describe(sent)}`,
      watch,
      section: where,
    });
    expectBytes(got.data, `Your data was ${sent.length} bytes long`, {
      what: `the reply to the datagram ${describe(sent)}`,
      section: reply.section,
      mistake: reply.mistake?.(sent, got.data),
    });
    await log.next(new RegExp(`^The client at 127\\.0\\.0\\.1:${peer.addr.port} says `), {
      awaiting: `the log line for the datagram ${describe(sent)}`,
      watch,
      section: where,
    });
  };
}
