/**
 * Runs a role of a lesson's program (see `tools/program.ts`) inside a test,
 * as `deno task run lesson-NN server` would: its lines captured in a
 * {@linkcode LogLines}, its signal held by the test. A server role is started
 * on port 0 and is ready once it prints where it listens (the port is read
 * back from that line); stopping it aborts the signal and waits, bounded, for
 * the role to return.
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";
import { type Awaiting, background, within } from "./deadline.ts";
import type { Section } from "./failure.ts";
import { LogLines } from "./log.ts";

/** A program role whose options may add fields of its own to {@linkcode ProgramOptions}. */
export type Role<O extends ProgramOptions> = (options: O) => Promise<void>;

/** The line a server role prints once it listens, and how to wait for it. */
export interface ListeningLine {
  /**
   * The line. A capture group named `port` gives the port the role bound;
   * without one, the port is the one the role was given.
   */
  pattern: RegExp;
  /** What is awaited, for the timeout message. */
  awaiting: string;
  /** Where it is taught (default: the section the role was started with). */
  section?: Section;
  /** The mistake a missing line most likely comes from. */
  mistake?: string;
}

/** How to start a role: where, and with which words and options. */
export interface RoleOptions<O extends ProgramOptions> {
  /** The host to bind (a server) or to talk to (a client); default 127.0.0.1. */
  hostname?: string;
  /** Further command-line words, e.g. `["INCR", "visits"]`. */
  args?: readonly string[];
  /** The role's own options beyond {@linkcode ProgramOptions}, e.g. an injected `random`. */
  extra?: Omit<O, keyof ProgramOptions>;
}

/** How to start a server role. */
export interface ServerRoleOptions<O extends ProgramOptions> extends RoleOptions<O> {
  /** The README section on running the program: timeouts starting or stopping it point there. */
  section: Section;
  /** The port to bind (default 0: the OS picks one, read back from the listening line). */
  port?: number;
  /** Its listening line (default `Listening at HOST:PORT`, awaited in `section`). */
  listening?: ListeningLine;
  /** The transport of {@linkcode RunningServerRole.addr} (default `tcp`). */
  transport?: "tcp" | "udp";
}

/** How to start a client role. */
export interface ClientRoleOptions<O extends ProgramOptions> extends RoleOptions<O> {
  /** The port to talk to, e.g. a fake server's. */
  port: number;
}

/** A role running in the background. */
export interface RunningRole {
  /** What the role printed so far; wait for a line with `log.next(…)`. */
  readonly log: LogLines;
  /**
   * The role itself: settles when it returns or fails. Already marked as
   * handled (pass it as `watch:` to waits, await it with `within`).
   */
  readonly running: Promise<void>;
  /** Aborts the role's signal, like Ctrl-C. */
  abort(): void;
}

/** A server role that has printed its listening line. Stop it with `await using`. */
export interface RunningServerRole extends RunningRole, AsyncDisposable {
  /** The listening line, matched by the pattern (its groups are the pattern's). */
  readonly listening: RegExpMatchArray;
  /** The port it listens on. */
  readonly port: number;
  /** Where clients reach it: the host it was given and {@linkcode RunningServerRole.port}. */
  readonly addr: Deno.NetAddr;
  /**
   * Aborts the signal and waits (bounded) for the role to return; rejects
   * with its error if it failed, or with a timeout if it did not stop. Use
   * it to check a clean stop; otherwise disposing the handle stops it.
   */
  stop(): Promise<void>;
  /**
   * Aborts the signal and waits (bounded) for the role to settle, ignoring
   * how (a failure was already reported by the waits that watched it). Does
   * nothing more after {@linkcode RunningServerRole.stop}.
   */
  [Symbol.asyncDispose](): Promise<void>;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function launch<O extends ProgramOptions>(
  role: Role<O>,
  options: RoleOptions<O> & { port: number },
): RunningRole {
  const log = new LogLines();
  const controller = new AbortController();
  const running = background(role({
    ...options.extra,
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    log: log.push,
    signal: controller.signal,
    ...(options.args ? { args: options.args } : {}),
  } as O));
  return { log, running, abort: () => controller.abort() };
}

/**
 * Starts a program's client role in the background, talking to `port` (on
 * 127.0.0.1 unless `hostname` says otherwise). Nothing is awaited: wait for
 * what it sends, then for `running` with `within`.
 *
 * @example
 * ```ts
 * import type { ProgramOptions } from "@course/program";
 * import { within } from "./deadline.ts";
 * import { startClientRole } from "./program.ts";
 * async function client(options: ProgramOptions) {
 *   options.log(`would talk to ${options.hostname}:${options.port}`);
 * }
 * const started = startClientRole(client, { port: 1060 });
 * await within(started.running, {
 *   awaiting: "client() to return",
 *   section: { lesson: "lesson-03", heading: "Running it as a program" },
 * });
 * started.log.lines; // ["would talk to 127.0.0.1:1060"]
 * ```
 */
export function startClientRole<O extends ProgramOptions>(
  role: Role<O>,
  options: ClientRoleOptions<O>,
): RunningRole {
  return launch(role, options);
}

/**
 * Starts a program's server role on 127.0.0.1, port 0 (or as asked), and
 * waits (bounded, failing at once if the role fails) for its listening line.
 * If the line does not come, the role is stopped before the failure is
 * thrown. `await using` stops it at the end of the test.
 *
 * @example
 * ```ts
 * import type { ProgramOptions } from "@course/program";
 * import { startServerRole } from "./program.ts";
 * async function server(options: ProgramOptions) {
 *   const listener = Deno.listen({ hostname: options.hostname, port: options.port });
 *   options.log(`Listening at ${listener.addr.hostname}:${listener.addr.port}`);
 *   options.signal.addEventListener("abort", () => listener.close());
 *   for await (const conn of listener) conn.close();
 * }
 * await using running = await startServerRole(server, {
 *   section: { lesson: "lesson-10", heading: "Running it as a program" },
 * });
 * running.port > 0; // true, read from the line `Listening at 127.0.0.1:PORT`
 * ```
 */
export async function startServerRole<O extends ProgramOptions>(
  role: Role<O>,
  options: ServerRoleOptions<O>,
): Promise<RunningServerRole> {
  const hostname = options.hostname ?? "127.0.0.1";
  const asked = options.port ?? 0;
  const line = options.listening ?? {
    pattern: new RegExp(`^Listening at ${escape(hostname)}:(?<port>\\d+)$`),
    awaiting: `the line \`Listening at ${hostname}:PORT\``,
  };
  const started = launch(role, { ...options, hostname, port: asked });
  const stopping: Awaiting = {
    awaiting: "server() to return once its signal was aborted",
    section: options.section,
  };
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      started.abort();
      await within(started.running, stopping);
    })();
  const dispose = async () => {
    if (stopped) {
      await stopped.catch(() => {});
      return;
    }
    started.abort();
    await within(started.running.catch(() => {}), stopping);
  };
  let listening: RegExpMatchArray;
  try {
    listening = await started.log.next(line.pattern, {
      awaiting: line.awaiting,
      section: line.section ?? options.section,
      mistake: line.mistake,
      watch: started.running,
    });
  } catch (error) {
    await dispose().catch(() => {}); // the missing line is the failure to report
    throw error;
  }
  const port = listening.groups?.port ? Number(listening.groups.port) : asked;
  return {
    ...started,
    listening,
    port,
    addr: { transport: options.transport ?? "tcp", hostname, port },
    stop,
    [Symbol.asyncDispose]: dispose,
  };
}
