/**
 * Lesson 16 — A robust line-protocol server: the protocol's replies, and the
 * bounded line reader on real loopback TCP (re-chunked by a proxy).
 *
 * @module
 */

import { PiecesReader } from "../harness/pieces_reader.ts";
import { LineReader, type LineResult } from "../../exercises/lesson-16/line_reader.ts";
import { respond } from "../../exercises/lesson-16/protocol.ts";
import { within } from "../harness/deadline.ts";
import { expectEqual } from "../harness/expect.ts";
import { sectionsOf } from "../harness/failure.ts";
import { writeAll as send } from "../harness/tcp.ts";
import { TcpPair } from "../harness/tcp_pair.ts";
import type { Shaping } from "../harness/tcp_proxy.ts";

const section = sectionsOf("lesson-16");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A respond() that keeps an unfinished character's bytes for the next line. */
const STREAM_DECODE = "bytes left over from the previous line: decode was called with stream: " +
  "true (or on a decoder shared across lines in stream mode), so an unfinished character at the " +
  "end of one line was kept and spoiled the next; decode each line whole, without stream";

/** A reader result as plain data that failure messages can show. */
function shown(result: LineResult): string {
  if (result.kind === "line") return `line ${JSON.stringify(decoder.decode(result.bytes))}`;
  if (result.kind === "end") return `end (${result.partial} bytes dropped)`;
  return "too-long";
}

/**
 * Opens a connection whose peer end the test writes to, through a proxy that
 * reshapes the bytes on their way to the reader.
 */
async function withPipe(
  shape: Shaping,
  body: (reader: (maxBytes: number) => LineReader, peer: Deno.TcpConn) => Promise<void>,
): Promise<void> {
  await using pair = await TcpPair.open({
    section: section("Framing: a bounded line reader"),
    proxy: { reply: shape },
  });
  await body((maxBytes) => new LineReader(pair.connected, maxBytes), pair.accepted);
}

/** Takes `count` results from the reader, each bounded in time. */
async function take(reader: LineReader, count: number, awaiting: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(shown(
      await within(reader.next(), {
        awaiting: `${awaiting} (result #${i + 1}; so far: ${out.join(", ") || "nothing"})`,
        section: section("Framing: a bounded line reader"),
      }),
    ));
  }
  return out;
}

Deno.test("protocol: respond() answers each command with its exact line", () => {
  const cases: [Uint8Array, string, boolean][] = [
    [encoder.encode("ECHO hello world"), "OK hello world", false],
    [encoder.encode("ECHO"), "OK", false],
    [encoder.encode("UPPER straße"), "OK STRASSE", false],
    [encoder.encode("QUIT"), "BYE", true],
    [encoder.encode("echo lower-case verb"), "ERR unknown command", false],
    [encoder.encode(""), "ERR unknown command", false],
    [new Uint8Array([0x45, 0x43, 0x48, 0x4f, 0x20, 0xff, 0xfe]), "ERR invalid UTF-8", false],
    [new Uint8Array([0x45, 0x43, 0x48, 0x4f, 0x20, 0x63, 0xc3]), "ERR invalid UTF-8", false],
  ];
  for (const [line, expected, close] of cases) {
    let reply: { line: string; close: boolean };
    try {
      reply = respond(line);
    } catch (error) {
      if ((error as Error).message.startsWith("not implemented")) throw error;
      reply = {
        line: `(threw ${(error as Error).name}: ${(error as Error).message})`,
        close: false,
      };
    }
    const got = reply.line;
    expectEqual(reply, { line: expected, close }, {
      what: `respond(${JSON.stringify(decoder.decode(line))}${
        line.includes(0xff) || line.at(-1) === 0xc3 ? ", not valid UTF-8" : ""
      })`,
      section: section("The protocol"),
      mistake: got.startsWith("(threw")
        ? "crashing on a malformed line: respond() threw; answer with an ERR line, never throw"
        : expected === "ERR unknown command" && got.startsWith("OK")
        ? 'verbs are case-sensitive: "echo" is an unknown command'
        : got === "OK STRAßE"
        ? "upper-cased only a-z: UPPER is Unicode upper case (toUpperCase())"
        : expected === "ERR invalid UTF-8" && got.includes("\uFFFD")
        ? "decoded with a non-fatal TextDecoder: invalid bytes became U+FFFD instead of ERR invalid UTF-8"
        : expected === "ERR invalid UTF-8" && got.startsWith("OK")
        ? STREAM_DECODE
        : expected !== "ERR invalid UTF-8" && got === "ERR invalid UTF-8"
        ? STREAM_DECODE
        : undefined,
    });
  }
});

/** The likely mistake when a line kept the `\r` of its `\r\n`. */
const KEPT_CARRIAGE_RETURN = "kept the \\r of a \\r\\n: drop a \\r just before the \\n";

/** Names the reader mistake that turned `expected` into `got`, if one fits. */
function readerMistake(got: string[], expected: string[]): string | undefined {
  if (got.some((r) => r.includes('\\r"'))) {
    return KEPT_CARRIAGE_RETURN;
  }
  if (got.some((r) => /^line "(\\n)+"$/.test(r))) {
    return "kept views of the read buffer: the next read overwrote the line's " +
      "bytes; copy each piece (slice) before reading again";
  }
  const end = got.at(-1) ?? "";
  if (end.startsWith("end (0") && end !== expected.at(-1)) {
    return "end must count the bytes of the unfinished line it dropped";
  }
  return undefined;
}

Deno.test("reader: lines cut into 1-byte reads or gathered into one read, \\n or \\r\\n", async () => {
  const text = "ECHO a\r\nUPPER é\n\nQUIT\ntail";
  const expected = [
    'line "ECHO a"',
    'line "UPPER é"',
    'line ""',
    'line "QUIT"',
    "end (4 bytes dropped)",
  ];
  // Fixed pieces, not a socket: a busy reader of a socket gets several dripped bytes per read, and
  // what a mistaken reader returns (a pinned known mistake's output) depends on that.
  const bytes = encoder.encode(text);
  const shapes: [string, Uint8Array[]][] = [
    ["one byte per read", [...bytes].map((byte) => new Uint8Array([byte]))],
    ["in one read", [bytes]],
  ];
  for (const [how, pieces] of shapes) {
    const got = await take(
      new LineReader(new PiecesReader(pieces), 1024),
      expected.length,
      `the reader's results, ${how}`,
    );
    expectEqual(got, expected, {
      what: `the results for ${JSON.stringify(text)} delivered ${how}`,
      section: section("Framing: a bounded line reader"),
      mistake: got.includes('line "tail"')
        ? "executed an unfinished line at EOF: a line without its \\n is not a command; drop it"
        : readerMistake(got, expected),
    });
  }
});

Deno.test("reader: an endless line is reported as too long before any newline arrives", async () => {
  await withPipe({}, async (reader, peer) => {
    const lines = reader(16);
    await send(peer, "x".repeat(64 * 1024), {
      awaiting: "64 KiB without a newline",
      section: section("Framing: a bounded line reader"),
    });
    const first = shown(
      await within(lines.next(), {
        awaiting: "a too-long report while the 64 KiB line is still unfinished",
        section: section("Framing: a bounded line reader"),
        mistake:
          "the reader waited for a newline before checking the length: an endless line would grow memory without bound",
      }),
    );
    expectEqual(first, "too-long", {
      what: "the first result for 64 KiB without a newline (limit 16 bytes)",
      section: section("Framing: a bounded line reader"),
    });
    await send(peer, "the rest of it\nECHO ok\n", {
      awaiting: "the end of the long line and a good one",
      section: section("Framing: a bounded line reader"),
    });
    await peer.closeWrite();
    expectEqual(await take(lines, 2, "the results after the long line"), [
      'line "ECHO ok"',
      "end (0 bytes dropped)",
    ], {
      what: "the results after the long line ended",
      section: section("Framing: a bounded line reader"),
      mistake:
        "after too-long, skip up to and including the long line's \\n, then read lines as before",
    });
  });
});

Deno.test("reader: a line of exactly maxBytes is accepted, one byte more is too long", async () => {
  await withPipe({ gather: 31 }, async (reader, peer) => {
    await send(peer, "12345678\n123456789\n1234567\r\nok\n", {
      awaiting: "the lines to be sent",
      section: section("Framing: a bounded line reader"),
    });
    await peer.closeWrite();
    const got = await take(reader(8), 5, "the reader's results with maxBytes 8");
    expectEqual(
      got,
      ['line "12345678"', "too-long", 'line "1234567"', 'line "ok"', "end (0 bytes dropped)"],
      {
        what: "the results for lines of 8, 9 and 7+\\r bytes with maxBytes 8",
        section: section("Framing: a bounded line reader"),
        mistake: got[0] === "too-long"
          ? "refused a line of exactly maxBytes: too long means MORE than " +
            "maxBytes bytes"
          : got[2] === 'line "1234567\\r"'
          ? KEPT_CARRIAGE_RETURN
          : got[1] === "too-long" && got[2] !== 'line "1234567"'
          ? "skipped past the end of the long line: when its \\n came in the same " +
            "read, the next line starts right after that \\n"
          : undefined,
      },
    );
  });
});

Deno.test("protocol: respond() keeps the text after the first space exactly, and no verb is trimmed", () => {
  const cases: [string, string][] = [
    ["ECHO  two  spaces ", "OK  two  spaces "],
    ["ECHO \t tab", "OK \t tab"],
    [" ECHO leading space", "ERR unknown command"],
    ["ECHO\tx", "ERR unknown command"],
    ["ECHOx", "ERR unknown command"],
    ["UPPER", "OK"],
    ["QUIT now", "BYE"],
    ["ECHO ", "OK"],
  ];
  for (const [text, expected] of cases) {
    const got = respond(encoder.encode(text)).line;
    expectEqual(got, expected, {
      what: `respond(${JSON.stringify(text)})`,
      section: section("The protocol"),
      mistake: got === "ERR invalid UTF-8"
        ? STREAM_DECODE
        : (expected === "ERR unknown command" && got !== expected) ||
            (got !== expected && got === expected.trimEnd())
        ? "trimmed or reshaped the line: the verb is everything up to the " +
          "first space, exactly as sent"
        : got !== expected
        ? "rebuilt the text from words: it is everything after the first " +
          "space, spaces and all (text.slice(space + 1))"
        : undefined,
    });
  }
});

Deno.test("reader: a too-long line that spans reads leaves nothing of itself in the next line", async () => {
  const reader = new LineReader(new PiecesReader(["abcdef", "ghijklmn\nOK\n"]), 10);
  const got = await take(reader, 3, "the results for a 14-byte line over two reads, then OK");
  expectEqual(got, ["too-long", 'line "OK"', "end (0 bytes dropped)"], {
    what: "the results with maxBytes 10 for `abcdef` + `ghijklmn\\n` (two reads), then `OK\\n`",
    section: section("Framing: a bounded line reader"),
    mistake: got[1] !== 'line "OK"'
      ? "kept part of the long line: on too-long, forget every byte of it gathered so far " +
        "(the pieces and their count), not only the current read's"
      : undefined,
  });
});

Deno.test("reader: after the end, next() reports the end again, with nothing more dropped", async () => {
  const reader = new LineReader(new PiecesReader(["ECHO hi\nQU"]), 64);
  const got = await take(reader, 3, "the results for `ECHO hi\\nQU` and EOF, asked once more");
  expectEqual(got, ['line "ECHO hi"', "end (2 bytes dropped)", "end (0 bytes dropped)"], {
    what: "the results for `ECHO hi\\nQU`, then EOF, then one more next()",
    section: section("Framing: a bounded line reader"),
    mistake: got[2] !== "end (0 bytes dropped)"
      ? "the dropped partial line was still counted: forget it once the end has reported it"
      : undefined,
  });
});

Deno.test("reader: a newline left in the buffer by an earlier, longer read does not end a line", async () => {
  const reader = new LineReader(new PiecesReader(["aaaaaaaaaa\n", "bb", "cc\n"]), 64);
  const got = await take(reader, 3, "the results for `aaaaaaaaaa\\n`, `bb`, `cc\\n` (three reads)");
  expectEqual(got, ['line "aaaaaaaaaa"', 'line "bbcc"', "end (0 bytes dropped)"], {
    what: "the results for the reads `aaaaaaaaaa\\n`, then `bb`, then `cc\\n`",
    section: section("Framing: a bounded line reader"),
    mistake: got.includes('line "bb"')
      ? "searched past the bytes the last read returned: a stale \\n from an earlier, longer " +
        "read split the line; look for the newline only in the unused bytes (start to end)"
      : undefined,
  });
});

Deno.test("reader: a line that reaches exactly maxBytes before its newline arrives is accepted", async () => {
  const reader = new LineReader(new PiecesReader(["12345678", "\nok\n"]), 8);
  const got = await take(reader, 3, "the results for `12345678`, then `\\nok\\n`, with maxBytes 8");
  expectEqual(got, ['line "12345678"', 'line "ok"', "end (0 bytes dropped)"], {
    what: "the results with maxBytes 8 for `12345678` (one read), then `\\nok\\n` (the next)",
    section: section("Framing: a bounded line reader"),
    mistake: got[0] === "too-long"
      ? "reported too-long when the line reached maxBytes with its \\n not yet read: " +
        "too long means MORE than maxBytes bytes; wait for the next byte"
      : undefined,
  });
});

Deno.test("reader: the \\r of a \\r\\n counts toward the limit", async () => {
  const reader = new LineReader(new PiecesReader(["12345678\r\nok\n"]), 8);
  const got = await take(reader, 3, "the results for `12345678\\r\\nok\\n` with maxBytes 8");
  expectEqual(got, ["too-long", 'line "ok"', "end (0 bytes dropped)"], {
    what: "the results with maxBytes 8 for `12345678\\r\\n` (9 bytes before the \\n), then `ok\\n`",
    section: section("Framing: a bounded line reader"),
    mistake: got[0] === 'line "12345678"'
      ? "left the \\r out of the limit: the limit counts every byte before the \\n, a \\r " +
        "included"
      : undefined,
  });
});

Deno.test("reader: the bytes of a line stay as they were after the next read", async () => {
  const reader = new LineReader(new PiecesReader(["AAAA\n", "BBBB\n", "CCCC\r\n"]), 64);
  // Every result is kept as it came, bytes and all, and looked at only once the reader has read
  // on: a caller may hold a line while it asks for the next one.
  const results: LineResult[] = [];
  for (let i = 0; i < 4; i++) {
    results.push(
      await within(reader.next(), {
        awaiting: `result #${i + 1} for \`AAAA\\n\`, \`BBBB\\n\`, \`CCCC\\r\\n\` (three reads)`,
        section: section("Framing: a bounded line reader"),
      }),
    );
  }
  const got = results.map(shown);
  const expected = ['line "AAAA"', 'line "BBBB"', 'line "CCCC"', "end (0 bytes dropped)"];
  expectEqual(got, expected, {
    what:
      "the results for `AAAA\\n`, `BBBB\\n`, `CCCC\\r\\n` (three reads), all kept until the end",
    section: section("Framing: a bounded line reader"),
    mistake: got.some((r, i) => r !== expected[i] && r === got[2] && i < 2)
      ? "returned a view of the read buffer as the line: the next read overwrote an earlier " +
        "line's bytes; copy the line out (slice) before returning it"
      : readerMistake(got, expected),
  });
});

Deno.test("reader: a \\r inside a line is kept; only the one just before the \\n is dropped", async () => {
  const text = "ECHO a\rb\r\nx\r\r\n\rc\n";
  const reader = new LineReader(new PiecesReader([text]), 64);
  const got = await take(reader, 4, "the results for `ECHO a\\rb\\r\\nx\\r\\r\\n\\rc\\n`");
  const expected = ['line "ECHO a\\rb"', 'line "x\\r"', 'line "\\rc"', "end (0 bytes dropped)"];
  expectEqual(got, expected, {
    what: "the results for `ECHO a\\rb\\r\\n`, `x\\r\\r\\n`, `\\rc\\n` (one read)",
    section: section("Framing: a bounded line reader"),
    mistake: got[0] === 'line "ECHO ab"'
      ? "removed every \\r: drop only a \\r just before the \\n; one anywhere else is part " +
        "of the line"
      : got[1] === 'line "x\\r\\r"'
      ? KEPT_CARRIAGE_RETURN
      : undefined,
  });
});

Deno.test("protocol: respond() decodes each line on its own: a broken last character stays in its line", () => {
  const lines: [Uint8Array, string][] = [
    [encoder.encode("ECHO first"), "OK first"],
    [new Uint8Array([...encoder.encode("ECHO caf"), 0xc3]), "ERR invalid UTF-8"],
    [encoder.encode("ECHO next"), "OK next"],
    [new Uint8Array([...encoder.encode("ECHO x"), 0xe2, 0x98]), "ERR invalid UTF-8"],
    [encoder.encode("ECHO last"), "OK last"],
  ];
  // Every reply first, then one verdict: a mistake shows in the line after the broken one.
  const got = lines.map(([line]) => respond(line).line);
  const expected = lines.map(([, reply]) => reply);
  expectEqual(got, expected, {
    what: "the replies to ECHO first, `ECHO caf` + c3, ECHO next, `ECHO x` + e2 98, ECHO last, " +
      "one respond() call each",
    section: section("Bytes first, text second"),
    mistake: got.some((reply) => reply.includes("\uFFFD"))
      ? "decoded with a non-fatal TextDecoder: invalid bytes became U+FFFD instead of ERR invalid UTF-8"
      : got.some((reply, i) =>
          reply !== expected[i] && (reply === "ERR invalid UTF-8" || reply.startsWith("OK"))
        )
      ? STREAM_DECODE
      : undefined,
  });
});
