/**
 * An accept loop logs the accept() that failed for one connection (a client
 * that reset before it was accepted) instead of staying silent about it.
 *
 * @module
 */

import type { Section } from "./failure.ts";
import { LogLines } from "./log.ts";
import type { AddressedServer } from "./server_defaults.ts";
import { stopServer } from "./server_loop.ts";
import { resetBeforeAccept } from "./tcp_misbehave.ts";

/**
 * Starts a server with `start(log)`, resets one connection before the
 * server accepts it, and requires a log line that mentions `accept`.
 * Stops the server in every case.
 *
 * @example
 * ```ts ignore
 * import { expectAcceptFailureLogged } from "./accept_log.ts";
 * await expectAcceptFailureLogged((log) => startServer({ log }), section("The server"));
 * ```
 */
export async function expectAcceptFailureLogged(
  start: (log: (line: string) => void) => AddressedServer,
  section: Section,
): Promise<void> {
  const log = new LogLines();
  const server = start(log.push);
  try {
    resetBeforeAccept(server.addr as Deno.NetAddr, section);
    await log.next(/accept/i, {
      awaiting: "a log line about the accept() that failed for the reset connection",
      watch: server.done,
      section,
      mistake: "log the error of an accept() that fails for one connection, then go on",
    });
  } finally {
    await stopServer(server, { awaiting: "the server to stop after close()", section });
  }
}
