/**
 * Golden failure output for the known mistakes: what a learner who made the
 * mistake would read (each failing test's name and message), pinned in
 * `tests/lesson-NN/__snapshots__/mistakes.ts.snap` with `@std/testing`'s
 * snapshots, so a change to a message shows up in review. Values that
 * differ between runs (ports the OS chose, timings, scratch paths) are
 * replaced by placeholders first.
 *
 * `deno task check --update-snapshots` rewrites the files of the lessons it
 * checked.
 *
 * @module
 */

import { assertSnapshot } from "@std/testing/snapshot";
import { toFileUrl } from "@std/path";
import { type Lesson, ROOT } from "./catalog.ts";

/**
 * Replaces what varies between runs with placeholders: ports (numbers in
 * Linux's ephemeral range 32768–60999 that are not byte counts), elapsed
 * times, scratch folders, and numbers of six digits or more (byte counts at
 * a stall depend on the kernel's buffers).
 *
 * @example
 * ```ts
 * import { normalizeOutput } from "./failure_snapshot.ts";
 * normalizeOutput("+  12 ms udp 127.0.0.1:52074 → 127.0.0.1:48402");
 * // "+ N ms udp 127.0.0.1:PORT → 127.0.0.1:PORT"
 * normalizeOutput('"Hello, 127.0.0.1:52074!" (hex … 31 3a 35 32 30 37 34 21)');
 * // '"Hello, 127.0.0.1:PORT!" (hex … 31 3a PORT 21)'
 * ```
 */
export function normalizeOutput(text: string): string {
  // A port also shows in hex dumps of text that quotes it: one ASCII byte (0x30–0x39) per digit.
  const ports = new Set(
    [...text.matchAll(/(?:(?:\d{1,3}\.){3}\d{1,3}:|\bport )(\d{4,5})\b/g)].map((m) => m[1]),
  );
  for (const port of ports) {
    const hex = [...port].map((digit) => `3${digit}`).join("\\s+");
    text = text.replace(new RegExp(`\\b${hex}\\b`, "g"), "PORT");
  }
  return text
    .replaceAll(ROOT, "")
    .replace(/\.course\/tmp\/[^/\s]+\/v\d+\//g, "")
    .replace(/((?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:]+\]|localhost):\d{2,5}\b/g, "$1:PORT")
    .replace(/\bport \d{4,5}\b/g, "port PORT")
    // Any other number in Linux's ephemeral port range that is not a byte count is a port too.
    .replace(
      /\b(3[2-9]\d{3}|[45]\d{4}|60\d{3})\b(?![- ]?bytes?\b)/g,
      (n) => Number(n) >= 32768 && Number(n) <= 60999 ? "PORT" : n,
    )
    .replace(/\+\s*\d+ ms\b/g, "+ N ms")
    .replace(/\b\d+(\.\d+)? ?(ms|µs)\b/g, "N $2")
    // Byte counts in the millions depend on how full the kernel's buffers were.
    .replace(/\b\d{6,}\b/g, "N");
}

/**
 * The failure output of one variant, as pinned: one block per failing
 * test, its name then its message without the wire transcript, normalized.
 *
 * @example
 * ```ts
 * import { failureOutput } from "./failure_snapshot.ts";
 * failureOutput([{ name: "t", message: "got 1\nexpected 2" }]);
 * // "✗ t\n    got 1\n    expected 2"
 * ```
 */
export function failureOutput(failed: { name: string; message: string }[]): string {
  return failed.map((f) =>
    [`✗ ${f.name}`, ...teaching(f.message).split("\n").map((l) => `    ${l}`)].join("\n")
  ).join("\n\n").replace(/[ \t]+$/gm, "");
}

/**
 * The part of a failure message that must not change unnoticed: everything
 * but the wire transcript (whose payloads carry the random request IDs and
 * ports of the run), normalized; hex dumps, random-looking IDs and caret
 * offsets that follow them become placeholders.
 */
function teaching(message: string): string {
  const wire = message.search(/^\s*on the wire, in this test:/m);
  const kept = wire === -1 ? message : message.slice(0, wire);
  // A request ID beside a protocol verb ("0123abcd INCR x", "DISCOVER 0123abcd")
  // is an ID even when its random hex digits happen to be all decimal.
  return normalizeOutput(
    kept.replace(/\b[0-9a-f]{8}\b(?= [A-Z]{3,}\b)|(?<=\b[A-Z]{3,} )[0-9a-f]{8}\b/g, "ID"),
  )
    .replace(/\bhex( [0-9a-f]{2})+( …)?/g, "hex …")
    .replace(/(\\x[0-9a-f]{2})+/g, "\\x…")
    .replace(/\b0x[0-9a-f]{6,}\b/g, "0xN")
    .replace(/"[0-9a-f]{6,8}"/g, '"HEX"')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8}\b/g, "ID") // random request IDs
    .replace(/^\s*\^ first difference at byte \d+/gm, "  ^ first difference at byte N");
}

/**
 * Compares `output` with the snapshot named `name` in the lesson's snapshot
 * file; in update mode, records it instead (written when the process exits).
 * Throws an `AssertionError` with a diff on a mismatch.
 *
 * @example
 * ```ts ignore
 * await checkSnapshot(lesson, "single-read", output, false);
 * ```
 */
export async function checkSnapshot(
  lesson: Lesson,
  name: string,
  output: string,
  update: boolean,
): Promise<void> {
  const file = `tests/${lesson.id}/__snapshots__/mistakes.ts.snap`;
  if (!update && !await Deno.stat(`${ROOT}${file}`).then(() => true, () => false)) {
    throw new Error(`no failure output pinned yet (${file} is missing)`);
  }
  const origin = toFileUrl(`${ROOT}tests/${lesson.id}/mistakes.ts`).href;
  const context = { name, origin } as unknown as Deno.TestContext;
  await assertSnapshot(context, output, {
    mode: update ? "update" : "assert",
    serializer: (value: unknown) => String(value),
  });
  const path = `${ROOT}${file}`;
  if (update && !updated.has(path)) {
    // The writer registers one "unload" listener per file, on the file's first assertion: this
    // one, registered after it, runs after that file is written.
    globalThis.addEventListener("unload", () => sortSnapshotFile(path));
    updated.add(path);
  }
}

/** The snapshot files written in this process (update mode). */
const updated = new Set<string>();

/**
 * Rewrites a snapshot file with its entries in order of their names. The
 * snapshot writer records them in the order the checks finished, which
 * differs from run to run; sorted, an update changes only what changed.
 *
 * @example
 * ```ts ignore
 * sortSnapshotFile("tests/lesson-03/__snapshots__/mistakes.ts.snap");
 * ```
 */
export function sortSnapshotFile(path: string): void {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return;
  }
  const [head, ...entries] = text.split(/^(?=snapshot\[`)/m);
  const name = (entry: string) => entry.slice("snapshot[`".length, entry.indexOf("`]"));
  entries.sort((a, b) => name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
  const sorted = head + entries.map((e) => e.trimEnd() + "\n\n").join("").trimEnd() + "\n";
  if (sorted !== text) Deno.writeTextFileSync(path, sorted);
}
