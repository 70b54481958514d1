/**
 * `deno task facts [--strict]` — re-measures every figure the lessons quote
 * and fails when the prose no longer matches.
 *
 * A measured figure in a lesson README is followed immediately by a marker
 * naming it: `65,507<!-- fact:udp-max-ipv4-payload -->`,
 * `"Message too long (os error 90)"<!-- fact:udp-too-long-error -->`,
 * `3.9 MB<!-- fact:tcp-one-write-accepted -->`. The quoted figure is what
 * stands right before the marker: a `code span`, a "quoted string", or a
 * number with an optional unit (MB, MB/s, kB, bytes, ms).
 *
 * Exact facts (a limit, an error text) must match exactly. Variable ones
 * (sizes that depend on kernel buffers, rates) must lie within the band
 * stated in {@link FACTS}. Rates only ever drop under contention, so each
 * rate is the best of three runs, and a rate below its band on a busy
 * machine (load average above the number of cores) is reported as
 * inconclusive rather than wrong (`--strict` fails it too).
 *
 * Exit codes: 0 every figure matches; 1 a figure does not (each named by
 * file, line, quoted and measured value), or a marker is malformed or
 * unknown; 2 bad usage. The static part (markers well-formed, names known)
 * is {@link checkMarkers}, which `deno task check` runs; the measuring is
 * only here, since it takes a few seconds of both cores.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { green, red, yellow } from "@std/fmt/colors";
import { ROOT } from "./catalog.ts";
import { lesson09, lesson13, pipeEcho } from "./throughput.ts";
import { runMain, UsageError } from "./usage_error.ts";
import { payload, startServer as startCapitalizer } from "../solutions/lesson-13/tcp_deadlock.ts";

/** One figure the lessons may quote, and how to measure it. */
export interface Fact {
  /** What it is, in a few words. */
  description: string;
  /** `exact`: must equal; `band`: quoted/measured within `band`. */
  kind: "exact" | "band";
  /** For `band`: the quoted value must lie within [lo × measured, hi × measured]. */
  band?: [number, number];
  /** A rate: it only drops under contention (best of three; inconclusive when busy). */
  rate?: boolean;
  /** Measures it now. */
  measure(): Promise<number | string>;
  /** The measured value as the prose would quote it. */
  format(value: number | string): string;
}

const MB = 1_000_000;
const thousands = (n: number) => Math.round(n).toLocaleString("en-US");

/** Sends one UDP datagram of `size` bytes on loopback; the error's message, or "" when sent. */
async function sendUdp(size: number): Promise<string> {
  const receiver = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await sender.send(new Uint8Array(size), receiver.addr);
    return "";
  } catch (error) {
    return (error as Error).message;
  } finally {
    sender.close();
    receiver.close();
  }
}

/** The largest UDP payload one send() takes over IPv4 loopback (binary search). */
async function largestDatagram(): Promise<number> {
  let ok = 1; // sends
  let bad = 70_000; // fails: above the 16-bit length field
  while (bad - ok > 1) {
    const mid = Math.floor((ok + bad) / 2);
    if (await sendUdp(mid) === "") ok = mid;
    else bad = mid;
  }
  return ok;
}

/** Bytes one `write()` of 16 MiB hands to the kernel, the peer not reading. */
async function oneWriteAccepted(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  try {
    return await client.write(new Uint8Array(16 * 1024 * 1024));
  } finally {
    client.close();
    server.close();
    listener.close();
  }
}

/**
 * Bytes lesson 13's book-style client (write everything, then read) gets out
 * to the reference server before both directions' buffers are full: it
 * writes 64 MB and stops when 300 ms pass without progress.
 */
async function deadlockBytes(): Promise<number> {
  const server = startCapitalizer({ log: () => {} });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const data = payload(64 * MB);
  let sent = 0;
  let pending: Promise<number> | undefined;
  try {
    while (sent < data.length) {
      pending = conn.write(data.subarray(sent));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        pending,
        new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 300)),
      ]);
      clearTimeout(timer);
      if (n === null) break;
      pending = undefined;
      sent += n;
    }
  } finally {
    conn.close();
    await pending?.catch(() => {}); // the stuck write rejects once the connection is closed
    server.close();
    await server.done;
  }
  return sent;
}

/**
 * Milliseconds per round of write-write-read on loopback with Deno's
 * defaults (Nagle on): the client writes a 5-byte header and a 5-byte body,
 * then reads a 1-byte answer the server sends once it has both. The second
 * write waits for the ACK of the first, which the server delays (Linux: at
 * least 40 ms). Median of 10 rounds.
 */
async function nagleStall(): Promise<number> {
  const rounds = 10;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(64);
    try {
      for (let round = 0; round < rounds; round++) {
        for (let got = 0; got < 10;) {
          const n = await conn.read(buffer.subarray(got));
          if (n === null) return;
          got += n;
        }
        await conn.write(new Uint8Array(1));
      }
    } finally {
      conn.close();
    }
  })();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const times: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const started = performance.now();
      await conn.write(new Uint8Array(5));
      await conn.write(new Uint8Array(5));
      await conn.read(new Uint8Array(1));
      times.push(performance.now() - started);
    }
  } finally {
    conn.close();
    await serving;
    listener.close();
  }
  return times.sort((a, b) => a - b)[rounds >> 1];
}

/** Best of three runs of a rate. */
async function best(run: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let i = 0; i < 3; i++) top = Math.max(top, await run());
  return top;
}

/** Every fact a lesson may quote, by marker name. */
export const FACTS: Record<string, Fact> = {
  "udp-max-ipv4-payload": {
    description: "largest UDP payload that sends over IPv4 (bytes)",
    kind: "exact",
    measure: largestDatagram,
    format: (v) => thousands(Number(v)),
  },
  "udp-too-long-error": {
    description: "the error of a 65,508-byte datagram",
    kind: "exact",
    measure: () => sendUdp(65_508),
    format: String,
  },
  "tcp-one-write-accepted": {
    description: "bytes one conn.write() of 16 MiB returns on loopback",
    kind: "band",
    band: [0.75, 1.33],
    measure: oneWriteAccepted,
    format: (v) => `${(Number(v) / MB).toFixed(1)} MB`,
  },
  "tcp-deadlock-bytes": {
    description: "bytes lesson 13's write-everything-first client sends before it stalls",
    kind: "band",
    band: [0.67, 1.5],
    measure: deadlockBytes,
    format: (v) => `${Math.round(Number(v) / MB)} MB`,
  },
  "nagle-stall-ms": {
    description: "ms per write-write-read round on loopback with Nagle on (Deno's default)",
    kind: "band",
    band: [0.67, 1.5],
    measure: nagleStall,
    format: (v) => `${Math.round(Number(v))} ms`,
  },
  "udp-requests-per-second": {
    description: "lesson 09 reference request/response rate (2000 INCRs)",
    kind: "band",
    band: [0.5, 2],
    rate: true,
    measure: () => best(() => lesson09(2000)),
    format: (v) => thousands(Number(v)),
  },
  "echo-mb-per-s": {
    description: "lesson 13 reference echo, 32 MB (MB/s)",
    kind: "band",
    band: [0.5, 2],
    rate: true,
    measure: () => best(() => lesson13(32 * MB)),
    format: (v) => `${Math.round(Number(v))} MB/s`,
  },
  "pipeto-mb-per-s": {
    description: "Deno readable.pipeTo(writable) echo, 32 MB (MB/s)",
    kind: "band",
    band: [0.5, 2],
    rate: true,
    measure: () => best(() => pipeEcho(32 * MB)),
    format: (v) => `${Math.round(Number(v))} MB/s`,
  },
};

/** One `<!-- fact:NAME -->` marker in a README. */
export interface Marker {
  /** The file, relative to the repository. */
  file: string;
  /** 1-based line of the marker. */
  line: number;
  /** The fact's name. */
  name: string;
  /** The figure quoted right before the marker, if one could be read. */
  quoted?: string;
}

const MARKER = /<!--\s*fact:([a-z0-9-]+)\s*-->/g;
const ANY_FACT_COMMENT = /<!--[^>]*?fact[^>]*?-->/g;
const UNITS: Record<string, number> = {
  "MB/s": 1,
  "MB": MB,
  "kB": 1000,
  "bytes": 1,
  "ms": 1,
  "": 1,
};

/**
 * The figure that stands right before a marker: a `code span`, a "quoted
 * string", or a number with an optional unit.
 *
 * @example
 * ```ts
 * import { quotedBefore } from "./facts.ts";
 * quotedBefore("a write returned about 3.9\nMB"); // "3.9 MB"
 * quotedBefore('fails with "Message too long (os error 90)"'); // "Message too long (os error 90)"
 * ```
 */
export function quotedBefore(text: string): string | undefined {
  const tail = text.replace(/\s+/g, " ");
  const code = tail.match(/`([^`]+)`$/) ?? tail.match(/"([^"]+)"$/);
  if (code) return code[1];
  const number = tail.match(/(\d[\d,]*(?:\.\d+)?)(?: ?(MB\/s|MB|kB|bytes|ms))?$/);
  return number ? (number[2] ? `${number[1]} ${number[2]}` : number[1]) : undefined;
}

/**
 * The markers of one markdown text, and the problems with them: a malformed
 * or unknown marker, or one with no figure right before it. Markers inside
 * code fences count too (a figure in a code comment is prose to the reader).
 *
 * @example
 * ```ts
 * import { findMarkers } from "./facts.ts";
 * const { markers, problems } = findMarkers("at most 65,507<!-- fact:udp-max-ipv4-payload --> bytes", "x.md");
 * markers[0].quoted; // "65,507"
 * problems.length; // 0
 * ```
 */
export function findMarkers(markdown: string, file: string): {
  markers: Marker[];
  problems: string[];
} {
  const markers: Marker[] = [];
  const problems: string[] = [];
  const lineOf = (index: number) => markdown.slice(0, index).split("\n").length;
  for (const comment of markdown.matchAll(ANY_FACT_COMMENT)) {
    const at = `${file}:${lineOf(comment.index)}`;
    const wellFormed = [...comment[0].matchAll(MARKER)];
    if (wellFormed.length !== 1 || wellFormed[0][0] !== comment[0]) {
      problems.push(`${at}: malformed fact marker ${comment[0]} (write <!-- fact:NAME -->)`);
      continue;
    }
    const name = wellFormed[0][1];
    if (!(name in FACTS)) {
      problems.push(
        `${at}: unknown fact "${name}"; known: ${Object.keys(FACTS).join(", ")}`,
      );
      continue;
    }
    const quoted = quotedBefore(markdown.slice(Math.max(0, comment.index - 80), comment.index));
    if (quoted === undefined) {
      problems.push(`${at}: no figure right before <!-- fact:${name} -->`);
    }
    markers.push({ file, line: lineOf(comment.index), name, quoted });
  }
  return { markers, problems };
}

/**
 * A quoted figure as a number (units applied; commas dropped), or the text
 * itself for exact text facts.
 *
 * @example
 * ```ts
 * import { quotedNumber } from "./facts.ts";
 * quotedNumber("3.9 MB"); // 3900000
 * quotedNumber("24,000"); // 24000
 * ```
 */
export function quotedNumber(quoted: string): number {
  const m = quoted.match(/^(\d[\d,]*(?:\.\d+)?)(?: (MB\/s|MB|kB|bytes|ms))?$/);
  if (!m) return NaN;
  return Number(m[1].replaceAll(",", "")) * UNITS[m[2] ?? ""];
}

/** How one quoted figure compares with the measurement. */
export interface Verdict {
  /** `ok`, `wrong`, or `inconclusive` (a rate below its band on a busy machine). */
  status: "ok" | "wrong" | "inconclusive";
  /** One line: file:line, fact, quoted vs measured. */
  message: string;
}

/**
 * Judges a quoted figure against a measured one.
 *
 * @example
 * ```ts
 * import { FACTS, judge } from "./facts.ts";
 * const marker = { file: "lessons/lesson-10/README.md", line: 9, name: "tcp-one-write-accepted", quoted: "3.9 MB" };
 * judge(marker, FACTS["tcp-one-write-accepted"], 3_919_467, false).status; // "ok"
 * judge(marker, FACTS["tcp-one-write-accepted"], 8_000_000, false).status; // "wrong"
 * ```
 */
export function judge(
  marker: Marker,
  fact: Fact,
  measured: number | string,
  busy: boolean,
): Verdict {
  const where = `${marker.file}:${marker.line}: ${marker.name}`;
  const shown = `quoted ${JSON.stringify(marker.quoted)}, measured ${
    JSON.stringify(fact.format(measured))
  }`;
  if (fact.kind === "exact") {
    const same = typeof measured === "number"
      ? quotedNumber(marker.quoted ?? "") === measured
      : marker.quoted === measured;
    return { status: same ? "ok" : "wrong", message: `${where}: ${shown}` };
  }
  const [lo, hi] = fact.band!;
  const quoted = quotedNumber(marker.quoted ?? "");
  const value = Number(measured);
  const ratio = quoted / value;
  const band = `band ${lo}–${hi}× the measurement`;
  if (ratio >= lo && ratio <= hi) {
    return { status: "ok", message: `${where}: ${shown} (${band})` };
  }
  if (fact.rate && busy && ratio > hi) {
    return {
      status: "inconclusive",
      message: `${where}: ${shown}, outside the ${band}, but the machine is busy`,
    };
  }
  return { status: "wrong", message: `${where}: ${shown}, outside the ${band}` };
}

/** Every lesson README, relative to the repository. */
async function lessonReadmes(): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}lessons`)) {
    if (entry.isDirectory && /^lesson-\d\d$/.test(entry.name)) {
      files.push(`lessons/${entry.name}/README.md`);
    }
  }
  return files.sort();
}

/**
 * The static check `deno task check` runs: every fact marker in the given
 * lesson READMEs (all of them by default) is well-formed, names a known fact,
 * and follows a figure. Returns one problem per line; empty when all is well.
 *
 * @example
 * ```ts ignore
 * const problems = await checkMarkers(["lessons/lesson-07/README.md"]);
 * ```
 */
export async function checkMarkers(files?: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const file of files ?? await lessonReadmes()) {
    const text = await Deno.readTextFile(`${ROOT}${file}`).catch(() => "");
    problems.push(...findMarkers(text, file).problems);
  }
  return problems;
}

/** True when the load average is above the number of cores (rates then drop). */
function machineBusy(): { busy: boolean; load: number; cores: number } {
  const cores = navigator.hardwareConcurrency;
  const load = Deno.loadavg()[0];
  return { busy: load > cores, load, cores };
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["help", "strict"],
    unknown: (arg: string) => {
      throw new UsageError(`unexpected argument ${arg}; usage: deno task facts [--strict]`);
    },
  });
  if (flags.help) {
    console.log("usage: deno task facts [--strict]");
    return 0;
  }
  const markers: Marker[] = [];
  const problems: string[] = [];
  for (const file of await lessonReadmes()) {
    const found = findMarkers(await Deno.readTextFile(`${ROOT}${file}`), file);
    markers.push(...found.markers);
    problems.push(...found.problems);
  }
  for (const problem of problems) console.log(red(`✗ ${problem}`));
  const { busy, load, cores } = machineBusy();
  console.log(`load average ${load.toFixed(2)} on ${cores} cores${busy ? ": busy" : ""}`);
  const measured = new Map<string, number | string>();
  let matched = 0;
  let wrong = problems.length;
  let inconclusive = 0;
  for (const marker of markers) {
    if (marker.quoted === undefined) continue;
    const fact = FACTS[marker.name];
    if (!measured.has(marker.name)) measured.set(marker.name, await fact.measure());
    const verdict = judge(marker, fact, measured.get(marker.name)!, busy);
    if (verdict.status === "ok") {
      matched++;
      console.log(green(`✓ ${verdict.message}`));
    } else if (verdict.status === "inconclusive") {
      inconclusive++;
      console.log(yellow(`? ${verdict.message}`));
    } else {
      wrong++;
      console.log(red(`✗ ${verdict.message}`));
    }
  }
  const unused = Object.keys(FACTS).filter((name) => !markers.some((m) => m.name === name));
  if (unused.length) console.log(`not quoted anywhere: ${unused.join(", ")}`);
  console.log(
    `facts: ${matched} match, ${wrong} wrong, ` +
      `${inconclusive} inconclusive`,
  );
  return wrong || (flags.strict && inconclusive) ? 1 : 0;
}

if (import.meta.main) await runMain("facts", main);
