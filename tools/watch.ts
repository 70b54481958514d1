/**
 * `deno task watch [LESSON] [--manual]` — the learner loop. Runs the
 * lesson's tests, shows the first failure in full and the rest in one line
 * each, and runs them again whenever a file of the lesson is saved
 * (debounced). When every test passes it says where the reference solution
 * is and moves on to the next lesson.
 *
 * Keys: `r` run again, `h` next hint, `n` next lesson, `q` quit. On a
 * terminal a key press is enough; otherwise (or with `--manual`, for file
 * systems that send no change events) type the letter and Enter.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { bold, dim, green } from "@std/fmt/colors";
import { type Catalog, findLesson, type Lesson, loadCatalog, ROOT } from "./catalog.ts";
import { statusOf } from "./course.ts";
import { revealHints } from "./hints.ts";
import { renderFocused } from "./report.ts";
import { cachedResult, contentKey } from "./result_cache.ts";
import { runSuite } from "./suite.ts";
import { EXERCISES } from "./targets.ts";
import { runMain, UsageError } from "./usage_error.ts";

/** How long to wait after the last file event before running, in ms. */
export const DEBOUNCE_MS = 200;

type Command = "run" | "hint" | "next" | "quit";

/** Reads single key presses (terminal) or lines (pipe) from stdin as commands. */
async function* keys(): AsyncGenerator<Command> {
  const terminal = Deno.stdin.isTerminal();
  if (terminal) {
    Deno.stdin.setRaw(true, { cbreak: true });
    // Ctrl-C still interrupts in cbreak mode: give the terminal back before leaving.
    Deno.addSignalListener("SIGINT", () => {
      Deno.stdin.setRaw(false);
      Deno.exit(130);
    });
  }
  const map: Record<string, Command> = {
    r: "run",
    h: "hint",
    n: "next",
    q: "quit",
    "\x03": "quit",
  };
  try {
    const decoder = new TextDecoder();
    for await (const chunk of Deno.stdin.readable) {
      for (const ch of decoder.decode(chunk)) {
        const command = map[ch.toLowerCase()];
        if (command) yield command;
      }
    }
    yield "quit"; // stdin closed
  } finally {
    if (terminal) Deno.stdin.setRaw(false);
  }
}

/** Yields "run" after each burst of changes under `dir`. */
async function* changes(dir: string): AsyncGenerator<Command> {
  const watcher = Deno.watchFs(dir);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let pending = false;
  (async () => {
    for await (const event of watcher) {
      if (event.kind === "access") continue;
      clearTimeout(timer);
      timer = setTimeout(() => {
        pending = true;
        wake?.();
      }, DEBOUNCE_MS);
    }
  })();
  try {
    while (true) {
      if (!pending) await new Promise<void>((r) => wake = r);
      pending = false;
      yield "run";
    }
  } finally {
    clearTimeout(timer);
    watcher.close();
  }
}

/** Merges async command streams. */
function merge(...sources: AsyncGenerator<Command>[]): AsyncGenerator<Command> {
  const queue: Command[] = [];
  let wake: (() => void) | undefined;
  for (const source of sources) {
    (async () => {
      for await (const c of source) {
        queue.push(c);
        wake?.();
      }
    })();
  }
  return (async function* () {
    while (true) {
      if (!queue.length) await new Promise<void>((r) => wake = r);
      yield queue.shift()!;
    }
  })();
}

async function firstUnfinished(catalog: Catalog): Promise<Lesson> {
  for (const lesson of catalog.lessons) {
    const result = (await cachedResult(await contentKey(lesson, EXERCISES))) ??
      (await runSuite(lesson, EXERCISES, { typeCheck: true, progress: true }));
    if (statusOf(result).kind !== "done") return lesson;
  }
  return catalog.lessons.at(-1)!;
}

function clear(): void {
  if (Deno.stdout.isTerminal()) console.log("\x1b[2J\x1b[H");
  else console.log(dim("─".repeat(78)));
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["help", "manual"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) {
        throw new UsageError(`unknown option ${arg}; usage: deno task watch [LESSON] [--manual]`);
      }
      return true;
    },
  });
  if (flags.help) {
    console.log(
      "usage: deno task watch [LESSON] [--manual]   keys: r run, h hint, n next lesson, q quit",
    );
    return 0;
  }
  const catalog = await loadCatalog();
  let lesson = flags._.length
    ? findLesson(catalog, String(flags._[0]))
    : await firstUnfinished(catalog);
  const watchers = new Map<string, AsyncGenerator<Command>>();
  const commands = merge(keys());
  const watched = (l: Lesson) => {
    if (flags.manual || watchers.has(l.id)) return;
    const source = changes(`${ROOT}exercises/${l.id}`);
    watchers.set(l.id, source);
    (async () => {
      for await (const c of source) if (l.id === lesson.id) await run(c);
    })();
  };

  let running = Promise.resolve();
  const next = () => catalog.lessons[catalog.lessons.indexOf(lesson) + 1];
  const footer = () =>
    dim(
      `[r] run again  [h] hint  [n] next lesson  [q] quit` +
        (flags.manual
          ? "   (manual: press r after saving)"
          : `   watching exercises/${lesson.id}/`),
    );

  async function once(): Promise<void> {
    clear();
    console.log(dim(`running the tests of ${lesson.id}…`));
    const result = await runSuite(lesson, EXERCISES, { typeCheck: true, progress: true });
    if (result.missing) {
      // One line and exit 2, as for any bad input; the terminal is given back first.
      console.error(`watch: ${result.problem}`);
      if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
      Deno.exit(2);
    }
    clear();
    console.log(
      renderFocused(result, { title: lesson.title, program: lesson.program !== undefined }),
    );
    console.log();
    if (statusOf(result).kind === "done") {
      console.log(
        green(bold(`✓ ${lesson.id} done!`)) +
          ` Compare with the reference: solutions/${lesson.id}/`,
      );
      const following = next();
      if (following) {
        console.log(
          `Moving on to ${following.id} · ${following.title}: read lessons/${following.id}/README.md`,
        );
        lesson = following;
        watched(lesson);
        console.log();
        return await once();
      }
      console.log(green("That was the last lesson. Well done."));
    }
    console.log(footer());
  }

  function run(command: Command): Promise<void> {
    running = running.then(async () => {
      if (command === "run") await once();
      else if (command === "hint") {
        console.log(`\n${await revealHints(lesson, false, { nextStep: "press h" })}\n${footer()}`);
      } else if (command === "next") {
        const following = next();
        if (!following) console.log("This is the last lesson.");
        else {
          lesson = following;
          watched(lesson);
          await once();
        }
      }
    });
    return running;
  }

  watched(lesson);
  await run("run");
  for await (const command of commands) {
    if (command === "quit") break;
    await run(command);
  }
  await running;
  if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
  return 0; // runMain exits, which also stops the file watchers
}

if (import.meta.main) await runMain("watch", main);
