/**
 * Errors the user can fix (a wrong lesson name, a missing folder): reported as
 * one line and exit code 2, never as a stack trace.
 *
 * @module
 */

/** An error caused by the command line or its inputs, not by the course. */
export class UsageError extends Error {
  /**
   * @example
   * ```ts
   * import { UsageError } from "./usage_error.ts";
   * new UsageError("no such folder: subs/ann").message; // "no such folder: subs/ann"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Runs a command's main function and turns its outcome into an exit code:
 * the number it returns, 2 with one line on stderr for a
 * {@linkcode UsageError}, 1 with one line for anything else (the stack only
 * with `--verbose`).
 *
 * @example
 * ```ts ignore
 * import { runMain } from "./usage_error.ts";
 * await runMain("test", async () => 0);
 * ```
 */
export async function runMain(name: string, main: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    const verbose = Deno.args.includes("--verbose");
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}`);
      code = 2;
    } else {
      const e = error instanceof Error ? error : new Error(String(error));
      console.error(`${name}: ${verbose ? e.stack : e.message}`);
      if (!verbose) console.error(`${name}: (run again with --verbose for the stack trace)`);
      code = 1;
    }
  }
  Deno.exit(code);
}
