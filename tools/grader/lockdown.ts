/**
 * Preloaded into every graded test process (`deno test --preload`), before
 * any submission code runs. It freezes the test API (`Deno.test` and the
 * whole `Deno` namespace) and the built-in objects the tests and their
 * assertions rely on (`Promise`, `Error`, `Uint8Array`, timers, …), so a
 * submission cannot patch its way to a passing score: an attempt throws a
 * TypeError, which the grader reports as "tried to patch …".
 *
 * It has no exports; importing it has the effect.
 *
 * @example
 * ```ts ignore
 * // deno test --preload=tools/grader/lockdown.ts …
 * ```
 *
 * @module
 */

const GLOBALS = [
  "Object",
  "Function",
  "Array",
  "Promise",
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "AggregateError",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Uint8Array",
  "Uint16Array",
  "Uint32Array",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "String",
  "Number",
  "Boolean",
  "Symbol",
  "BigInt",
  "RegExp",
  "Date",
  "JSON",
  "Math",
  "Reflect",
  "Proxy",
  "TextEncoder",
  "TextDecoder",
  "AbortController",
  "AbortSignal",
  "EventTarget",
  "Event",
  "ReadableStream",
  "WritableStream",
  "TransformStream",
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "queueMicrotask",
  "structuredClone",
  "performance",
  "crypto",
  "console",
  "Deno",
];

/**
 * Properties left writable on purpose: tests pin `Math.random` to prove a
 * learner's IDs do not come from it (lesson 05), and no test relies on it.
 */
const LEFT_WRITABLE = new Map<object, string[]>([[Math, ["random"]]]);

/**
 * Freezes `target` so that assigning its properties fails, while assigning
 * the same name on an object that merely inherits from it still works (an
 * Error subclass setting `this.name`): each data property becomes a getter
 * and a setter that defines an own property on such an heir.
 */
function harden(target: object): void {
  if (!Object.isExtensible(target)) return;
  const exempt = LEFT_WRITABLE.get(target) ?? [];
  // Symbol-keyed properties stay as they are: Deno keeps its internals there and fills them lazily.
  for (const key of Object.getOwnPropertyNames(target)) {
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (
      !descriptor || !("value" in descriptor) || !descriptor.configurable || exempt.includes(key)
    ) continue;
    const value = descriptor.value;
    Object.defineProperty(target, key, {
      get: () => value,
      set(this: object, next: unknown) {
        if (this === target) {
          throw new TypeError(
            `Cannot assign to read only property '${String(key)}' of frozen ${describe(target)}`,
          );
        }
        Object.defineProperty(this, key, {
          value: next,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      },
      enumerable: descriptor.enumerable,
      configurable: false,
    });
  }
  Object.preventExtensions(target);
}

function describe(target: object): string {
  const named = (target as { name?: unknown }).name;
  if (typeof target === "function" && typeof named === "string") return `function '${named}'`;
  const owner = (target as { constructor?: { name?: string } }).constructor?.name;
  return `object '${owner ?? "Object"}'`;
}

const typedArray = Object.getPrototypeOf(Uint8Array);
for (const root of [typedArray, typedArray.prototype]) harden(root);
for (const name of GLOBALS) {
  const value = (globalThis as Record<string, unknown>)[name];
  if (value === undefined) continue;
  harden(value as object);
  const prototype = (value as { prototype?: unknown }).prototype;
  if (prototype) harden(prototype as object);
  Object.defineProperty(globalThis, name, { value, writable: false, configurable: false });
}
