/**
 * The known mistakes of an accept loop that runs out of file descriptors,
 * shared by every lesson whose server has the loop (lessons 01, 10 to 16):
 * the same two edits to each reference solution, caught by the test of
 * `fd_exhaustion.ts`. A lesson's `mistakes.ts` spreads them into its list.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** Where a reference solution's accept loop logs and rests, as it is written there. */
export interface AcceptLoopText {
  /** The statement that logs a failed accept() (default: `log(…)`). */
  logCall?: string;
  /** The statement that rests after os error 23 or 24 (default: the `if` block with a timer). */
  rest?: string;
}

const LOG_CALL = "log(`accept() failed: ${(error as Error).message}`);";
const REST = "if (OUT_OF_DESCRIPTORS.test((error as Error).message)) {\n" +
  "          await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));\n" +
  "        }";

/**
 * The two mistakes, as edits to `file`: an accept loop that goes on only
 * after a reset connection's errors (and so stops at EMFILE), and one that
 * logs EMFILE and retries at once.
 *
 * @example
 * ```ts
 * import { outOfFilesMistakes } from "./accept_loop_mistakes.ts";
 * outOfFilesMistakes("greeter.ts").map((m) => m.id);
 * // ["rethrows-out-of-files", "no-rest-out-of-files"]
 * ```
 */
export function outOfFilesMistakes(file: string, text: AcceptLoopText = {}): Mistake[] {
  const logCall = text.logCall ?? LOG_CALL;
  return [
    {
      id: "rethrows-out-of-files",
      summary: "the accept loop goes on only after the errors of a reset connection " +
        "(NotConnected, ConnectionAborted) and rethrows the rest, so running out of file " +
        "descriptors (EMFILE) stops the server",
      file,
      edits: [{
        find: logCall,
        replace: "if (\n          !(error instanceof Deno.errors.NotConnected ||\n" +
          "            error instanceof Deno.errors.ConnectionAborted)\n        ) {\n" +
          "          throw error;\n        }\n        " + logCall,
      }],
      caughtBy: "gives up when accept() fails with EMFILE",
    },
    {
      id: "no-rest-out-of-files",
      summary: "the accept loop logs an accept() that failed with EMFILE and retries at once, " +
        "spinning until a descriptor is free",
      file,
      edits: [{ find: text.rest ?? REST, replace: "" }],
      caughtBy: "retries at once after EMFILE and spins",
    },
  ];
}
