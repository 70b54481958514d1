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

/** A watch on a run's test starts, from {@linkcode watchTestStarts}. */
export interface StartsWatch {
  /** Stops watching. */
  stop(): void;
}

/**
 * Watches the file {@linkcode recordTestStarts} writes, and calls `onHung`
 * with a test's name once that test has been the last one started for
 * `limitMs` (measured from when its name was seen, so a slow start-up of the
 * process does not count). Polls the file's size every 250 ms.
 *
 * @example
 * ```ts ignore
 * const watch = watchTestStarts(`${work}/started.txt`, 30_000, (name) => stop(name));
 * // … when the process has ended:
 * watch.stop();
 * ```
 */
export function watchTestStarts(
  path: string,
  limitMs: number,
  onHung: (test: string) => void,
): StartsWatch {
  let size = 0;
  let since = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const poll = async () => {
    const now = (await Deno.stat(path).catch(() => undefined))?.size ?? 0;
    if (stopped) return;
    if (now !== size) {
      size = now;
      since = performance.now();
    } else if (size > 0 && performance.now() - since >= limitMs) {
      const test = await lastStartedTest(path);
      if (!stopped && test !== undefined) {
        stopped = true;
        onHung(test);
        return;
      }
    }
    timer = setTimeout(poll, 250);
  };
  timer = setTimeout(poll, 250);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
