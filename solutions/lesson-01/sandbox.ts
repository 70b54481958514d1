/**
 * Lesson 01 — Clients, servers and bytes: the sandbox a program runs in
 * (reference solution).
 *
 * Deno starts a program with no network access at all; `--allow-net=HOST`
 * opens it for the hosts listed. A program can ask which hosts it was given.
 *
 * @module
 */

/**
 * Whether this process may use the network to reach `host` (a host name or
 * address, optionally with `:port`) without asking anyone: true only when the
 * permission is `"granted"`. `"prompt"` means "not given": with `--no-prompt`
 * (or no terminal to ask on) the attempt fails with `Deno.errors.NotCapable`.
 *
 * @example
 * ```ts
 * import { netAllowed } from "./sandbox.ts";
 * // run with --allow-net=127.0.0.1
 * await netAllowed("127.0.0.1"); // true
 * await netAllowed("127.0.0.3"); // false
 * ```
 */
export async function netAllowed(host: string): Promise<boolean> {
  const status = await Deno.permissions.query({ name: "net", host });
  return status.state === "granted";
}
