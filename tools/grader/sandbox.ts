/**
 * The operating-system sandbox around each graded lesson run. On Linux with
 * bubblewrap (`bwrap`), the `deno test` process sees only the lesson's tests,
 * the shared harness, the submission (read-only), Deno and its module cache;
 * it gets a private `/tmp`, private PID, IPC, UTS, user and network
 * namespaces (its own loopback, so submissions graded at once cannot reach
 * each other), no inherited environment, and resource limits (`prlimit`:
 * tasks, file size, data segment, open files, no core dumps; not the address
 * space, of which V8 reserves 16–64 GiB per isolate before using any).
 * Deno's permission flags stay on inside as a second layer, with
 * `--no-remote` and `--cached-only`. Where bubblewrap is missing or does not
 * work, the same run happens under Deno's permissions alone, and the grade
 * says so.
 *
 * @module
 */

import type { Lesson } from "../catalog.ts";
import { ROOT } from "../catalog.ts";
import type { Target } from "../import_map.ts";
import { PRLIMIT, SUITE_TZ, withFdLimit } from "../suite.ts";
import { FD_LIMIT_VARIABLE, SUITE_FD_LIMIT } from "../../tests/harness/fd_limit.ts";

/** Which sandbox a lesson ran in. */
export type SandboxKind = "bubblewrap" | "deno-permissions";

/** What the sandbox around a graded run is, as detected on this machine. */
export interface Sandbox {
  /** `bubblewrap` (OS sandbox plus Deno permissions) or `deno-permissions` (fallback). */
  kind: SandboxKind;
  /** One line for reports: what isolated the submission, and why not more. */
  description: string;
  /** Deno's module cache (bound read-only into the OS sandbox). */
  denoDir: string;
  /** Where `bwrap` is (for the OS sandbox). */
  bwrap?: string;
}

/** What to spawn instead of a bare `deno test`. */
export interface Launch {
  /** The program. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** The whole environment of the process (nothing is inherited). */
  env: Record<string, string>;
}

/** Resource limits inside the OS sandbox. */
export interface SandboxLimits {
  /** Memory cap in MiB: the data segment may use four times this (V8 maps more than it uses). */
  memoryMb: number;
  /** Largest file the process may write, in bytes (its JUnit report). */
  fileBytes: number;
}

/** Tasks (processes and threads) the sandbox may hold: Deno runs about 20 threads. */
export const MAX_TASKS = 256;

/** The environment of every graded run, nothing inherited. */
function cleanEnv(denoDir: string): Record<string, string> {
  return {
    NO_COLOR: "1",
    DENO_DIR: denoDir,
    DENO_NO_UPDATE_CHECK: "1",
    PATH: "/usr/bin:/bin",
    TZ: SUITE_TZ,
  };
}

async function run(command: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const out = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { ok: out.success, out: text.decode(out.stdout) + text.decode(out.stderr) };
  } catch (error) {
    return { ok: false, out: (error as Error).message };
  }
}

/** Caches the preload's packages (the sandbox runs with `--cached-only`); returns Deno's cache folder. */
async function findDenoDir(): Promise<string> {
  await run(Deno.execPath(), [
    "cache",
    `--config=${ROOT}deno.json`,
    `${ROOT}tools/grader/lockdown.ts`,
  ]);
  const info = await run(Deno.execPath(), ["info", "--json"]);
  try {
    return JSON.parse(info.out.slice(info.out.indexOf("{"))).denoDir;
  } catch {
    return `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
  }
}

/** The first `name` on the PATH, if any. */
async function which(name: string): Promise<string | undefined> {
  const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  for (const dir of path.split(":").filter(Boolean)) {
    const info = await Deno.stat(`${dir}/${name}`).catch(() => undefined);
    if (info?.isFile) return `${dir}/${name}`;
  }
  return undefined;
}

/** Read-only binds for the system libraries Deno and prlimit link against. */
const SYSTEM = ["/usr/lib", "/usr/lib64", PRLIMIT];

/**
 * Names the `bwrap` to use instead of the one on the PATH; a path that does
 * not exist stands for a host without bubblewrap (how the tests try the fallback).
 */
export const BWRAP_VARIABLE = "GRADER_BWRAP";

let detected: Promise<Sandbox> | undefined;

/**
 * Detects the sandbox once per process: bubblewrap if `bwrap` exists and
 * can start Deno in fresh namespaces, else Deno's permissions alone.
 * `prefer: "deno-permissions"` skips the OS sandbox on purpose.
 *
 * @example
 * ```ts ignore
 * import { detectSandbox } from "./sandbox.ts";
 * (await detectSandbox()).kind; // "bubblewrap" on a Linux host with bwrap
 * ```
 */
export function detectSandbox(prefer: SandboxKind = "bubblewrap"): Promise<Sandbox> {
  if (prefer === "deno-permissions") {
    return findDenoDir().then((denoDir) => ({
      kind: "deno-permissions",
      description: "Deno permissions only (the OS sandbox was turned off)",
      denoDir,
    }));
  }
  detected ??= (async (): Promise<Sandbox> => {
    const denoDir = await findDenoDir();
    const fallback = (why: string): Sandbox => ({
      kind: "deno-permissions",
      description: `Deno permissions only (${why})`,
      denoDir,
    });
    if (Deno.build.os !== "linux") return fallback(`no bubblewrap on ${Deno.build.os}`);
    const bwrap = Deno.env.has(BWRAP_VARIABLE)
      ? await Deno.stat(Deno.env.get(BWRAP_VARIABLE)!).then((i) => i.isFile, () => false) &&
        Deno.env.get(BWRAP_VARIABLE)
      : await which("bwrap");
    if (!bwrap) return fallback("bubblewrap is not installed");
    const probe = await run(bwrap, [
      ...namespaces(),
      ...systemBinds(),
      "--ro-bind",
      Deno.execPath(),
      Deno.execPath(),
      "--",
      Deno.execPath(),
      "--version",
    ]);
    if (!probe.ok) {
      return fallback(
        `bubblewrap does not work here: ${probe.out.trim().split("\n")[0].slice(0, 60)}`,
      );
    }
    return {
      kind: "bubblewrap",
      description: "bubblewrap (own network, PID and mount namespaces, prlimit) + Deno permissions",
      denoDir,
      bwrap,
    };
  })();
  return detected;
}

function namespaces(): string[] {
  return ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv"];
}

function systemBinds(): string[] {
  const binds: string[] = [];
  for (const path of SYSTEM) binds.push("--ro-bind-try", path, path);
  // Merged-/usr systems reach libraries through /lib and /lib64 links.
  binds.push("--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64");
  return binds;
}

/**
 * What a sandboxed lesson run can see, besides the system libraries: the
 * lesson's tests, the harness, the one tooling module the harness imports,
 * the preload, the submission (all read-only), and the run's scratch folder
 * (its import map and configuration; its JUnit report, writable).
 *
 * @example
 * ```ts ignore
 * import { visiblePaths } from "./sandbox.ts";
 * visiblePaths(lesson, target, "/repo/.course/tmp/suite-1").readOnly.includes(target.dir); // true
 * ```
 */
export function visiblePaths(
  lesson: Lesson,
  target: Target,
  work: string,
): { readOnly: string[]; writable: string[] } {
  const readOnly = [
    `${ROOT}tests/harness`,
    `${ROOT}tests/${lesson.id}`,
    `${ROOT}tools/program.ts`,
    `${ROOT}tools/grader/lockdown.ts`,
    target.dir,
    ...(target.overlay ? [target.overlay.dir] : []),
  ];
  return { readOnly, writable: [work] };
}

/**
 * The Deno flags a graded run adds inside any sandbox: no remote modules,
 * only cached packages, and the preload that hardens the test realm.
 *
 * @example
 * ```ts
 * import { gradedFlags } from "./sandbox.ts";
 * gradedFlags().includes("--no-remote"); // true
 * ```
 */
export function gradedFlags(): string[] {
  return [
    "--no-remote",
    "--cached-only",
    // ses reads its LOCKDOWN_* options from the environment, which is empty.
    "--allow-env=LOCKDOWN_*",
    `--preload=${ROOT}tools/grader/lockdown.ts`,
  ];
}

/**
 * Writes the configuration a graded run uses into `work`: deno.json's
 * `unstable` and `test` settings, and a copy of the lockfile, from
 * which the packages the tests load resolve without registry metadata.
 *
 * @example
 * ```ts ignore
 * import { gradedConfig } from "./sandbox.ts";
 * gradedConfig(work); // `${work}/graded.json`
 * ```
 */
export function gradedConfig(work: string): string {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const path = `${work}/graded.json`;
  // A frozen copy of the lockfile: packages resolve from it. A cache filled from a lockfile
  // holds no registry metadata, so `--cached-only` could not resolve them otherwise.
  const lock = `${work}/graded.lock`;
  Deno.copyFileSync(`${ROOT}deno.lock`, lock);
  Deno.writeTextFileSync(
    path,
    JSON.stringify({
      // The same imports as deno.json (the run's --import-map takes precedence): the lockfile then
      // matches, and packages resolve from it.
      imports: config.imports,
      unstable: config.unstable,
      test: config.test,
      lock: { path: lock, frozen: true },
    }),
  );
  return path;
}

/**
 * Wraps a `deno test` command line in the sandbox: under bubblewrap, a
 * fresh set of namespaces showing only {@linkcode visiblePaths}, with
 * `prlimit` limits; otherwise Deno alone, with an empty environment.
 *
 * Under bubblewrap, Deno's cache is read-only, so nothing a submission runs
 * can leave compiled code behind for a later run. `ownCache` names a folder
 * to use as a writable cache instead, with the packages still read-only:
 * for the check's own known mistakes only, never for a submission. Deno
 * keeps what it transpiles there, by path and content, for the next run of
 * the same files.
 *
 * @example
 * ```ts ignore
 * import { detectSandbox, launchIn } from "./sandbox.ts";
 * const launch = launchIn(await detectSandbox(), lesson, target, { memoryMb: 512, fileBytes: 4 << 20 })(
 *   Deno.execPath(), ["test", "tests/lesson-03/"], work);
 * ```
 */
export function launchIn(
  sandbox: Sandbox,
  lesson: Lesson,
  target: Target,
  limits: SandboxLimits,
  ownCache?: string,
): (deno: string, args: string[], work: string) => Launch {
  return (deno, given, work) => {
    const args = given.map((arg) =>
      arg.startsWith("--config=") ? `--config=${gradedConfig(work)}` : arg
    );
    if (sandbox.kind !== "bubblewrap") {
      const limited = withFdLimit(deno, args);
      return { ...limited, env: { ...cleanEnv(sandbox.denoDir), ...limited.env } };
    }
    const inside = "/deno-dir";
    const { readOnly, writable } = visiblePaths(lesson, target, work);
    const binds: string[] = [];
    for (const path of readOnly) binds.push("--ro-bind-try", path, path);
    for (const path of writable) binds.push("--bind", path, path);
    const bwrap = [
      ...namespaces(),
      ...Object.entries({ ...cleanEnv(inside), [FD_LIMIT_VARIABLE]: String(SUITE_FD_LIMIT) })
        .flatMap(([k, v]) => ["--setenv", k, v]),
      ...systemBinds(),
      "--ro-bind",
      deno,
      deno,
      ...(ownCache
        ? ["--bind", ownCache, inside, "--ro-bind", `${sandbox.denoDir}/npm`, `${inside}/npm`]
        : ["--ro-bind", sandbox.denoDir, inside]),
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--tmpfs",
      "/tmp",
      ...binds,
      "--chdir",
      ROOT.replace(/\/$/, ""),
      "--",
      PRLIMIT,
      `--nproc=${MAX_TASKS}`,
      `--fsize=${limits.fileBytes}`,
      `--data=${limits.memoryMb * 4 * 1024 * 1024}`,
      `--nofile=${SUITE_FD_LIMIT}`,
      "--core=0",
      "--",
      deno,
      ...args,
    ];
    return { command: sandbox.bwrap ?? "bwrap", args: bwrap, env: {} };
  };
}
