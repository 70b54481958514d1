/**
 * Which test a `deno test` process was running when it had to be stopped.
 * A test whose code never gives the event loop a turn (a loop that never
 * awaits, or never ends) stops everything: its own bounded waits, the test
 * runner's report (written by the same thread), the JUnit file. The suite
 * runner then stops the process for time, with nothing to say which test
 * it was. Preloaded into the process ({@linkcode progressPreload}), this
 * module writes each test's name to a file, synchronously, as the test
 * starts: the last name in it is the test that never finished.
 *
 * @module
 */

type TestFn = (t: Deno.TestContext) => void | Promise<void>;

/**
 * Wraps `Deno.test` so that every test registered after this call appends
 * its name and a newline to `path` when it starts (a synchronous write: it
 * lands even if the test then blocks the thread for good). The process
 * needs write permission for `path` only.
 *
 * @example
 * ```ts ignore
 * // the preload of a `deno test --preload=… --allow-write=/tmp/started.txt` run
 * import { recordTestStarts } from "./test_progress.ts";
 * recordTestStarts("/tmp/started.txt");
 * ```
 */
export function recordTestStarts(path: string): void {
  const register = Deno.test;
  const started = (name: string, fn: TestFn): TestFn => (t) => {
    Deno.writeTextFileSync(path, `${name.replaceAll("\n", " ")}\n`, { append: true });
    return fn(t);
  };
  // Deno.test(name, fn), (name, options, fn), (fn), (options, fn) and (definition).
  const wrapped = (...args: unknown[]) => {
    const [first, second, third] = args;
    if (typeof first === "string") {
      if (typeof second === "function") return register(first, started(first, second as TestFn));
      return register(
        first,
        second as Omit<Deno.TestDefinition, "fn" | "name">,
        started(first, third as TestFn),
      );
    }
    if (typeof first === "function") {
      return register(first.name, started(first.name, first as TestFn));
    }
    const definition = first as Deno.TestDefinition;
    if (typeof second === "function") {
      const name = definition.name ?? second.name;
      return register({ ...definition, name, fn: started(name, second as TestFn) });
    }
    return register({ ...definition, fn: started(definition.name, definition.fn) });
  };
  // The rest of Deno.test (ignore, only, the hooks such as beforeEach) as it was.
  for (const key of Object.getOwnPropertyNames(register)) {
    if (key === "length" || key === "name" || key === "prototype") continue;
    Object.defineProperty(wrapped, key, Object.getOwnPropertyDescriptor(register, key)!);
  }
  (Deno as { test: unknown }).test = wrapped;
}

/**
 * Writes, in `work`, the module to preload into a `deno test` run so that
 * it records its tests' starts in `path` ({@linkcode recordTestStarts});
 * returns its path.
 *
 * @example
 * ```ts ignore
 * const preload = await progressPreload(work, `${work}/started.txt`);
 * // deno test --preload=${preload} --allow-write=${work}/started.txt …
 * ```
 */
export async function progressPreload(work: string, path: string): Promise<string> {
  const preload = `${work}/progress_preload.ts`;
  await Deno.writeTextFile(
    preload,
    `import { recordTestStarts } from ${JSON.stringify(import.meta.url)};\n` +
      `recordTestStarts(${JSON.stringify(path)});\n`,
  );
  return preload;
}

/**
 * The name of the last test that started, from the file
 * {@linkcode recordTestStarts} wrote, or undefined if none did.
 *
 * @example
 * ```ts ignore
 * await lastStartedTest(`${work}/started.txt`); // "client: retries after a loss"
 * ```
 */
export async function lastStartedTest(path: string): Promise<string | undefined> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trimEnd().split("\n").at(-1) || undefined;
}
