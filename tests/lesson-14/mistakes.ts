/**
 * Lesson 14's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/** The bugs learners write in half_close.ts. */
export const mistakes: Mistake[] = [
  {
    id: "server-bypasses-writeall",
    summary: "the server writes its reply with one conn.write() instead of writeAll",
    file: "half_close.ts",
    edits: [{
      find: "      await writeAll(conn, encoder.encode(replyFor(count)));",
      replace: "      await conn.write(encoder.encode(replyFor(count)));",
    }],
    caughtBy: "only part of the reply arrived",
  },
  {
    id: "forgets-close-write",
    summary:
      "the client sends its request but never half-closes, so the server waits for EOF forever",
    file: "half_close.ts",
    edits: [{ find: "    await conn.closeWrite();\n", replace: "" }],
    caughtBy: "never half-closed",
  },
  {
    id: "close-instead-of-close-write",
    summary: "the client calls close() after the request, so it can no longer read the reply",
    file: "half_close.ts",
    edits: [{ find: "    await conn.closeWrite();\n", replace: "    conn.close();\n" }],
    caughtBy: "used close() where closeWrite() was needed",
  },
  {
    id: "replies-after-first-read",
    summary: "the server counts one read() and answers, instead of reading until null",
    file: "half_close.ts",
    edits: [{
      find: "    if (n === null) return count;\n    count += n;\n  }",
      replace: "    if (n === null) return count;\n    count += n;\n    return count;\n  }",
    }],
    caughtBy: "answered before EOF",
  },
  {
    id: "stops-at-short-read",
    summary: "the client takes a read() that did not fill the buffer for the end of the reply",
    file: "half_close.ts",
    edits: [{
      find: "    chunks.push(buffer.slice(0, n));\n    total += n;\n",
      replace: "    chunks.push(buffer.slice(0, n));\n    total += n;\n    if (n < 64) break;\n",
    }],
    caughtBy: "stopped reading at a short read()",
  },
  {
    id: "server-never-closes",
    summary:
      "the server writes its reply but never closes the connection, so the client never sees EOF",
    file: "half_close.ts",
    edits: [{
      find: "      open.delete(conn);\n      closeQuietly(conn);\n",
      replace: "      open.delete(conn);\n",
    }],
    caughtBy: "the server must close after replying",
  },
  {
    id: "serves-one-at-a-time",
    summary: "the accept loop awaits each handler, so one slow client blocks every other",
    file: "half_close.ts",
    edits: [{
      find: "      const handler = handle(conn);\n",
      replace: "      await handle(conn);\n      const handler = Promise.resolve();\n",
    }],
    caughtBy: "serves one client at a time",
  },
  {
    id: "close-leaves-connections",
    summary:
      "close() closes the listener only; accepted connections stay open and done never settles",
    file: "half_close.ts",
    edits: [{ find: "      for (const conn of open) closeQuietly(conn);\n", replace: "" }],
    caughtBy: "close() left accepted connections open",
  },
  {
    id: "expects-first-write-to-fail",
    summary:
      "the probe writes once and, when that write is accepted, concludes that the peer still reads",
    file: "half_close.ts",
    edits: [{
      find: "  while (accepted < maxWrites) {",
      replace: "  while (accepted < Math.min(1, maxWrites)) {",
    }],
    caughtBy: "the first write after the peer closed is usually accepted",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "half_close.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;\n",
      replace: "        if (closing) return;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "chunks-are-views",
    summary: "readToEnd keeps views of its one read buffer instead of copies",
    file: "half_close.ts",
    edits: [{
      find: "    chunks.push(buffer.slice(0, n));",
      replace: "    chunks.push(buffer.subarray(0, n));",
    }],
    caughtBy: "kept views of one reused buffer",
    varyingOutput: "what the aliased chunks show depends on how the kernel split the reads",
  },
  {
    id: "read-to-end-through-text",
    summary: "readToEnd decodes each read() to text and encodes it again",
    file: "half_close.ts",
    edits: [
      {
        find: "    chunks.push(buffer.slice(0, n));",
        replace: "    chunks.push(encoder.encode(decoder.decode(buffer.subarray(0, n))));",
      },
      {
        find: "  const out = new Uint8Array(total);",
        replace: "  total = chunks.reduce((a, c) => a + c.length, 0);\n" +
          "  const out = new Uint8Array(total);",
      },
    ],
    caughtBy: "became U+FFFD",
  },
  {
    id: "counts-characters",
    summary: "countToEnd adds the decoded text's length",
    file: "half_close.ts",
    edits: [{
      find: "    if (n === null) return count;\n    count += n;",
      replace: "    if (n === null) return count;\n" +
        "    count += decoder.decode(buffer.subarray(0, n)).length;",
    }],
    caughtBy: "counted characters",
  },
  {
    id: "single-write",
    summary: "writeAll calls write() once",
    file: "half_close.ts",
    edits: [{
      find: "export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {\n" +
        "  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));",
      replace:
        "export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {\n" +
        "  await conn.write(data);",
    }],
    caughtBy: "write() may take only part",
  },
  {
    id: "request-closes-only-on-success",
    summary: "request() closes its connection after a reply, not when sending fails",
    file: "half_close.ts",
    edits: [{
      find:
        "    return decoder.decode(await readToEnd(conn));\n  } finally {\n    conn.close();\n  }",
      replace: "    const reply = decoder.decode(await readToEnd(conn));\n    conn.close();\n" +
        "    return reply;\n  } finally {\n    // closed above\n  }",
    }],
    caughtBy: "not closed",
  },
  {
    id: "probe-writes-once-more",
    summary: "probeWrites loops while accepted <= maxWrites",
    file: "half_close.ts",
    edits: [{
      find: "  while (accepted < maxWrites) {",
      replace: "  while (accepted <= maxWrites) {",
    }],
    caughtBy: "wrote once more than maxWrites",
  },
  {
    id: "probe-swallows-other-errors",
    summary: "probeWrites reports every error that is not a reset as BrokenPipe",
    file: "half_close.ts",
    edits: [{
      find:
        '      if (error instanceof Deno.errors.BrokenPipe) return { accepted, failure: "BrokenPipe" };',
      replace: "      if (!(error instanceof Deno.errors.ConnectionReset)) {\n" +
        '        return { accepted, failure: "BrokenPipe" };\n      }',
    }],
    caughtBy: "rethrow any other error as it is",
  },
  {
    id: "closes-while-reading",
    summary: "request() starts reading, writes, then calls close() instead of closeWrite()",
    file: "half_close.ts",
    edits: [{
      find: '    await writeAll(conn, typeof body === "string" ? encoder.encode(body) : body);\n' +
        "    await conn.closeWrite();\n    return decoder.decode(await readToEnd(conn));",
      replace: "    const reading = readToEnd(conn);\n" +
        '    await writeAll(conn, typeof body === "string" ? encoder.encode(body) : body);\n' +
        "    conn.close();\n    return decoder.decode(await reading);",
    }],
    caughtBy: "used close() where closeWrite() was needed",
  },
  ...outOfFilesMistakes("half_close.ts", {
    logCall: "options.log?.(`accept() failed: ${(error as Error).message}`);",
  }),
  {
    id: "probe-counts-failed-write",
    summary: "probeWrites counts each write before it is made, so the write that fails is " +
      "counted as accepted",
    file: "half_close.ts",
    edits: [{
      find: "    try {\n      await writeAll(conn, chunk);\n    } catch (error) {\n",
      replace:
        "    accepted++;\n    try {\n      await writeAll(conn, chunk);\n    } catch (error) {\n",
    }, {
      find: "      throw error;\n    }\n    accepted++;\n  }\n",
      replace: "      throw error;\n    }\n  }\n",
    }],
    caughtBy: "counted the failed write as accepted",
  },
  {
    id: "probe-throws-reset",
    summary: "probeWrites reports BrokenPipe but throws ConnectionReset",
    file: "half_close.ts",
    edits: [{
      find: "      if (error instanceof Deno.errors.ConnectionReset) {\n" +
        '        return { accepted, failure: "ConnectionReset" };\n      }\n',
      replace: "",
    }],
    caughtBy: "ConnectionReset also means the peer has gone",
  },
  {
    id: "probe-counts-partial-write",
    summary: "probeWrites counts one write() per chunk, so a chunk write() took only part of " +
      "counts as accepted",
    file: "half_close.ts",
    edits: [{
      find: "      await writeAll(conn, chunk);",
      replace: "      await conn.write(chunk);",
    }],
    caughtBy: "probeWrites counted a chunk that write() took only part of",
  },
  {
    id: "reset-read-as-eof",
    summary: "readToEnd takes a ConnectionReset for the end of the reply",
    file: "half_close.ts",
    edits: [{
      find: "    const n = await conn.read(buffer);\n    if (n === null) break;\n",
      replace: "    let n: number | null;\n    try {\n      n = await conn.read(buffer);\n" +
        "    } catch (error) {\n" +
        "      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;\n" +
        "      n = null; // the server is gone: nothing more will come\n    }\n" +
        "    if (n === null) break;\n",
    }],
    caughtBy: "a reset is not EOF",
  },
  {
    id: "done-before-handlers",
    summary: "done settles when the accept loop ends, without waiting for the handlers",
    file: "half_close.ts",
    edits: [{ find: "    while (handlers.size) await Promise.all(handlers);\n", replace: "" }],
    caughtBy: "done settled before every connection's task ended",
  },
  {
    id: "body-always-text",
    summary: "request() encodes the body as text whatever its type, so a Uint8Array body is " +
      "sent as its numbers joined by commas",
    file: "half_close.ts",
    edits: [{
      find: 'typeof body === "string" ? encoder.encode(body) : body',
      replace: "encoder.encode(body as string)",
    }],
    caughtBy: "the Uint8Array body was turned into text",
    caughtSometimesBy: {
      tests: ["server: counts 8 MiB of non-ASCII bytes from one client while another stays silent"],
      why: "its 8 MiB body, sent as 32 MiB of text, fails that test by its count, or by the time " +
        "it takes on a busy machine",
    },
  },
];
