/**
 * Lesson 15's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/** The bugs learners write in ndjson.ts and gzip.ts. */
export const mistakes: Mistake[] = [
  {
    id: "decodes-chunks-separately",
    summary:
      "decodes every chunk with its own TextDecoder, so a character split across reads breaks",
    file: "ndjson.ts",
    edits: [{
      find: "return bytes.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream());",
      replace: "return bytes\n" +
        "    .pipeThrough(\n" +
        "      new TransformStream<Uint8Array, string>({\n" +
        "        transform: (chunk, out) => out.enqueue(new TextDecoder().decode(chunk)),\n" +
        "      }),\n" +
        "    )\n" +
        "    .pipeThrough(new TextLineStream());",
    }],
    caughtBy: "decoded each chunk separately",
    caughtSometimesBy: {
      tests: ["server: messages cut into 1-byte reads are still answered whole"],
      why: "over real sockets, a busy server may read a whole character at once; " +
        "lines()'s own test splits it on every run",
    },
  },
  {
    id: "one-read-one-line",
    summary: "takes every chunk the connection delivers for one line",
    file: "ndjson.ts",
    edits: [{
      find: "return bytes.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream());",
      replace: "return bytes.pipeThrough(new TextDecoderStream()).pipeThrough(\n" +
        "    new TransformStream<string, string>({\n" +
        '      transform: (chunk, out) => out.enqueue(chunk.replace(/\\r?\\n$/, "")),\n' +
        "    }),\n" +
        "  );",
    }],
    caughtBy: "one read() is one line",
  },
  {
    id: "pretty-printed-json",
    summary: "pretty-prints each message, so one message spans several lines",
    file: "ndjson.ts",
    edits: [{
      find: 'encoder.encode(JSON.stringify(value) + "\\n")',
      replace: 'encoder.encode(JSON.stringify(value, null, 2) + "\\n")',
    }],
    caughtBy: "pretty-printed JSON spans several lines",
  },
  {
    id: "readable-closes-connection",
    summary:
      "the server reads through conn.readable, which closes the connection at the client's EOF",
    file: "ndjson.ts",
    edits: [{
      find: "for await (const line of lines(readableOf(conn))) {",
      replace: "for await (const line of lines(conn.readable)) {",
    }],
    caughtBy: "conn.readable closed the whole connection",
  },
  {
    id: "readable-of-is-conn-readable",
    summary: "readableOf() just returns conn.readable, which owns (and closes) the connection",
    file: "ndjson.ts",
    edits: [{
      find: "  return new ReadableStream<Uint8Array>({\n    async pull(controller) {",
      replace: "  if (conn) return conn.readable;\n" +
        "  return new ReadableStream<Uint8Array>({\n    async pull(controller) {",
    }],
    caughtBy: "conn.readable closed the whole connection",
  },
  {
    id: "writable-close-to-half-close",
    summary:
      "the client closes conn.writable to signal the end of its messages, which closes everything",
    file: "ndjson.ts",
    edits: [{
      find: "    writer.releaseLock();\n    await conn.closeWrite();",
      replace: "    await writer.close();",
    }],
    caughtBy: "closed conn.writable to half-close",
  },
  {
    id: "crashes-on-malformed-line",
    summary: "lets JSON.parse throw on a malformed line, which ends the connection",
    file: "ndjson.ts",
    edits: [{
      find: "        let message: unknown;\n" +
        "        try {\n" +
        "          message = JSON.parse(line);\n" +
        "        } catch {\n" +
        "          await writer.write(encodeMessage(MALFORMED));\n" +
        "          continue;\n" +
        "        }\n",
      replace: "        const message: unknown = JSON.parse(line);\n",
    }],
    caughtBy: "a malformed line closed the connection",
  },
  {
    id: "compressor-never-closed",
    summary: "writes the data into the CompressionStream but never closes it, so gzip never ends",
    file: "gzip.ts",
    edits: [{ find: "  await writer.close();", replace: "  // forgot writer.close()" }],
    caughtBy: "gzip trailer only when its input is closed",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "ndjson.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;\n",
      replace: "        if (closing) return;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "handler-not-awaited",
    summary: "the server encodes the handler's promise instead of awaiting its value",
    file: "ndjson.ts",
    edits: [{
      find: "await writer.write(encodeMessage(await handler(message)));",
      replace: "await writer.write(encodeMessage(handler(message)));",
    }],
    caughtBy: "sent the handler's promise",
  },
  {
    id: "replies-in-finishing-order",
    summary: "the server starts every handler at once and writes each reply when it is ready",
    file: "ndjson.ts",
    edits: [{
      find: "        await writer.write(encodeMessage(await handler(message)));",
      replace: "        Promise.resolve(handler(message))\n" +
        "          .then((reply) => writer.write(encodeMessage(reply)))\n" +
        "          .catch(() => {});",
    }],
    caughtBy: "replies left in the order the handlers finished",
  },
  {
    id: "one-buffer-for-every-pull",
    summary: "readableOf allocates one buffer for the stream and enqueues views of it",
    file: "ndjson.ts",
    edits: [{
      find: "  return new ReadableStream<Uint8Array>({\n    async pull(controller) {\n" +
        "      const buffer = new Uint8Array(16 * 1024);",
      replace: "  const buffer = new Uint8Array(16 * 1024);\n" +
        "  return new ReadableStream<Uint8Array>({\n    async pull(controller) {",
    }],
    caughtBy: "every pull() read into one shared buffer",
  },
  {
    id: "answers-whitespace-lines",
    summary: "the server skips only empty lines, and answers a whitespace-only one",
    file: "ndjson.ts",
    edits: [{
      find: '        if (line.trim() === "") continue;',
      replace: '        if (line === "") continue;',
    }],
    caughtBy: "answered a whitespace-only line",
  },
  {
    id: "done-before-handlers",
    summary: "done settles when the accept loop ends, without waiting for the handlers",
    file: "ndjson.ts",
    edits: [{ find: "    while (handlers.size) await Promise.all(handlers);\n", replace: "" }],
    caughtBy: "done settled before every connection's task ended",
  },
  ...outOfFilesMistakes("ndjson.ts", {
    logCall: "options.log?.(`accept() failed: ${(error as Error).message}`);",
  }),
  {
    id: "handler-error-as-malformed",
    summary: "the handler is called inside the JSON.parse try, so a handler that throws is " +
      "answered as malformed JSON",
    file: "ndjson.ts",
    edits: [{
      find:
        "        let message: unknown;\n        try {\n          message = JSON.parse(line);\n" +
        "        } catch {\n          await writer.write(encodeMessage(MALFORMED));\n" +
        "          continue;\n        }\n" +
        "        await writer.write(encodeMessage(await handler(message)));\n",
      replace: "        let reply: unknown;\n        try {\n" +
        "          reply = await handler(JSON.parse(line));\n        } catch {\n" +
        "          reply = MALFORMED;\n        }\n" +
        "        await writer.write(encodeMessage(reply));\n",
    }],
    caughtBy: "answered a handler's error as malformed JSON",
  },
  {
    id: "gzip-pipe-not-awaited",
    summary: "sendCompressed does not await the pipe, so it returns before the gzip trailer is " +
      "written and the connection closed",
    file: "gzip.ts",
    edits: [{ find: "  await sending;\n}", replace: "  void sending;\n}" }],
    caughtBy: "returned before the pipe had finished",
  },
  {
    id: "readable-pumps-in-start",
    summary: "readableOf reads the connection in a loop in start() instead of once per pull(), " +
      "so it reads ahead without limit (no backpressure)",
    file: "ndjson.ts",
    edits: [{
      find: "    async pull(controller) {\n      const buffer = new Uint8Array(16 * 1024);\n" +
        "      const n = await conn.read(buffer);\n      if (n === null) controller.close();\n" +
        "      else controller.enqueue(buffer.subarray(0, n));\n    },\n",
      replace: "    async start(controller) {\n      while (true) {\n" +
        "        const buffer = new Uint8Array(16 * 1024);\n" +
        "        const n = await conn.read(buffer);\n" +
        "        if (n === null) return controller.close();\n" +
        "        controller.enqueue(buffer.subarray(0, n));\n      }\n    },\n",
    }],
    caughtBy: "read ahead without limit",
  },
  {
    id: "line-stream-without-flush",
    summary: "lines() splits with a hand-written TransformStream that has no flush(), so a last " +
      "line without a newline is dropped at EOF",
    file: "ndjson.ts",
    edits: [{
      find: "return bytes.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream());",
      replace: 'let rest = "";\n' +
        "  return bytes.pipeThrough(new TextDecoderStream()).pipeThrough(\n" +
        "    new TransformStream<string, string>({\n" +
        "      transform(chunk, out) {\n" +
        '        const parts = (rest + chunk).split("\\n");\n' +
        "        rest = parts.pop()!;\n" +
        '        for (const part of parts) out.enqueue(part.replace(/\\r$/, ""));\n' +
        "      },\n" +
        "    }),\n" +
        "  );",
    }],
    caughtBy: "dropped the last line at EOF",
  },
];
