/**
 * Condenses Deno's sanitizer report ("Leaks detected: - A timer was started
 * in this test, but never completed…") into one teaching line that names
 * what was left behind: a timer still running, a UDP socket still open, a
 * receive() still waiting. The runner shows that line instead of the dump;
 * `--verbose` keeps the dump.
 *
 * @module
 */

import { reread } from "../tests/harness/failure.ts";

/**
 * The README section that explains the sanitizers (lesson 01's deno.json).
 *
 * @example
 * ```ts
 * import { LEAK_SECTION } from "./leaks.ts";
 * LEAK_SECTION.heading; // "deno.json: tasks, imports, unstable features"
 * ```
 */
export const LEAK_SECTION = {
  lesson: "lesson-01",
  heading: "deno.json: tasks, imports, unstable features",
};

/** One thing a test left behind, named for the learner. */
interface Leftover {
  /** What leaked, e.g. "a timer running". */
  what: string;
  /** What usually causes it, e.g. "a setTimeout never cleared". */
  cause?: string;
  /** The fix, e.g. "clear every timer". */
  fix: string;
}

/** Deno's leak items, from the most specific; `$n` is the count ("2 timers"). */
const KNOWN: [RegExp, (n: number) => Leftover][] = [
  [/\btimers? (was|were) started/, (n) => ({
    what: `${count(n, "a timer", "timers")} running`,
    cause: "a setTimeout never cleared",
    fix: "clear every timer with clearTimeout (a wait that an AbortSignal ends: abort the " +
      "signal once the wait's race is decided, lesson 04's sleep)",
  })],
  [/\bintervals? (was|were) started/, (n) => ({
    what: `${count(n, "an interval", "intervals")} running`,
    cause: "a setInterval never cleared",
    fix: "clear every interval with clearInterval",
  })],
  [/\bUDP sockets? (was|were) opened/, (n) => ({
    what: `${count(n, "a UDP socket", "UDP sockets")} open`,
    fix: "close every socket you open",
  })],
  [/\bTCP listeners? (was|were) opened/, (n) => ({
    what: `${count(n, "a TCP listener", "TCP listeners")} open`,
    fix: "close the listener",
  })],
  [/\bTCP connections? (was|were) opened/, (n) => ({
    what: `${count(n, "a TCP connection", "TCP connections")} open`,
    fix: "close every connection",
  })],
  [/receive a datagram/, (n) => ({
    what: `${count(n, "a receive()", "receive() calls")} still waiting`,
    fix: "close the socket to end a pending receive()",
  })],
  [/accept a TCP stream/, (n) => ({
    what: `${count(n, "an accept()", "accept() calls")} still waiting`,
    fix: "close the listener to end a pending accept()",
  })],
  [/\b(read from|write to) a (TCP|Unix|TLS)/, (n) => ({
    what: `${count(n, "a read or write", "reads or writes")} still pending on a connection`,
    fix: "await it, or close the connection",
  })],
  [/sleep for a duration/, (n) => ({
    what: `${count(n, "a sleep", "sleeps")} still pending`,
    cause: "a timer never cleared",
    fix: "clear every timer",
  })],
];

function count(n: number, one: string, many: string): string {
  return n === 1 ? one : `${n} ${many}`;
}

/** The item for a leak line Deno words in a way the table does not know. */
function generic(item: string): Leftover {
  const subject = item.match(/^(?:\d+ |An? )(.*?) (?:was|were) (?:opened|started|accepted)/i);
  return {
    what: subject ? `${subject[1].replace(/^async operations? to /, "")} pending` : item,
    fix: "close or await everything the test started",
  };
}

/** What a condensed leak report says. */
export interface Leak {
  /** One line naming what leaked: "left a timer running after the test ended". */
  line: string;
  /** The usual cause in parentheses, or "": " (a setTimeout never cleared)". */
  cause: string;
  /** What to do and where to read (two lines), for the first time this leak shows. */
  advice: string;
  /** Identifies the leak, so a repeat can refer back to its first showing. */
  key: string;
}

/**
 * Reads a sanitizer failure, or undefined for any other failure.
 *
 * @example
 * ```ts
 * import { condenseLeaks } from "./leaks.ts";
 * condenseLeaks(
 *   "Leaks detected:\n  - A timer was started in this test, but never completed.",
 * )?.line;
 * // "left a timer running after the test ended"
 * ```
 */
export function condenseLeaks(message: string): Leak | undefined {
  if (!message.startsWith("Leaks detected")) return undefined;
  const items = [...message.matchAll(/^\s*- (.*)$/gm)].map((m) => m[1]);
  if (!items.length) return undefined;
  const found = items.map((item) => {
    const n = Number(item.match(/^(\d+) /)?.[1] ?? 1);
    const known = KNOWN.find(([pattern]) => pattern.test(item));
    return known ? known[1](n) : generic(item);
  });
  const what = found.map((f) => f.what);
  const listed = what.length === 1 ? what[0] : `${what.slice(0, -1).join(", ")} and ${what.at(-1)}`;
  const fixes = [...new Set(found.map((f) => f.fix))].join("; ");
  const causes = found.flatMap((f) => f.cause ?? []);
  return {
    line: `left ${listed} after the test ended`,
    cause: causes.length ? ` (${causes.join("; ")})` : "",
    advice: `fix: ${fixes} before the test's work is done.\n` +
      `reread: ${reread(LEAK_SECTION)}`,
    key: what.join("|"),
  };
}

/**
 * Renders leak reports across a run: the first showing of a leak in full
 * (line, cause, advice, how to see Deno's report), each repeat as one line
 * that refers back to the first.
 *
 * @example
 * ```ts
 * import { LeakNotes } from "./leaks.ts";
 * const notes = new LeakNotes("lesson-01");
 * const dump = "Leaks detected:\n  - A UDP socket was opened during the test, but not closed.";
 * notes.render(dump)?.length; // 3
 * notes.render(dump); // ["left a UDP socket open after the test ended, as above"]
 * ```
 */
export class LeakNotes {
  #first = new Map<string, boolean>();
  #lesson: string;

  /** @param lesson The lesson whose `--verbose` command the first note names. */
  constructor(lesson: string) {
    this.#lesson = lesson;
  }

  /** The lines for a failure's `message`, or undefined when it is not a leak report. */
  render(message: string): string[] | undefined {
    const leak = condenseLeaks(message);
    if (!leak) return undefined;
    const first = this.#first.get(leak.key);
    if (first) return [`${leak.line}, as above`];
    this.#first.set(leak.key, true);
    return [
      leak.line + leak.cause,
      leak.advice,
      `(Deno's full leak report: deno task test ${this.#lesson} --verbose)`,
    ];
  }
}
