/**
 * The contract of a lesson's runnable program. A lesson whose exercise is
 * also a program (like the book's `udp_local.py server` / `client`) exports
 * one function per role with this signature; `deno task run` parses the
 * command line and calls it.
 *
 * @example
 * ```ts
 * import type { ProgramOptions } from "@course/program";
 * export async function server(options: ProgramOptions): Promise<void> {
 *   options.log(`would listen at ${options.hostname}:${options.port}`);
 * }
 * ```
 *
 * @module
 */

/** What every program role receives. */
export interface ProgramOptions {
  /** The address to bind (a server) or to talk to (a client). */
  hostname: string;
  /** The port to bind or to talk to (the book's default is 1060). */
  port: number;
  /** Prints one line of the program's output. */
  log: (line: string) => void;
  /** Aborted when the program must stop (Ctrl-C, or the end of a test): close every socket. */
  signal: AbortSignal;
  /** Further command-line words after the host, e.g. the book's byte count for tcp_deadlock. */
  args?: readonly string[];
}

/** One role of a program: `server`, `client`, … */
export type ProgramRole = (options: ProgramOptions) => Promise<void>;
