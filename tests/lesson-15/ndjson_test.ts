/**
 * Lesson 15 — Streams like files: lines and NDJSON messages over real
 * loopback TCP, cut into pieces or gathered by a proxy; the streams'
 * ownership of the connection; gzip through the streams.
 *
 * @module
 */

import {
  encodeMessage,
  lines,
  readableOf,
  requestAll,
  serveNdjson,
} from "../../exercises/lesson-15/ndjson.ts";
import { receiveCompressed, sendCompressed } from "../../exercises/lesson-15/gzip.ts";
import { concat, describe } from "../harness/bytes.ts";
import { background, nextTurn, pause, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectThat } from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import {
  expectCleanStop,
  expectDoneWaitsForHandler,
  stopAfter,
  stopServer,
} from "../harness/server_loop.ts";
import { LogLines } from "../harness/log.ts";
import { recordAccepts } from "../harness/accept_record.ts";
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
const section = sectionsOf("lesson-15");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The server's handler in these tests: wraps each message, so replies are recognisable. */
const echo = (message: unknown) => ({ echo: message });

/** The malformed-line reply, written out here: never trust the code under test. */
const MALFORMED_LINE = '{"error":"malformed JSON"}\n';

const CLOSED_WHOLE =
  "conn.readable closed the whole connection at the client's EOF, before every reply was written: " +
  "read through readableOf(conn)";

/**
 * What the learner's `lines()` makes of `bytes` arriving in pieces of `piece`
 * bytes, one piece per read, as a connection's readable hands them over. The
 * pieces are the same on every run: over a real socket, a busy reader finds
 * several one-byte writes waiting and reads them at once.
 */
async function linesOf(bytes: string, piece: number): Promise<string[]> {
  const data = encoder.encode(bytes);
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) return controller.close();
      controller.enqueue(data.slice(at, at += piece));
    },
  });
  return await within(Array.fromAsync(lines(stream)), {
    awaiting: "lines() to end where the stream ends",
    section: section("From bytes to lines"),
  });
}

const LAST_LINE_DROPPED = "dropped the last line at EOF: a last line without a newline is " +
  "still a line when the stream ends (TextLineStream emits it; a hand-written TransformStream " +
  "must emit what it holds in flush())";

/** Names the framing mistake that turned `expected` into `got`, if one fits. */
function framingMistake(got: string[], expected: string[]): string | undefined {
  if (got.some((line) => line.includes("\uFFFD"))) {
    return "decoded each chunk separately: a character whose bytes were split across reads became U+FFFD; " +
      "decode the whole stream with one TextDecoderStream";
  }
  if (got.some((line) => line.endsWith("\r"))) {
    return "a line kept the \\r of its \\r\\n (split across reads here): end a line at \\n and " +
      "drop one \\r before it";
  }
  if (got.some((line) => line.includes("\n"))) {
    return "assumed one read() is one line: several lines arrived in one read";
  }
  if (got.length > expected.length) {
    return "assumed one read() is one line: a line split across reads came out in pieces";
  }
  if (got.length === expected.length - 1 && got.every((line, i) => line === expected[i])) {
    return LAST_LINE_DROPPED;
  }
  return undefined;
}

/** Starts the learner's server with `echo` and guarantees it is closed (and has ended) after `body`. */
async function withServer(
  body: (addr: Deno.NetAddr) => Promise<void>,
  handler: (message: unknown) => unknown = echo,
): Promise<void> {
  await failOnUnhandled("the server", section("An NDJSON server"), async () => {
    const server = serveNdjson(handler, { hostname: "127.0.0.1", port: 0 });
    await stopAfter(async () => {
      await body(server.addr);
    }, () =>
      stopServer(server, {
        awaiting: "done to settle after close()",
        section: section("An NDJSON server"),
        mistake: "close() must close the listener and every open connection",
      }));
  });
}

/** Reads exactly the bytes of `expected` and compares them. */
async function expectReply(conn: Deno.Conn, expected: string, what: string, mistake?: string) {
  const got = await readExactly(conn, encoder.encode(expected).length, {
    awaiting: what,
    section: section("An NDJSON server"),
    mistake,
  });
  expectBytes(got, expected, { what, section: section("One JSON value per line"), mistake });
}

Deno.test("lines: a line that arrives one byte per read comes out whole, accents intact", async () => {
  const expected = ["héllo, wörld ☕", "second line"];
  const got = await linesOf("héllo, wörld ☕\r\nsecond line\n", 1);
  expectEqual(got, expected, {
    what: "the lines of a stream delivered one byte at a time",
    section: section("From bytes to lines"),
    mistake: framingMistake(got, expected),
  });
});

Deno.test("lines: several lines in one read come out one by one, ended by \\n or \\r\\n", async () => {
  const text = "one\r\ntwo\nthree\n";
  const expected = ["one", "two", "three"];
  const got = await linesOf(text, encoder.encode(text).length);
  expectEqual(got, expected, {
    what: "the lines of three lines delivered in one read",
    section: section("From bytes to lines"),
    mistake: framingMistake(got, expected),
  });
});

Deno.test("lines: a last line without a newline still comes out when the stream ends", async () => {
  const text = '{"n":1}\n{"last":"no newline"}';
  const expected = ['{"n":1}', '{"last":"no newline"}'];
  const got = await linesOf(text, 5);
  expectEqual(got, expected, {
    what: "the lines of a stream whose last line has no newline, 5 bytes per read",
    section: section("From bytes to lines"),
    mistake: framingMistake(got, expected),
  });
});

Deno.test("encodeMessage: compact JSON and exactly one newline, at the end", () => {
  expectBytes(
    encodeMessage({ text: "two\nlines", n: 1, list: [1, "é"] }),
    '{"text":"two\\nlines","n":1,"list":[1,"é"]}\n',
    {
      what: 'encodeMessage({ text: "two\\nlines", n: 1, list: [1, "é"] })',
      section: section("One JSON value per line"),
      mistake:
        "one message must be one line: pretty-printed JSON spans several lines; JSON.stringify(value) is compact",
    },
  );
});

Deno.test("readableOf: reading to EOF leaves the connection open for our reply", async () => {
  await using pair = await TcpPair.open({ section: section("Who owns the connection") });
  const { connected: conn, accepted: peer } = pair;
  await send(peer, "request", {
    awaiting: "the request",
    section: section("Who owns the connection"),
  });
  await peer.closeWrite();
  const chunks = await within(Array.fromAsync(readableOf(conn)), {
    awaiting: "readableOf(conn) to end at the peer's EOF",
    section: section("Who owns the connection"),
  });
  expectBytes(concat(chunks), "request", {
    what: "the bytes readableOf(conn) delivered",
    section: section("Who owns the connection"),
  });
  try {
    await send(conn, "reply", {
      awaiting: "our reply to be written",
      section: section("Who owns the connection"),
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
    fail({
      summary: `writing after the readable ended failed: ${error.name}: ${error.message}`,
      section: section("Who owns the connection"),
      mistake:
        "conn.readable closed the whole connection at EOF: build the readable on conn.read() instead",
    });
  }
  conn.close();
  expectBytes(
    await drain(peer, {
      awaiting: "our reply and EOF",
      section: section("Who owns the connection"),
    }),
    "reply",
    {
      what: "what the peer received after its half-close",
      section: section("Who owns the connection"),
    },
  );
});

Deno.test("server: answers one message after another on one connection, one line each", async () => {
  await withServer(async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    try {
      await send(conn, '{"n":1}\n', {
        awaiting: "message 1",
        section: section("An NDJSON server"),
      });
      await expectReply(conn, '{"echo":{"n":1}}\n', "the reply to message 1");
      await send(conn, '["é",2]\n', {
        awaiting: "message 2",
        section: section("An NDJSON server"),
      });
      await expectReply(conn, '{"echo":["é",2]}\n', "the reply to message 2");
    } finally {
      conn.close();
    }
  });
});

/**
 * One ordinary exchange with a server that must still be serving after one connection failed (a reset before accept, no descriptor free): a message and its echo. Waits end at once if `watch` fails.
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
  await send(conn, '{"n":1}\n', { awaiting: "the next client's message", section: reread });
  const expected = '{"echo":{"n":1}}\n';
  const got = await readExactly(conn, expected.length, {
    awaiting: "the reply to the next client, after the failed accept()",
    section: reread,
    mistake,
    watch,
  });
  expectBytes(got, expected, {
    what: "the reply to the next client, after the failed accept()",
    section: section("One JSON value per line"),
  });
}

Deno.test("server: keeps serving after a client resets before accept()", async () => {
  const server = serveNdjson(echo, { hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterResetBeforeAccept(server, reread, async (watch) => {
      await expectNextClientServed(server.addr, watch, RETHROWS_ACCEPT);
    });
  }, () =>
    stopServer(server, {
      awaiting: "done to settle after close()",
      section: section("An NDJSON server"),
      mistake: "close() must close the listener and every open connection",
    }));
});

Deno.test({
  ...lowFdLimitTest("server: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterFdExhaustion(
      (log) => serveNdjson(echo, { log }),
      reread,
      async (server, watch) => {
        await expectNextClientServed(server.addr, watch, GIVES_UP_OUT_OF_FILES);
      },
    );
  },
});

Deno.test("server: a client that resets mid-line ends only its own connection", async () => {
  await withServer(async (addr) => {
    await resetMidRequest(addr, '{"n":', {
      awaiting: "a client to send half a line and reset",
      section: section("An NDJSON server"),
    });
    const conn = await connect(addr, {
      awaiting: "the next client",
      section: section("An NDJSON server"),
    });
    try {
      await send(conn, '{"n":2}\n', {
        awaiting: "the next message",
        section: section("An NDJSON server"),
      });
      await expectReply(
        conn,
        '{"echo":{"n":2}}\n',
        "the reply to the client after the one that reset",
        "one connection's error must end that connection only: catch it in its handler",
      );
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: pipelined messages and a half-close get every reply, in order, then EOF", async () => {
  await withServer(async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    try {
      await send(conn, '{"n":1}\n{"n":2}\n\n{"n":3}\n', {
        awaiting: "three messages in one write",
        section: section("The client: pipelining and half-closing"),
      });
      await conn.closeWrite();
      const got = decoder.decode(
        await drain(conn, {
          awaiting: "three replies and then EOF",
          section: section("Who owns the connection"),
          mistake:
            "after the client's half-close, finish the replies and then close the connection",
        }),
      );
      const expected = '{"echo":{"n":1}}\n{"echo":{"n":2}}\n{"echo":{"n":3}}\n';
      expectBytes(got, expected, {
        what: "the replies to three pipelined messages followed by a half-close",
        section: section("Who owns the connection"),
        mistake: got.length < expected.length ? CLOSED_WHOLE : undefined,
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: a last message without a newline, then a half-close, is still answered", async () => {
  await withServer(async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    try {
      await send(conn, '{"n":1}\n{"n":2}', {
        awaiting: "two messages, the last without its newline",
        section: section("From bytes to lines"),
      });
      await conn.closeWrite();
      const got = decoder.decode(
        await drain(conn, {
          awaiting: "two replies and then EOF",
          section: section("Who owns the connection"),
          mistake:
            "after the client's half-close, finish the replies and then close the connection",
        }),
      );
      const expected = '{"echo":{"n":1}}\n{"echo":{"n":2}}\n';
      expectBytes(got, expected, {
        what: 'the replies to `{"n":1}\\n{"n":2}` followed by a half-close',
        section: section("From bytes to lines"),
        mistake: got === '{"echo":{"n":1}}\n' ? LAST_LINE_DROPPED : undefined,
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: messages cut into 1-byte reads are still answered whole", async () => {
  await withServer(async (addr) => {
    await using proxy = TcpProxy.open(addr, { request: { chunk: 1 } });
    const conn = await connect(proxy.addr, {
      awaiting: "a connection through the proxy",
      section: section("From bytes to lines"),
    });
    try {
      await send(conn, '{"city":"Zürich"}\n{"n":42}\n', {
        awaiting: "two messages",
        section: section("From bytes to lines"),
      });
      const expected = '{"echo":{"city":"Zürich"}}\n{"echo":{"n":42}}\n';
      const got = await readExactly(conn, encoder.encode(expected).length, {
        awaiting: "two replies to messages that arrived one byte per read",
        section: section("From bytes to lines"),
        mistake:
          "a message split across reads must be put back together: one read() is not one line",
      });
      const text = decoder.decode(got);
      expectBytes(got, expected, {
        what: "the replies to two messages that arrived one byte per read",
        section: section("From bytes to lines"),
        mistake: text.includes("\uFFFD")
          ? "decoded each chunk separately: use one TextDecoderStream for the whole stream"
          : undefined,
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: a line that is not JSON gets an error line, and the connection goes on", async () => {
  await withServer(async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    try {
      const mistake =
        "a malformed line closed the connection: answer it with MALFORMED and go on reading";
      await send(conn, "this is not JSON\n", {
        awaiting: "a malformed line",
        section: section("An NDJSON server"),
      });
      await expectReply(conn, MALFORMED_LINE, "the reply to a line that is not JSON", mistake);
      await send(conn, '{"still":"here"}\n', {
        awaiting: "a good line",
        section: section("An NDJSON server"),
      });
      await expectReply(
        conn,
        '{"echo":{"still":"here"}}\n',
        "the reply to the next, good line",
        mistake,
      );
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: serves clients at once; close() closes them all and the listener; done settles", async () => {
  const server = serveNdjson(echo, { hostname: "127.0.0.1", port: 0 });
  const conns: Deno.TcpConn[] = [];
  try {
    for (const name of ["ann", "bob"]) {
      const conn = await connect(server.addr, {
        awaiting: "a connection",
        section: section("An NDJSON server"),
      });
      conns.push(conn);
      await send(conn, `"${name}"\n`, {
        awaiting: `${name}'s message`,
        section: section("An NDJSON server"),
      });
    }
    await expectReply(
      conns[1],
      '{"echo":"bob"}\n',
      "the reply to the second client",
      "serve every connection in its own task",
    );
    await expectReply(conns[0], '{"echo":"ann"}\n', "the reply to the first client");
    server.close();
    await within(server.done, {
      awaiting: "done to settle after close(), with two clients still connected",
      section: section("An NDJSON server"),
      mistake: "close() must close the listener and every open connection",
    });
    for (const [i, conn] of conns.entries()) {
      const left = await drain(conn, {
        awaiting: `EOF on client #${i + 1} after close()`,
        section: section("An NDJSON server"),
        mistake: "close() must close the listener and every open connection",
      });
      expectEqual(left.length, 0, {
        what: `bytes left for client #${i + 1}`,
        section: section("An NDJSON server"),
      });
    }
    await expectRefused(server.addr, {
      what: "connecting after close()",
      section: section("An NDJSON server"),
      mistake: "close() must close the listener too",
    });
  } finally {
    for (const conn of conns) closeQuietly(conn);
    server.close();
    await server.done.catch(() => {});
  }
});

Deno.test("client: requestAll pipelines its messages, half-closes, and parses every reply", async () => {
  using fake = FakeServer.open();
  const asking = background(requestAll(fake.addr, [1, { a: "é" }, "x"]));
  const watch = asking.catch((error) => {
    if (error instanceof Deno.errors.BadResource) return new Promise<never>(() => {});
    throw error;
  });
  try {
    const conn = await fake.accept({
      awaiting: "the client to connect",
      watch,
      section: section("The client: pipelining and half-closing"),
    });
    const request = await drain(conn, {
      awaiting: "three messages and then EOF (the client's half-close)",
      section: section("The client: pipelining and half-closing"),
      mistake: "the client never half-closed: call conn.closeWrite() after the last message",
    });
    expectBytes(request, '1\n{"a":"é"}\n"x"\n', {
      what: "the bytes requestAll() sent",
      section: section("One JSON value per line"),
    });
    await send(conn, '2\n{"b":true}\n\n"y"\n', {
      awaiting: "the replies",
      section: section("The client: pipelining and half-closing"),
    });
    conn.close();
    let result: unknown[];
    try {
      result = await within(asking, {
        awaiting: "requestAll() to return after the server closed",
        section: section("The client: pipelining and half-closing"),
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
      fail({
        summary: `requestAll() failed after sending: ${error.name}: ${error.message}`,
        section: section("Who owns the connection"),
        mistake:
          "closed conn.writable to half-close: in Deno that closes the whole connection; use conn.closeWrite()",
      });
    }
    expectEqual(result, [2, { b: true }, "y"], {
      what: "what requestAll() returned (a blank line is no message)",
      section: section("The client: pipelining and half-closing"),
    });
  } finally {
    fake.close();
    await within(asking.catch(() => {}), {
      awaiting: "requestAll() to settle",
      section: section("The client: pipelining and half-closing"),
    }).catch(() => {});
  }
});

Deno.test("gzip: sendCompressed writes one complete gzip stream and ends it", async () => {
  await using pair = await TcpPair.open({ section: section("Compression on the wire") });
  const { connected: conn, accepted: peer } = pair;
  const parts = ["to be, ", "or not to be".repeat(50), ", that is the question"];
  const sending = background(sendCompressed(conn, parts.map((p) => encoder.encode(p))));
  const wire = await drain(peer, {
    awaiting: "the gzip data and then EOF",
    watch: sending,
    section: section("Compression on the wire"),
    mistake:
      "the compressor writes its last block and the gzip trailer only when its input is closed: close the writer",
  });
  await within(sending, {
    awaiting: "sendCompressed() to return",
    section: section("Compression on the wire"),
  });
  expectThat(wire[0] === 0x1f && wire[1] === 0x8b, describe(wire.subarray(0, 8)), {
    what: "the first two bytes on the wire",
    expected: "the gzip magic number 1f 8b",
    section: section("Compression on the wire"),
  });
  const text = await new Response(
    ReadableStream.from([new Uint8Array(wire)]).pipeThrough(new DecompressionStream("gzip")),
  ).text();
  expectEqual(text, parts.join(""), {
    what: "the text, decompressed by the test",
    section: section("Compression on the wire"),
  });
  expectThat(wire.length < text.length / 4, `${wire.length} bytes for ${text.length}`, {
    what: "the compressed size of a repetitive text",
    expected: "well under a quarter of the original",
    section: section("Compression on the wire"),
  });
});

Deno.test("gzip: receiveCompressed inflates a gzip stream that arrives in small pieces", async () => {
  await using pair = await TcpPair.open({
    section: section("Compression on the wire"),
    proxy: { reply: { chunk: 16 } },
  });
  const { connected: conn, accepted: peer } = pair;
  const text = "Zürich, Genève, Lugano; ".repeat(40);
  const gzipped = new Uint8Array(
    await new Response(
      ReadableStream.from([encoder.encode(text)]).pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  const receiving = background(receiveCompressed(conn));
  await send(peer, gzipped, {
    awaiting: "the gzip data to be sent",
    section: section("Compression on the wire"),
  });
  peer.close();
  const got = await within(receiving, {
    awaiting: "receiveCompressed() to return at EOF",
    section: section("Compression on the wire"),
  });
  expectBytes(got, text, {
    what: "the decompressed bytes",
    section: section("Compression on the wire"),
  });
});

Deno.test("server: a handler that throws is not answered as malformed JSON", async () => {
  const handler = (message: unknown) => {
    if ((message as { boom?: boolean }).boom) throw new Error("the handler failed");
    return echo(message);
  };
  await withServer(async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    try {
      await send(conn, '{"n":1}\n{"boom":true}\n', {
        awaiting: "a good line, then one whose handler throws",
        section: section("An NDJSON server"),
      });
      await conn.closeWrite();
      const got = decoder.decode(
        await drain(conn, {
          awaiting: "the reply to the good line, then EOF",
          section: section("An NDJSON server"),
        }),
      );
      expectBytes(got, '{"echo":{"n":1}}\n', {
        what: 'the replies to `{"n":1}`, then `{"boom":true}` (valid JSON; its handler throws)',
        section: section("An NDJSON server"),
        mistake: got.includes(MALFORMED_LINE)
          ? "answered a handler's error as malformed JSON: the line was valid JSON; keep " +
            "JSON.parse alone in its try, and let the handler's error end the connection"
          : undefined,
      });
    } finally {
      closeQuietly(conn);
    }
  }, handler);
});

Deno.test("gzip: sendCompressed returns only once the gzip trailer is written and the connection closed", async () => {
  // A connection whose every write completes a turn of the event loop later, as a socket's does:
  // the test sees exactly what was written, and whether it was ended, when sendCompressed returns.
  const wire: Uint8Array[] = [];
  let ended = false;
  let end!: () => void;
  const closed = new Promise<void>((resolve) => end = resolve);
  const later = nextTurn;
  const conn = {
    writable: new WritableStream<Uint8Array>({
      async write(chunk) {
        await later();
        wire.push(chunk.slice());
      },
      close() {
        ended = true;
        end();
      },
    }),
    async write(data: Uint8Array) {
      await later();
      wire.push(data.slice());
      return data.length;
    },
    close() {
      ended = true;
      end();
    },
  } as unknown as Deno.Conn;
  const text = "to be, or not to be".repeat(40);
  await within(sendCompressed(conn, [encoder.encode(text)]), {
    awaiting: "sendCompressed() to return",
    section: section("Compression on the wire"),
  });
  const sent = concat(wire);
  const endedThen = ended;
  // Whatever sendCompressed() left running finishes before the test ends (its writes' turns of the event loop).
  await within(closed, {
    awaiting: "the connection to be closed",
    section: section("Compression on the wire"),
    mistake: "close the connection once the gzip data is out (pipeTo does it)",
  }).catch(() => {});
  let inflated: string;
  try {
    inflated = await new Response(
      ReadableStream.from([new Uint8Array(sent)]).pipeThrough(new DecompressionStream("gzip")),
    ).text();
  } catch (error) {
    inflated = `(not a complete gzip stream: ${(error as Error).message})`;
  }
  expectEqual([inflated === text, endedThen], [true, true], {
    what: "[the bytes written by then inflate to the text, the connection was closed] " +
      "when sendCompressed() returned",
    section: section("Compression on the wire"),
    mistake: !endedThen
      ? "returned before the pipe had finished: the gzip trailer and the close were still on " +
        "their way; await the pipeTo() promise"
      : undefined,
  });
});

Deno.test("readableOf: reads only as far ahead as its consumer asks (backpressure)", async () => {
  // A connection that the test feeds by hand: each read() waits until the test answers it with a
  // full buffer. A readable built on pull() asks for one more chunk only when its queue has room.
  const pending: ((n: number) => void)[] = [];
  let reads = 0;
  const conn = {
    read(buffer: Uint8Array) {
      reads++;
      return new Promise<number>((resolve) => {
        pending.push((n) => {
          buffer.fill(0x61, 0, n);
          resolve(n);
        });
      });
    },
  } as unknown as Deno.Conn;
  const stream = readableOf(conn);
  const OFFERED = 64;
  // Between two turns of the event loop, the stream's promise jobs all run (the fake connection
  // does no I/O): a read it wants is asked for by then, or not at all.
  const turn = nextTurn;
  for (let i = 0; i < OFFERED; i++) {
    await turn();
    const answer = pending.shift();
    if (!answer) break;
    answer(16 * 1024);
  }
  await turn();
  const readsUnconsumed = reads;
  const reader = stream.getReader();
  const first = await within(reader.read(), {
    awaiting: "the first chunk from readableOf()",
    section: section("Who owns the connection"),
  });
  reader.releaseLock();
  expectThat(readsUnconsumed <= 4, `${readsUnconsumed} reads`, {
    what: `the reads readableOf() made while nothing consumed its stream (${OFFERED} offered)`,
    expected: "at most 4: a chunk or so ahead of its consumer",
    section: section("Who owns the connection"),
    mistake: readsUnconsumed > 4
      ? "read ahead without limit: readableOf() read the connection in start() (or a loop) " +
        "instead of once per pull(), so a slow consumer piles the peer's data up in memory"
      : undefined,
  });
  expectEqual(first.value?.length, 16 * 1024, {
    what: "the size of the first chunk readableOf() delivered",
    section: section("Who owns the connection"),
  });
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => serveNdjson((value) => value, port === undefined ? undefined : { port }),
    "tcp",
    section("An NDJSON server"),
  );
});

Deno.test("server: an async handler's replies are awaited, and sent in request order", async () => {
  let secondCalled: () => void = () => {};
  const second = new Promise<void>((resolve) => secondCalled = resolve);
  // Message 1 finishes only after message 2 (or 10 ms): a server that runs
  // handlers side by side must still send reply 1 first. The three messages
  // come in one write, so such a server calls handler 2 at once, with no I/O
  // between; 10 ms is only what a serial server (handler 2 never called
  // while 1 waits) pays.
  const slowFirst = async (message: unknown) => {
    const n = (message as { n: number }).n;
    if (n === 2) secondCalled();
    if (n === 1) {
      const stop = new AbortController();
      // A probe, not synchronisation: a serial server never calls handler 2 here, so
      // only time can end the wait; under load it can only let a wrong server pass.
      await Promise.race([second, pause(10, stop.signal)]);
      stop.abort(); // no timer outlives the handler
    }
    await Promise.resolve();
    return { echo: message };
  };
  await withServer(async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    try {
      await send(conn, '{"n":1}\n{"n":2}\n{"n":3}\n', {
        awaiting: "three messages in one write",
        section: section("An NDJSON server"),
      });
      await conn.closeWrite();
      const got = decoder.decode(
        await drain(conn, {
          awaiting: "three replies from an async handler, then EOF",
          section: section("An NDJSON server"),
        }),
      );
      const expected = '{"echo":{"n":1}}\n{"echo":{"n":2}}\n{"echo":{"n":3}}\n';
      expectBytes(got, expected, {
        what: "the replies of an async handler to three pipelined messages",
        section: section("An NDJSON server"),
        mistake: got.startsWith("{}")
          ? "sent the handler's promise, not its value: await handler(message)"
          : got.startsWith('{"echo":{"n":2}}')
          ? "replies left in the order the handlers finished: a client matches " +
            "replies to requests by order, so write reply 1 before reply 2"
          : undefined,
      });
    } finally {
      conn.close();
    }
  }, slowFirst);
});

Deno.test("server: blank and whitespace-only lines get no reply; junk gets the error line", async () => {
  await withServer(async (addr) => {
    const conn = await connect(addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    try {
      await send(conn, '\n   \n\t\r\n12abc\n-5\n1e3\n+5\n0x10\n" x"\n', {
        awaiting: "blank lines and junk",
        section: section("One JSON value per line"),
      });
      await conn.closeWrite();
      const got = decoder.decode(
        await drain(conn, {
          awaiting: "the replies and then EOF",
          section: section("One JSON value per line"),
        }),
      );
      const expected = MALFORMED_LINE + '{"echo":-5}\n{"echo":1000}\n' + MALFORMED_LINE +
        MALFORMED_LINE + '{"echo":" x"}\n';
      expectBytes(got, expected, {
        what: 'the replies to 3 blank lines, then 12abc, -5, 1e3, +5, 0x10, " x"',
        section: section("One JSON value per line"),
        mistake: got.startsWith(MALFORMED_LINE + MALFORMED_LINE)
          ? "answered a whitespace-only line: skip a line whose trim() is empty"
          : undefined,
      });
    } finally {
      conn.close();
    }
  });
});

Deno.test("readableOf: a chunk already read stays intact after the next read", async () => {
  await using pair = await TcpPair.open({ section: section("A connection as two streams") });
  const { connected: conn, accepted: peer } = pair;
  const reader = readableOf(conn).getReader();
  try {
    await send(peer, "first", {
      awaiting: "the first piece",
      section: section("A connection as two streams"),
    });
    const a = await within(reader.read(), {
      awaiting: "the first chunk from readableOf(conn)",
      section: section("A connection as two streams"),
    });
    const kept = a.value ? new Uint8Array(a.value) : new Uint8Array(0);
    await send(peer, "SECOND", {
      awaiting: "the second piece",
      section: section("A connection as two streams"),
    });
    await peer.closeWrite();
    await within(reader.read(), {
      awaiting: "the second chunk from readableOf(conn)",
      section: section("A connection as two streams"),
    });
    expectBytes(a.value ?? new Uint8Array(0), kept, {
      what: "the first chunk, looked at again after the second read",
      section: section("A connection as two streams"),
      mistake: "every pull() read into one shared buffer: a chunk the consumer " +
        "still holds was overwritten; allocate a buffer per pull() (or enqueue a copy)",
    });
  } finally {
    await reader.cancel().catch(() => {});
    closeQuietly(conn);
  }
});

Deno.test("client: a server that resets mid-exchange makes requestAll() reject, and nothing leaks", async () => {
  using fake = FakeServer.open();
  // About 21 MB: more than both loopback buffers hold (about 10 MB), so the client is still
  // writing when the reset comes, however late the machine lets the server read its first byte.
  // A hundred big messages, not many small ones: 100,000 writes of 210 bytes took 0.2 s.
  const many = Array.from({ length: 100 }, (_, i) => ({ i, pad: "x".repeat(210_000) }));
  const asking = background(requestAll(fake.addr, many));
  try {
    const outcome = await fake.resetAfterFirstByte(asking, {
      client: "requestAll()",
      section: section("The client: pipelining and half-closing"),
    });
    expectThat(outcome instanceof Error, JSON.stringify(outcome)?.slice(0, 60) ?? "", {
      what: "requestAll() of 21 MB against a server that reset the connection",
      expected: "a rejection: the reset, passed on",
      section: section("The client: pipelining and half-closing"),
    });
  } finally {
    fake.close();
    await asking.catch(() => {});
  }
});

Deno.test("server: an accept() that fails for one reset connection is logged", async () => {
  await expectAcceptFailureLogged(
    (log) => serveNdjson((value) => value, { log }),
    section("An NDJSON server"),
  );
});

Deno.test("server: close() with a silent client connected ends quietly, logging no failure", async () => {
  const lines: string[] = [];
  const server = serveNdjson((value) => value, {
    hostname: "127.0.0.1",
    port: 0,
    log: (l) => lines.push(l),
  });
  const where = section("An NDJSON server");
  const silent = await connect(server.addr, {
    awaiting: "a silent client to connect",
    section: where,
  });
  await stopAfter(async () => {
    const replies = await within(requestAll(server.addr, [1]), {
      awaiting: "the reply to [1]",
      section: where,
    });
    expectEqual(replies, [1], {
      what: "requestAll([1]) against an echoing handler",
      section: where,
    });
  }, async () => {
    try {
      await expectCleanStop(server, {
        awaiting: "done to resolve with a client connected",
        section: where,
      });
    } finally {
      closeQuietly(silent);
    }
  });
  expectThat(!lines.some((l) => /fail/i.test(l)), JSON.stringify(lines), {
    what: "the server's log after close() with a silent client connected",
    expected: "no failure: closing the server is not a connection failing",
    section: where,
  });
});

Deno.test("server: after close(), done waits for a handler still at work, then resolves", async () => {
  using accepts = recordAccepts();
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  let entered: () => void = () => {};
  const inHandler = new Promise<void>((resolve) => entered = resolve);
  const server = serveNdjson(async (message) => {
    entered();
    await gate;
    return { echo: message };
  }, { hostname: "127.0.0.1", port: 0 });
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await connect(server.addr, {
      awaiting: "a connection",
      section: section("An NDJSON server"),
    });
    await send(conn, '{"n":1}\n', {
      awaiting: "one message",
      section: section("An NDJSON server"),
    });
    await within(inHandler, {
      awaiting: "the handler to be called",
      section: section("An NDJSON server"),
    });
    await expectDoneWaitsForHandler(server, {
      accepts,
      release,
      section: section("An NDJSON server"),
    });
  } finally {
    release();
    if (conn) closeQuietly(conn);
    server.close();
    await server.done.catch(() => {});
  }
});

Deno.test("server: a client that resets mid-line is logged as a failed connection", async () => {
  const log = new LogLines();
  const server = serveNdjson((value) => value, { hostname: "127.0.0.1", port: 0, log: log.push });
  const where = section("An NDJSON server");
  await stopAfter(async () => {
    await resetMidRequest(server.addr, '{"half": ', {
      awaiting: "a client to reset mid-line",
      section: where,
    });
    await log.next(/fail/i, {
      awaiting: "a log line about the connection that failed",
      watch: server.done,
      section: where,
      mistake: "log a connection that fails (a reset), unless the server is closing",
    });
  }, () => stopServer(server, { awaiting: "the server to stop after close()", section: where }));
});
