/**
 * Lesson 10 — TCP is a stream: `readExactly`, `writeAll` and the book's
 * tcp_sixteen exchange over real loopback connections, with the stream
 * re-chunked by the harness proxy (one byte at a time, or two messages in one
 * piece) so that the learner's code meets what TCP really does.
 *
 * @module
 */

import { PiecesReader } from "../harness/pieces_reader.ts";
import {
  ask,
  client,
  nextSequence,
  readExactly,
  server,
  startServer,
  writeAll,
} from "../../exercises/lesson-10/tcp_sixteen.ts";
import { describe, firstDifference } from "../harness/bytes.ts";
import { type Awaiting, background, within } from "../harness/deadline.ts";
import {
  expectBytes,
  expectEqual,
  expectRejects,
  expectThat,
  isNotImplemented,
  settledWithin,
} from "../harness/expect.ts";
import { fail, type Section, sectionsOf } from "../harness/failure.ts";
import { LogLines } from "../harness/log.ts";
import { recordAccepts } from "../harness/accept_record.ts";
import { failOnUnhandled } from "../harness/unhandled.ts";
import { startClientRole, startServerRole } from "../harness/program.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import {
  closeQuietly,
  connect,
  FakeServer,
  readExactly as readBounded,
  readToEnd,
  writeAll as writeBounded,
} from "../harness/tcp.ts";
import { TcpPair } from "../harness/tcp_pair.ts";
import { TcpProxy } from "../harness/tcp_proxy.ts";
import { oneByteAtATime, watchReads } from "../harness/read_progress.ts";
import {
  expectServesAfterResetBeforeAccept,
  resetMidRequest,
  RETHROWS_ACCEPT,
  stillServing,
} from "../harness/tcp_misbehave.ts";
import { failFirstWrite } from "../harness/conn_hook.ts";
import { expectBindsHostname, expectDefaultAddress } from "../harness/server_defaults.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { expectAcceptFailureLogged } from "../harness/accept_log.ts";
import { expectServesAfterFdExhaustion, GIVES_UP_OUT_OF_FILES } from "../harness/fd_exhaustion.ts";
import { lowFdLimitTest } from "../harness/fd_limit.ts";
import {
  cutWritesMistake,
  onlyPartWritten,
  withShortWrites,
  wroteAgain,
} from "../harness/short_writes.ts";

const section = sectionsOf("lesson-10");

const SINGLE_READ =
  "a single read() returns only what has arrived so far: call read() again until all n bytes are in";
const READ_PAST =
  "readExactly(conn, 16) read past its 16 bytes and threw the rest away: read only into the part of the n-byte buffer still to fill";
const EOF_IGNORED =
  "read() resolves null at EOF: throw Deno.errors.UnexpectedEof then, instead of returning fewer bytes or reading on";
const SINGLE_WRITE =
  "writeAll() returned before every byte was written: it ignored the count write() returned";
const WRITE_AGAIN =
  "after a short write, pass write() only the rest (data.subarray(sent)), not the whole buffer again";
const DIES =
  "a client that hangs up early must not stop the server: log it, close that connection, accept the next";

const REREAD =
  "each read() went to the start of the buffer, over the bytes already in: pass read() only the unfilled part, buffer.subarray(got)";
const ALIASED =
  "readExactly reused one buffer: the first result changed when the second call read into it; return a new Uint8Array per call";
const UNSIGNED =
  "sequence numbers are unsigned 32-bit: `& 0xffffffff` and `| 0` give negative numbers from 2^31 up; use % 2 ** 32";

/**
 * The likely mistake behind a wrong result of reading `expected` when it
 * arrived one byte at a time: the first byte alone (one read), or a later
 * byte at the start (every read into the start of the buffer).
 */
function readMistake(got: Uint8Array, expected: string): string | undefined {
  const want = new TextEncoder().encode(expected);
  const restEmpty = got.subarray(1).every((b) => b === 0);
  if (got.length !== want.length || !restEmpty) return undefined;
  if (got[0] === want[0]) return SINGLE_READ;
  return want.includes(got[0]) ? REREAD : undefined;
}

/** A test pattern: byte i is i mod 251, so a repeated or missing stretch shows. */
function pattern(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = i % 251;
  return data;
}

/**
 * Starts the learner's server with its log captured, and guarantees it is
 * closed after `body`. `watch` fails at once if the server loop ends by itself.
 */
async function withServer(
  body: (addr: Deno.NetAddr, log: LogLines, watch: Promise<unknown>) => Promise<void>,
): Promise<void> {
  await failOnUnhandled("the server", section("The server"), async () => {
    const log = new LogLines();
    const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
    const watch = background(running.done.then(
      () =>
        fail({
          summary: "the server's loop ended although close() was not called",
          section: section("The server"),
          mistake: "the accept loop must go on until close()",
        }),
      (error) =>
        fail({
          summary: `the server's loop crashed: ${(error as Error).message}`,
          section: section("A client that hangs up early"),
          mistake: DIES,
        }),
    ));
    // A failure in the body is the one to report; done is judged only after a pass.
    await stopAfter(
      () => body(running.addr, log, watch),
      (passed) =>
        (passed ? expectCleanStop : stopServer)(running, {
          awaiting: "the server loop to end after close()",
          section: section("The server"),
          mistake: "close() must close the listener so that the pending accept() ends the loop",
        }),
    );
  });
}

Deno.test("sequence numbers: a 1024-byte segment at 7200 is followed by 8224, wrapping at 2^32", () => {
  const next = nextSequence(7200, 1024);
  expectEqual(next, 8224, {
    what: "nextSequence(7200, 1024)",
    section: section("Sequence numbers count bytes"),
    mistake: next === 7201 ? "TCP numbers bytes, not packets: add the segment's length" : undefined,
  });
  expectEqual(nextSequence(4294967000, 1024), 728, {
    what: "nextSequence(4294967000, 1024)",
    section: section("Sequence numbers count bytes"),
    mistake: "sequence numbers are 32-bit: they wrap around to 0 after 4294967295",
  });
});

Deno.test("sequence numbers: unsigned across 2^31, and exactly 2^32 wraps to 0", () => {
  const cases: [number, number, number][] = [
    [2 ** 31 - 10, 20, 2 ** 31 + 10],
    [2 ** 31, 0, 2 ** 31],
    [4294967290, 5, 4294967295],
    [4294967290, 6, 0],
    [4294967295, 1, 0],
    [0xfffffff0, 0x20, 0x10],
  ];
  for (const [seq, length, expected] of cases) {
    const next = nextSequence(seq, length);
    expectEqual(next, expected, {
      what: `nextSequence(${seq}, ${length})`,
      section: section("Sequence numbers count bytes"),
      mistake: next < 0
        ? UNSIGNED
        : next >= 2 ** 32
        ? "a sum of exactly 2^32 must wrap to 0: use % 2 ** 32, not a > test"
        : undefined,
    });
  }
});

Deno.test("readExactly: collects 16 bytes that arrive one byte at a time", async () => {
  // A reader that hands out one byte per read(), every time: over a real socket, a busy reader
  // may find several of the dripped bytes waiting and read them at once, hiding the mistake.
  const reader = new PiecesReader(Array.from("Hi there, server"));
  const got = await within(readExactly(reader, 16), {
    awaiting: "readExactly(conn, 16) while the bytes arrive one at a time",
    section: section("Reading exactly n bytes"),
  });
  expectBytes(got, "Hi there, server", {
    what: `readExactly(conn, 16) of a message that arrives one byte at a time ` +
      `(${reader.offered.length} read() call${reader.offered.length === 1 ? "" : "s"})`,
    section: section("Reading exactly n bytes"),
    mistake: readMistake(got, "Hi there, server"),
  });
});

Deno.test("readExactly: takes only its 16 bytes and leaves the next message for the next call", async () => {
  await using pair = await TcpPair.open({
    section: section("Reading exactly n bytes"),
    proxy: { request: { gather: 32 } },
  });
  const { connected: sender, accepted: conn } = pair;
  await writeBounded(sender, "Hi there, serverHi there, again!", {
    awaiting: "two 16-byte messages to be sent",
    section: section("Reading exactly n bytes"),
  });
  await sender.closeWrite();
  const first = await within(readExactly(conn, 16), {
    awaiting: "the first readExactly(conn, 16)",
    section: section("Reading exactly n bytes"),
  });
  expectBytes(first, "Hi there, server", {
    what: "the first readExactly(conn, 16) of two messages that arrived in one piece",
    section: section("Reading exactly n bytes"),
    mistake: READ_PAST,
  });
  let second: Uint8Array;
  try {
    second = await within(readExactly(conn, 16), {
      awaiting: "the second readExactly(conn, 16)",
      section: section("Reading exactly n bytes"),
      mistake: READ_PAST,
    });
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    fail({
      summary: `the second readExactly(conn, 16) failed: ${(error as Error).message}`,
      section: section("Reading exactly n bytes"),
      expected: describe("Hi there, again!"),
      mistake: READ_PAST,
    });
  }
  expectBytes(second, "Hi there, again!", {
    what: "the second readExactly(conn, 16)",
    section: section("Reading exactly n bytes"),
    mistake: READ_PAST,
  });
  expectBytes(first, "Hi there, server", {
    what: "the first result, looked at again after the second readExactly(conn, 16)",
    section: section("Reading exactly n bytes"),
    mistake: ALIASED,
  });
});

Deno.test("readExactly: a peer that sends 5 bytes and hangs up gives UnexpectedEof, `5 of 16`", async () => {
  await using pair = await TcpPair.open({ section: section("Reading exactly n bytes") });
  const { connected: sender, accepted: conn } = pair;
  await writeBounded(sender, "Hi th", {
    awaiting: "5 bytes to be sent",
    section: section("Reading exactly n bytes"),
  });
  await sender.closeWrite();
  await expectRejects(
    () =>
      within(readExactly(conn, 16), {
        awaiting: "readExactly(conn, 16) to give up when the peer closes after 5 bytes",
        section: section("Reading exactly n bytes"),
        mistake: EOF_IGNORED,
      }),
    {
      kind: Deno.errors.UnexpectedEof,
      pattern: /5 of 16/,
      what: "readExactly(conn, 16) when the peer sends 5 bytes and closes",
      section: section("Reading exactly n bytes"),
      mistake: EOF_IGNORED,
    },
  );
});

Deno.test("writeAll: delivers all of 1 MiB, in order, although each write() takes only part", async () => {
  await using pair = await TcpPair.open({ section: section("Writing everything") });
  const { connected: sender, accepted: conn } = pair;
  // A full send buffer cuts write() short (16 MiB to a peer that is not reading: about 4 MB
  // taken); the test cuts each of the sender's writes to a third instead, on any machine and
  // at a size that moves fast. The peer reads as bytes come.
  await withShortWrites({ remotePort: conn.localAddr.port }, "the bytes", async () => {
    let reading: Promise<Uint8Array> | undefined;
    try {
      const data = pattern(1024 * 1024);
      reading = background(readToEnd(conn, {
        awaiting: "1 MiB and then EOF",
        section: section("Writing everything"),
        ms: 4000,
      }));
      await within(writeAll(sender, data), {
        awaiting: "writeAll() of 1 MiB to finish while the peer reads, each write() cut to a third",
        section: section("Writing everything"),
        ms: 3000,
        watch: reading,
      });
      await sender.closeWrite();
      const got = await reading;
      expectEqual(got.length, data.length, {
        what: "how many bytes arrived after writeAll() of 1 MiB",
        section: section("The three outcomes of write()"),
        mistake: got.length < data.length ? SINGLE_WRITE : WRITE_AGAIN,
      });
      const at = firstDifference(got, data);
      expectThat(at === -1, `a different byte at offset ${at}`, {
        what: "the 1 MiB arrived unchanged and in order",
        expected: "the same bytes, in the same order",
        section: section("Writing everything"),
        mistake: WRITE_AGAIN,
      });
    } finally {
      sender.close();
      await reading?.catch(() => {});
    }
  });
});

/** Sends `Hi there, server` straight to the server and reads its reply to EOF. */
async function exchange(
  addr: Deno.NetAddr,
  watch: Promise<unknown>,
  reading: { awaiting: string; mistake?: string; section?: Section },
  connecting = "a connection to the server",
): Promise<Uint8Array> {
  const where = reading.section ?? section("The server");
  const conn = await connect(addr, { awaiting: connecting, section: where, watch });
  try {
    await writeBounded(conn, "Hi there, server", {
      awaiting: "the request to be sent",
      section: section("The sixteen-byte protocol"),
    });
    return await readToEnd(conn, {
      section: where,
      ...reading,
      watch,
      overflow: { atMost: 64, mistake: wroteAgain("the 16-byte reply") },
    });
  } finally {
    conn.close();
  }
}

Deno.test("server: answers `Hi there, server` with exactly `Farewell, client`, then closes", async () => {
  await withServer(async (addr, _log, watch) => {
    const reply = await exchange(addr, watch, {
      awaiting: "the 16-byte reply and then EOF (the server closing the connection)",
      mistake: "close the connection after replying: the client may read until EOF",
    });
    expectBytes(reply, "Farewell, client", {
      what: "everything the server sent before closing",
      section: section("The sixteen-byte protocol"),
      mistake: reply.length > 16
        ? "the reply is exactly 16 bytes: no newline, nothing after it"
        : undefined,
    });
  });
});

Deno.test("server: sends all 16 bytes of the reply when each write() takes only part of its bytes", async () => {
  await withServer(async (addr, _log, watch) => {
    // Over loopback a 16-byte write() is never cut short by itself: the test makes it so.
    const reply = await withShortWrites(
      { localPort: addr.port },
      "the reply",
      () =>
        exchange(addr, watch, {
          awaiting: "the 16-byte reply and then EOF, with the server's writes cut to a third",
        }),
    );
    expectBytes(reply, "Farewell, client", {
      what: "the reply, with each of the server's write() calls cut to a third",
      section: section("Writing everything"),
      mistake: reply.length < 16 && "Farewell, client".startsWith(new TextDecoder().decode(reply))
        ? onlyPartWritten("the reply") + " (writeAll)"
        : undefined,
    });
  });
});

Deno.test("client: ask() sends all 16 bytes when each write() takes only part of its bytes", async () => {
  using fake = FakeServer.open();
  await withShortWrites({ remotePort: fake.addr.port }, "the request", async () => {
    const asking = background(ask(fake.addr));
    const conn = await fake.accept({
      awaiting: "ask() to connect",
      section: section("The client"),
      watch: asking,
    });
    try {
      const request = await readBounded(conn, 16, {
        awaiting: "the client's 16-byte request, with its write() calls cut to a third",
        section: section("Writing everything"),
        mistake: onlyPartWritten("the request") + " (writeAll)",
        watch: asking,
      });
      expectBytes(request, "Hi there, server", {
        what: "the 16 bytes the client sent, with its write() calls cut to a third",
        section: section("Writing everything"),
        mistake: cutWritesMistake(
          "the request",
          new TextDecoder().decode(request),
          "Hi there, server",
        ),
      });
      await writeBounded(conn, "Farewell, client", {
        awaiting: "the reply to be sent",
        section: section("The client"),
      });
      const result = await within(asking, {
        awaiting: "ask() to return the reply",
        section: section("The client"),
      });
      expectEqual(result.reply, "Farewell, client", {
        what: "the reply ask() returned",
        section: section("The client"),
      });
      const extra = await readToEnd(conn, {
        awaiting: "EOF from the client after its request (it closes once it has the reply)",
        section: section("The client"),
        overflow: { atMost: 64, mistake: wroteAgain("the request") },
      });
      expectBytes(extra, "", {
        what: "bytes the client sent after its 16-byte request",
        section: section("Writing everything"),
        mistake: extra.length ? wroteAgain("the request") : undefined,
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: reads the whole request although it arrives one byte at a time", async () => {
  await withServer(async (addr, log, watch) => {
    // One byte per read() on every run: each byte leaves once the server has read the last.
    using reads = await watchReads({ localPort: addr.port });
    await using proxy = TcpProxy.open(addr, { request: oneByteAtATime(16, () => reads) });
    const conn = await connect(proxy.addr, {
      awaiting: "a connection through the proxy",
      section: section("The server"),
      watch,
    });
    try {
      await writeBounded(conn, "Hi there, server", {
        awaiting: "the request to be sent",
        section: section("The server"),
      });
      const line = await log.next(/^ {2}Incoming sixteen-octet message: (.*)$/, {
        awaiting: "the log line `  Incoming sixteen-octet message: …`",
        section: section("The server"),
        watch,
      });
      expectEqual(line[1], JSON.stringify("Hi there, server"), {
        what: "the message the server logged, read from a stream that delivered one byte at a time",
        section: section("Reading exactly n bytes"),
        mistake: line[1].startsWith('"H\\u0000')
          ? SINGLE_READ
          : line[1].startsWith('"r\\u0000')
          ? REREAD
          : undefined,
      });
      const reply = await readBounded(conn, 16, {
        awaiting: "the 16-byte reply",
        section: section("The server"),
        watch,
      });
      expectBytes(reply, "Farewell, client", {
        what: "the reply to a request that arrived one byte at a time",
        section: section("The sixteen-byte protocol"),
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: a client that sends 5 bytes and hangs up is reported, and the next one is served", async () => {
  await withServer(async (addr, log, watch) => {
    const early = await connect(addr, {
      awaiting: "the first connection",
      section: section("A client that hangs up early"),
      watch,
    });
    try {
      await writeBounded(early, "Hi th", {
        awaiting: "5 bytes to be sent",
        section: section("A client that hangs up early"),
      });
      await early.closeWrite();
      await log.next(/5 of 16 bytes/, {
        awaiting: "a log line reporting the client that hung up after 5 of 16 bytes",
        section: section("A client that hangs up early"),
        mistake: EOF_IGNORED,
        watch,
      });
    } finally {
      early.close();
    }
    const next = await connect(addr, {
      awaiting: "a second connection after the early hang-up",
      section: section("A client that hangs up early"),
      watch,
    });
    try {
      await writeBounded(next, "Hi there, server", {
        awaiting: "the second client's request to be sent",
        section: section("A client that hangs up early"),
      });
      const reply = await readBounded(next, 16, {
        awaiting: "the reply to the next client",
        section: section("A client that hangs up early"),
        mistake: DIES,
        watch,
      });
      expectBytes(reply, "Farewell, client", {
        what: "the reply to the client after the one that hung up",
        section: section("A client that hangs up early"),
      });
    } finally {
      next.close();
    }
  });
});

Deno.test("server: a client that resets after 5 bytes is reported, and the next one is served", async () => {
  await withServer(async (addr, log, watch) => {
    await resetMidRequest(addr, "Hi th", {
      awaiting: "a client to send 5 bytes and reset",
      section: section("A client that hangs up early"),
      watch,
    }, (client) =>
      // Accepted first: a reset before accept() would fail the accept instead (lesson 11).
      log.next(new RegExp(`We have accepted a connection from ${client.replaceAll(".", "\\.")}$`), {
        awaiting: `the line "We have accepted a connection from ${client}"`,
        section: section("A client that hangs up early"),
        watch,
      }));
    await log.next(/Client hung up early/, {
      awaiting: "a log line reporting the client that reset after 5 of 16 bytes",
      section: section("A client that hangs up early"),
      mistake: DIES,
      watch,
    });
    const next = await connect(addr, {
      awaiting: "a second connection after the reset",
      section: section("A client that hangs up early"),
      watch,
    });
    try {
      await writeBounded(next, "Hi there, server", {
        awaiting: "the second client's request to be sent",
        section: section("A client that hangs up early"),
      });
      expectBytes(
        await readBounded(next, 16, {
          awaiting: "the reply to the client after the one that reset",
          section: section("A client that hangs up early"),
          mistake: DIES,
          watch,
        }),
        "Farewell, client",
        {
          what: "the reply to the client after the one that reset",
          section: section("A client that hangs up early"),
        },
      );
    } finally {
      next.close();
    }
  });
});

/** The mistake named when a reply's failed write() ends the accept loop. */
const REPLY_WRITE_UNGUARDED = "the reply's writeAll() is outside the try that catches the " +
  "client's errors: a client that sends its 16 bytes and then resets makes the write throw; " +
  "keep the read AND the write in one try, log the failure, close, accept the next";

Deno.test("server: a reply whose write() fails (the client reset after its 16 bytes) is reported, and the next one is served", async () => {
  const log = new LogLines();
  const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
  const where = section("A client that hangs up early");
  await stopAfter(async () => {
    // A client's reset cannot be timed to land after the server's read and before its write:
    // the test makes the server's first write() fail the way a write to a reset connection does.
    using _reset = await failFirstWrite({ localPort: running.addr.port });
    const watch = stillServing(running, {
      summary: "the server stopped serving after one reply's write() failed",
      section: where,
      mistake: REPLY_WRITE_UNGUARDED,
    });
    const first = await exchange(running.addr, watch, {
      awaiting: "EOF for client #1, whose reply's write() failed",
      section: where,
      mistake: "after a failed write, close the connection all the same (in finally)",
    });
    expectBytes(first, "", {
      what: "what client #1 received, although the server's write() of its reply failed",
      section: where,
    });
    await log.next(/Client hung up early: .*reset/i, {
      awaiting: "a log line `  Client hung up early: … reset …` for the reply that could not be " +
        "written",
      section: where,
      mistake: REPLY_WRITE_UNGUARDED,
      watch,
    });
    const next = await exchange(running.addr, watch, {
      awaiting: "the next client's reply and then EOF, after a reply's write() failed",
      section: where,
      mistake: REPLY_WRITE_UNGUARDED,
    }, "the next client to connect");
    expectBytes(next, "Farewell, client", {
      what: "the reply to the client after the one whose reply's write() failed",
      section: section("The sixteen-byte protocol"),
    });
  }, () =>
    expectCleanStop(running, {
      awaiting: "the server loop to end after close()",
      section: section("The server"),
      mistake: "close() must close the listener so that the pending accept() ends the loop",
    }));
});

/**
 * One ordinary exchange with a server that must still be serving after one connection failed (a reset before accept, no descriptor free): 16 bytes, the reply to EOF. Waits end at once if `watch` fails.
 */
async function expectNextClientServed(
  addr: Deno.NetAddr,
  watch: Promise<never>,
  mistake: string,
): Promise<void> {
  const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
  const reply = await exchange(
    addr,
    watch,
    { awaiting: "the next client's reply and then EOF", section: reread, mistake },
    "the next client to connect",
  );
  expectBytes(reply, "Farewell, client", {
    what: "the reply to the next client, after the failed accept()",
    section: section("The sixteen-byte protocol"),
  });
}

Deno.test("server: keeps serving after a client resets before accept()", async () => {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
  // A failure in the body is the one to report; done is judged only after a pass.
  await stopAfter(
    () =>
      expectServesAfterResetBeforeAccept(running, reread, async (watch) => {
        await expectNextClientServed(running.addr, watch, RETHROWS_ACCEPT);
      }),
    (passed) =>
      (passed ? expectCleanStop : stopServer)(running, {
        awaiting: "the server loop to end after close()",
        section: section("The server"),
        mistake: "close() must close the listener so that the pending accept() ends the loop",
      }),
  );
});

Deno.test({
  ...lowFdLimitTest("server: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterFdExhaustion(
      (log) => startServer({ log }),
      reread,
      async (server, watch) => {
        await expectNextClientServed(server.addr, watch, GIVES_UP_OUT_OF_FILES);
      },
    );
  },
});

Deno.test("client: ask() sends exactly 16 bytes and reads a reply that arrives one byte at a time", async () => {
  using fake = FakeServer.open();
  // One byte per read() on every run: each byte leaves once the client has read the last.
  await using proxy = TcpProxy.open(fake.addr, { reply: oneByteAtATime(16, () => reads) });
  using reads = await watchReads({ remotePort: proxy.addr.port });
  const asking = background(ask(proxy.addr));
  const conn = await fake.accept({
    awaiting: "ask() to connect",
    section: section("The client"),
    watch: asking,
  });
  const request = await readBounded(conn, 16, {
    awaiting: "the client's 16-byte request",
    section: section("The client"),
    watch: asking,
  });
  expectBytes(request, "Hi there, server", {
    what: "what the client sent",
    section: section("The sixteen-byte protocol"),
  });
  await writeBounded(conn, "Farewell, client", {
    awaiting: "the reply to be sent",
    section: section("The client"),
  });
  conn.close();
  const result = await within(asking, {
    awaiting: "ask() to return after the reply arrived one byte at a time",
    section: section("The client"),
    mistake: "ask() must return as soon as the 16 bytes of the reply are in",
  });
  expectEqual(result.reply, "Farewell, client", {
    what: "the reply ask() returned, which arrived one byte at a time",
    section: section("Reading exactly n bytes"),
    mistake: readMistake(new TextEncoder().encode(result.reply), "Farewell, client"),
  });
  expectThat(
    result.local.hostname === "127.0.0.1" && result.local.port > 0 &&
      result.local.port !== proxy.addr.port,
    JSON.stringify(result.local),
    {
      what: "ask() reports the client's own socket name",
      expected: "127.0.0.1 and the port the OS gave the client",
      section: section("The client"),
      mistake: "report conn.localAddr, the client's end, not the server's address",
    },
  );
});

Deno.test("client: ask() fails with UnexpectedEof when the server hangs up after 5 bytes", async () => {
  using fake = FakeServer.open();
  const asking = background(ask(fake.addr));
  const conn = await fake.accept({
    awaiting: "ask() to connect",
    section: section("The client"),
    watch: asking,
  });
  await readBounded(conn, 16, {
    awaiting: "the client's 16-byte request",
    section: section("The client"),
    watch: asking,
  });
  await writeBounded(conn, "Farew", {
    awaiting: "5 bytes of reply to be sent",
    section: section("The client"),
  });
  closeQuietly(conn);
  await expectRejects(
    () =>
      within(asking, {
        awaiting: "ask() to give up when the server closes after 5 bytes",
        section: section("The client"),
        mistake: EOF_IGNORED,
      }),
    {
      kind: Deno.errors.UnexpectedEof,
      what: "ask() when the server sends 5 bytes and closes",
      section: section("Reading exactly n bytes"),
      mistake: EOF_IGNORED,
    },
  );
});

Deno.test("program: `server` prints the book's lines: where it listens, who connected, the message", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
  });
  const conn = await connect(program.addr, {
    awaiting: "a connection to the program",
    section: section("Running it as a program"),
    watch: program.running,
  });
  try {
    const me = `127\\.0\\.0\\.1:${conn.localAddr.port}`;
    await writeBounded(conn, "Hi there, server", {
      awaiting: "the request to be sent",
      section: section("Running it as a program"),
    });
    expectBytes(
      await readToEnd(conn, {
        awaiting: "the reply and EOF",
        section: section("Running it as a program"),
        mistake: "close the connection after replying: the client may read until EOF",
        watch: program.running,
      }),
      "Farewell, client",
      { what: "the program's reply", section: section("The sixteen-byte protocol") },
    );
    for (
      const [pattern, text] of [
        [`^We have accepted a connection from ${me}$`, "We have accepted a connection from"],
        [`^ {2}Socket name: 127\\.0\\.0\\.1:${program.port}$`, "  Socket name:"],
        [`^ {2}Socket peer: ${me}$`, "  Socket peer:"],
        [`^ {2}Incoming sixteen-octet message: "Hi there, server"$`, "  Incoming"],
        [`^ {2}Reply sent, socket closed$`, "  Reply sent, socket closed"],
      ]
    ) {
      await program.log.next(new RegExp(pattern), {
        awaiting: `the line \`${text} …\` (pattern /${pattern}/)`,
        section: section("Running it as a program"),
      });
    }
  } finally {
    conn.close();
  }
});

Deno.test("program: `client` sends `Hi there, server` and prints the reply", async () => {
  using fake = FakeServer.open();
  const { log, running } = startClientRole(client, { port: fake.addr.port });
  const conn = await fake.accept({
    awaiting: "the client program to connect",
    section: section("Running it as a program"),
    watch: running,
  });
  expectBytes(
    await readBounded(conn, 16, {
      awaiting: "the client program's 16 bytes",
      section: section("Running it as a program"),
      watch: running,
    }),
    "Hi there, server",
    { what: "what the client program sent", section: section("The sixteen-byte protocol") },
  );
  await writeBounded(conn, "Farewell, client", {
    awaiting: "the reply to be sent",
    section: section("Running it as a program"),
  });
  conn.close();
  await within(running, {
    awaiting: "client() to return",
    section: section("Running it as a program"),
  });
  await log.next(/^Client has been assigned socket name 127\.0\.0\.1:\d+$/, {
    awaiting: "the line `Client has been assigned socket name 127.0.0.1:PORT`",
    section: section("Running it as a program"),
  });
  await log.next(/^The server said "Farewell, client"$/, {
    awaiting: 'the line `The server said "Farewell, client"`',
    section: section("Running it as a program"),
  });
});

Deno.test("writeAll: a writer that takes one byte per write() gets every byte, each call the rest", async () => {
  const data = new TextEncoder().encode("Grüße, café ☕ — Farewell");
  const seen: number[] = [];
  const offered: number[] = [];
  const writer = {
    write(p: Uint8Array): Promise<number> {
      offered.push(p.length);
      if (p.length) seen.push(p[0]);
      return Promise.resolve(Math.min(1, p.length));
    },
  };
  await within(writeAll(writer, data), {
    awaiting: "writeAll() to a writer that takes 1 byte per call",
    section: section("Writing everything"),
    mistake: "writeAll() kept calling write() after every byte was taken",
  });
  expectBytes(new Uint8Array(seen), data, {
    what: `the bytes taken by ${offered.length} write() calls of 1 byte each`,
    section: section("Writing everything"),
    mistake: seen.length < data.length
      ? `writeAll() stopped after ${seen.length} of ${data.length} bytes: loop ` +
        "while sent < data.length"
      : WRITE_AGAIN,
  });
});

Deno.test("server: close() while a silent client is connected ends the loop and that connection", async () => {
  const log = new LogLines();
  const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await connect(running.addr, {
      awaiting: "a connection to the server",
      section: section("The server"),
    });
    await log.next(/^We have accepted a connection/, {
      awaiting: "the log line `We have accepted a connection …`",
      section: section("The server"),
    });
    await expectCleanStop(running, {
      awaiting: "done to settle after close(), while a client that sends nothing is connected",
      section: section("The server"),
      mistake: "close() must also close the connection being served: the loop " +
        "is waiting in its read(), not in accept()",
    });
    const rest = await readToEnd(conn, {
      awaiting: "EOF on the silent client's connection after close()",
      section: section("The server"),
      mistake: "close() must also close the connection being served",
    });
    expectEqual(rest.length, 0, {
      what: "bytes the silent client received before EOF",
      section: section("The server"),
    });
    expectThat(!log.lines.some((l) => /hung up/i.test(l)), JSON.stringify(log.lines), {
      what: "the server's log after close() with a silent client connected",
      expected: "no `Client hung up early` line",
      section: section("The server"),
      mistake: CLOSE_LOGGED_AS_HANG_UP,
    });
  } finally {
    if (conn) closeQuietly(conn);
    running.close();
    await running.done.catch(() => {});
  }
});

/** The mistake named when close() is logged as the client being served hanging up. */
const CLOSE_LOGGED_AS_HANG_UP = "close() was logged as the client hanging up early: the read " +
  "that close() interrupts throws, and when closing that is no failure of the client; return " +
  "quietly when closing";

/** The connection's end, or a reset: what a client sees of a server that closes. */
async function endOrReset(conn: Deno.Conn, wait: Awaiting): Promise<void> {
  try {
    await readToEnd(conn, wait);
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
}

Deno.test("server: close() with two silent clients connected ends both connections", async () => {
  // The server serves one client at a time, so the second waits to be accepted. A loop that does
  // not await its client calls accept() again at once; the test waits for that accept() to take
  // the second client before close(), so a server that leaves the first open fails every run.
  using accepts = recordAccepts();
  const log = new LogLines();
  const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
  const where = section("The server");
  const clients: Deno.TcpConn[] = [];
  try {
    clients.push(
      await connect(running.addr, { awaiting: "the first client to connect", section: where }),
    );
    await log.next(/^We have accepted a connection/, {
      awaiting: "the log line `We have accepted a connection …` for the first client",
      section: where,
    });
    clients.push(
      await connect(running.addr, { awaiting: "the second client to connect", section: where }),
    );
    if (accepts.calls.length > 1) {
      await within(accepts.calls[1], { awaiting: "the second accept()", section: where });
      await log.next(/^We have accepted a connection/, {
        awaiting: "the log line `We have accepted a connection …` for the second client",
        section: where,
      });
    }
    await expectCleanStop(running, {
      awaiting: "done to settle after close(), with two clients that send nothing connected",
      section: where,
    });
    for (const [i, conn] of clients.entries()) {
      await endOrReset(conn, {
        awaiting: `EOF or a reset on the ${["first", "second"][i]} silent client's connection ` +
          "after close()",
        section: where,
        mistake: NOT_AWAITED,
      });
    }
  } finally {
    for (const conn of clients) closeQuietly(conn);
    running.close();
    await running.done.catch(() => {});
  }
});

/** The mistake named when close() leaves an earlier connection open. */
const NOT_AWAITED = "close() left a connection open: the accept loop went on without awaiting " +
  "serve(), so close() reached only the last connection accepted; await each client before " +
  "accepting the next";

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

Deno.test({
  ...linuxLoopbackTest("server: given hostname 127.0.0.2, listens there and not on 127.0.0.1"),
  async fn() {
    await expectBindsHostname(
      (hostname, port) => startServer({ hostname, port }),
      "tcp",
      section("The server"),
      async (addr, watch) => {
        const reply = await exchange(addr, watch, {
          awaiting: `the reply from ${addr.hostname}:${addr.port} and then EOF`,
        });
        expectBytes(reply, "Farewell, client", {
          what: "the reply of the server on 127.0.0.2",
          section: section("The sixteen-byte protocol"),
        });
      },
    );
  },
});

/** How many fake servers on 127.0.0.2 are tried for a port the test can also hold on 127.0.0.1. */
const DECOY_TRIES = 5;

Deno.test({
  ...linuxLoopbackTest(
    "client: ask() connects to the server's hostname (127.0.0.2), not 127.0.0.1",
  ),
  async fn() {
    const where = section("The client");
    for (let tries = 1; tries <= DECOY_TRIES; tries++) {
      using fake = FakeServer.open("127.0.0.2");
      // The test holds 127.0.0.1 on the same port: a client that connects there instead is seen.
      // A port the OS gave on 127.0.0.2 may be taken on 127.0.0.1 by another program: try again.
      let decoy: Deno.TcpListener;
      try {
        decoy = Deno.listen({ hostname: "127.0.0.1", port: fake.addr.port });
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse && tries < DECOY_TRIES) continue;
        throw error;
      }
      const misdirected = decoy.accept();
      misdirected.catch(() => {});
      try {
        const asking = background(ask(fake.addr));
        const first = await within(
          Promise.race([
            misdirected,
            fake.accept({ awaiting: "ask() to connect", section: where, watch: asking }),
          ]),
          { awaiting: "ask() to connect", section: where, watch: asking },
        );
        if ((first.localAddr as Deno.NetAddr).hostname !== "127.0.0.2") {
          closeQuietly(first);
          await settledWithin(asking, { awaiting: "ask() to settle", section: where });
          fail({
            summary: `ask() given 127.0.0.2:${fake.addr.port} connected to ` +
              `127.0.0.1:${fake.addr.port}`,
            section: where,
            mistake: "ask() ignored the server's hostname: connect to server.hostname, " +
              "not a fixed 127.0.0.1",
          });
        }
        await readBounded(first, 16, {
          awaiting: "the client's 16-byte request",
          section: where,
          watch: asking,
        });
        await writeBounded(first, "Farewell, client", {
          awaiting: "the reply to be sent",
          section: where,
        });
        const result = await within(asking, { awaiting: "ask() to return", section: where });
        expectEqual(result.reply, "Farewell, client", {
          what: "the reply ask() returned from 127.0.0.2",
          section: where,
        });
      } finally {
        decoy.close();
        misdirected.then(closeQuietly, () => {});
      }
      return;
    }
  },
});
