/**
 * A program's server role and its signal: it runs until the signal is
 * aborted (returning early would end the program while it should serve),
 * and a signal aborted before it started stops it at once (Ctrl-C pressed
 * during start-up must not be lost).
 *
 * @module
 */

import type { ProgramOptions } from "@course/program";
import { pause, within } from "./deadline.ts";
import { fail } from "./failure.ts";
import { type Role, type ServerRoleOptions, startServerRole } from "./program.ts";

/**
 * Requires `role` (a program's `server`) to keep running after its listening
 * line until its signal is aborted, then to return; and, started with an
 * already-aborted signal, to return promptly.
 *
 * @example
 * ```ts
 * import type { ProgramOptions } from "@course/program";
 * import { expectServerRoleLifecycle } from "./role_lifecycle.ts";
 * async function server(options: ProgramOptions) {
 *   const listener = Deno.listen({ hostname: options.hostname, port: options.port });
 *   options.log(`Listening at ${listener.addr.hostname}:${listener.addr.port}`);
 *   if (options.signal.aborted) listener.close();
 *   options.signal.addEventListener("abort", () => listener.close());
 *   for await (const conn of listener) conn.close();
 * }
 * await expectServerRoleLifecycle(server, {
 *   section: { lesson: "lesson-10", heading: "Running it as a program" },
 * });
 * ```
 */
export async function expectServerRoleLifecycle<O extends ProgramOptions>(
  role: Role<O>,
  options: Pick<ServerRoleOptions<O>, "section" | "extra" | "listening">,
): Promise<void> {
  const section = options.section;
  await using program = await startServerRole(role, options);
  let settled = false;
  program.running.then(() => settled = true, () => settled = true);
  await pause(0); // every pending promise job runs before a timer fires
  if (settled) {
    fail({
      summary: "server() returned right after its listening line, before its signal was aborted",
      section,
      expected: "server() keeps serving until the signal is aborted (await the loop's done)",
      got: "server() had returned",
    });
  }
  await program.stop();
  const aborted = new AbortController();
  aborted.abort();
  await within(
    role({
      ...options.extra,
      hostname: "127.0.0.1",
      port: 0,
      log: () => {},
      signal: aborted.signal,
    } as unknown as O),
    {
      awaiting: "server() to return at once: its signal was aborted before it started",
      section,
      mistake: "an abort event fired before addEventListener() is never seen: " +
        "check signal.aborted first",
    },
  );
}
