/**
 * `deno task run LESSON ROLE [HOST] [MORE…] [-p PORT] [--solutions | --submission DIR]`
 *
 * Runs a lesson's exercise as a program, like the book's scripts
 * (`python udp_local.py server`): parses the command line, imports the
 * learner's file (or the solution) and calls the role's function until it
 * returns or Ctrl-C stops it. Programs may only reach loopback addresses.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import type { ProgramOptions, ProgramRole } from "./program.ts";
import { findLesson, loadCatalog } from "./catalog.ts";
import { explainError } from "./explain_error.ts";
import { lessonPath, targetFromFlags } from "./targets.ts";
import { runMain, UsageError } from "./usage_error.ts";

const USAGE =
  "usage: deno task run LESSON ROLE [HOST] [MORE…] [-p PORT] [--solutions | --submission DIR]";

/** The book's default port. */
export const DEFAULT_PORT = 1060;

/**
 * Parses a port number strictly: an integer from 0 to 65535.
 *
 * @example
 * ```ts
 * import { parsePort } from "./run.ts";
 * parsePort("1060"); // 1060
 * ```
 */
export function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`port must be a whole number from 0 to 65535, not "${text}"`);
  }
  return Number(text);
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["solutions", "help", "verbose"],
    string: ["port", "submission"],
    alias: { p: "port" },
    unknown: (arg: string) => {
      if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}\n${USAGE}`);
      return true;
    },
  });
  const words: string[] = flags._.map(String);
  if (flags.help || words.length < 2) {
    if (flags.help) {
      console.log(USAGE);
      return 0;
    }
    throw new UsageError(`name a lesson and a role, e.g. deno task run lesson-03 server\n${USAGE}`);
  }
  const [lessonName, role, host, ...rest] = words;
  const lesson = findLesson(await loadCatalog(), lessonName);
  const hostname = host ?? lesson.defaultHosts?.[role] ?? "127.0.0.1";
  if (!lesson.program) {
    throw new UsageError(`${lesson.id} has no runnable program; try deno task test ${lesson.id}`);
  }
  const target = await targetFromFlags(flags);
  const file = `${target.dir}/${lesson.id}/${lesson.program}`;
  let module: Record<string, unknown>;
  try {
    module = await import(`file://${file}`);
  } catch (error) {
    throw new UsageError(
      `cannot load ${lessonPath(target, lesson.id)}${lesson.program}: ${(error as Error).message}`,
    );
  }
  const roles = Object.keys(module).filter((k) => ["server", "client"].includes(k));
  if (!roles.includes(role)) {
    throw new UsageError(
      `${lesson.id}'s program has the roles ${roles.join(", ") || "(none)"}, not "${role}"`,
    );
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  const options: ProgramOptions = {
    hostname,
    port: flags.port === undefined ? DEFAULT_PORT : parsePort(flags.port),
    log: (line) => console.log(line),
    signal: stop.signal,
    args: rest,
  };
  try {
    await (module[role] as ProgramRole)(options);
    return 0;
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    console.error(`${lesson.id} ${role}: ${e.name === "Error" ? "" : `${e.name}: `}${e.message}`);
    const why = explainError(e, lesson.id);
    if (why) console.error(`  ${why.text}\n  Read: ${why.lesson}`);
    if (flags.verbose) console.error(e.stack);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

if (import.meta.main) await runMain("run", main);
