/**
 * Lesson 09 — When to use UDP (capstone): the counter service as a program.
 *
 * Test:    deno task test lesson-09
 * Run it:  deno task run lesson-09 server
 *          deno task run lesson-09 client 127.0.0.1 INCR visits
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";
import { CounterClient } from "./client.ts";
import type { Operation } from "./protocol.ts";
import { startCounterServer } from "./server.ts";

/** The port the book's examples use. */
export const DEFAULT_PORT = 1060;

/**
 * The program's `server` role: start the counter server on options.hostname
 * and options.port, log `Listening at HOST:PORT` (and one line per request),
 * until options.signal aborts. ("Running it as a program")
 */
export async function server(options: ProgramOptions): Promise<void> {
  // TODO: startCounterServer(options); close it when the signal aborts; await done.
  throw new Error("not implemented: server");
}

/**
 * The program's `client` role: one request, `OP NAME` from options.args
 * (default `INCR hits`), then log `OP NAME -> VALUE`. ("Running it as a program")
 */
export async function client(options: ProgramOptions): Promise<void> {
  // TODO: CounterClient.open(...), call, log; close the client (also when the signal aborts).
  throw new Error("not implemented: client");
}
