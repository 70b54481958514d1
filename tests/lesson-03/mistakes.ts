/**
 * Lesson 03's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in udp_local.ts. */
export const mistakes: Mistake[] = [
  {
    id: "counts-characters",
    summary: "replies with the decoded string's length instead of the number of bytes received",
    file: "udp_local.ts",
    edits: [{ find: "replyFor(data.length)", replace: "replyFor(decoder.decode(data).length)" }],
    caughtBy: "counted characters",
  },
  {
    id: "time-in-utc",
    summary: "timeMessage formats the time in UTC (toISOString) instead of local time",
    file: "udp_local.ts",
    edits: [{
      find: "  return `The time is ${date} ${time}.${micros}`;",
      replace: '  return `The time is ${now.toISOString().replace("T", " ").replace("Z", "000")}`;',
    }],
    caughtBy: "that is the time in UTC",
  },
  {
    id: "month-not-padded",
    summary: "timeMessage writes the month without its leading zero (2026-1-05)",
    file: "udp_local.ts",
    edits: [{ find: "-${two(now.getMonth() + 1)}-", replace: "-${now.getMonth() + 1}-" }],
    caughtBy: "the month is not zero-padded",
  },
  {
    id: "day-not-padded",
    summary: "timeMessage writes the day of the month without its leading zero (2026-01-5)",
    file: "udp_local.ts",
    edits: [{ find: "-${two(now.getDate())}`", replace: "-${now.getDate()}`" }],
    caughtBy: "the day is not zero-padded",
  },
  {
    id: "small-receive-buffer",
    summary: "receives into a 1024-byte buffer, so bigger datagrams are silently truncated",
    file: "udp_local.ts",
    edits: [{
      find: "const buffer = new Uint8Array(MAX_DATAGRAM);",
      replace: "const buffer = new Uint8Array(1024);",
    }],
    caughtBy: "silently cut off",
  },
  {
    id: "answers-once",
    summary: "receives and answers one datagram, then the server loop ends",
    file: "udp_local.ts",
    edits: [{
      find: "    while (true) {\n      let data",
      replace: "    for (let once = 0; once < 1; once++) {\n      let data",
    }],
    caughtBy: "receive() belongs in a loop",
  },
  {
    id: "replies-to-first-client",
    summary: "remembers the first sender and sends every reply there",
    file: "udp_local.ts",
    edits: [
      {
        find: "  let closing = false;\n",
        replace: "  let closing = false;\n  let first: Deno.NetAddr | undefined;\n",
      },
      {
        find: "      const from = sender as Deno.NetAddr;\n",
        replace: "      const from = sender as Deno.NetAddr;\n      first ??= from;\n",
      },
      { find: "replyFor(data.length)), from);", replace: "replyFor(data.length)), first);" },
    ],
    caughtBy: "the reply went to another address",
  },
  {
    id: "reply-with-newline",
    summary: "ends the reply with a newline, as if a datagram were a line of text",
    file: "udp_local.ts",
    edits: [{
      find: "return `Your data was ${byteCount} bytes long`;",
      replace: "return `Your data was ${byteCount} bytes long\\n`;",
    }],
    caughtBy: "a trailing newline",
  },
  {
    id: "client-leaks-socket",
    summary: "the client never closes its socket",
    file: "udp_local.ts",
    edits: [{
      find: "  } finally {\n    socket.close();\n  }",
      replace: "  } finally {\n    // forgot socket.close()\n  }",
    }],
    caughtBy: "not closed",
  },
  {
    id: "done-rejects-after-close",
    summary: "the server loop rethrows the error of the receive() that close() interrupts",
    file: "udp_local.ts",
    edits: [{
      find: "        if (closing) return;\n        throw error;",
      replace: "        throw error;",
    }],
    caughtBy: "done rejected after close()",
  },
  {
    id: "buffer-64000",
    summary: "receives into a 64,000-byte buffer: enough for most, not for a 65,507-byte datagram",
    file: "udp_local.ts",
    edits: [{
      find: "const buffer = new Uint8Array(MAX_DATAGRAM);",
      replace: "const buffer = new Uint8Array(64000);",
    }],
    caughtBy: "the receive buffer held only 64000 bytes",
  },
  {
    id: "log-latin1",
    summary: "the server logs the datagram decoded one character per byte (String.fromCharCode)",
    file: "udp_local.ts",
    edits: [{
      find: "says ${JSON.stringify(decoder.decode(data))}",
      replace: "says ${JSON.stringify(String.fromCharCode(...data))}",
    }],
    caughtBy: "decoded one character per byte",
  },
  {
    id: "log-whole-buffer",
    summary: "the server logs the whole receive buffer, stale bytes of longer datagrams included",
    file: "udp_local.ts",
    edits: [{
      find: "says ${JSON.stringify(decoder.decode(data))}",
      replace: 'says ${JSON.stringify(decoder.decode(buffer).replace(/\\0+$/, ""))}',
    }],
    caughtBy: "stale bytes of the",
  },
  {
    id: "ask-decodes-latin1",
    summary: "ask() turns the reply into text one character per byte",
    file: "udp_local.ts",
    edits: [{
      find: "      reply: decoder.decode(data),",
      replace: "      reply: String.fromCharCode(...data),",
    }],
    caughtBy: "decoded one character per byte",
  },
  {
    id: "ask-small-buffer",
    summary: "ask() receives the reply into a 1024-byte buffer",
    file: "udp_local.ts",
    edits: [{
      find: "await socket.receive(new Uint8Array(MAX_DATAGRAM));",
      replace: "await socket.receive(new Uint8Array(1024));",
    }],
    caughtBy: "the client's receive buffer held only",
  },
  {
    id: "ask-leaks-on-error",
    summary: "ask() closes its socket only on success, so a failed send leaks it",
    file: "udp_local.ts",
    edits: [
      {
        find: "  try {\n    await socket.send(encoder.encode(text), server);",
        replace: "  {\n    await socket.send(encoder.encode(text), server);",
      },
      { find: "  } finally {\n    socket.close();\n  }\n}", replace: "  }\n}" },
      {
        find: "    return {\n      reply: decoder.decode(data),",
        replace: "    socket.close();\n    return {\n      reply: decoder.decode(data),",
      },
    ],
    caughtBy: "not closed",
  },
  {
    id: "counts-re-encoded-text",
    summary: "counts the bytes of the decoded text encoded again, so each byte that is not " +
      "UTF-8 counts 3 (U+FFFD)",
    file: "udp_local.ts",
    edits: [
      {
        find: "      const from = sender as Deno.NetAddr;\n",
        replace:
          "      const from = sender as Deno.NetAddr;\n      const text = decoder.decode(data);\n",
      },
      {
        find: "replyFor(data.length)",
        replace: "replyFor(encoder.encode(text).length)",
      },
    ],
    caughtBy: "counted the bytes of the decoded text, encoded again",
  },
  {
    id: "fatal-log-decoder",
    summary: "decodes with a fatal TextDecoder, so the log line of a datagram that is not " +
      "UTF-8 throws and ends the server loop",
    file: "udp_local.ts",
    edits: [{
      find: "const decoder = new TextDecoder();",
      replace: 'const decoder = new TextDecoder("utf-8", { fatal: true });',
    }],
    caughtBy: "a datagram that is not UTF-8 ended the server",
  },
  {
    id: "server-ignores-hostname",
    summary: "startServer binds 127.0.0.1 whatever hostname it is given",
    file: "udp_local.ts",
    edits: [{
      find: '    hostname: options.hostname ?? "127.0.0.1",\n',
      replace: '    hostname: "127.0.0.1",\n',
    }],
    caughtBy: "ignored its hostname option: the server bound 127.0.0.1",
  },
  {
    id: "server-binds-any-address",
    summary: "startServer binds 0.0.0.0 (every address) whatever hostname it is given",
    file: "udp_local.ts",
    edits: [{
      find: '    hostname: options.hostname ?? "127.0.0.1",\n',
      replace: '    hostname: "0.0.0.0",\n',
    }],
    caughtBy: "ignored its hostname option: the server asked for 0.0.0.0",
  },
  {
    id: "reply-send-not-awaited",
    summary: "the server loop calls socket.send(reply, sender) without await",
    file: "udp_local.ts",
    edits: [{
      find: "      await socket.send(encoder.encode(replyFor(data.length)), from);",
      replace: "      socket.send(encoder.encode(replyFor(data.length)), from);",
    }],
    caughtBy: "the reply's send() was not awaited",
  },
];
