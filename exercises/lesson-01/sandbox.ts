/**
 * Lesson 01 — Clients, servers and bytes: the sandbox a program runs in.
 *
 * Ask Deno which hosts this program may reach. Read lessons/lesson-01/README.md
 * first, section "Permissions: the network is closed until you open it".
 *
 * Test:  deno task test lesson-01   (it runs with --allow-net=127.0.0.1 only)
 *
 * @module
 */

/**
 * Whether this process may use the network to reach `host` (a host name or
 * address, optionally with `:port`) without asking anyone: true only when the
 * permission's state is `"granted"`. Under `--allow-net=127.0.0.1`,
 * `netAllowed("127.0.0.1")` is true and `netAllowed("127.0.0.3")` is false.
 * ("Permissions: the network is closed until you open it")
 */
export async function netAllowed(host: string): Promise<boolean> {
  // TODO: Deno.permissions.query({ name: "net", host }) and look at its state.
  throw new Error("not implemented: netAllowed");
}
