/**
 * Lesson 13 — Deadlock: the book's tcp_deadlock exchange at a size where the
 * book's client stalls for good (32 MB on loopback; Linux's buffers fill at
 * about 10 MB), with a stall detector that explains which buffers are full,
 * and a server that must survive non-ASCII bytes and short writes.
 *
 * This suite sends about 50 MB each way over loopback, so it takes longer
 * than most (about 1 s): the deadlock only exists once the data outgrows the
 * buffers.
 *
 * @module
 */

import {
  bulkTransfer,
  client,
  exchange,
  payload,
  server,
  startServer,
  upperAscii,
} from "../../exercises/lesson-13/tcp_deadlock.ts";
import { concat, describe, firstDifference } from "../harness/bytes.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectThat, isNotImplemented } from "../harness/expect.ts";
import { fail, LessonFailure, sectionsOf } from "../harness/failure.ts";
import { LogLines } from "../harness/log.ts";
import { failOnUnhandled } from "../harness/unhandled.ts";
import { withShortWrites } from "../harness/short_writes.ts";
import { startClientRole, startServerRole } from "../harness/program.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import {
  closeQuietly,
  connect,
  FakeServer,
  readExactly,
  readToEnd,
  writeAll,
} from "../harness/tcp.ts";
import { TcpProxy } from "../harness/tcp_proxy.ts";
import { hookConns } from "../harness/conn_hook.ts";

import { expectServesAfterResetBeforeAccept, resetMidRequest } from "../harness/tcp_misbehave.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { expectAcceptFailureLogged } from "../harness/accept_log.ts";
import { expectServesAfterFdExhaustion } from "../harness/fd_exhaustion.ts";
import { lowFdLimitTest } from "../harness/fd_limit.ts";
const section = sectionsOf("lesson-13");

/** Big enough to deadlock a write-then-read client (about 3× what fills the buffers on Linux loopback). */
const BIG = 32_000_000;
/** No progress for this long while bytes are still due means a stall. */
const STALL_MS = 500;
/**
 * What the server tests send: only the test's own client (which reads while
 * it writes) talks to the server, so nothing deadlocks at any size, and the
 * server's partial writes are made by the test (each write cut to a third).
 * Only the client's test needs {@linkcode BIG}.
 */
const SERVER_LOAD = 1_000_000;
/** What each of two clients at once sends: several reads' worth (64 KiB each) per client. */
const TWO_CLIENTS_LOAD = 256 * 1024;
/** The bound on one big transfer: generous, since a healthy one takes a few hundred ms. */
const BIG_MS = 6000;

const encoder = new TextEncoder();
const LOWER = encoder.encode("capitalize this!");
const UPPER = encoder.encode("CAPITALIZE THIS!");

const WRITE_FIRST =
  "both buffers full: you write everything before reading. Read and write at the same time " +
  "(a writing task and a reading task, awaited together)";
const READ_FIRST =
  "you read before writing: the server sends nothing back until it has bytes to capitalize";
const NO_CLOSE_WRITE =
  "forgot closeWrite(): the server has every byte and waits for EOF, while your client waits for the server's EOF";
const SINGLE_WRITE = "ignored the count write() returned: loop until every byte is written";

/** The book's payload, built here so that the test never trusts the code under test. */
function bookPayload(total: number): Uint8Array {
  const data = new Uint8Array(total);
  data.set(LOWER.subarray(0, total));
  // Doubling copies: 16 bytes at a time took 77 ms for 32 MB.
  for (let done = 16; done < total; done *= 2) {
    data.copyWithin(done, 0, Math.min(done, total - done));
  }
  return data;
}

/**
 * `CAPITALIZE THIS!` as 32-bit words, for {@linkcode ReplyChecker}:
 * `PATTERN_WORDS[s][m]` holds its bytes from `s + 4m` on (mod 16).
 */
const PATTERN_WORDS = [0, 1, 2, 3].map((s) => {
  const bytes = new Uint8Array(16);
  for (let k = 0; k < 16; k++) bytes[k] = UPPER[(s + k) % 16];
  return new Int32Array(bytes.buffer);
});

/**
 * Checks a reply stream chunk by chunk against `CAPITALIZE THIS!` repeated,
 * without keeping it: four bytes at a time where the chunk allows (a byte at
 * a time took 73 ms for 32 MB), then byte by byte where a word differed, to
 * name the first byte that did.
 */
class ReplyChecker {
  count = 0;
  mismatch = -1;
  got = 0;
  push = (chunk: Uint8Array): void => {
    if (this.mismatch === -1) this.#check(chunk);
    this.count += chunk.length;
  };

  #check(chunk: Uint8Array): void {
    const head = Math.min(chunk.length, (4 - (chunk.byteOffset & 3)) & 3);
    const words = (chunk.length - head) >>> 2;
    const phase = (this.count + head) % 16;
    const expected = PATTERN_WORDS[phase & 3];
    const view = words ? new Int32Array(chunk.buffer, chunk.byteOffset + head, words) : undefined;
    let differs = words;
    for (let q = 0, m = phase >>> 2; q < words; q++, m = (m + 1) & 3) {
      if (view![q] !== expected[m]) {
        differs = q;
        break;
      }
    }
    const tail = differs < words ? head + 4 * differs + 4 : chunk.length;
    for (const [from, to] of [[0, head], [head + 4 * differs, tail]]) {
      for (let i = from; i < to; i++) {
        if (chunk[i] !== UPPER[(this.count + i) % 16]) {
          this.mismatch = this.count + i;
          this.got = chunk[i];
          return;
        }
      }
    }
  }
}

/**
 * The book's server, inside the test: read a chunk, write it back upper-cased,
 * one after the other, and record where it is, so that a stall can be explained.
 */
class BookServer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  #conn: Deno.TcpConn | undefined;
  readonly #task: Promise<void>;
  /** What the server is doing now. */
  state: "accepting" | "reading" | "writing" | "closed" = "accepting";
  /** Bytes read from the client. */
  bytesIn = 0;
  /** Bytes written back. */
  bytesOut = 0;
  /** Whether the client's EOF arrived. */
  eof = false;
  /** Where clients connect. */
  readonly addr: Deno.NetAddr;

  private constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.addr = this.#listener.addr;
    this.#task = this.#serve().catch(() => {});
  }

  /** Listens on 127.0.0.1, port 0, and serves one client. */
  static open(): BookServer {
    return new BookServer();
  }

  async #serve(): Promise<void> {
    const conn = await this.#listener.accept();
    this.#conn = conn;
    try {
      const buffer = new Uint8Array(BOOK_READ);
      while (true) {
        this.state = "reading";
        const n = await conn.read(buffer);
        if (n === null) {
          this.eof = true;
          break;
        }
        const at = this.bytesIn; // the stream offset of this chunk
        this.bytesIn += n;
        this.state = "writing";
        const out = echoOf(buffer, n, at);
        for (let sent = 0; sent < n;) {
          const w = await conn.write(out.subarray(sent));
          sent += w;
          this.bytesOut += w;
        }
      }
    } finally {
      this.state = "closed";
      closeQuietly(conn);
    }
  }

  /** A number that grows whenever bytes move. */
  progress(): number {
    return this.bytesIn + this.bytesOut + (this.eof ? 1 : 0);
  }

  /** Explains a stall from the server's point of view. */
  diagnose(total: number): { summary: string; mistake?: string } {
    const seen =
      `the server has read ${this.bytesIn} of ${total} bytes and written ${this.bytesOut} back`;
    if (this.state === "writing") {
      return {
        summary:
          `no progress for ${STALL_MS} ms: ${seen}, and is stuck writing, because nobody reads ` +
          "what it sends; so it has stopped reading, and your writes wait too",
        mistake: WRITE_FIRST,
      };
    }
    if (this.state === "reading" && this.bytesIn === 0) {
      return {
        summary: `no progress for ${STALL_MS} ms: the server received nothing`,
        mistake: READ_FIRST,
      };
    }
    if (this.state === "reading" && this.bytesIn >= total && !this.eof) {
      return {
        summary: `no progress for ${STALL_MS} ms: ${seen}, and waits for EOF`,
        mistake: NO_CLOSE_WRITE,
      };
    }
    if (this.state === "reading") {
      return {
        summary:
          `no progress for ${STALL_MS} ms: ${seen}, and waits for the rest, which never comes`,
        mistake: SINGLE_WRITE,
      };
    }
    if (this.state === "closed") {
      return {
        summary:
          `no progress for ${STALL_MS} ms: ${seen}, and closed the connection; your client did not finish`,
        mistake: "stop reading when read() resolves null (EOF), and return",
      };
    }
    return { summary: `no progress for ${STALL_MS} ms: the client never connected` };
  }

  async close(): Promise<void> {
    closeQuietly(this.#listener);
    if (this.#conn) closeQuietly(this.#conn);
    await this.#task.catch(() => {}); // its failures are diagnosed through `state`; disposal never throws
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Upper-cases one byte if it is a–z (the test's own, so it never trusts the code under test). */
function upperByte(b: number): number {
  return b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
}

/**
 * Upper-cases a–z in a copy of `bytes`, four bytes at a time (a byte at a
 * time took 56 ms for 32 MB): in each byte of a 32-bit word, bit 7 of its low
 * seven bits plus 0x1f is set from `a` (0x61) up, plus 0x05 from `{` (0x7b)
 * up; a byte that is a–z (and has bit 7 clear) loses 0x20.
 */
function upper(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const words = new Int32Array(out.buffer, 0, out.length >>> 2);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const low7 = w & 0x7f7f7f7f;
    const fromA = (low7 + 0x1f1f1f1f) & 0x80808080;
    const pastZ = (low7 + 0x05050505) & 0x80808080;
    words[i] = w ^ (((fromA & ~pastZ & ~w) >> 2) & 0x20202020);
  }
  for (let i = words.length * 4; i < out.length; i++) out[i] = upperByte(out[i]);
  return out;
}

/** The book server's read size, and the longest chunk {@linkcode echoOf} answers from its blocks. */
const BOOK_READ = 64 * 1024;

/**
 * `text` repeated from each of its first four bytes on: `blocksOf(t)[r][k]`
 * is `t[(r + k) % 16]`, for `k` up to {@linkcode BOOK_READ} + 16, so that the
 * pattern at any stream offset `4q + r` starts at the 32-bit word `q` of
 * block `r`.
 */
function blocksOf(text: Uint8Array): Uint8Array[] {
  return [0, 1, 2, 3].map((r) => {
    const block = new Uint8Array(BOOK_READ + 16);
    for (let k = 0; k < block.length; k++) block[k] = text[(r + k) % 16];
    return block;
  });
}

const LOWER_BLOCKS = blocksOf(LOWER);
const UPPER_BLOCKS = blocksOf(UPPER);

/**
 * The book server's reply to the `n` bytes at the start of `buffer` (read
 * at stream offset `at`): their upper-cased copy. Where they are the book's
 * payload at that offset (compared four bytes at a time), that is the same
 * stretch of `CAPITALIZE THIS!` repeated, taken from a block made once (so
 * 32 MB cost a comparison instead of a copy and an upper-casing: 55 → 15 ms);
 * other bytes are upper-cased one by one by {@linkcode upper}.
 */
function echoOf(buffer: Uint8Array, n: number, at: number): Uint8Array {
  const r = at % 4;
  const q = (at % 16) >>> 2;
  const expected = LOWER_BLOCKS[r];
  const words = n >>> 2;
  const got = new Int32Array(buffer.buffer, 0, words); // the server's own buffer: offset 0
  const want = new Int32Array(expected.buffer, 4 * q, words);
  let same = true;
  for (let i = 0; same && i < words; i++) same = got[i] === want[i];
  for (let i = words * 4; same && i < n; i++) same = buffer[i] === expected[4 * q + i];
  return same ? UPPER_BLOCKS[r].subarray(4 * q, 4 * q + n) : upper(buffer.subarray(0, n));
}

/**
 * How many checks in a row must see no progress, besides {@linkcode STALL_MS}
 * passing: the event loop handles the sockets' I/O between two checks, so a
 * process that was not scheduled for a while (a loaded machine, a long GC)
 * sees the progress it missed before it can count a stall.
 */
const STALL_CHECKS = 10;

/**
 * Rejects with a {@linkcode LessonFailure} once `progress()` has not changed
 * for {@linkcode STALL_MS} and {@linkcode STALL_CHECKS} checks 25 ms apart;
 * stops watching when `stop` is aborted.
 */
function stallWatch(
  progress: () => number,
  explain: () => { summary: string; mistake?: string },
  heading: string,
  stop: AbortSignal,
): Promise<never> {
  const watching = new Promise<never>((_, reject) => {
    let last = -1;
    let since = performance.now();
    let checks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      const p = progress();
      if (p !== last) {
        last = p;
        since = now;
        checks = 0;
      } else if (++checks >= STALL_CHECKS && now - since >= STALL_MS) {
        clearInterval(timer);
        const { summary, mistake } = explain();
        reject(new LessonFailure({ summary, section: section(heading), mistake }));
      }
    }, 25);
    stop.addEventListener("abort", () => clearInterval(timer), { once: true });
  });
  watching.catch(() => {});
  return watching;
}

/**
 * Runs the learner's exchange() against the book's server with `total` bytes,
 * watching for a stall. Returns the result, the checker and the server's counts.
 */
async function exchangeWithBook(total: number, via?: "proxy") {
  await using book = BookServer.open();
  await using proxy = via ? TcpProxy.open(book.addr, { reply: { chunk: 7 } }) : undefined;
  const conn = await connect(proxy?.addr ?? book.addr, {
    awaiting: "a connection to the book's server",
    section: section("Reading and writing at once"),
  });
  const stop = new AbortController();
  try {
    const checker = new ReplyChecker();
    // The last chunk exchange() read, copied, and the buffer it read into: to tell a `first`
    // that is a view of that buffer from one that was replaced by each later read.
    const seen: { last?: Uint8Array; buffer?: ArrayBufferLike } = {};
    const running = background(exchange(conn, bookPayload(total), (chunk) => {
      seen.last = chunk.slice();
      seen.buffer = chunk.buffer;
      checker.push(chunk);
    }));
    const stalled = stallWatch(
      () => book.progress() + checker.count,
      () => book.diagnose(total),
      "Deadlock",
      stop.signal,
    );
    const result = await within(Promise.race([running, stalled]), {
      awaiting: `exchange() of ${total} bytes to return`,
      section: section("Reading and writing at once"),
      ms: BIG_MS,
    });
    return { result, checker, bytesIn: book.bytesIn, seen };
  } finally {
    stop.abort();
    closeQuietly(conn);
  }
}

/**
 * The test's own client, which writes and reads at once, against `addr`.
 * Returns everything received (or only the count and a checker for big
 * transfers).
 */
async function talkTo(
  addr: Deno.NetAddr,
  data: Uint8Array,
  options: { keep?: boolean; watch?: Promise<unknown> } = {},
) {
  const conn = await connect(addr, {
    awaiting: "a connection to the server",
    section: section("The server"),
    watch: options.watch,
  });
  const stop = new AbortController();
  let sent = 0;
  let received = 0;
  const chunks: Uint8Array[] = [];
  const checker = new ReplyChecker();
  try {
    const writing = (async () => {
      while (sent < data.length) sent += await conn.write(data.subarray(sent));
      await conn.closeWrite();
    })();
    const reading = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) return;
        received += n;
        if (options.keep) chunks.push(buffer.slice(0, n));
        else checker.push(buffer.subarray(0, n));
      }
    })();
    writing.catch(() => {});
    reading.catch(() => {});
    const stalled = stallWatch(
      () => sent + received,
      () => ({
        summary: `no progress for ${STALL_MS} ms: ${sent} of ${data.length} bytes sent, ` +
          `${received} received back`,
        mistake: sent === data.length
          ? "the server must close the connection at EOF (read() resolving null), " +
            "after writing everything back"
          : undefined,
      }),
      "The server",
      stop.signal,
    );
    const watched = options.watch ? [options.watch.then(() => new Promise<never>(() => {}))] : [];
    await within(Promise.race([Promise.all([writing, reading]), stalled, ...watched]), {
      awaiting: `the server to capitalize ${data.length} bytes and close`,
      section: section("The server"),
      ms: BIG_MS,
    });
    return { sent, received, bytes: concat(chunks), checker };
  } finally {
    stop.abort();
    conn.close();
  }
}

/** Starts the learner's server with its log captured, and closes it after `body`. */
async function withServer(
  body: (addr: Deno.NetAddr, log: LogLines, watch: Promise<unknown>) => Promise<void>,
): Promise<void> {
  await failOnUnhandled("the server", section("The server"), async () => {
    const log = new LogLines();
    const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
    const watch = background(running.done.then(
      () => fail({ summary: "the server's loop ended by itself", section: section("The server") }),
      (error) =>
        fail({
          summary: `the server's loop crashed: ${(error as Error).message}`,
          section: section("The server"),
          mistake: "an error must end one connection only: catch it inside that connection's task",
        }),
    ));
    await stopAfter(async () => {
      await body(running.addr, log, watch);
    }, () =>
      stopServer(running, {
        awaiting: "the server to end after close()",
        section: section("The server"),
        mistake: "close() must close the listener and every open connection",
      }));
  }, { namedFirst: true }); // writes not awaited are named before the rejections they cause
}

Deno.test("upperAscii: upper-cases a–z and leaves every other byte, UTF-8 or not, as it is", () => {
  const input = concat([encoder.encode("straße café ☕ 42!"), new Uint8Array([0xff, 0x80])]);
  const expected = concat([encoder.encode("STRAßE CAFé ☕ 42!"), new Uint8Array([0xff, 0x80])]);
  const got = upperAscii(input);
  expectBytes(got, expected, {
    what: `upperAscii(${describe(input)})`,
    section: section("Bytes, not text"),
    mistake: got.length !== input.length
      ? "decoding as text changes the bytes (ß becomes SS, an invalid byte becomes U+FFFD): " +
        "upper-case the bytes a–z only"
      : "upper-case the bytes a–z only, every other byte passes through",
  });
});

Deno.test("payload: `capitalize this!` repeated, the byte count rounded up to a multiple of 16", () => {
  for (const [count, blocks] of [[16, 1], [17, 2], [0, 0], [40, 3], [1, 1]]) {
    const got = payload(count);
    expectBytes(got, bookPayload(blocks * 16), {
      what: `payload(${count})`,
      section: section("The capitalizing protocol"),
      mistake: got.length < blocks * 16
        ? "round the byte count UP to a multiple of 16, like the book: (n + 15) // 16 * 16"
        : got.length > blocks * 16
        ? "added a block too many: a count that is already a multiple of 16 " +
          "needs no rounding (Math.ceil, not Math.floor + 1)"
        : undefined,
    });
  }
});

Deno.test("server: the book's 16 bytes, `capitalize this!` → `CAPITALIZE THIS!`, then EOF", async () => {
  await withServer(async (addr, log, watch) => {
    const { bytes } = await talkTo(addr, encoder.encode("capitalize this!"), { keep: true, watch });
    expectBytes(bytes, "CAPITALIZE THIS!", {
      what: "everything the server sent back for 16 bytes",
      section: section("The capitalizing protocol"),
    });
    await log.next(/^ {2}16 bytes processed, socket closed$/, {
      awaiting: "the line `  16 bytes processed, socket closed`",
      section: section("The server"),
      watch,
    });
  });
});

Deno.test("server: keeps serving after a client resets before accept()", async () => {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    await expectServesAfterResetBeforeAccept(
      running,
      sectionsOf("lesson-11")("When accept() fails for one connection"),
      async (watch) => {
        const { bytes } = await talkTo(running.addr, encoder.encode("capitalize this!"), {
          keep: true,
          watch,
        });
        expectBytes(bytes, "CAPITALIZE THIS!", {
          what: "what the server sent back to the client after the one that reset",
          section: section("The capitalizing protocol"),
        });
      },
    );
  }, () =>
    stopServer(running, {
      awaiting: "the server to end after close()",
      section: section("The server"),
      mistake: "close() must close the listener and every open connection",
    }));
});

Deno.test({
  ...lowFdLimitTest("server: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterFdExhaustion(
      (log) => startServer({ log }),
      reread,
      async (server, watch) => {
        const { bytes } = await talkTo(server.addr, encoder.encode("capitalize this!"), {
          keep: true,
          watch,
        });
        expectBytes(bytes, "CAPITALIZE THIS!", {
          what: "what the server sent back once descriptors were free again",
          section: section("The capitalizing protocol"),
        });
      },
    );
  },
});

Deno.test("server: a client that resets mid-stream ends only its own connection", async () => {
  await withServer(async (addr, log, watch) => {
    // The server's writes wait until the client's reset is done: its read gets the 13 bytes, and
    // its echo of them fails, on every run. The log must then count the bytes echoed (0), not
    // the bytes read. What the server's writes took is tallied here, to compare.
    let resetDone = () => {};
    const reset = new Promise<void>((resolve) => resetDone = resolve);
    let echoed = 0;
    using _writes = await hookConns("write", { localPort: addr.port }, async (write, data) => {
      await reset;
      const n = await write(data);
      echoed += n ?? 0;
      return n;
    });
    try {
      await resetMidRequest(addr, "capitalize th", {
        awaiting: "a client to send 13 bytes and reset",
        section: section("The server"),
        watch,
      }, (client) =>
        // Accepted first: a reset before accept() would fail the accept instead (lesson 11).
        log.next(
          new RegExp(
            `^Processing up to \\d+ bytes at a time from ${client.replaceAll(".", "\\.")}$`,
          ),
          {
            awaiting: `the line "Processing up to … bytes at a time from ${client}"`,
            section: section("The server"),
            watch,
          },
        ));
    } finally {
      resetDone();
    }
    const { input: line } = await log.next(/reset|error|broken pipe/i, {
      awaiting: "a log line about the error that ended the connection that reset",
      section: section("The server"),
      watch,
      mistake: "an error on one connection is caught and logged (e.g. `0 bytes processed, " +
        "then Connection reset by peer (os error 104); socket closed`), then ends that connection",
    });
    const format = /^ {2}(\d+) bytes processed, then .*\(os error (104|32)\); socket closed$/;
    const count = line?.match(format)?.[1];
    expectThat(count !== undefined, JSON.stringify(line), {
      what: "the log line about the connection that reset",
      expected: '"  N bytes processed, then <the error\'s message>; socket closed", N the bytes ' +
        "echoed before the error",
      section: section("The server"),
      mistake: "log the bytes this connection processed before the error, and the error's own " +
        "message (it says what happened: reset, broken pipe)",
    });
    expectEqual(Number(count), echoed, {
      what: `N in ${JSON.stringify(line)}, against the bytes the server's writes took ` +
        "of the 13 it read (expected)",
      section: section("The server"),
      mistake: Number(count) > echoed
        ? "counted bytes whose echo failed: count the bytes only after writeAll() has echoed " +
          "them (the log says how many were echoed)"
        : undefined,
    });
    const { bytes } = await talkTo(addr, encoder.encode("capitalize this!"), { keep: true, watch });
    expectBytes(bytes, "CAPITALIZE THIS!", {
      what: "what the server sent back to the client after the one that reset",
      section: section("The capitalizing protocol"),
    });
  });
});

Deno.test("server: passes non-ASCII and invalid UTF-8 through unchanged, reports it, serves the next", async () => {
  await withServer(async (addr, log, watch) => {
    const input = concat([encoder.encode("straße café ☕ "), new Uint8Array([0xff, 0x80])]);
    const expected = concat([encoder.encode("STRAßE CAFé ☕ "), new Uint8Array([0xff, 0x80])]);
    const { bytes } = await talkTo(addr, input, { keep: true, watch });
    expectBytes(bytes, expected, {
      what: `the server's reply to ${describe(input)}`,
      section: section("Bytes, not text"),
      mistake: "upper-case the bytes a–z only: decoding as text changes non-ASCII bytes " +
        "(ß becomes SS, an invalid byte becomes U+FFFD), and a chunk may end in the middle of a character",
    });
    await log.next(/\(9 non-ASCII, passed through unchanged\)/, {
      awaiting: "a log line reporting `(9 non-ASCII, passed through unchanged)`",
      section: section("The server"),
      watch,
    });
    const next = await talkTo(addr, encoder.encode("capitalize this!"), { keep: true, watch });
    expectBytes(next.bytes, "CAPITALIZE THIS!", {
      what: "the reply to the next client",
      section: section("The server"),
    });
  });
});

Deno.test("server: capitalizes 1 MB for a client that reads while it writes", async () => {
  await withServer(async (addr, _log, watch) => {
    const { sent, received, checker } = await talkTo(addr, bookPayload(SERVER_LOAD), { watch });
    expectEqual(received, sent, {
      what: `bytes received back for ${SERVER_LOAD} sent`,
      section: section("The server"),
      mistake: received < sent ? SINGLE_WRITE : undefined,
    });
    expectThat(checker.mismatch === -1, `byte ${checker.mismatch} was ${checker.got}`, {
      what: "every byte came back upper-cased, in order",
      expected: '"CAPITALIZE THIS!" repeated',
      section: section("The server"),
    });
  });
});

Deno.test("server: writes everything back when each write() takes only part of its bytes", async () => {
  await withServer(async (addr, _log, watch) => {
    const total = SERVER_LOAD;
    // A full send buffer cuts write() short (over loopback, only after megabytes to a client that
    // reads late); the test cuts each of the server's writes to a third instead, on any machine.
    // Writes not awaited are named before what they caused (bytes out of place, or writes cut off
    // by the close).
    const { sent, received, checker } = await withShortWrites(
      { localPort: addr.port },
      "the echo",
      () => talkTo(addr, bookPayload(total), { watch }),
    );
    expectEqual(received, sent, {
      what: `bytes received back for ${total} sent, the server's writes cut to a third`,
      section: section("The server"),
      mistake: received < sent ? SINGLE_WRITE : undefined,
    });
    expectThat(checker.mismatch === -1, `byte ${checker.mismatch} was ${checker.got}`, {
      what: "every byte came back upper-cased, in order",
      expected: '"CAPITALIZE THIS!" repeated',
      section: section("The server"),
      mistake: "after a partial write, write only the rest",
    });
  });
});

Deno.test("server: two clients at once each get their own bytes back, while its writes come back short", async () => {
  await withServer(async (addr, _log, watch) => {
    // Each write cut to a third: while one connection's echo waits on its writes, the other's
    // bytes arrive and are read, so a read buffer the connections share is overwritten mid-echo.
    const digits = new Uint8Array(TWO_CLIENTS_LOAD);
    const pattern = encoder.encode("0123456789+-*/=.");
    for (let at = 0; at < digits.length; at += 16) digits.set(pattern, at);
    const sent = [bookPayload(TWO_CLIENTS_LOAD), digits];
    const replies = await withShortWrites(
      { localPort: addr.port },
      "the echo",
      () => Promise.all(sent.map((data) => talkTo(addr, data, { keep: true, watch }))),
    );
    // Whose bytes took the place of a client's own: the other client's (a shared buffer), or
    // nobody's. One verdict for both, so that it reads the same whichever client was hit.
    const wrong = replies.map(({ bytes }, i) => {
      const at = firstDifference(bytes, upper(sent[i]));
      if (at === -1) return undefined;
      return new Set(upper(sent[1 - i]).subarray(0, 16)).has(bytes[at]) ? "foreign" : "other";
    });
    const foreign = wrong.includes("foreign");
    expectThat(
      wrong.every((w) => w === undefined),
      foreign
        ? "one client's bytes among the other's"
        : "bytes that are not the client's own, upper-cased, in order",
      {
        what: `what two clients got back, each sending ${TWO_CLIENTS_LOAD} bytes at once ` +
          '(one "capitalize this!" repeated, one digits)',
        expected: "each its own bytes, upper-cased, in order",
        section: section("The server"),
        mistake: foreign
          ? "the connections shared one read buffer: give each connection a buffer of its own " +
            "(a read into it overwrote another connection's bytes while their echo was being " +
            "written)"
          : undefined,
      },
    );
  });
});

Deno.test("exchange: 32 MB with the book's server, without a deadlock", async () => {
  const { result, checker, bytesIn } = await exchangeWithBook(BIG);
  expectEqual(bytesIn, BIG, {
    what: "bytes the server received",
    section: section("Reading and writing at once"),
    mistake: SINGLE_WRITE,
  });
  expectEqual([result.sent, result.received], [BIG, BIG], {
    what: "exchange()'s counts [sent, received]",
    section: section("Reading and writing at once"),
  });
  expectEqual(checker.count, BIG, {
    what: "bytes exchange() passed to onData",
    section: section("Reading and writing at once"),
    mistake: "call onData with every chunk read",
  });
  expectThat(checker.mismatch === -1, `byte ${checker.mismatch} was ${checker.got}`, {
    what: "the chunks passed to onData",
    expected: '"CAPITALIZE THIS!" repeated, in order',
    section: section("Reading and writing at once"),
    mistake: "pass onData exactly the bytes read: buffer.subarray(0, n)",
  });
});

Deno.test("exchange: a server that answers nothing gives received 0 and an empty first chunk", async () => {
  const where = section("Reading and writing at once");
  using fake = FakeServer.open();
  const conn = await connect(fake.addr, {
    awaiting: "a connection to a silent server",
    section: where,
  });
  try {
    const running = background(exchange(conn, encoder.encode("anyone there?")));
    const accepted = await fake.accept({
      awaiting: "the client to connect",
      section: where,
      watch: running,
    });
    const heard = await readToEnd(accepted, {
      awaiting: "the request and its EOF",
      section: where,
      watch: running,
    });
    expectBytes(heard, "anyone there?", { what: "what the silent server heard", section: where });
    accepted.close(); // EOF without a byte of reply
    const result = await within(running, { awaiting: "exchange() to return", section: where });
    expectEqual([
      result.sent,
      result.received,
      result.first instanceof Uint8Array ? describe(result.first) : String(result.first),
    ], [
      13,
      0,
      describe(new Uint8Array()),
    ], {
      what: "exchange()'s [sent, received, first] with no reply at all",
      section: where,
      mistake: "first is the first chunk read back, and an empty array when nothing came",
    });
  } finally {
    conn.close();
  }
});

Deno.test("exchange: half-closes, then reads to EOF, while the reply arrives 7 bytes at a time", async () => {
  const { result, checker, seen } = await exchangeWithBook(48, "proxy");
  expectEqual([result.sent, result.received], [48, 48], {
    what: "exchange()'s counts [sent, received]",
    section: section("Reading and writing at once"),
    mistake: "read until read() resolves null (EOF), however small the pieces",
  });
  expectThat(checker.mismatch === -1, `byte ${checker.mismatch} was ${checker.got}`, {
    what: "the reply",
    expected: '"CAPITALIZE THIS!" repeated',
    section: section("Reading and writing at once"),
  });
  expectBytes(result.first, upper(bookPayload(48)).subarray(0, result.first.length), {
    what: "the first chunk exchange() reports",
    section: section("Reading and writing at once"),
    mistake: result.first.buffer === seen.buffer
      ? "first is a copy of the first chunk read (buffer.slice), not a view the next read overwrites"
      : seen.last && firstDifference(result.first, seen.last) === -1
      ? "the first chunk was replaced by each later read: first holds a copy of the last chunk; " +
        "set it only on the first read (while received is 0)"
      : "first is a copy of the first chunk read back, and only of it",
  });
  expectThat(result.first.length > 0, "an empty first chunk", {
    what: "the first chunk exchange() reports",
    expected: "the first bytes read back",
    section: section("Reading and writing at once"),
  });
});

Deno.test("bulkTransfer: connects, sends the payload, and reports counts and time", async () => {
  await using book = BookServer.open();
  const result = await within(
    bulkTransfer({ hostname: "127.0.0.1", port: book.addr.port, bytecount: 1_000_001 }),
    { awaiting: "bulkTransfer() of 1,000,001 bytes", section: section("Measuring it"), ms: 3000 },
  );
  expectEqual([result.sent, result.received, book.bytesIn], [1_000_016, 1_000_016, 1_000_016], {
    what: "[sent, received, bytes the server got] for a byte count of 1,000,001",
    section: section("Measuring it"),
    mistake: "send payload(bytecount): the count rounded up to a multiple of 16",
  });
  expectThat(result.ms > 0 && result.ms < 10_000, `${result.ms} ms`, {
    what: "the time bulkTransfer() reports",
    expected: "milliseconds measured with performance.now()",
    section: section("Measuring it"),
  });
});

Deno.test("program: `server` prints where it listens and what it processed", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
  });
  const conn = await connect(program.addr, {
    awaiting: "a connection to the program",
    section: section("Running it as a program"),
    watch: program.running,
  });
  try {
    await writeAll(conn, "capitalize this!capitalize this!", {
      awaiting: "32 bytes to be sent",
      section: section("Running it as a program"),
    });
    await conn.closeWrite();
    expectBytes(
      await readToEnd(conn, {
        awaiting: "the reply and EOF",
        section: section("Running it as a program"),
        watch: program.running,
      }),
      "CAPITALIZE THIS!CAPITALIZE THIS!",
      { what: "the program's reply", section: section("The capitalizing protocol") },
    );
    const me = `127\\.0\\.0\\.1:${(conn.localAddr as Deno.NetAddr).port}`;
    await program.log.next(new RegExp(`^Processing up to 262144 bytes at a time from ${me}$`), {
      awaiting: "the line `Processing up to 262144 bytes at a time from 127.0.0.1:PORT`",
      section: section("Running it as a program"),
    });
    await program.log.next(/^ {2}32 bytes processed, socket closed$/, {
      awaiting: "the line `  32 bytes processed, socket closed`",
      section: section("Running it as a program"),
    });
  } finally {
    conn.close();
  }
});

Deno.test("program: `client 127.0.0.1 100` sends 112 bytes and prints what came back", async () => {
  await using book = BookServer.open();
  const { log, running } = startClientRole(client, { port: book.addr.port, args: ["100"] });
  await within(running, {
    awaiting: "client() to return",
    section: section("Running it as a program"),
  });
  for (
    const [pattern, text] of [
      [/^Sending 112 bytes of data, reading the reply at the same time$/, "Sending 112 bytes …"],
      [
        /^ {2}The first data received says "CAPITALIZE[^"]*"$/,
        '  The first data received says "CAPITALIZE…"',
      ],
      [
        /^ {2}112 bytes sent, 112 bytes received in \d+ ms$/,
        "  112 bytes sent, 112 bytes received in N ms",
      ],
    ] as const
  ) {
    await log.next(pattern, {
      awaiting: `the line \`${text}\``,
      section: section("Running it as a program"),
    });
  }
  expectEqual(book.bytesIn, 112, {
    what: "bytes the server received for a byte count of 100",
    section: section("The capitalizing protocol"),
  });
});

Deno.test("upperAscii: the letters at each end of a–z change, their neighbours do not, in a view", () => {
  const whole = encoder.encode("XXXX`az{@AZ[~");
  const view = whole.subarray(4); // byteOffset 4: "`az{@AZ[~"
  const got = upperAscii(view);
  expectBytes(got, "`AZ{@AZ[~", {
    what: 'upperAscii of "`az{@AZ[~" (a view with byteOffset 4)',
    section: section("Bytes, not text"),
    mistake: got.length !== view.length
      ? "the result has the view's length, not its underlying buffer's"
      : got[1] === 0x61 || got[2] === 0x7a
      ? "a–z is 0x61 to 0x7a, both ends included: compare with <= 0x7a and >= 0x61"
      : got[0] !== 0x60 || got[3] !== 0x7b
      ? "only a–z change: ` (0x60) and { (0x7b) sit just outside the range"
      : undefined,
  });
  expectBytes(view, "`az{@AZ[~", {
    what: "the input view after upperAscii",
    section: section("Bytes, not text"),
    mistake: "upperAscii changed its input: return a new array",
  });
});

Deno.test("server: capitalizes the ends of a–z and leaves ` and { alone", async () => {
  await withServer(async (addr, _log, watch) => {
    const { bytes } = await talkTo(addr, encoder.encode("`az{@AZ[`az{@AZ["), { keep: true, watch });
    expectBytes(bytes, "`AZ{@AZ[`AZ{@AZ[", {
      what: 'the server\'s reply to "`az{@AZ[" twice',
      section: section("Bytes, not text"),
      mistake: bytes[1] === 0x61 || bytes[2] === 0x7a
        ? "a–z is 0x61 to 0x7a, both ends included: compare with <= 0x7a and >= 0x61"
        : undefined,
    });
  });
});

Deno.test("server: close() with a silent client and a busy one ends both, and done resolves", async () => {
  const lines: string[] = [];
  const running = startServer({ hostname: "127.0.0.1", port: 0, log: (l) => lines.push(l) });
  const conns: Deno.TcpConn[] = [];
  try {
    for (const which of ["a silent client", "a busy client"]) {
      conns.push(
        await connect(running.addr, {
          awaiting: `${which} to connect`,
          section: section("The server"),
        }),
      );
    }
    await writeAll(conns[1], "capitalize this!", {
      awaiting: "the busy client's 16 bytes",
      section: section("The server"),
    });
    const echo = new Uint8Array(16);
    for (let got = 0; got < 16;) {
      const n = await within(conns[1].read(echo.subarray(got)), {
        awaiting: "the busy client's 16 capitalized bytes",
        section: section("The server"),
      });
      if (n === null) break;
      got += n;
    }
    await expectCleanStop(running, {
      awaiting: "done to settle after close(), with two clients connected",
      section: section("The server"),
      mistake: "close() must close the listener and every open connection, so " +
        "that done settles",
    });
    for (const [i, conn] of conns.entries()) {
      await readToEnd(conn, {
        awaiting: `EOF on client ${i + 1} after close()`,
        section: section("The server"),
        mistake: "close() must close every open connection, not only the listener",
      });
    }
    const failed = lines.filter((l) => /, then /.test(l)).sort();
    expectThat(failed.length === 0, JSON.stringify(failed), {
      what: "the server's log lines that say a connection failed, after close() with two " +
        "clients connected",
      expected: "none: closing is not an error",
      section: section("The server"),
      mistake: "logged close() as a client failing: a read that close() ended is not the " +
        "client's error; check closing before logging a failure",
    });
  } finally {
    for (const conn of conns) closeQuietly(conn);
    running.close();
    await running.done.catch(() => {});
  }
});

Deno.test("bulkTransfer: a server that resets mid-transfer makes it reject, and nothing leaks", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  // Read 16 bytes, then close with the rest unread: the kernel answers with a reset (RST).
  const rude = (async () => {
    const conn = await listener.accept();
    try {
      await conn.read(new Uint8Array(16));
    } finally {
      conn.close();
    }
  })();
  try {
    let error: unknown;
    try {
      await within(bulkTransfer({ hostname: "127.0.0.1", port, bytecount: 8_000_000 }), {
        awaiting: "bulkTransfer() to fail when the server resets the connection",
        section: section("Reading and writing at once"),
        ms: BIG_MS,
      });
    } catch (e) {
      error = e;
    }
    if (error instanceof LessonFailure || isNotImplemented(error)) throw error;
    expectThat(error !== undefined, "it resolved", {
      what: "bulkTransfer() against a server that reset the connection",
      expected: "a rejection (the reset, ConnectionReset or BrokenPipe)",
      section: section("Reading and writing at once"),
    });
  } finally {
    listener.close();
    await rude.catch(() => {});
  }
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startServer(port === undefined ? undefined : { port }),
    "tcp",
    section("The server"),
  );
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, { section: section("Running it as a program") });
});

Deno.test("server: an accept() that fails for one reset connection is logged", async () => {
  await expectAcceptFailureLogged((log) => startServer({ log }), section("The server"));
});

Deno.test("server: logs the bytes processed and how many were not ASCII (DEL is ASCII)", async () => {
  const lines: string[] = [];
  const running = startServer({ hostname: "127.0.0.1", port: 0, log: (l) => lines.push(l) });
  const where = section("The server");
  await stopAfter(async () => {
    const before = performance.now();
    const result = await within(
      background(bulkTransfer({ hostname: "127.0.0.1", port: running.addr.port, bytecount: 16 })),
      { awaiting: "bulkTransfer() of 16 bytes", section: where },
    );
    const wall = performance.now() - before;
    expectThat(result.ms >= 0 && result.ms <= wall, `ms ${result.ms}, wall ${wall}`, {
      what: "bulkTransfer()'s ms against the wall time around the call",
      expected: "the elapsed time: at most the wall time",
      section: section("Measuring it"),
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: running.addr.port });
    try {
      // Four reads, each answered before the next is sent. The server reads 4 bytes at a time
      // and the rest (n % 4) one by one, so the last two pieces end in 3 bytes it takes singly:
      // the edges of a–z (` a z {), DEL (ASCII) and 0x80 (not). Byte 8 of the first piece is
      // non-ASCII, and the second piece is 8 bytes: a server that looks one byte past a read
      // counts it again.
      const pieces: [Uint8Array, Uint8Array][] = [
        [
          new Uint8Array([0x61, 0xc3, 0xa9, 0x7f, 0x62, 0x63, 0x64, 0x65, 0xc3, 0xa9, 0xc3, 0xa9]),
          new Uint8Array([0x41, 0xc3, 0xa9, 0x7f, 0x42, 0x43, 0x44, 0x45, 0xc3, 0xa9, 0xc3, 0xa9]),
        ],
        [encoder.encode("ijklmnop"), encoder.encode("IJKLMNOP")],
        [encoder.encode("qrst`az"), encoder.encode("QRST`AZ")],
        [
          concat([encoder.encode("uvwx{"), new Uint8Array([0x7f, 0x80])]),
          concat([encoder.encode("UVWX{"), new Uint8Array([0x7f, 0x80])]),
        ],
      ];
      for (const [piece, expected] of pieces) {
        await writeAll(conn, piece, { awaiting: "a piece of the request", section: where });
        expectBytes(
          await readExactly(conn, piece.length, { awaiting: "that piece back", section: where }),
          expected,
          {
            what: `the reply to ${describe(piece)}, sent on its own`,
            section: section("Bytes, not text"),
            mistake: "upper-case exactly a–z (0x61 to 0x7a) and leave every other byte, in " +
              "every position of a read, the last bytes of a read included",
          },
        );
      }
      await conn.closeWrite();
      await readToEnd(conn, { awaiting: "the server to close after our EOF", section: where });
    } finally {
      conn.close();
    }
  }, () => expectCleanStop(running, { awaiting: "done to resolve after close()", section: where }));
  const want = "  34 bytes processed (7 non-ASCII, passed through unchanged), socket closed";
  expectThat(lines.includes(want), JSON.stringify(lines), {
    what: "the server's log after 34 bytes in four reads, 7 of them non-ASCII (DEL is ASCII)",
    expected: JSON.stringify(want),
    section: where,
    mistake: lines.some((l) => l.includes("(8 non-ASCII"))
      ? "counted one byte too many: DEL (0x7f) is ASCII, and only the first n bytes of the " +
        "buffer are this read's (the rest is left over from an earlier, longer one)"
      : undefined,
  });
});

Deno.test("program: `client` quotes exactly the first 32 bytes that came back", async () => {
  await using book = BookServer.open();
  const { log, running } = startClientRole(client, { port: book.addr.port, args: ["100"] });
  await within(running, {
    awaiting: "client() to return",
    section: section("Running it as a program"),
  });
  const line = '  The first data received says "CAPITALIZE THIS!CAPITALIZE THIS!"';
  await log.next(new RegExp(`^${line}$`), {
    awaiting: `the line \`${line.trim()}\` (32 bytes, as the book prints)`,
    section: section("Running it as a program"),
  });
});

Deno.test("server: upper-cases exactly a to z among all 256 byte values, at every offset", async () => {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  const where = section("Bytes, not text");
  // every byte value at each of the 4 offsets of a 32-bit word, plus a 3-byte tail
  const data = Uint8Array.from({ length: 256 * 4 + 3 }, (_, i) => (i * 5 + (i >> 8)) % 256);
  await stopAfter(async () => {
    const conn = await connect(running.addr, {
      awaiting: "a connection to the server",
      section: where,
    });
    try {
      await writeAll(conn, data, { awaiting: "1,027 bytes to be sent", section: where });
      await conn.closeWrite();
      const reply = await readToEnd(conn, {
        awaiting: "the reply and EOF",
        section: where,
        watch: running.done,
      });
      expectBytes(reply, upper(data), {
        what: "the reply to every byte value, 0 to 255",
        section: where,
        mistake:
          "only the 26 bytes 0x61 to 0x7a change (to 0x41 to 0x5a); every other byte passes through",
      });
    } finally {
      closeQuietly(conn);
    }
  }, () => expectCleanStop(running, { awaiting: "done to resolve after close()", section: where }));
});
