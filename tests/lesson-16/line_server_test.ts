/**
 * Lesson 16 — A robust line-protocol server: many clients at once on real
 * loopback TCP, well-behaved and hostile, idle time-outs, clean shutdown.
 *
 * @module
 */

import { failOnUnhandled } from "../harness/unhandled.ts";
import { cutWritesMistake, withShortWrites, wroteAgain } from "../harness/short_writes.ts";
import {
  client,
  type LineServerOptions,
  server,
  startLineServer,
} from "../../exercises/lesson-16/line_server.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectRejects, expectThat } from "../harness/expect.ts";
import { LessonFailure, sectionsOf } from "../harness/failure.ts";
import { LogLines } from "../harness/log.ts";
import { ManualClock } from "../harness/manual_clock.ts";
import { startClientRole, startServerRole } from "../harness/program.ts";
import { seeded } from "../harness/random.ts";
import { stopAfter, stopServer } from "../harness/server_loop.ts";
import {
  closeQuietly,
  connect,
  expectRefused,
  FakeServer,
  readExactly,
  readToEnd as drain,
  writeAll as send,
} from "../harness/tcp.ts";

import { ERR_BUSY } from "../../exercises/lesson-16/protocol.ts";
import {
  expectServesAfterResetBeforeAccept,
  resetMidRequest,
  RETHROWS_ACCEPT,
} from "../harness/tcp_misbehave.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { expectAcceptFailureLogged } from "../harness/accept_log.ts";
import {
  expectCloseEndsRest,
  expectServesAfterFdExhaustion,
  GIVES_UP_OUT_OF_FILES,
} from "../harness/fd_exhaustion.ts";
import { lowFdLimitTest } from "../harness/fd_limit.ts";
import { TcpProxy } from "../harness/tcp_proxy.ts";
import { heldCuts, watchReads } from "../harness/read_progress.ts";
import { hookConns } from "../harness/conn_hook.ts";
const section = sectionsOf("lesson-16");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const SERIAL =
  "serves one client at a time: start a handler per connection and go back to accept() at once";
const CRASHED =
  "crashing on a malformed line (or hanging up on it): the connection ended where an ERR line was due";
const LEFT_OPEN = "close() left connections open: close the listener AND every connection";

/**
 * Starts the learner's server and guarantees it is closed (and has ended)
 * after `body`; a rejection the server left unhandled fails the test, named.
 */
async function withServer(
  options: LineServerOptions,
  body: (addr: Deno.NetAddr) => Promise<void>,
  escaped?: string,
): Promise<void> {
  await failOnUnhandled("the server", section("Many clients at once"), async () => {
    const running = startLineServer({ hostname: "127.0.0.1", port: 0, idleMs: 5_000, ...options });
    await stopAfter(() => body(running.addr), () =>
      stopServer(running, {
        awaiting: "done to settle after close()",
        section: section("Shutting down cleanly"),
        mistake: LEFT_OPEN,
      }));
  }, { mistake: escaped });
}

/** A well-behaved client: sends `request`, then (unless it ends with QUIT) half-closes, and reads to EOF. */
async function converse(
  addr: Deno.NetAddr,
  request: string | Uint8Array,
  mistake?: string,
): Promise<string> {
  const conn = await connect(addr, { awaiting: "a connection", section: section("The protocol") });
  try {
    await send(conn, request, { awaiting: "the request lines", section: section("The protocol") });
    const text = typeof request === "string" ? request : "";
    if (!text.endsWith("QUIT\n")) await conn.closeWrite();
    return decoder.decode(
      await drain(conn, {
        awaiting: "every reply and then EOF",
        section: section("The protocol"),
        mistake,
        overflow: { atMost: 64 * 1024, mistake: wroteAgain("the replies") },
      }),
    );
  } finally {
    conn.close();
  }
}

/** Lines of `count` random bytes, each starting with 0xff (never valid UTF-8), no newline inside. */
function garbageLines(seed: number, lines: number): Uint8Array {
  const random = seeded(seed);
  const out: number[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(0xff);
    const length = 1 + Math.floor(random() * 40);
    for (let j = 0; j < length; j++) {
      const byte = Math.floor(random() * 256);
      out.push(byte === 0x0a ? 0x00 : byte);
    }
    out.push(0x0a);
  }
  return new Uint8Array(out);
}

Deno.test("server: ECHO, UPPER, unknown commands and QUIT, each answered with its exact line", async () => {
  await withServer({}, async (addr) => {
    const got = await converse(
      addr,
      "ECHO hello world\nUPPER straße\nHELLO\necho\r\nECHO\nQUIT\n",
      "after QUIT the server must send BYE and close the connection",
    );
    const expected =
      "OK hello world\nOK STRASSE\nERR unknown command\nERR unknown command\nOK\nBYE\n";
    expectBytes(got, expected, {
      what: "the replies to six request lines",
      section: section("The protocol"),
      mistake: got.length < expected.length && !got.includes("ERR unknown command")
        ? CRASHED
        : undefined,
    });
  });
});

Deno.test("server: a \\r inside a line is part of it; only the one before the \\n is dropped", async () => {
  await withServer({}, async (addr) => {
    const got = await converse(addr, "ECHO a\rb\nECHO c\r\r\nQUIT\r\n");
    expectBytes(got, "OK a\rb\nOK c\r\nBYE\n", {
      what: "the replies to `ECHO a\\rb\\n`, `ECHO c\\r\\r\\n` and `QUIT\\r\\n`",
      section: section("The protocol"),
      mistake: got.startsWith("OK ab\n")
        ? "removed every \\r: drop only a \\r just before the \\n; one anywhere else is part " +
          "of the line (`ECHO a\\rb` answers `OK a\\rb`)"
        : got.includes("c\r\r")
        ? "kept the \\r of a \\r\\n: drop a \\r just before the \\n"
        : undefined,
    });
  });
});

Deno.test("server: every reply line arrives whole when each write() takes only part of its bytes", async () => {
  await withServer({}, async (addr) => {
    const request = "ECHO hello world\nUPPER straße\nQUIT\n";
    const expected = "OK hello world\nOK STRASSE\nBYE\n";
    // First as it is (another test says what is wrong if this differs), then with the writes cut:
    // a difference only then is the write loop's.
    expectBytes(await converse(addr, request), expected, {
      what: "the replies to three request lines",
      section: section("The protocol"),
    });
    // Over loopback a short reply is never cut by itself: the test makes it so.
    const got = await withShortWrites(
      { localPort: addr.port },
      "the replies",
      () => converse(addr, request),
    );
    expectBytes(got, expected, {
      what:
        "the replies to three request lines, with each of the server's write() calls cut to a third",
      section: section("The protocol"),
      mistake: cutWritesMistake("the replies", got, expected),
    });
  });
});

Deno.test("server: 50 clients at once (and one that never speaks) all get their own answers", async () => {
  await withServer({}, async (addr) => {
    const silent = await connect(addr, {
      awaiting: "a silent client",
      section: section("Many clients at once"),
    });
    try {
      const clients = Array.from(
        { length: 50 },
        (_, i) =>
          converse(addr, `ECHO client ${i}\nUPPER abc-${i}\nQUIT\n`, SERIAL).then((got) =>
            [i, got] as const
          ),
      );
      const results = await within(Promise.all(clients), {
        awaiting: "50 concurrent clients to get their answers",
        ms: 3000,
        section: section("Many clients at once"),
        mistake: SERIAL,
      });
      for (const [i, got] of results) {
        expectBytes(got, `OK client ${i}\nOK ABC-${i}\nBYE\n`, {
          what: `the replies to client #${i}`,
          section: section("Many clients at once"),
        });
      }
    } finally {
      silent.close();
    }
  });
});

Deno.test("server: an over-long line gets `ERR line too long` at once, and the connection goes on", async () => {
  await withServer({}, async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("Hostile clients"),
    });
    try {
      const exactly = "ECHO " + "x".repeat(1019); // 1024 bytes: the longest line allowed
      await send(conn, exactly + "\n", {
        awaiting: "a 1024-byte line",
        section: section("Hostile clients"),
      });
      expectBytes(
        await readExactly(conn, 3 + 1019 + 1, {
          awaiting: "the reply to a line of exactly 1024 bytes",
          section: section("Framing: a bounded line reader"),
        }),
        "OK " + "x".repeat(1019) + "\n",
        {
          what: "the reply to a line of exactly 1024 bytes",
          section: section("Framing: a bounded line reader"),
        },
      );
      await send(conn, "y".repeat(8 * 1024), {
        awaiting: "8 KiB without a newline",
        section: section("Hostile clients"),
      });
      expectBytes(
        await readExactly(conn, "ERR line too long\n".length, {
          awaiting: "`ERR line too long` while the 8 KiB line is still unfinished",
          section: section("Framing: a bounded line reader"),
          mistake:
            "the server waited for the newline before checking the length: an endless line would grow memory without bound",
        }),
        "ERR line too long\n",
        { what: "the reply to an over-long line", section: section("Hostile clients") },
      );
      await send(conn, "still the long line\nECHO still here\nQUIT\n", {
        awaiting: "the end of the long line, then more requests",
        section: section("Hostile clients"),
      });
      const rest = decoder.decode(
        await drain(conn, {
          awaiting: "the replies after the long line, then EOF",
          section: section("Hostile clients"),
        }),
      );
      expectBytes(rest, "OK still here\nBYE\n", {
        what: "the replies after the over-long line ended",
        section: section("Hostile clients"),
        mistake:
          "after ERR line too long, skip the rest of that line (up to its \\n) and serve the next ones",
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: garbage and invalid UTF-8 get ERR lines, never a crash", async () => {
  await withServer({}, async (addr) => {
    const garbage = garbageLines(16, 20);
    const request = new Uint8Array([
      ...garbage,
      ...encoder.encode("\x00\x01\x02 binary\n"),
      ...[0x45, 0x43, 0x48, 0x4f, 0x20, 0x63, 0x61, 0x66, 0xc3, 0x0a], // "ECHO caf" + half of é
      ...encoder.encode("ECHO ok\n"),
    ]);
    const got = await converse(addr, request);
    const expected = "ERR invalid UTF-8\n".repeat(20) + "ERR unknown command\n" +
      "ERR invalid UTF-8\nOK ok\n";
    expectBytes(got, expected, {
      what:
        "the replies to 20 lines of random bytes, a binary line, a broken character and ECHO ok",
      section: section("Bytes first, text second"),
      mistake: got.includes("\uFFFD")
        ? "decoded with a non-fatal TextDecoder: invalid bytes became U+FFFD instead of ERR invalid UTF-8"
        : got.endsWith("OK caf\nERR invalid UTF-8\n")
        ? "bytes left over from the previous line: decode was called with stream: true, so " +
          "the c3 that ended `ECHO caf` was kept and spoiled `ECHO ok`; decode each line whole"
        : got.length < expected.length
        ? CRASHED
        : undefined,
    });
  });
});

Deno.test("server: a silent client gets `ERR idle timeout` and is closed; others are served meanwhile", async () => {
  const log = new LogLines();
  // The idle limit waits on a fake clock: it runs out only once the busy
  // client is done, so a stalled machine cannot time that client out too.
  const clock = new ManualClock();
  await withServer({ idleMs: 150, log: log.push, sleep: clock.sleep }, async (addr) => {
    const silent = await connect(addr, {
      awaiting: "a silent client",
      section: section("Idle clients"),
    });
    try {
      expectBytes(await converse(addr, "ECHO busy\nQUIT\n", SERIAL), "OK busy\nBYE\n", {
        what: "the replies to a client served while another one says nothing",
        section: section("Many clients at once"),
      });
      clock.runOut();
      const got = await drain(silent, {
        awaiting: "`ERR idle timeout` and EOF for a client silent for 150 ms",
        section: section("Idle clients"),
        mistake:
          "no idle timeout: a client that never speaks holds its connection (and its task) forever",
      });
      expectBytes(got, "ERR idle timeout\n", {
        what: "what the silent client received",
        section: section("Idle clients"),
        mistake: got.length === 0
          ? "closed an idle client without a word: send `ERR idle timeout`, then close"
          : undefined,
      });
    } finally {
      silent.close();
    }
  });
});

Deno.test("server: a client that vanishes mid-line is dropped; its half line is never executed", async () => {
  const log = new LogLines();
  await withServer({ log: log.push }, async (addr) => {
    const got = await converse(addr, "ECHO complete\nECHO half");
    expectBytes(got, "OK complete\n", {
      what: "the replies to `ECHO complete\\n` and an unfinished `ECHO half`, then a half-close",
      section: section("Hostile clients"),
      mistake: got.includes("half")
        ? "executed an unfinished line at EOF: a line without its \\n is not a command; drop it"
        : undefined,
    });
    await log.next(/disconnected mid-line \(9 bytes dropped\)$/, {
      awaiting: "the log line `… disconnected mid-line (9 bytes dropped)`",
      section: section("Hostile clients"),
    });
    const gone = await connect(addr, {
      awaiting: "a connection",
      section: section("Hostile clients"),
    });
    await send(gone, "UPPER par", { awaiting: "half a line", section: section("Hostile clients") });
    gone.close();
    await log.next(/disconnected mid-line \(9 bytes dropped\)$/, {
      awaiting:
        "a second `… disconnected mid-line (9 bytes dropped)` after a client closed mid-line",
      section: section("Hostile clients"),
    });
    expectBytes(await converse(addr, "ECHO next\nQUIT\n"), "OK next\nBYE\n", {
      what: "the replies to the next client",
      section: section("Hostile clients"),
    });
  });
});

Deno.test("server: hostile and well-behaved clients at once: the well-behaved ones get every answer", async () => {
  await withServer({}, async (addr) => {
    const hostile: Deno.TcpConn[] = [];
    const wait = { awaiting: "a hostile client's connection", section: section("Hostile clients") };
    try {
      for (let i = 0; i < 10; i++) {
        const conn = await connect(addr, wait);
        hostile.push(conn);
        const kind = i % 5;
        if (kind === 1) {
          await send(conn, "z".repeat(64 * 1024), { ...wait, awaiting: "an endless line" });
        }
        if (kind === 2) await send(conn, garbageLines(i, 5), { ...wait, awaiting: "garbage" });
        if (kind === 3) await send(conn, "ECHO never finish", { ...wait, awaiting: "half a line" });
        if (kind === 4) {
          await send(conn, new Uint8Array([0xc3, 0x28, 0x0a]), { ...wait, awaiting: "bad UTF-8" });
        }
        // kind 0: connects and never says a word
      }
      for (const conn of hostile.filter((_, i) => i % 5 === 3)) conn.close();
      const good = Array.from(
        { length: 20 },
        (_, i) =>
          converse(addr, `ECHO good ${i}\nHELLO\nUPPER good ${i}\nQUIT\n`, SERIAL).then((got) =>
            [i, got] as const
          ),
      );
      const results = await within(Promise.all(good), {
        awaiting: "20 well-behaved clients to get their answers amid 10 hostile ones",
        ms: 3000,
        section: section("Hostile clients"),
      });
      for (const [i, got] of results) {
        expectBytes(got, `OK good ${i}\nERR unknown command\nOK GOOD ${i}\nBYE\n`, {
          what: `the replies to well-behaved client #${i}`,
          section: section("Hostile clients"),
        });
      }
    } finally {
      for (const conn of hostile) closeQuietly(conn);
    }
  });
});

/**
 * One ordinary exchange with a server that must still be serving after one connection failed (a reset before accept, no descriptor free): ECHO and QUIT, replies to EOF. Waits end at once if `watch` fails.
 */
async function expectNextClientServed(
  addr: Deno.NetAddr,
  watch: Promise<never>,
  mistake: string,
): Promise<void> {
  const reread = section("An accept loop that keeps serving");
  using conn = await connect(addr, {
    awaiting: "the next client to connect",
    section: reread,
    watch,
  });
  await send(conn, "ECHO still here\nQUIT\n", {
    awaiting: "the next request",
    section: reread,
  });
  const got = await drain(conn, {
    awaiting: "the replies to the next client, after the failed accept()",
    section: reread,
    mistake,
    watch,
  });
  expectBytes(got, "OK still here\nBYE\n", {
    what: "the replies to the next client, after the failed accept()",
    section: section("The protocol"),
  });
}

Deno.test("server: keeps serving after a client resets before accept()", async () => {
  const running = startLineServer({ hostname: "127.0.0.1", port: 0, idleMs: 5_000 });
  await stopAfter(async () => {
    const reread = section("An accept loop that keeps serving");
    await expectServesAfterResetBeforeAccept(running, reread, async (watch) => {
      await expectNextClientServed(running.addr, watch, RETHROWS_ACCEPT);
    });
  }, () =>
    stopServer(running, {
      awaiting: "done to settle after close()",
      section: section("Shutting down cleanly"),
      mistake: LEFT_OPEN,
    }));
});

Deno.test({
  ...lowFdLimitTest("server: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    const reread = section("An accept loop that keeps serving");
    await expectServesAfterFdExhaustion(
      (log) => startLineServer({ log, idleMs: 5_000 }),
      reread,
      async (server, watch) => {
        await expectNextClientServed(server.addr, watch, GIVES_UP_OUT_OF_FILES);
      },
    );
  },
});

Deno.test("server: a client that resets mid-line is dropped; the next client is served", async () => {
  await withServer({}, async (addr) => {
    await resetMidRequest(addr, "ECHO half a li", {
      awaiting: "a client to send half a line and reset",
      section: section("Hostile clients"),
    });
    expectEqual(await converse(addr, "ECHO whole\nQUIT\n"), "OK whole\nBYE\n", {
      what: "the replies to the client after the one that reset mid-line",
      section: section("Hostile clients"),
      mistake: "one client's reset must end only its own connection",
    });
  });
});

Deno.test("server: at its connection bound a flood gets `ERR server busy`; a freed slot serves", async () => {
  const BOUND = 3;
  const FLOOD = 12;
  const reread = section("An accept loop that keeps serving");
  const wait = (awaiting: string, mistake?: string) => ({ awaiting, section: reread, mistake });
  const log = new LogLines();
  await withServer({ maxConnections: BOUND, log: log.push }, async (addr) => {
    const held: Deno.TcpConn[] = [];
    // The first flood client, when it got nothing: the next one tells whether the bound is off
    // by one (that one is turned away) or missing (it gets nothing either).
    let unanswered: Deno.TcpConn | undefined;
    try {
      for (let i = 0; i < BOUND; i++) {
        const conn = await connect(addr, wait(`held client ${i + 1} to connect`));
        held.push(conn);
        await send(conn, `ECHO held ${i + 1}\n`, wait(`held client ${i + 1}'s request`));
        expectBytes(
          await readExactly(
            conn,
            `OK held ${i + 1}\n`.length,
            wait(`held client ${i + 1}'s reply`),
          ),
          `OK held ${i + 1}\n`,
          { what: `the reply to held client ${i + 1} (within the bound)`, section: reread },
        );
      }
      for (let i = 0; i < FLOOD; i++) {
        const conn = await connect(addr, wait(`flood client ${i + 1} to connect`));
        try {
          let got: Uint8Array;
          try {
            got = await drain(
              conn,
              wait(
                `\`${ERR_BUSY}\` and EOF for flood client ${i + 1}`,
                "no connection bound (or one that leaves clients waiting): at maxConnections, " +
                  `answer \`${ERR_BUSY}\` and close at once`,
              ),
            );
          } catch (error) {
            if (i > 0 || !(error instanceof LessonFailure) || !/timed out/.test(error.message)) {
              throw error;
            }
            unanswered = conn; // held open, in its slot, until the end of the test
            continue;
          }
          expectBytes(got, `${ERR_BUSY}\n`, {
            what: `what flood client ${i + 1} got with ${BOUND} connections open`,
            section: reread,
            mistake: "no connection bound: with maxConnections open, answer the next client " +
              `\`${ERR_BUSY}\` and close it`,
          });
          expectThat(
            unanswered === undefined,
            `flood client 1 got nothing (it was served: ${BOUND + 1} clients at once); ` +
              `flood client 2 got \`${ERR_BUSY}\``,
            {
              what: `the first client past a bound of ${BOUND} was turned away`,
              expected: `\`${ERR_BUSY}\` and EOF for every client past the first ${BOUND}`,
              section: reread,
              mistake: "the bound let one too many in (off by one): with maxConnections " +
                "served, the next client is turned away; serve only while served < " +
                "maxConnections, not <=",
            },
          );
        } finally {
          if (conn !== unanswered) conn.close();
        }
      }
      const turnedAway = log.lines.filter((line) => /turned away/.test(line));
      expectEqual(turnedAway.length, FLOOD, {
        what: "log lines that say a client was turned away",
        section: section("Running it as a program"),
        mistake: "log each client you turn away: `127.0.0.1:PORT turned away: 3 open`",
      });
      const first = held.shift()!;
      try {
        await send(first, "QUIT\n", wait("held client 1's QUIT"));
        expectBytes(await drain(first, wait("BYE and EOF for held client 1")), "BYE\n", {
          what: "the reply to held client 1's QUIT",
          section: section("The protocol"),
        });
      } finally {
        first.close();
      }
      expectEqual(await converse(addr, "ECHO freed\nQUIT\n"), "OK freed\nBYE\n", {
        what: "the replies to a client once a slot is free again",
        section: reread,
        mistake: "a connection that ends must free its slot: count only open connections",
      });
    } finally {
      for (const conn of held) conn.close();
      unanswered?.close();
    }
  });
});

Deno.test("server: a flood client that is gone before its busy reply does not stop the server", async () => {
  const reread = section("An accept loop that keeps serving");
  const wait = (awaiting: string, mistake?: string) => ({ awaiting, section: reread, mistake });
  const ESCAPED = "turnAway() let its failed busy reply escape: a client turned away may be " +
    "gone already; catch the write's error, and close the connection in a finally";
  let refused!: () => void;
  const busyRefused = new Promise<void>((resolve) => refused = resolve);
  const server = { localPort: 0 }; // set once the server listens; the hook reads it per call
  using _hook = await hookConns("write", server, (write, data) => {
    if (!decoder.decode(data).startsWith(ERR_BUSY)) return write(data);
    refused();
    return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
  });
  await withServer({ maxConnections: 1 }, async (addr) => {
    server.localPort = addr.port;
    const held = await connect(addr, wait("the held client to connect"));
    try {
      await send(held, "ECHO held\n", wait("the held client's request"));
      expectBytes(
        await readExactly(held, "OK held\n".length, wait("the held reply")),
        "OK held\n",
        {
          what: "the reply to the held client (the one slot)",
          section: reread,
        },
      );
      const flood = await connect(addr, wait("the flood client to connect"));
      try {
        await within(busyRefused, {
          awaiting: `the server to write \`${ERR_BUSY}\` to the flood client (and fail)`,
          section: reread,
          mistake: "no connection bound, or one off by one (it let a second client in): " +
            `at maxConnections, answer the next client \`${ERR_BUSY}\` and close it`,
        });
        await drain(flood, wait("EOF for the flood client whose busy reply failed", ESCAPED));
      } finally {
        flood.close();
      }
      await send(held, "QUIT\n", wait("the held client's QUIT"));
      await drain(held, wait("BYE and EOF for the held client"));
    } finally {
      held.close();
    }
    expectEqual(await converse(addr, "ECHO next\nQUIT\n"), "OK next\nBYE\n", {
      what: "the replies to a client after a turned-away one failed and the held one quit",
      section: reread,
      mistake: ESCAPED,
    });
  }, ESCAPED);
});

Deno.test("server: close() closes the listener and every connection, then done settles", async () => {
  const log = new LogLines();
  const running = startLineServer({ hostname: "127.0.0.1", port: 0, idleMs: 5_000, log: log.push });
  const conns: Deno.TcpConn[] = [];
  const wait = { awaiting: "a connection", section: section("Shutting down cleanly") };
  try {
    conns.push(await connect(running.addr, wait)); // never speaks
    conns.push(await connect(running.addr, wait));
    await send(conns[1], "ECHO unfinish", wait); // stops mid-line
    // Connected after the others, so accepted after them: once this is answered, all are being served.
    expectBytes(await converse(running.addr, "ECHO ready\n"), "OK ready\n", {
      what: "the reply to a client served before the shutdown",
      section: section("The protocol"),
    });
    running.close();
    await within(running.done, {
      awaiting: "done to settle after close(), with two clients still connected",
      section: section("Shutting down cleanly"),
      mistake: LEFT_OPEN,
    });
    for (const [i, conn] of conns.entries()) {
      const left = await drain(conn, {
        awaiting: `EOF on open client #${i + 1} after close()`,
        section: section("Shutting down cleanly"),
        mistake: LEFT_OPEN,
      });
      expectEqual(decoder.decode(left), "", {
        what: `what open client #${i + 1} received at shutdown`,
        section: section("Shutting down cleanly"),
      });
    }
    await expectRefused(running.addr, {
      what: "connecting after close()",
      section: section("Shutting down cleanly"),
      mistake: "close() must close the listener too",
    });
    const failed = log.lines.filter((line) => / failed: /.test(line));
    expectThat(failed.length === 0, JSON.stringify(failed), {
      what: "the server's log lines that say a connection failed, after close() with two " +
        "clients connected",
      expected: "none",
      section: section("Shutting down cleanly"),
      mistake: "logged close() as a client failing: a read that close() ended is not the " +
        "client's error; check closing before logging a failure",
    });
  } finally {
    for (const conn of conns) closeQuietly(conn);
    running.close();
    await running.done.catch(() => {});
  }
});

Deno.test("program: `server` prints where it listens, serves, and stops when aborted", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
  });
  expectBytes(await converse(program.addr, "UPPER it works\nQUIT\n"), "OK IT WORKS\nBYE\n", {
    what: "the program's replies",
    section: section("Running it as a program"),
  });
  await program.stop(); // aborts, and fails unless server() returns in time
  const { lines } = program.log;
  expectThat(lines.some((l) => l.endsWith(" quit")), JSON.stringify(lines), {
    what: "the program logged the client's QUIT",
    expected: "a line ending in ` quit`",
    section: section("Running it as a program"),
  });
});

/** The fake server's side of a client program's run: send `replies`, close, await the client. */
async function replyAndEnd(conn: Deno.Conn, replies: string, running: Promise<unknown>) {
  await send(conn, replies, {
    awaiting: "the replies to be sent",
    section: section("Running it as a program"),
  });
  conn.close();
  await within(running, {
    awaiting: "client() to return once the server closed",
    section: section("Running it as a program"),
  });
}

Deno.test("program: `client` sends its lines and QUIT at once, and prints every reply", async () => {
  using fake = FakeServer.open();
  const { log, running } = startClientRole(client, {
    port: fake.addr.port,
    args: ["ECHO one", "UPPER two"],
  });
  try {
    const conn = await fake.accept({
      awaiting: "the client program to connect",
      watch: running,
      section: section("Running it as a program"),
    });
    const request = "ECHO one\nUPPER two\nQUIT\n";
    expectBytes(
      await readExactly(conn, request.length, {
        awaiting: "the client program's three lines",
        section: section("Running it as a program"),
      }),
      request,
      { what: "the lines the client program sent", section: section("The protocol") },
    );
    await replyAndEnd(conn, "OK one\nOK TWO\nBYE\n", running);
    expectEqual(
      log.lines,
      ["> ECHO one", "> UPPER two", "> QUIT", "< OK one", "< OK TWO", "< BYE"],
      {
        what: "what the client program printed",
        section: section("Running it as a program"),
      },
    );
  } finally {
    fake.close();
    await running.catch(() => {});
  }
});

Deno.test("program: `client` prints a non-ASCII reply whole when a read ends inside a character", async () => {
  using fake = FakeServer.open();
  // "OK gr" then the first byte of "ü": the rest leaves once the client's read() calls have
  // returned those 6 (or after the proxy's long pause), so it reads them alone on every run.
  await using proxy = TcpProxy.open(fake.addr, {
    reply: heldCuts([6], () => reads),
  });
  using reads = await watchReads({ remotePort: proxy.addr.port });
  const { log, running } = startClientRole(client, { port: proxy.addr.port, args: ["ECHO grüße"] });
  try {
    const conn = await fake.accept({
      awaiting: "the client program to connect",
      watch: running,
      section: section("Running it as a program"),
    });
    await readExactly(conn, "ECHO grüße\nQUIT\n".length + 2, {
      awaiting: "the client program's two lines",
      section: section("Running it as a program"),
    });
    await replyAndEnd(conn, "OK grüße\nBYE\n", running);
    expectEqual(log.lines.filter((l) => l.startsWith("<")), ["< OK grüße", "< BYE"], {
      what: "the replies the client program printed, the first cut inside the ü",
      section: section("Running it as a program"),
      mistake: log.lines.some((l) => l.includes("\uFFFD"))
        ? "decoded each read() on its own: a character cut between two reads became U+FFFD; " +
          "split the bytes into lines first (LineReader), then decode each whole line"
        : undefined,
    });
  } finally {
    fake.close();
    await running.catch(() => {});
  }
});

Deno.test("program: `client` refuses an argument with a line break in it, before connecting", async () => {
  using fake = FakeServer.open();
  for (const arg of ["ECHO a\nQUIT", "ECHO b\r"]) {
    const { running } = startClientRole(client, { port: fake.addr.port, args: [arg] });
    try {
      const error = await expectRejects(
        () =>
          within(running, {
            awaiting: `client() with the argument ${JSON.stringify(arg)}`,
            section: section("Running it as a program"),
          }),
        {
          kind: RangeError,
          what: `client() with the argument ${JSON.stringify(arg)} (a line break: two requests)`,
          section: section("Running it as a program"),
          mistake: "each argument is one request line: refuse one with \\n or \\r in it (a " +
            "RangeError), or the server gets two requests",
        },
      );
      const start = arg.split(/[\r\n]/)[0];
      expectThat(error.message.includes(start), error.message, {
        what: "the RangeError's message",
        expected: `a message that names the argument (${JSON.stringify(start)} …)`,
        section: section("Running it as a program"),
      });
    } catch (error) {
      fake.close(); // resets the connection it never accepted: the client's read fails
      await running.catch(() => {});
      throw error;
    }
  }
  // Nothing connected: the first connection the fake accepts is the test's own.
  using marker = await connect(fake.addr, {
    awaiting: "the test's own connection",
    section: section("Running it as a program"),
  });
  const first = await fake.accept({
    awaiting: "the test's own connection",
    section: section("Running it as a program"),
  });
  expectEqual(first.remoteAddr.port, (marker.localAddr as Deno.NetAddr).port, {
    what: "the port of the first connection the server saw",
    section: section("Running it as a program"),
    mistake: "connected before refusing the argument: check every line first",
  });
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startLineServer(port === undefined ? undefined : { port }),
    "tcp",
    section("Many clients at once"),
  );
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, { section: section("Running it as a program") });
});

Deno.test("server: an accept() that fails for one reset connection is logged", async () => {
  await expectAcceptFailureLogged(
    (log) => startLineServer({ log }),
    section("An accept loop that keeps serving"),
  );
});

Deno.test("server: the idle limit counts from the last line, not from connect", async () => {
  // idleMs 400; a line every 100 ms of fake time for 600 ms: a limit counted
  // from connect closes this client at 400 (or 500) ms, one counted from the
  // last line never. The clock is injected, so a stalled machine changes nothing.
  const clock = new ManualClock();
  const idleFromConnect = "the idle limit counted from connect: restart it after every read " +
    "that brings bytes";
  await withServer({ idleMs: 400, sleep: clock.sleep }, async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("Idle clients"),
    });
    try {
      for (let i = 1; i <= 6; i++) {
        clock.advance(100);
        await send(conn, `ECHO ${i}\n`, {
          awaiting: `line ${i}, sent ${i * 100} ms after connecting`,
          section: section("Idle clients"),
        });
        const reply = await readExactly(conn, `OK ${i}\n`.length, {
          awaiting: `the reply to line ${i}, ${i * 100} ms after connecting (idleMs 400)`,
          section: section("Idle clients"),
          mistake: i >= 4 ? idleFromConnect : undefined,
        });
        expectBytes(reply, `OK ${i}\n`, {
          what: `the reply to line ${i}, ${i * 100} ms after connecting (idleMs 400)`,
          section: section("Idle clients"),
          mistake: i >= 4 && decoder.decode(reply).startsWith("ERR") ? idleFromConnect : undefined,
        });
      }
    } finally {
      conn.close();
    }
  });
  expectThat(clock.asked.includes(400), clock.asked.join(", ") || "no wait at all", {
    what: "the waits the server asked options.sleep for (idleMs 400)",
    expected: "at least one sleep(400, signal)",
    section: section("Idle clients"),
    mistake: "the idle limit did not wait with options.sleep: take the wait from the " +
      "injected sleep (the default is a real timer), so that tests control time",
  });
});

Deno.test("server: a client that falls silent after a line is timed out too", async () => {
  // The limit must restart with every read, not run once: after `ECHO hi` the fake clock runs out,
  // so the next read's wait (asked for before or after) ends at once, and the client must get
  // `ERR idle timeout`.
  const clock = new ManualClock();
  const log = new LogLines();
  await withServer({ idleMs: 150, sleep: clock.sleep, log: log.push }, async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("Idle clients"),
    });
    try {
      await send(conn, "ECHO hi\n", { awaiting: "one line", section: section("Idle clients") });
      expectBytes(
        await readExactly(conn, "OK hi\n".length, {
          awaiting: "the reply to `ECHO hi`",
          section: section("The protocol"),
        }),
        "OK hi\n",
        { what: "the reply to `ECHO hi`", section: section("The protocol") },
      );
      clock.runOut();
      const got = await drain(conn, {
        awaiting: "`ERR idle timeout` and EOF for a client silent after one line",
        section: section("Idle clients"),
        mistake: "the idle limit ran only until the first read: an AbortSignal once aborted " +
          "stays aborted, so every later wait ended at once; give each read its own " +
          "AbortController",
      });
      expectBytes(got, "ERR idle timeout\n", {
        what: "what a client silent after one line received",
        section: section("Idle clients"),
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: options.maxLineBytes sets the longest line, smaller or larger than 1024", async () => {
  const ignored = "the server ignored options.maxLineBytes: give it (default MAX_LINE_BYTES) to " +
    "the LineReader";
  await withServer({ maxLineBytes: 16 }, async (addr) => {
    // 16 bytes, then 17.
    const got = await converse(addr, "ECHO 0123456789a\nECHO 0123456789ab\nQUIT\n");
    expectBytes(got, "OK 0123456789a\nERR line too long\nBYE\n", {
      what: "the replies to a 16-byte and a 17-byte line, maxLineBytes 16",
      section: section("Framing: a bounded line reader"),
      mistake: got.includes("OK 0123456789ab") ? ignored : undefined,
    });
  });
  await withServer({ maxLineBytes: 4096 }, async (addr) => {
    const line = "ECHO " + "x".repeat(1995); // 2000 bytes
    const got = await converse(addr, `${line}\nQUIT\n`);
    expectBytes(got, `OK ${"x".repeat(1995)}\nBYE\n`, {
      what: "the reply to a 2000-byte line, maxLineBytes 4096",
      section: section("Framing: a bounded line reader"),
      mistake: got.startsWith("ERR line too long") ? ignored : undefined,
    });
  });
});

Deno.test("program: `client` with no arguments sends the demo lines, then QUIT", async () => {
  using fake = FakeServer.open();
  // `deno task run lesson-16 client` passes an empty list, not undefined.
  const { log, running } = startClientRole(client, { port: fake.addr.port, args: [] });
  try {
    const conn = await fake.accept({
      awaiting: "the client program to connect",
      watch: running,
      section: section("Running it as a program"),
    });
    const request = "ECHO Hello, server\nUPPER please shout this\nQUIT\n";
    const got = await readExactly(conn, request.length, {
      awaiting: "the client program's demo lines and QUIT",
      section: section("Running it as a program"),
      mistake: "with no arguments, send DEMO_LINES: `deno task run` passes an empty args " +
        "array, which `??` keeps; test args.length",
    });
    expectBytes(got, request, {
      what: "the lines the client program sent with no arguments",
      section: section("Running it as a program"),
    });
    await replyAndEnd(conn, "OK Hello, server\nOK PLEASE SHOUT THIS\nBYE\n", running);
    expectEqual(log.lines.slice(0, 3), [
      "> ECHO Hello, server",
      "> UPPER please shout this",
      "> QUIT",
    ], {
      what: "what the client program printed first",
      section: section("Running it as a program"),
    });
  } finally {
    fake.close();
    await running.catch(() => {});
  }
});

Deno.test("server: logs each event with the client's address: connected, disconnected, idle", async () => {
  const log = new LogLines();
  // A fake clock: the first client cannot idle out before it closes, however slow the machine.
  const clock = new ManualClock();
  const running = startLineServer({
    hostname: "127.0.0.1",
    port: 0,
    idleMs: 150,
    log: log.push,
    sleep: clock.sleep,
  });
  const where = section("Running it as a program");
  await stopAfter(async () => {
    const first = await Deno.connect({ hostname: "127.0.0.1", port: running.addr.port });
    const one = `127\\.0\\.0\\.1:${first.localAddr.port}`;
    await log.next(new RegExp(`^${one} connected$`), {
      awaiting: "the line `… connected`",
      section: where,
    });
    first.close();
    await log.next(new RegExp(`^${one} disconnected$`), {
      awaiting: "the line `… disconnected`",
      section: where,
    });
    clock.runOut();
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: running.addr.port });
    try {
      const two = `127\\.0\\.0\\.1:${silent.localAddr.port}`;
      await log.next(new RegExp(`^${two} idle for 150 ms: closed$`), {
        awaiting: "the line `… idle for 150 ms: closed`",
        section: where,
      });
    } finally {
      silent.close();
    }
  }, () => stopServer(running, { awaiting: "the server to stop after close()", section: where }));
});

Deno.test("server: a client that resets mid-line is logged as failed", async () => {
  const log = new LogLines();
  const running = startLineServer({ hostname: "127.0.0.1", port: 0, log: log.push });
  const where = section("Running it as a program");
  await stopAfter(async () => {
    await resetMidRequest(running.addr, "ECHO half a li", {
      awaiting: "a client to reset mid-line",
      section: where,
    });
    await log.next(/ failed: /, {
      awaiting: "the line `… failed: MESSAGE`",
      watch: running.done,
      section: where,
    });
  }, () => stopServer(running, { awaiting: "the server to stop after close()", section: where }));
});

Deno.test("server: with no sleep option, a real timer ends an idle client's wait", async () => {
  await withServer({ idleMs: 10 }, async (addr) => {
    const silent = await connect(addr, {
      awaiting: "a silent client",
      section: section("Idle clients"),
    });
    try {
      const got = await drain(silent, {
        awaiting: "`ERR idle timeout` and EOF after 10 ms of silence, on the default timer",
        section: section("Idle clients"),
        mistake: "the default sleep must be a real timer that resolves after `ms`: without a " +
          "sleep option the idle limit still has to end the wait",
      });
      expectBytes(got, "ERR idle timeout\n", {
        what: "what a client silent for 10 ms received (no sleep option given)",
        section: section("Idle clients"),
      });
    } finally {
      silent.close();
    }
  });
});

Deno.test({
  ...lowFdLimitTest("server: close() during the rest after EMFILE ends the loop at once"),
  async fn() {
    await expectCloseEndsRest(
      (log) => startLineServer({ log, idleMs: 5_000 }),
      section("An accept loop that keeps serving"),
    );
  },
});

Deno.test("program: `client` stops at once when its signal aborts, and not again after", async () => {
  using fake = FakeServer.open();
  const { running, abort } = startClientRole(client, { port: fake.addr.port, args: ["ECHO hi"] });
  const where = section("Running it as a program");
  try {
    const conn = await fake.accept({
      awaiting: "the client program to connect",
      section: where,
      watch: running,
    });
    await readExactly(conn, "ECHO hi\nQUIT\n".length, {
      awaiting: "the client program's lines",
      section: where,
    });
    abort(); // the server never answers: only the abort can end the client now
    await within(running.then(() => {}, () => {}), {
      awaiting: "client() to end once its signal aborted, with no reply coming",
      section: where,
      mistake: "close the connection when the signal aborts, so the pending read ends",
    });
  } finally {
    fake.close();
    await running.catch(() => {});
  }
});

Deno.test("program: `client` leaves nothing on the signal once it has returned", async () => {
  using fake = FakeServer.open();
  const where = section("Running it as a program");
  // A stand-in for an AbortSignal that never aborts and keeps the abort listeners added to it
  // and not removed since (the real one, frozen in graded runs, cannot be watched).
  const listening = new Set<unknown>();
  const signal = {
    aborted: false,
    reason: undefined,
    onabort: null,
    addEventListener(type: string, listener: unknown) {
      if (type === "abort") listening.add(listener);
    },
    removeEventListener(type: string, listener: unknown) {
      if (type === "abort") listening.delete(listener);
    },
    dispatchEvent: () => true,
    throwIfAborted() {},
  } as unknown as AbortSignal;
  const lines: string[] = [];
  const running = background(client({
    hostname: "127.0.0.1",
    port: fake.addr.port,
    log: (line) => lines.push(line),
    signal,
    args: ["ECHO hi"],
  }));
  try {
    const conn = await fake.accept({
      awaiting: "the client program to connect",
      section: where,
      watch: running,
    });
    await send(conn, "OK hi\nBYE\n", { awaiting: "the replies", section: where });
    conn.close();
    await within(running, {
      awaiting: "client() to return once the server closed",
      section: where,
    });
    expectEqual(listening.size, 0, {
      what: "abort listeners client() left on its signal after it returned",
      section: where,
      mistake: "remove the abort listener when client() ends: left there, it closes a closed " +
        "connection (BadResource) whenever the signal aborts later",
    });
  } finally {
    fake.close(); // ends a client still waiting (not an abort: a listener left would throw)
    await running.catch(() => {});
  }
});

Deno.test("program: `client` sends a 256 KiB line whole (partial writes), and shows a too-long reply", async () => {
  const where = section("Running it as a program");
  // An idle limit far past the wait below: a client that stops sending part-way is caught by the
  // wait (naming the mistake), never ended first by the server's idle timeout.
  await withServer({ idleMs: 60_000 }, async (addr) => {
    // Over loopback only megabytes fill the send buffer and cut write() short; the test cuts each
    // of the client's writes to a third instead, on any machine and at a size that moves fast.
    await withShortWrites(
      { remotePort: addr.port },
      "the request line",
      async () => {
        const big = `ECHO ${"x".repeat(256 * 1024)}`;
        const { log, running } = startClientRole(client, { port: addr.port, args: [big] });
        await within(running, {
          awaiting: "client() to send a 256 KiB line and QUIT, and return after BYE",
          section: where,
          ms: 5_000,
          mistake: "write until every byte is written: one write() takes only part of a big line",
        });
        expectEqual(log.lines.filter((line) => line.startsWith("<")), [
          "< ERR line too long",
          "< BYE",
        ], {
          what: "the replies the client program printed for a 256 KiB line, then QUIT",
          section: where,
        });
      },
    );
  });
  using fake = FakeServer.open();
  const { log, running } = startClientRole(client, { port: fake.addr.port, args: ["ECHO hi"] });
  try {
    const conn = await fake.accept({
      awaiting: "the client program to connect",
      section: where,
      watch: running,
    });
    await send(conn, `OK ${"y".repeat(2000)}\nBYE\n`, {
      awaiting: "a 2,003-byte reply line and BYE",
      section: where,
    });
    conn.close();
    await within(running, {
      awaiting: "client() to return once the server closed",
      section: where,
    });
    expectEqual(log.lines.filter((line) => line.startsWith("<")), [
      "< (a reply too long to show)",
      "< BYE",
    ], {
      what: "what the client program printed for a reply line over 1,024 bytes, then BYE",
      section: where,
    });
  } finally {
    fake.close();
    await running.catch(() => {});
  }
});
