/**
 * Lesson 09 — The counter service as a program (reference solution).
 *
 * Run it: `deno task run lesson-09 server` and, in another terminal,
 * `deno task run lesson-09 client 127.0.0.1 INCR visits`.
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
 * and options.port, log `Listening at HOST:PORT` and one line per request,
 * until options.signal aborts.
 *
 * @example
 * ```ts
 * import { server } from "./counter.ts";
 * const stop = new AbortController();
 * const running = server({ hostname: "127.0.0.1", port: 0, log: console.log, signal: stop.signal });
 * stop.abort();
 * await running;
 * ```
 */
export async function server(options: ProgramOptions): Promise<void> {
  const running = startCounterServer(options);
  options.log(`Listening at ${running.addr.hostname}:${running.addr.port}`);
  if (options.signal.aborted) running.close();
  options.signal.addEventListener("abort", () => running.close(), { once: true });
  await running.done;
}

/**
 * The program's `client` role: one request, `OP NAME` from options.args
 * (default `INCR hits`), then log `OP NAME -> VALUE`.
 *
 * @example
 * ```ts ignore
 * import { client } from "./counter.ts";
 * await client({
 *   hostname: "127.0.0.1",
 *   port: 1060,
 *   args: ["GET", "hits"],
 *   log: console.log,
 *   signal: new AbortController().signal,
 * });
 * ```
 */
export async function client(options: ProgramOptions): Promise<void> {
  const [op = "INCR", name = "hits"] = options.args ?? [];
  if (op !== "INCR" && op !== "GET") throw new Error(`the operation is INCR or GET, not "${op}"`);
  using counter = CounterClient.open({
    transport: "udp",
    hostname: options.hostname,
    port: options.port,
  });
  const stop = () => counter.close();
  options.signal.addEventListener("abort", stop, { once: true });
  const value = await counter.call(op as Operation, name).finally(() =>
    options.signal.removeEventListener("abort", stop)
  );
  options.log(`${op} ${name} -> ${value}`);
}
