/**
 * Preloaded into every graded test process (`deno test --preload`), before
 * any submission code runs. It hardens the whole test realm with `ses`
 * (Hardened JavaScript): `lockdown()` freezes every intrinsic, including
 * symbol-keyed and accessor properties (the array iterator,
 * `Symbol.iterator`, typed-array `length`, `Promise`), then `harden(Deno)`
 * freezes the test API and everything it reaches (Deno's internal
 * test-sanitizer switches among it), and every global binding is made
 * read-only, so the tests and the harness keep the references they compare
 * with. A submission that tries to patch any of it gets a TypeError, which
 * the grader reports as "tried to patch the test runtime".
 *
 * One property stays writable on purpose: `Math.random`, which lesson 05's
 * tests pin to prove a learner's IDs do not come from it.
 *
 * It has no exports; importing it has the effect.
 *
 * @example
 * ```ts ignore
 * // deno test --preload=tools/grader/lockdown.ts --allow-env=LOCKDOWN_* …
 * ```
 *
 * @module
 */

import "ses";

// Deno defines many globals and `Deno.*` members lazily (streams, fetch,
// Deno.Command, …): load them all now, so that no internal module is first
// loaded into a realm that is frozen.
const internal = (Deno as unknown as Record<symbol, object>)[
  (Deno as unknown as { internal: symbol }).internal
];
for (const owner of [globalThis, Deno, internal]) {
  for (const key of Reflect.ownKeys(owner ?? {})) {
    try {
      (owner as Record<PropertyKey, unknown>)[key];
    } catch {
      // one that needs a permission or flag it does not have: it stays unavailable
    }
  }
}

// Some web APIs write to Deno's own objects on their first call (queueMicrotask swaps in the
// native one, which a MessageChannel's messages use too): call them once now, or honest code
// calling them first after the freeze throws, and is reported as patching the test runtime.
// (`setImmediate` and `node:net` servers still do: they write to Node compatibility's objects on
// every call, which the freeze reaches; the tests and harness use neither.)
queueMicrotask(() => {});
{
  const { port1, port2 } = new MessageChannel();
  port1.close();
  port2.close();
}

declare const lockdown: (options: Record<string, string>) => void;
declare const harden: <T>(value: T) => T;

lockdown({
  // Keep what learners need to read their failures: real error stacks and console.
  errorTaming: "unsafe",
  stackFiltering: "verbose",
  consoleTaming: "unsafe",
  // Leave errors and rejections to the test runner, which reports them per test.
  errorTrapping: "none",
  unhandledRejectionTrapping: "none",
  // Frozen prototypes must not stop ordinary code assigning `this.name` or `toString`.
  overrideTaming: "severe",
  evalTaming: "unsafe-eval",
  localeTaming: "unsafe",
  reporting: "none",
});

// Deno's namespace, then every global's value (web APIs such as TextDecoder,
// streams, crypto and timers are not language intrinsics, so lockdown leaves them).
// Symbol-keyed globals are Deno's own bookkeeping (event listeners, brands): they stay as they are.
harden(Deno);
for (const key of Object.getOwnPropertyNames(globalThis)) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, key);
  if (descriptor && "value" in descriptor && descriptor.value !== globalThis) {
    harden(descriptor.value);
  }
}

// Math is frozen now; give the realm a frozen copy whose `random` alone can be pinned.
const descriptors = Object.getOwnPropertyDescriptors(Math);
descriptors.random = { ...descriptors.random, writable: true };
const math = Object.preventExtensions(Object.create(Object.getPrototypeOf(Math), descriptors));
Object.defineProperty(globalThis, "Math", {
  value: math,
  writable: false,
  enumerable: false,
  configurable: false,
});

// Every global binding read-only: `globalThis.Promise = …` must not reach the tests' code.
for (const key of Object.getOwnPropertyNames(globalThis)) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, key);
  if (!descriptor?.configurable) continue;
  if ("value" in descriptor) descriptor.writable = false;
  descriptor.configurable = false;
  Object.defineProperty(globalThis, key, descriptor);
}
