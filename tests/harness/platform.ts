/**
 * Platform facts tests depend on. On Linux the whole 127.0.0.0/8 block is
 * loopback (127.0.0.2 binds, 127.255.255.255 broadcasts to every socket bound
 * to 0.0.0.0); macOS and Windows configure only 127.0.0.1, so tests that need
 * more skip there with {@linkcode LINUX_LOOPBACK_REASON} in their name.
 *
 * @module
 */

/** Whether the whole 127.0.0.0/8 block is usable (Linux). */
export const LINUX_LOOPBACK: boolean = Deno.build.os === "linux";

/** Why a Linux-loopback test is skipped elsewhere; append it to the test name. */
export const LINUX_LOOPBACK_REASON =
  "(Linux only: elsewhere loopback has just 127.0.0.1, so this test is skipped)";

/**
 * Options for `Deno.test` that skip a test unless the whole 127.0.0.0/8 block
 * is loopback, saying why in the test's name.
 *
 * @example
 * ```ts
 * import { linuxLoopbackTest } from "./platform.ts";
 * Deno.test({
 *   ...linuxLoopbackTest("server bound to 127.0.0.2 is reachable there"),
 *   fn() {},
 * });
 * ```
 */
export function linuxLoopbackTest(name: string): { name: string; ignore: boolean } {
  return {
    name: LINUX_LOOPBACK ? name : `${name} ${LINUX_LOOPBACK_REASON}`,
    ignore: !LINUX_LOOPBACK,
  };
}
