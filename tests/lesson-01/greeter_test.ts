/**
 * Lesson 01 — Clients, servers and bytes: the greeter and its client on real
 * loopback TCP connections.
 *
 * @module
 */

import {
  fetchGreeting,
  type Greeter,
  greetingFor,
  startGreeter,
} from "../../exercises/lesson-01/greeter.ts";
import { describe, toBytes } from "../harness/bytes.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectThat, isNotImplemented } from "../harness/expect.ts";
import { fail, type Section, sectionsOf } from "../harness/failure.ts";
import {
  expectCleanStop,
  expectSecondCloseIsNoOp,
  stopAfter,
  stopServer,
} from "../harness/server_loop.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { unusedPort } from "../harness/sockets.ts";
import { connect, FakeServer, readToEnd, writeAll } from "../harness/tcp.ts";
import {
  expectServesAfterResetBeforeAccept,
  RETHROWS_ACCEPT,
  stillServing,
} from "../harness/tcp_misbehave.ts";
import { expectAcceptFailureLogged } from "../harness/accept_log.ts";
import { expectServesAfterFdExhaustion, GIVES_UP_OUT_OF_FILES } from "../harness/fd_exhaustion.ts";
import { lowFdLimitTest } from "../harness/fd_limit.ts";
import { CUT_PAUSE_MS } from "../harness/tcp_proxy.ts";
import { onlyPartWritten, withShortWrites, wroteAgain } from "../harness/short_writes.ts";
import { watchReads } from "../harness/read_progress.ts";
import { failFirstWrite } from "../harness/conn_hook.ts";

const section = sectionsOf("lesson-01");

/**
 * How long, at most, the fake server holds back the second part of a reply:
 * it sends it as soon as the client's read() calls have returned the first
 * part (a client that reads through `conn.readable` waits this long). Fault
 * injection only: a correct client waits for EOF however long this is.
 */
const WITHHOLD_MS = CUT_PAUSE_MS;

const aliased = "kept each chunk as a view of the one read buffer (subarray), so " +
  "the next read() overwrote it: keep a copy of each chunk (slice)";

const neverClosed =
  "the greeter never closed the connection, so the client waits for EOF forever: " +
  "close each accepted connection once its greeting is written";

/** Starts the learner's greeter and guarantees it is closed after `body`. */
async function withGreeter(body: (greeter: Greeter) => Promise<void>): Promise<void> {
  const greeter = startGreeter({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    await body(greeter);
  }, () =>
    stopServer(greeter, {
      awaiting: "the greeter's accept loop to end after close()",
      section: section("The server: listen, accept, answer, close"),
      mistake: "close() must close the listener, so that the pending accept() ends the loop",
    }));
}

/** Connects to the greeter as a client, reads to EOF, and checks the greeting names us. */
async function greetedAt(greeter: Greeter, which: string, mistake?: string): Promise<void> {
  let conn: Deno.TcpConn;
  try {
    conn = await connect(greeter.addr, {
      awaiting: `${which} to connect to the greeter`,
      section: section("The server: listen, accept, answer, close"),
      mistake,
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
    fail({
      summary: `${which}: the connection was refused, nobody is listening any more`,
      section: section("The server: listen, accept, answer, close"),
      mistake: mistake ?? "the greeter closed its listener too early",
    });
  }
  try {
    const me = conn.localAddr;
    const got = await readToEnd(conn, {
      awaiting: `the greeting for ${which} and then EOF (the greeter closing the connection)`,
      section: section("The server: listen, accept, answer, close"),
      mistake: mistake ?? neverClosed,
      overflow: { atMost: 256, mistake: wroteAgain("the greeting") },
    });
    const text = new TextDecoder().decode(got);
    expectBytes(got, `Hello, 127.0.0.1:${me.port}!\n`, {
      what: `the greeting for ${which}, whose address is 127.0.0.1:${me.port}`,
      section: section("The greeter on the wire"),
      mistake: text.includes(`:${greeter.addr.port}`)
        ? "the greeting named the server's own address (conn.localAddr): " +
          "the client is at the other end, conn.remoteAddr"
        : text.length < `Hello, 127.0.0.1:${me.port}!\n`.length &&
            `Hello, 127.0.0.1:${me.port}!\n`.startsWith(text)
        ? onlyPartWritten("the greeting")
        : !text.includes(String(me.port))
        ? "the greeting must name the client's own address (conn.remoteAddr), not a fixed text"
        : undefined,
    });
  } finally {
    conn.close();
  }
}

/** Settles `promise` into a value or an error, but lets a stub's "not implemented" through. */
async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: Error }> {
  try {
    return { value: await promise };
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }
}

Deno.test("greetingFor: `Hello, HOST:PORT!` and a newline", () => {
  expectBytes(greetingFor({ hostname: "127.0.0.1", port: 54321 }), "Hello, 127.0.0.1:54321!\n", {
    what: "greetingFor(127.0.0.1:54321)",
    section: section("The greeter on the wire"),
  });
});

Deno.test("greeter: greets a client by the client's own address, then closes", async () => {
  await withGreeter((greeter) => greetedAt(greeter, "the client"));
});

Deno.test("greeter: greets whole when each write() takes only part of its bytes", async () => {
  await withGreeter(async (greeter) => {
    // Over loopback a 24-byte write is never cut short by itself: the test makes it so.
    await withShortWrites(
      { localPort: greeter.addr.port },
      "the greeting",
      () => greetedAt(greeter, "the client (each of the greeter's write() calls cut to a third)"),
    );
  });
});

Deno.test("greeter: serves several clients one after another, each by its own port", async () => {
  await withGreeter(async (greeter) => {
    for (const which of ["client #1", "client #2", "client #3"]) {
      await greetedAt(
        greeter,
        which,
        which === "client #1"
          ? undefined
          : "the greeter served one client and stopped: accept() belongs in a loop",
      );
    }
  });
});

/**
 * One ordinary exchange with a greeter that must still be serving after one connection failed (a reset before accept, no descriptor free, a write that failed): its greeting, then EOF. Waits end at once if `watch` fails.
 */
async function expectNextClientServed(
  addr: Deno.NetAddr,
  watch: Promise<never>,
  mistake: string,
  reread: Section = sectionsOf("lesson-11")("When accept() fails for one connection"),
): Promise<void> {
  using conn = await connect(addr, {
    awaiting: "the next client to connect",
    section: reread,
    watch,
  });
  const got = await readToEnd(conn, {
    awaiting: "the next client's greeting and then EOF",
    section: reread,
    mistake,
    watch,
  });
  expectBytes(got, `Hello, 127.0.0.1:${conn.localAddr.port}!\n`, {
    what: "the greeting for the next client, after the connection that failed",
    section: section("The greeter on the wire"),
  });
}

const WRITE_FAILURE_STOPS = "a failed write() ended the accept loop: a client that goes away " +
  "before its greeting is written is that client's trouble; catch the write's error, close the " +
  "connection and serve the next client";

Deno.test("greeter: keeps serving after a greeting's write() fails (the client went away)", async () => {
  await withGreeter(async (greeter) => {
    const where = section("The server: listen, accept, answer, close");
    // A client's reset cannot be timed to land between accept() and the greeter's write(): the
    // test makes the first write() fail the way a write to a reset connection does. (Writes
    // through conn.writable do not pass through write(): client #1 is then simply greeted.)
    using _reset = await failFirstWrite({ localPort: greeter.addr.port });
    const watch = stillServing(greeter, {
      summary: "the greeter stopped serving after one greeting's write() failed",
      section: where,
      mistake: WRITE_FAILURE_STOPS,
    });
    {
      // No watch on the connect (the kernel completes it either way): the read below is the one
      // wait that reports the loop's end, so the failure reads the same on every run.
      using first = await connect(greeter.addr, {
        awaiting: "client #1 to connect",
        section: where,
      });
      await readToEnd(first, {
        awaiting: "EOF for client #1, whose greeting's write() failed",
        section: where,
        watch,
        mistake: "after a failed write(), close the connection all the same (in finally)",
      });
    }
    await expectNextClientServed(greeter.addr, watch, WRITE_FAILURE_STOPS, where);
  });
});

Deno.test("greeter: keeps serving after a client resets before accept()", async () => {
  await withGreeter(async (greeter) => {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterResetBeforeAccept(greeter, reread, async (watch) => {
      await expectNextClientServed(greeter.addr, watch, RETHROWS_ACCEPT);
    });
  });
});

Deno.test({
  ...lowFdLimitTest("greeter: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterFdExhaustion(
      (log) => startGreeter({ log }),
      reread,
      async (server, watch) => {
        await expectNextClientServed(server.addr, watch, GIVES_UP_OUT_OF_FILES);
      },
    );
  },
});

Deno.test("greeter: listens on 127.0.0.1 and an OS-chosen port; close() frees the port", async () => {
  const greeter = startGreeter({ hostname: "127.0.0.1", port: 0 });
  const { hostname, port } = greeter.addr;
  await stopServer(greeter, {
    awaiting: "the greeter's accept loop to end after close()",
    section: section("The server: listen, accept, answer, close"),
  });
  expectThat(hostname === "127.0.0.1" && port > 0, `listening at ${hostname}:${port}`, {
    what: "the greeter reports the address it listens on",
    expected: "127.0.0.1 and a non-zero port",
    section: section("The server: listen, accept, answer, close"),
  });
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    fail({
      summary: `port ${port} is still taken after the greeter's close()`,
      section: section("The server: listen, accept, answer, close"),
      mistake: "close() must close the listener, which gives the port back",
    });
  }
});

Deno.test("greeter: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startGreeter(port === undefined ? undefined : { port }),
    "tcp",
    section("The server: listen, accept, answer, close"),
  );
});

/**
 * Runs the learner's fetchGreeting against a fake server that writes `part1`,
 * holds the rest back until fetchGreeting has read part 1 (at most
 * {@linkcode WITHHOLD_MS}), writes `part2` and closes.
 * Fails, naming the single-read mistake, if fetchGreeting returns before
 * its reads reached part 2; otherwise returns what fetchGreeting did.
 */
async function fetchInTwoParts(
  part1: string | Uint8Array,
  part2: string | Uint8Array,
  expected: string,
  where: Section,
): Promise<{ value?: string; error?: Error }> {
  using fake = FakeServer.open();
  using reads = await watchReads({ remotePort: fake.addr.port });
  const fetching = background(fetchGreeting(fake.addr));
  let readWhenSettled: number | undefined; // bytes its read() calls had returned when it settled
  const settled = () => readWhenSettled = reads.bytes;
  fetching.then(settled, settled);
  const returnedEarly = async (): Promise<never> => {
    const early = await outcome(fetching);
    fail({
      summary: "fetchGreeting returned before the server had closed the connection",
      section: section("The client: read until the server closes"),
      expected: describe(expected),
      got: early.error
        ? `${early.error.name}: ${early.error.message}`
        : describe(early.value ?? ""),
      mistake:
        "returned before the server closed the connection: one read() gives whatever has arrived " +
        "so far; call read() until it returns null (EOF)",
    });
  };
  try {
    const conn = await fake.accept({
      awaiting: "fetchGreeting to connect",
      watch: fetching,
      section: where,
    });
    const first = toBytes(part1).length;
    await writeAll(conn, part1, { awaiting: "part 1 to be sent", section: where });
    // Fault injection: the rest of the reply is held back until fetchGreeting's read() calls
    // have returned part 1 (or, if it reads otherwise, for WITHHOLD_MS).
    await reads.until(first, WITHHOLD_MS);
    if (readWhenSettled !== undefined) await returnedEarly();
    await writeAll(conn, part2, { awaiting: "part 2 to be sent", section: where });
    conn.close();
    const result = await within(outcome(fetching), {
      awaiting: "fetchGreeting to return once the server closed the connection",
      section: where,
      mistake: "the read loop must stop when read() returns null",
    });
    // A client that reads with read() and settled before its reads reached part 2 returned early,
    // however late it did so (a busy machine, or more work after its one read).
    if (reads.bytes > 0 && readWhenSettled! < first + toBytes(part2).length) await returnedEarly();
    return result;
  } finally {
    fake.close();
    await within(fetching.catch(() => {}), { awaiting: "fetchGreeting to end", section: where });
  }
}

Deno.test("fetchGreeting: keeps reading until the server closes (a reply sent in two parts)", async () => {
  const where = section("The client: read until the server closes");
  const result = await fetchInTwoParts(
    "Hello, 127.0.0.1:",
    "1060!\n",
    "Hello, 127.0.0.1:1060!\n",
    where,
  );
  if (result.error) throw result.error;
  const value = result.value ?? "";
  expectBytes(value, "Hello, 127.0.0.1:1060!\n", {
    what: "the greeting fetchGreeting returned",
    section: where,
    // The second read overwrote the start of the first chunk: that chunk was
    // kept as a view of the one read buffer.
    mistake: value.startsWith("1060!\n") && value.length === 23 ? aliased : undefined,
  });
});

Deno.test("fetchGreeting: a character split across two TCP writes decodes whole", async () => {
  const where = section("One character, two reads");
  // "Hello, café!\n" with é (c3 a9) cut in two: c3 ends part 1, a9 starts part 2.
  const utf8 = new TextEncoder().encode("Hello, café!\n");
  const result = await fetchInTwoParts(
    utf8.subarray(0, 11),
    utf8.subarray(11),
    "Hello, café!\n",
    where,
  );
  const perChunk =
    "decoded each chunk on its own, so a character cut between two reads broke in two: " +
    "collect the bytes and decode once, after EOF";
  if (result.error) {
    fail({
      summary:
        `fetchGreeting failed on a valid UTF-8 reply: ${result.error.name}: ${result.error.message}`,
      section: where,
      mistake: /UTF-8|valid/.test(result.error.message) ? perChunk : undefined,
    });
  }
  expectEqual(result.value, "Hello, café!\n", {
    what: "the greeting fetchGreeting returned",
    section: where,
    mistake: result.value?.includes("\uFFFD") ? perChunk : undefined,
  });
});

/**
 * Runs fetchGreeting against a fake server that sends `reply` and closes the
 * connection; returns what fetchGreeting returned or threw.
 */
async function fetchReply(
  reply: Uint8Array,
  where: Section,
): Promise<{ value?: string; error?: Error }> {
  using fake = FakeServer.open();
  const fetching = background(fetchGreeting(fake.addr));
  try {
    const conn = await fake.accept({
      awaiting: "fetchGreeting to connect",
      watch: fetching,
      section: where,
    });
    await writeAll(conn, reply, { awaiting: "the reply to be sent", section: where });
    conn.close();
    return await within(outcome(fetching), {
      awaiting: "fetchGreeting to return once the server closed the connection",
      section: where,
    });
  } finally {
    fake.close();
    await within(fetching.catch(() => {}), { awaiting: "fetchGreeting to end", section: where });
  }
}

/** What fetchGreeting did, as one line: `NAME: message` or `returned "…"`. */
function shown(result: { value?: string; error?: Error }): string {
  return result.error
    ? `${result.error.name}: ${result.error.message}`
    : `returned ${JSON.stringify(result.value)}`;
}

Deno.test("fetchGreeting: refuses a reply that is not UTF-8", async () => {
  const where = section("Decoding strictly");
  const result = await fetchReply(new Uint8Array([0x48, 0x69, 0xff, 0x0a]), where);
  expectThat(
    result.error instanceof TypeError && /UTF-8/.test(result.error.message),
    shown(result),
    {
      what: "fetchGreeting on the reply 48 69 ff 0a (ff is never UTF-8)",
      expected: "a TypeError naming UTF-8 (decode with decodeText)",
      section: where,
      mistake: result.value?.includes("\uFFFD")
        ? "decoded with a forgiving TextDecoder: the bad byte became U+FFFD (�); use decodeText, which is fatal"
        : result.error instanceof TypeError
        ? "a TextDecoder's own error names neither UTF-8 nor the bytes: decode with decodeText"
        : undefined,
    },
  );
});

Deno.test("fetchGreeting: refuses a reply that ends in the middle of a character", async () => {
  const where = section("One character, two reads");
  // "Hi" and c3, the first of the two bytes of "é": the server closed before the second.
  const result = await fetchReply(new Uint8Array([0x48, 0x69, 0xc3]), where);
  expectThat(
    result.error instanceof TypeError && /UTF-8/.test(result.error.message),
    shown(result),
    {
      what: "fetchGreeting on the reply 48 69 c3 (c3 starts a character the reply never ends)",
      expected: "a TypeError naming UTF-8 (decode with decodeText)",
      section: where,
      mistake: result.value === "Hi"
        ? "a streaming TextDecoder (stream: true) kept the cut-off character back, waiting " +
          "for the rest, and was never asked for it: at EOF, end with one decode() without " +
          "stream, which fails on it, or collect the bytes and decode once with decodeText"
        : result.value?.includes("\uFFFD")
        ? "decoded with a forgiving TextDecoder: the cut-off character became U+FFFD (�); use " +
          "decodeText, which is fatal"
        : undefined,
    },
  );
});

Deno.test("round trip: fetchGreeting gets its own address from startGreeter", async () => {
  await withGreeter(async (greeter) => {
    const text = await within(background(fetchGreeting(greeter.addr)), {
      awaiting: "fetchGreeting to return the greeter's greeting",
      section: section("A first round trip on loopback"),
      mistake: neverClosed,
    });
    const m = text.match(/^Hello, 127\.0\.0\.1:(\d+)!\n$/);
    expectThat(m !== null && Number(m[1]) !== greeter.addr.port, describe(text), {
      what: "the greeting, fetched from the greeter",
      expected:
        `"Hello, 127.0.0.1:PORT!\\n" with the client's port (not the server's ${greeter.addr.port})`,
      section: section("A first round trip on loopback"),
      mistake: m !== null && Number(m[1]) === greeter.addr.port
        ? "the greeting named the server's own address (conn.localAddr): " +
          "the client is at the other end, conn.remoteAddr"
        : undefined,
    });
  });
});

Deno.test("fetchGreeting: a closed port is an error (ConnectionRefused), not an empty greeting", async () => {
  const port = unusedPort(); // nobody listens on this port
  const result = await within(outcome(fetchGreeting({ hostname: "127.0.0.1", port })), {
    awaiting: "fetchGreeting to a port nobody listens on to fail",
    section: section("Clients and servers"),
  });
  expectThat(
    result.error instanceof Deno.errors.ConnectionRefused,
    result.error
      ? `${result.error.name}: ${result.error.message}`
      : `returned ${JSON.stringify(result.value)}`,
    {
      what: "fetchGreeting to a port with no server",
      expected: "the ConnectionRefused error from Deno.connect, passed on to the caller",
      section: section("Clients and servers"),
      mistake: result.error
        ? undefined
        : "do not catch connection errors and return a made-up greeting",
    },
  );
});

Deno.test("greeter: done resolves after close(), also once clients were served", async () => {
  const greeter = startGreeter({ hostname: "127.0.0.1", port: 0 });
  let stopped = false;
  try {
    await greetedAt(greeter, "the client");
    await expectCleanStop(greeter, {
      awaiting: "the greeter's done to settle after close()",
      section: section("The server: listen, accept, answer, close"),
      mistake: "close() must close the listener, so that the pending accept() ends the loop",
    });
    stopped = true;
  } finally {
    if (!stopped) {
      await stopServer(greeter, {
        awaiting: "the greeter's accept loop to end after close()",
        section: section("The server: listen, accept, answer, close"),
      });
    }
  }
});

Deno.test("fetchGreeting: a 2 MiB reply arrives whole, however many reads it takes", async () => {
  const where = section("The client: read until the server closes");
  const text = "Grüße, café ☕\n".repeat(Math.ceil(2 * 1024 * 1024 / 18));
  const reply = new TextEncoder().encode(text);
  using fake = FakeServer.open();
  const fetching = background(fetchGreeting(fake.addr));
  try {
    const conn = await fake.accept({
      awaiting: "fetchGreeting to connect",
      watch: fetching,
      section: where,
    });
    try {
      await writeAll(conn, reply, {
        awaiting: `the ${reply.length}-byte reply to be read by fetchGreeting`,
        section: where,
        watch: fetching,
        mistake: "fetchGreeting stopped reading before EOF: read until read() returns null",
      });
    } finally {
      conn.close();
    }
    const result = await within(outcome(fetching), {
      awaiting: "fetchGreeting to return once the server closed the connection",
      section: where,
      mistake: "a fixed-size buffer filled up: read() into no room returns 0, " +
        "forever; keep a copy of each chunk and read into the buffer again",
    });
    if (result.error) throw result.error;
    const got = new TextEncoder().encode(result.value ?? "");
    expectEqual(got.length, reply.length, {
      what: `the length in bytes of the ${reply.length}-byte reply fetchGreeting returned`,
      section: where,
    });
    expectThat(result.value === text, "the same length, but other text", {
      what: `the ${reply.length}-byte reply fetchGreeting returned`,
      expected: "the text the server sent, character for character",
      section: where,
      mistake: "a chunk was overwritten or reordered: keep a copy of each chunk, in order",
    });
  } finally {
    fake.close();
    await within(fetching.catch(() => {}), { awaiting: "fetchGreeting to end", section: where });
  }
});

Deno.test("server: an accept() that fails for one reset connection is logged", async () => {
  await expectAcceptFailureLogged(
    (log) => startGreeter({ log }),
    section("The server: listen, accept, answer, close"),
  );
});

Deno.test("greeter: a second close() does nothing", async () => {
  await expectSecondCloseIsNoOp(startGreeter({ hostname: "127.0.0.1", port: 0 }), {
    what: "a second close() of a greeter already closed",
    section: section("The server: listen, accept, answer, close"),
  });
});
