/**
 * Lesson 14 — Half-open connections: a request that ends with the client's
 * half-close, a reply that ends with the server's close, and what writes do
 * once the peer has gone. Real loopback TCP.
 *
 * @module
 */

import { heldCuts, watchReads } from "../harness/read_progress.ts";
import { onlyPartWritten, withShortWrites, wroteAgain } from "../harness/short_writes.ts";
import {
  countToEnd,
  probeWrites,
  readToEnd,
  request,
  startCountServer,
} from "../../exercises/lesson-14/half_close.ts";
import { describe } from "../harness/bytes.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectThat, settledWithin } from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { expectDoneWaitsForHeldRead, stopAfter, stopServer } from "../harness/server_loop.ts";
import { failOnUnhandled } from "../harness/unhandled.ts";
import {
  closeQuietly,
  connect,
  expectRefused,
  FakeServer,
  readExactly,
  readToEnd as drain,
  writeAll as send,
} from "../harness/tcp.ts";
import { TcpPair } from "../harness/tcp_pair.ts";
import { TcpProxy } from "../harness/tcp_proxy.ts";

import {
  expectServesAfterResetBeforeAccept,
  resetMidRequest,
  RETHROWS_ACCEPT,
} from "../harness/tcp_misbehave.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { expectAcceptFailureLogged } from "../harness/accept_log.ts";
import { expectServesAfterFdExhaustion, GIVES_UP_OUT_OF_FILES } from "../harness/fd_exhaustion.ts";
import { lowFdLimitTest } from "../harness/fd_limit.ts";
const section = sectionsOf("lesson-14");

/** The reply the protocol prescribes, written out here: never trust the code under test. */
const reply = (bytes: number) => `Your data was ${bytes} bytes long`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const SERVER_MUST_CLOSE =
  "the server must close after replying: the client knows the reply is complete only at EOF";
const NEVER_HALF_CLOSED =
  "the client never half-closed: call conn.closeWrite() after the request, or the server waits forever for EOF";
const CLOSE_NOT_CLOSE_WRITE =
  "used close() where closeWrite() was needed: after close() the client can no longer read the reply";

/** Starts the learner's server and guarantees it is closed (and has ended) after `body`. */
async function withServer(body: (addr: Deno.NetAddr) => Promise<void>): Promise<void> {
  await failOnUnhandled("the server", section("A protocol that ends with EOF"), async () => {
    const server = startCountServer({ hostname: "127.0.0.1", port: 0 });
    await stopAfter(async () => {
      await body(server.addr);
    }, () =>
      stopServer(server, {
        awaiting: "done to settle after close()",
        section: section("Closing a server"),
        mistake: "close() left accepted connections open: close the listener AND every connection",
      }));
  });
}

/** One exchange as a well-behaved client: send, half-close, read to EOF. */
async function exchange(to: Deno.NetAddr, body: string): Promise<string> {
  const conn = await connect(to, {
    awaiting: "a connection to the server",
    section: section("A protocol that ends with EOF"),
  });
  try {
    await send(conn, body, {
      awaiting: "the request to be written",
      section: section("A protocol that ends with EOF"),
    });
    await conn.closeWrite();
    return decoder.decode(
      await drain(conn, {
        awaiting: "the reply and then EOF (the server closing)",
        section: section("A protocol that ends with EOF"),
        mistake: SERVER_MUST_CLOSE,
        overflow: { atMost: 256, mistake: wroteAgain("the reply") },
      }),
    );
  } finally {
    conn.close();
  }
}

/**
 * Awaits the learner's request() (bounded). A `BadResource` error means it
 * read from a connection it had already closed: close() instead of closeWrite().
 */
async function requestResult(
  asking: Promise<string>,
  awaiting: string,
  ms?: number,
): Promise<string> {
  try {
    return await within(asking, {
      awaiting,
      section: section("Half-closing with closeWrite()"),
      ms,
    });
  } catch (error) {
    if (
      !(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)
    ) throw error;
    fail({
      summary: "request() sent its request, then failed reading a connection it " +
        `had closed itself (${error.name})`,
      section: section("Half-closing with closeWrite()"),
      mistake: CLOSE_NOT_CLOSE_WRITE,
    });
  }
}

/**
 * The learner's client as a `watch` for waits that come before it reads: a
 * `BadResource` rejection (it closed too early) is left to
 * {@linkcode requestResult} to explain, every other failure surfaces at once.
 */
function watchClient(asking: Promise<string>): Promise<unknown> {
  return asking.catch((error) => {
    if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
      return new Promise<never>(() => {});
    }
    throw error;
  });
}

const ALIASED = "kept views of one reused buffer: every chunk shows the last " +
  "read's bytes; keep a copy of each chunk (buffer.slice(0, n))";

/**
 * Whether `got` (as long as `want`, but different) looks like chunks that
 * are all views of one reused buffer, whatever sizes the reads had.
 */
function aliased(got: Uint8Array, want: Uint8Array): boolean {
  if (got.length !== want.length || sameBytes(got, want)) return false;
  // Every chunk kept was a view of the one reused buffer, so each now shows a prefix of the last
  // read: `got` splits into pieces that are all prefixes of the same tail of `want`, whatever
  // sizes the reads had.
  for (let last = 1; last < want.length; last++) {
    const tail = want.subarray(want.length - last);
    const reachable = new Array<boolean>(got.length + 1).fill(false);
    reachable[0] = true;
    for (let at = 0; at < got.length; at++) {
      if (!reachable[at]) continue;
      for (let n = 0; n < tail.length && at + n < got.length && got[at + n] === tail[n]; n++) {
        reachable[at + n + 1] = true;
      }
    }
    if (reachable[got.length]) return true;
  }
  return false;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** After a test failed early, lets the learner's background code finish (bounded, quietly). */
async function settle(running: Promise<unknown>): Promise<void> {
  try {
    await within(running.catch(() => {}), {
      awaiting: "the learner's code to finish",
      section: section("Half-closing with closeWrite()"),
    });
  } catch {
    // the test has already failed with a better message
  }
}

Deno.test("server: reads the request to EOF, answers `Your data was 16 bytes long`, closes", async () => {
  await withServer(async (addr) => {
    const got = await exchange(addr, "Hi there, server");
    expectBytes(got, reply(16), {
      what: "the reply to a 16-byte request",
      section: section("A protocol that ends with EOF"),
    });
  });
});

Deno.test("server: the reply arrives whole when each write() takes only part of its bytes", async () => {
  await withServer(async (addr) => {
    // Over loopback a short reply is never cut by itself: the test makes it so.
    const got = await withShortWrites(
      { localPort: addr.port },
      "the reply",
      () => exchange(addr, "Hi there, server"),
    );
    const expected = reply(16);
    expectBytes(got, expected, {
      what:
        "the reply to a 16-byte request, with each of the server's write() calls cut to a third",
      section: section("A protocol that ends with EOF"),
      mistake: got.length < expected.length && expected.startsWith(got)
        ? onlyPartWritten("the reply") + " (writeAll)"
        : undefined,
    });
  });
});

/**
 * One ordinary exchange with a server that must still be serving after one
 * connection failed (a reset before accept, no descriptor free): a 16-byte
 * request, a half-close, the reply to EOF. Waits end at once if `watch` fails.
 */
async function expectNextClientServed(
  addr: Deno.NetAddr,
  watch: Promise<never>,
  mistake: string,
): Promise<void> {
  const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
  using conn = await connect(addr, {
    awaiting: "the next client to connect",
    section: reread,
    watch,
  });
  await send(conn, "Hi there, server", {
    awaiting: "the next client's request",
    section: section("A protocol that ends with EOF"),
  });
  await conn.closeWrite();
  const got = await drain(conn, {
    awaiting: "the next client's reply and then EOF",
    section: reread,
    mistake,
    watch,
  });
  expectBytes(got, reply(16), {
    what: "the reply to the next client, after the failed accept()",
    section: section("A protocol that ends with EOF"),
  });
}

Deno.test("server: keeps serving after a client resets before accept()", async () => {
  const server = startCountServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterResetBeforeAccept(server, reread, async (watch) => {
      await expectNextClientServed(server.addr, watch, RETHROWS_ACCEPT);
    });
  }, () =>
    stopServer(server, {
      awaiting: "done to settle after close()",
      section: section("Closing a server"),
    }));
});

Deno.test({
  ...lowFdLimitTest("server: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterFdExhaustion(
      (log) => startCountServer({ log }),
      reread,
      async (server, watch) => {
        await expectNextClientServed(server.addr, watch, GIVES_UP_OUT_OF_FILES);
      },
    );
  },
});

Deno.test("server: a client that resets before its EOF ends only its own connection", async () => {
  await withServer(async (addr) => {
    await resetMidRequest(addr, "Hi there", {
      awaiting: "a client to send 8 bytes and reset",
      section: section("A protocol that ends with EOF"),
    });
    expectBytes(await exchange(addr, "Hi there, server"), reply(16), {
      what: "the reply to the client after the one that reset",
      section: section("A protocol that ends with EOF"),
      mistake: "one connection's error must end that connection only: catch it in its handler",
    });
  });
});

Deno.test("server: waits for EOF, not for the first read(): a request in pieces is counted whole", async () => {
  await withServer(async (addr) => {
    // Cuts after 5 and 20 bytes: each piece leaves once the server's read() calls have returned
    // the bytes before it (or after the proxy's long pause), so it reads 5, 15 and 20 bytes apart
    // on every run, with no timer between pieces.
    using reads = await watchReads({ localPort: addr.port });
    await using proxy = TcpProxy.open(addr, {
      request: heldCuts([5, 20], () => reads),
    });
    const body = "0123456789".repeat(4);
    const got = await exchange(proxy.addr, body);
    const counted = Number(got.match(/(\d+)/)?.[1] ?? NaN);
    expectBytes(got, reply(40), {
      what: "the reply to 40 bytes that arrived in pieces of 5, 15 and 20",
      section: section("EOF is null"),
      mistake: !(counted >= 40)
        ? "answered before EOF: a short read() is not the end of the request, only null is"
        : undefined,
    });
  });
});

Deno.test("server: an empty request (an immediate half-close) is `Your data was 0 bytes long`", async () => {
  await withServer(async (addr) => {
    expectBytes(await exchange(addr, ""), reply(0), {
      what: "the reply to a client that half-closed without sending anything",
      section: section("EOF is null"),
    });
  });
});

Deno.test("server: serves several half-open clients at once, each counted on its own", async () => {
  await withServer(async (addr) => {
    const wait = {
      awaiting: "a connection to the server",
      section: section("A protocol that ends with EOF"),
    };
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 4; i++) conns.push(await connect(addr, wait));
      // Every client sends part of its request first; then they finish in reverse order.
      for (const [i, conn] of conns.entries()) {
        await send(conn, "x".repeat(i + 1), { ...wait, awaiting: `client #${i + 1}'s first part` });
      }
      for (let i = conns.length - 1; i >= 0; i--) {
        await send(conns[i], "yy", { ...wait, awaiting: `client #${i + 1}'s second part` });
        await conns[i].closeWrite();
        const got = await readExactly(conns[i], reply(i + 3).length, {
          awaiting: `the reply to client #${i + 1} (the others are still half-way through)`,
          section: section("Closing a server"),
          mistake:
            "serves one client at a time: start a handler per connection and go back to accept() at once",
        });
        await drain(conns[i], {
          awaiting: `EOF after the reply to client #${i + 1}`,
          section: section("A protocol that ends with EOF"),
          mistake: SERVER_MUST_CLOSE,
        });
        expectBytes(got, reply(i + 3), {
          what: `the reply to client #${i + 1}`,
          section: section("A protocol that ends with EOF"),
        });
      }
    } finally {
      for (const conn of conns) closeQuietly(conn);
    }
  });
});

Deno.test("server: close() closes the listener and every open connection, then done settles", async () => {
  const server = startCountServer({ hostname: "127.0.0.1", port: 0 });
  const wait = { awaiting: "a connection to the server", section: section("Closing a server") };
  let idle: Deno.TcpConn | undefined;
  try {
    // Connected first, so accepted first: once the later exchange is answered, the server holds it.
    idle = await connect(server.addr, wait);
    expectBytes(await exchange(server.addr, "ping"), reply(4), {
      what: "the reply to a client served while another one sits idle",
      section: section("A protocol that ends with EOF"),
    });
    server.close();
    await within(server.done, {
      awaiting: "done to settle after close(), with an idle client still connected",
      section: section("Closing a server"),
      mistake: "close() left accepted connections open: close the listener AND every connection",
    });
    const left = await drain(idle, {
      awaiting: "EOF on the idle client's connection after close()",
      section: section("Closing a server"),
      mistake: "close() left accepted connections open: close the listener AND every connection",
    });
    expectEqual(left.length, 0, {
      what: "bytes the idle client received when the server shut down",
      section: section("Closing a server"),
    });
    await expectRefused(server.addr, {
      what: "connecting after close()",
      section: section("Closing a server"),
      mistake: "close() must close the listener too",
    });
  } finally {
    if (idle) closeQuietly(idle);
    server.close();
    await server.done.catch(() => {});
  }
});

Deno.test("server: after close(), done waits for a handler still at work, then resolves", async () => {
  // The handler's read() settles only when the test says so, even once close() has closed its
  // connection: that handler is still at work until then.
  await expectDoneWaitsForHeldRead(() => startCountServer({ hostname: "127.0.0.1", port: 0 }), {
    section: section("Closing a server"),
    reading: {
      awaiting: "the server's handler to read the request",
      section: section("A protocol that ends with EOF"),
    },
  });
});

Deno.test("client: sends the request, half-closes, and reads the reply to EOF", async () => {
  using fake = FakeServer.open();
  const asking = background(request(fake.addr, "Hi there, server"));
  try {
    const conn = await fake.accept({
      awaiting: "the client to connect",
      watch: watchClient(asking),
      section: section("Half-closing with closeWrite()"),
    });
    const got = await drain(conn, {
      awaiting: "the request and then EOF (the client's closeWrite())",
      section: section("Half-closing with closeWrite()"),
      mistake: NEVER_HALF_CLOSED,
    });
    expectBytes(got, "Hi there, server", {
      what: "the bytes the client sent before its half-close",
      section: section("Half-closing with closeWrite()"),
    });
    await send(conn, reply(16), {
      awaiting: "the reply to be written",
      section: section("Half-closing with closeWrite()"),
    });
    conn.close();
    const result = await requestResult(asking, "request() to return once the server closed");
    expectEqual(result, reply(16), {
      what: "what request() returned",
      section: section("Half-closing with closeWrite()"),
    });
  } finally {
    fake.close();
    await settle(asking);
  }
});

Deno.test("client: a Uint8Array body is sent as its bytes, unchanged", async () => {
  using fake = FakeServer.open();
  // "é", a byte that is not UTF-8, and a NUL: bytes that no text would give back as they are.
  const body = new Uint8Array([0xc3, 0xa9, 0xff, 0x00]);
  const asking = background(request(fake.addr, body));
  try {
    const conn = await fake.accept({
      awaiting: "the client to connect",
      watch: watchClient(asking),
      section: section("A protocol that ends with EOF"),
    });
    const got = await drain(conn, {
      awaiting: "the request and then EOF (the client's closeWrite())",
      section: section("Half-closing with closeWrite()"),
      mistake: NEVER_HALF_CLOSED,
    });
    expectBytes(got, body, {
      what: "the bytes the client sent for a Uint8Array body",
      section: section("A protocol that ends with EOF"),
      mistake: decoder.decode(got) === String(body)
        ? "the Uint8Array body was turned into text (its numbers joined by commas): send a " +
          "byte array as it is, and encode only a string"
        : undefined,
    });
    await send(conn, reply(body.length), {
      awaiting: "the reply to be written",
      section: section("A protocol that ends with EOF"),
    });
    conn.close();
    await requestResult(asking, "request() to return once the server closed");
  } finally {
    fake.close();
    await settle(asking);
  }
});

Deno.test("client: reads a reply that arrives in pieces, all the way to EOF", async () => {
  using fake = FakeServer.open();
  // Cuts after 4 and 12 bytes: each piece leaves once the client's read() calls have returned the
  // bytes before it (or after the proxy's long pause), so it reads 4, 8 and the rest apart on every
  // run, with no timer between pieces.
  await using proxy = TcpProxy.open(fake.addr, {
    reply: heldCuts([4, 12], () => reads),
  });
  using reads = await watchReads({ remotePort: proxy.addr.port });
  const asking = background(request(proxy.addr, encoder.encode("four")));
  try {
    const conn = await fake.accept({
      awaiting: "the client to connect (through a proxy)",
      watch: watchClient(asking),
      section: section("EOF is null"),
    });
    await drain(conn, {
      awaiting: "the request and then EOF (the client's closeWrite())",
      section: section("Half-closing with closeWrite()"),
      mistake: NEVER_HALF_CLOSED,
    });
    await send(conn, reply(4), {
      awaiting: "the reply to be written",
      section: section("EOF is null"),
    });
    conn.close();
    const result = await requestResult(asking, "request() to return once the server closed");
    expectBytes(result, reply(4), {
      what: "the reply request() returned, after it came in pieces of 4, 8 and the rest",
      section: section("EOF is null"),
      mistake: result.length < reply(4).length
        ? "stopped reading at a short read(): only null means the server has finished"
        : aliased(encoder.encode(result), encoder.encode(reply(4)))
        ? ALIASED
        : undefined,
    });
  } finally {
    fake.close();
    await settle(asking);
  }
});

Deno.test("probe: once the peer has closed, our writes soon fail with BrokenPipe or ConnectionReset", async () => {
  await using pair = await TcpPair.open({ section: section("Writing to a peer that has gone") });
  const { connected: conn, accepted: peer } = pair;
  peer.close();
  const eof = await within(conn.read(new Uint8Array(16)), {
    awaiting: "our read() to see the peer's FIN",
    section: section("Writing to a peer that has gone"),
  });
  expectEqual(eof, null, {
    what: "read() after the peer closed",
    section: section("EOF is null"),
  });
  const maxWrites = 100;
  const probe = await within(probeWrites(conn, new Uint8Array(1024), maxWrites), {
    awaiting: `probeWrites() to report (at most ${maxWrites} writes)`,
    section: section("Writing to a peer that has gone"),
  });
  expectThat(
    probe.failure === "BrokenPipe" || probe.failure === "ConnectionReset",
    JSON.stringify(probe),
    {
      what: "the probe of a peer that has closed",
      expected: `a failure, "BrokenPipe" or "ConnectionReset", within ${maxWrites} writes`,
      section: section("Writing to a peer that has gone"),
      mistake: probe.failure === null && probe.accepted < maxWrites
        ? "stopped after the first write: the first write after the peer closed is usually accepted " +
          "(the kernel learns only from the peer's RST that nobody will read), so keep writing"
        : undefined,
    },
  );
  expectThat(probe.accepted < maxWrites, JSON.stringify(probe), {
    what: "the number of writes accepted before the failure",
    expected: `fewer than ${maxWrites}`,
    section: section("Writing to a peer that has gone"),
  });
});

Deno.test("probe: a peer that only half-closed still receives every write", async () => {
  await using pair = await TcpPair.open({ section: section("Two directions, two FINs") });
  const { connected: conn, accepted: peer } = pair;
  await peer.closeWrite();
  const eof = await within(conn.read(new Uint8Array(16)), {
    awaiting: "our read() to see the peer's FIN",
    section: section("Two directions, two FINs"),
  });
  expectEqual(eof, null, {
    what: "read() after the peer's closeWrite()",
    section: section("EOF is null"),
  });
  const chunk = encoder.encode("0123456789".repeat(10));
  const probe = await within(probeWrites(conn, chunk, 20), {
    awaiting: "probeWrites() to report (20 writes of 100 bytes)",
    section: section("Two directions, two FINs"),
  });
  expectEqual(probe, { accepted: 20, failure: null }, {
    what: "the probe of a peer that half-closed but still reads",
    section: section("Two directions, two FINs"),
    mistake: "a FIN ends only the peer's direction: it can still read what we write",
  });
  const got = await readExactly(peer, 2000, {
    awaiting: "the half-closed peer to read all 2000 bytes",
    section: section("Two directions, two FINs"),
  });
  expectThat(got.every((b, i) => b === chunk[i % 100]), describe(got.subarray(0, 40)), {
    what: "the bytes the half-closed peer read",
    expected: "20 copies of 0123456789…",
    section: section("Two directions, two FINs"),
  });
});

const GRUSS = encoder.encode("Grüße, café ☕"); // 18 bytes, 13 characters

Deno.test("countToEnd and readToEnd: UTF-8 split inside a character is counted and kept as bytes", async () => {
  await using pair = await TcpPair.open({
    section: section("EOF is null"),
    // Two pieces, cut inside the ü (after byte 3): the second leaves once readToEnd()'s read()
    // calls have returned the first (or after the proxy's long pause), so it reads them apart
    // on every run.
    proxy: {
      request: heldCuts([3], () => reads),
    },
  });
  const { connected: sender, accepted: conn } = pair;
  using reads = await watchReads({ localPort: (conn.localAddr as Deno.NetAddr).port });
  await send(sender, GRUSS, { awaiting: "18 bytes of UTF-8", section: section("EOF is null") });
  await sender.closeWrite();
  const got = await within(readToEnd(conn), {
    awaiting: "readToEnd() of 18 bytes that arrive in two pieces, then EOF",
    section: section("EOF is null"),
  });
  expectBytes(got, GRUSS, {
    what: "readToEnd() of UTF-8 that arrived in two pieces, cut inside the ü",
    section: section("EOF is null"),
    mistake: got.length > GRUSS.length
      ? "decoded each read() to text: a character split across reads " +
        "became U+FFFD; keep the bytes and decode once, at the end"
      : aliased(got, GRUSS)
      ? ALIASED
      : undefined,
  });
  await using whole = await TcpPair.open({ section: section("EOF is null") });
  await send(whole.connected, GRUSS, {
    awaiting: "18 bytes of UTF-8",
    section: section("EOF is null"),
  });
  await whole.connected.closeWrite();
  const count = await within(countToEnd(whole.accepted), {
    awaiting: "countToEnd() of 18 bytes, then EOF",
    section: section("EOF is null"),
  });
  expectEqual(count, GRUSS.length, {
    what: "countToEnd() of 18 bytes of UTF-8 (13 characters)",
    section: section("EOF is null"),
    mistake: count === 13
      ? "counted characters (the decoded text's length) instead of bytes"
      : undefined,
  });
});

Deno.test("server: counts 8 MiB of non-ASCII bytes from one client while another stays silent", async () => {
  await withServer(async (addr) => {
    const silent = await connect(addr, {
      awaiting: "a silent client to connect",
      section: section("A protocol that ends with EOF"),
    });
    try {
      const big = new Uint8Array(8 * 1024 * 1024).fill(0xc3);
      for (let i = 1; i < big.length; i += 2) big[i] = 0xa9; // "é" over and over
      const answer = await requestResult(
        background(request(addr, big)),
        "request() of 8 MiB to return the server's count",
        5000,
      );
      expectEqual(answer, reply(big.length), {
        what: "the reply to 8 MiB of UTF-8 (4 Mi characters) sent by request()",
        section: section("A protocol that ends with EOF"),
        mistake: answer === reply(big.length / 2)
          ? "counted characters (the decoded text's length) instead of bytes"
          : Number(answer.match(/^Your data was (\d+) bytes long$/)?.[1]) > big.length
          ? "more bytes arrived than the body holds: the Uint8Array body was turned into text " +
            '(its numbers joined by commas, "195,169,…"): send a byte array as it is, and ' +
            "encode only a string"
          : /Your data was \d+ bytes long/.test(answer)
          ? "lost bytes: write() may take only part of 8 MiB; loop until every " +
            "byte is written"
          : undefined,
      });
    } finally {
      silent.close();
    }
  });
});

Deno.test("client: a server that resets the connection makes request() reject, and nothing leaks", async () => {
  using fake = FakeServer.open();
  // 24 MiB, more than both loopback buffers hold (about 10 MB): the client is still writing when
  // the reset arrives, however late the server reads (a reset after its half-close would read as
  // a plain EOF on Linux).
  const asking = background(request(fake.addr, new Uint8Array(24 * 1024 * 1024)));
  try {
    const error = await fake.resetAfterFirstByte(asking, {
      client: "request()",
      watch: watchClient(asking),
      section: section("Writing to a peer that has gone"),
    });
    expectThat(
      error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe,
      error instanceof Error ? error.name : `it returned ${JSON.stringify(error)}`,
      {
        what: "how request() failed against a server that reset the connection",
        expected: "the ConnectionReset (or BrokenPipe) itself, passed on",
        section: section("Writing to a peer that has gone"),
      },
    );
  } finally {
    fake.close();
    await settle(asking);
  }
});

Deno.test("probe: exactly maxWrites writes to a half-closed peer, and other errors pass through", async () => {
  await using pair = await TcpPair.open({ section: section("Two directions, two FINs") });
  const { connected: conn, accepted: peer } = pair;
  await peer.closeWrite();
  const probe = await within(probeWrites(conn, encoder.encode("x"), 3), {
    awaiting: "probeWrites() to report (3 writes of 1 byte)",
    section: section("Two directions, two FINs"),
  });
  const got = await within(
    (async () => {
      await pair.connected.closeWrite();
      return await drain(peer, {
        awaiting: "the peer to read what the probe wrote, and EOF",
        section: section("Two directions, two FINs"),
      });
    })(),
    { awaiting: "the probe's bytes", section: section("Two directions, two FINs") },
  );
  expectEqual([probe.accepted, got.length], [3, 3], {
    what: "[writes accepted, bytes the peer read] for maxWrites 3",
    section: section("Two directions, two FINs"),
    mistake: got.length > 3
      ? "wrote once more than maxWrites: stop when accepted reaches maxWrites"
      : undefined,
  });
  const odd = new Deno.errors.NotConnected("not connected");
  const failing = {
    write: () => Promise.reject(odd),
  } as unknown as Deno.Conn;
  let error: unknown;
  try {
    const result = await probeWrites(failing, encoder.encode("x"), 3);
    error = result;
  } catch (e) {
    error = e;
  }
  if (error instanceof Error && error.message.startsWith("not implemented")) throw error;
  expectThat(error === odd, error instanceof Error ? error.name : JSON.stringify(error), {
    what: "probeWrites() when write() fails with NotConnected",
    expected: "the NotConnected error itself, rethrown",
    section: section("Writing to a peer that has gone"),
    mistake: "only BrokenPipe and ConnectionReset mean the peer has gone: " +
      "rethrow any other error as it is",
  });
});

Deno.test("probe: the write that fails is not counted as accepted", async () => {
  let writes = 0;
  const failing = {
    write: (data: Uint8Array) =>
      ++writes <= 2
        ? Promise.resolve(data.length)
        : Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)")),
  } as unknown as Deno.Conn;
  const probe = await within(probeWrites(failing, encoder.encode("x"), 10), {
    awaiting: "probeWrites() to report (two writes accepted, the third BrokenPipe)",
    section: section("Writing to a peer that has gone"),
  });
  expectEqual(probe, { accepted: 2, failure: "BrokenPipe" }, {
    what: "probeWrites() when write() takes two chunks and then fails with BrokenPipe",
    section: section("Writing to a peer that has gone"),
    mistake: probe.accepted === 3
      ? "counted the failed write as accepted: count a write only once it has completed"
      : undefined,
  });
});

Deno.test("probe: a write that fails with ConnectionReset is reported like BrokenPipe, not thrown", async () => {
  let writes = 0;
  const reset = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)");
  const failing = {
    write: (data: Uint8Array) =>
      ++writes <= 2 ? Promise.resolve(data.length) : Promise.reject(reset),
  } as unknown as Deno.Conn;
  const outcome = await settledWithin(probeWrites(failing, encoder.encode("x"), 10), {
    awaiting: "probeWrites() to report (two writes accepted, the third ConnectionReset)",
    section: section("Writing to a peer that has gone"),
  });
  expectEqual(
    outcome instanceof Error ? `threw ${outcome.name}: ${outcome.message}` : outcome,
    { accepted: 2, failure: "ConnectionReset" },
    {
      what: "probeWrites() when write() takes two chunks and then fails with ConnectionReset",
      section: section("Writing to a peer that has gone"),
      mistake: outcome === reset
        ? "ConnectionReset also means the peer has gone (a reset without a FIN): report it " +
          "as the failure, do not throw it"
        : undefined,
    },
  );
});

Deno.test("probe: a chunk counts once all of it is written, however many write() calls that takes", async () => {
  let taken = 0;
  const partial = {
    write: (data: Uint8Array) => {
      const n = Math.min(data.length, 60);
      taken += n;
      return Promise.resolve(n);
    },
  } as unknown as Deno.Conn;
  const probe = await within(probeWrites(partial, new Uint8Array(100), 5), {
    awaiting: "probeWrites() to report (5 chunks of 100 bytes, each write() taking at most 60)",
    section: section("Writing to a peer that has gone"),
  });
  expectEqual([probe.accepted, taken], [5, 500], {
    what: "[chunks accepted, bytes write() took] for 5 chunks of 100 bytes, each write() " +
      "taking at most 60",
    section: section("Writing to a peer that has gone"),
    mistake: taken < 500
      ? "probeWrites counted a chunk that write() took only part of: write each chunk whole " +
        "(writeAll), then count it"
      : undefined,
  });
});

Deno.test("readToEnd: a reset is not the end of the reply: ConnectionReset reaches the caller", async () => {
  // A peer that aborts (SO_LINGER 0) sends a reset with no FIN before it, and the read then fails
  // ("A reset without a FIN"); only null is the end. A fake connection makes that happen on every
  // run: 13 bytes of a reply, then the reset.
  const reset = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)");
  const part = encoder.encode("Your data was");
  let reads = 0;
  const resetting = {
    read: (buffer: Uint8Array) => {
      if (++reads > 1) return Promise.reject(reset);
      buffer.set(part);
      return Promise.resolve(part.length);
    },
  } as unknown as Deno.Conn;
  const outcome = await settledWithin(readToEnd(resetting), {
    awaiting: "readToEnd() to settle after 13 bytes and a reset",
    section: section("A reset without a FIN"),
  });
  expectThat(
    outcome === reset,
    outcome instanceof Uint8Array
      ? `it returned ${describe(outcome)}`
      : outcome instanceof Error
      ? `${outcome.name}: ${outcome.message}`
      : String(outcome),
    {
      what: "readToEnd() on a connection that sends 13 bytes and then resets",
      expected: "the ConnectionReset itself, passed on",
      section: section("A reset without a FIN"),
      mistake: outcome instanceof Uint8Array
        ? "readToEnd returned after the peer reset the connection: a reset is not EOF; only " +
          "null is the end of the reply, let ConnectionReset reach the caller"
        : undefined,
    },
  );
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startCountServer(port === undefined ? undefined : { port }),
    "tcp",
    section("Closing a server"),
  );
});

Deno.test("server: an accept() that fails for one reset connection is logged", async () => {
  await expectAcceptFailureLogged((log) => startCountServer({ log }), section("Closing a server"));
});

Deno.test("server: logs each count; close() with a silent client connected logs no failure", async () => {
  const lines: string[] = [];
  const server = startCountServer({ hostname: "127.0.0.1", port: 0, log: (l) => lines.push(l) });
  const where = section("Closing a server");
  const silent = await connect(server.addr, {
    awaiting: "a silent client to connect",
    section: where,
  });
  try {
    const reply = await within(request(server.addr, "abc"), {
      awaiting: "the reply to `abc`",
      section: where,
    });
    expectBytes(reply, "Your data was 3 bytes long", {
      what: "the reply to `abc`",
      section: where,
    });
  } finally {
    await stopServer(server, {
      awaiting: "the server to stop with a client connected",
      section: where,
    });
    closeQuietly(silent);
  }
  const ok = lines.some((l) => /\b3\b/.test(l)) && !lines.some((l) => /fail/i.test(l));
  expectThat(ok, JSON.stringify(lines), {
    what: "the server's log after one request and a close() with a silent client",
    expected: "a line counting the 3 bytes, and no failure: closing is not an error",
    section: where,
  });
});
