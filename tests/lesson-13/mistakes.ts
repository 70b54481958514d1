/**
 * Lesson 13's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/** The bugs learners write in tcp_deadlock.ts. */
export const mistakes: Mistake[] = [
  {
    id: "writes-everything-first",
    summary: "exchange writes all the data before it starts reading, like the book's client",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "  const reading = (async () => {\n",
      replace: "  await writing;\n  const reading = (async () => {\n",
    }],
    caughtBy: "both buffers full",
  },
  {
    id: "server-write-not-awaited",
    summary:
      "the server starts each chunk's writeAll without awaiting it, then reads into the same buffer",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));",
      replace: "        writeAll(conn, buffer.subarray(0, n));",
    }],
    caughtBy: "a write() of the echo began before the previous write() on that connection had",
    caughtSometimesBy: {
      tests: [
        "server: a client that resets mid-stream ends only its own connection",
        "server: capitalizes 1 MB for a client that reads while it writes",
      ],
      why: "there a write is still pending when the connection ends (and is rejected) only if " +
        "the reader fell behind; the test that cuts the server's writes sees them overlap on " +
        "every run",
    },
  },
  {
    id: "buffer-shared-by-connections",
    summary: "the server reads every connection into one buffer, made once for the whole server",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "  async function capitalize(conn: Deno.Conn): Promise<void> {\n",
      replace: "  const buffer = new Uint8Array(CHUNK_SIZE);\n" +
        "  async function capitalize(conn: Deno.Conn): Promise<void> {\n",
    }, {
      find: "      const buffer = new Uint8Array(CHUNK_SIZE);\n      while (true) {\n" +
        "        const n = await conn.read(buffer);",
      replace: "      while (true) {\n        const n = await conn.read(buffer);",
    }],
    caughtBy: "the connections shared one read buffer",
  },
  {
    id: "forgets-close-write",
    summary: "exchange never half-closes, so the server never sees EOF",
    file: "tcp_deadlock.ts",
    edits: [{ find: "    await conn.closeWrite();\n", replace: "" }],
    caughtBy: "forgot closeWrite()",
  },
  {
    id: "client-single-write",
    summary: "exchange calls write() once and ignores the count it returns",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "    await writeAll(conn, data);\n",
      replace: "    await conn.write(data);\n",
    }],
    caughtBy: "ignored the count write() returned",
  },
  {
    id: "server-single-write",
    summary: "the server writes each chunk back with one write() and ignores the count",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));\n",
      replace: "        await conn.write(buffer.subarray(0, n));\n",
    }],
    caughtBy: "ignored the count write() returned",
  },
  {
    id: "decodes-text",
    summary: "upperAscii decodes the bytes as text and upper-cases the string",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "  const out = new Uint8Array(bytes.length);\n",
      replace: "  return encoder.encode(decoder.decode(bytes).toUpperCase());\n" +
        "  const out = new Uint8Array(bytes.length);\n",
    }],
    caughtBy: "decoding as text",
  },
  {
    id: "rounds-down",
    summary: "payload rounds the byte count down instead of up to a multiple of 16",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "Math.ceil(bytecount / message.length)",
      replace: "Math.floor(bytecount / message.length)",
    }],
    caughtBy: "round the byte count UP",
  },
  {
    id: "server-keeps-connection-open",
    summary: "the server never closes a connection after its client's EOF",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "      open.delete(conn);\n      try {\n        conn.close();\n",
      replace: "      open.delete(conn);\n      try {\n",
    }],
    caughtBy: "close the connection at EOF",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) break;\n",
      replace: "        if (closing) break;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "first-is-a-view",
    summary: "exchange() keeps the first chunk as a view of the read buffer",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "if (received === 0) first = buffer.slice(0, n);",
      replace: "if (received === 0) first = buffer.subarray(0, n);",
    }],
    caughtBy: "not a view the next read overwrites",
    varyingOutput: "the first chunk's size is whatever the kernel delivered first",
  },
  {
    id: "first-is-last-chunk",
    summary: "exchange() copies every chunk into first, so first ends as the last chunk read",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "if (received === 0) first = buffer.slice(0, n);",
      replace: "first = buffer.slice(0, n);",
    }],
    caughtBy: "the first chunk was replaced by each later read",
    varyingOutput: "the last chunk's size is whatever the kernel delivered last",
  },
  {
    id: "close-only-the-listener",
    summary: "close() closes the listener but leaves open connections running",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "      listener.close();\n      for (const conn of open) {\n        try {\n" +
        "          conn.close();\n        } catch {\n          // already closed\n        }\n      }",
      replace: "      listener.close();",
    }],
    caughtBy: "every open connection",
  },
  {
    id: "upper-ascii-misses-z",
    summary: "upperAscii compares with < 0x7a, so z stays lower case",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "out[i] = b >= 0x61 && b <= 0x7a ? b - 0x20 : b;",
      replace: "out[i] = b >= 0x61 && b < 0x7a ? b - 0x20 : b;",
    }],
    caughtBy: "both ends included",
  },
  {
    id: "server-misses-a",
    summary: "the server's in-place loop compares with > 0x61, so a stays lower case",
    file: "tcp_deadlock.ts",
    // The server works four bytes at a time, the last few one by one: the same slip in both paths.
    edits: [{
      find: "else if (b >= 0x61 && b <= 0x7a) buffer[i] = b - 0x20;",
      replace: "else if (b > 0x61 && b <= 0x7a) buffer[i] = b - 0x20;",
    }, {
      find: "(low + 0x1f1f1f1f)",
      replace: "(low + 0x1e1e1e1e)",
    }],
    caughtBy: "both ends included",
  },
  {
    id: "non-ascii-from-0x81",
    summary: "the server counts bytes > 0x80 as non-ASCII, missing 0x80 itself",
    file: "tcp_deadlock.ts",
    // The same slip in the four-bytes-at-a-time path: only lanes above 0x80 are counted.
    edits: [{ find: "if (b >= 0x80) nonAscii++;", replace: "if (b > 0x80) nonAscii++;" }, {
      find: "let high = word & 0x80808080;",
      replace: "let high = ((word & 0x7f7f7f7f) + 0x7f7f7f7f) & word & 0x80808080;",
    }],
    caughtBy: "(9 non-ASCII, passed through unchanged)",
  },
  {
    id: "payload-block-too-many",
    summary: "payload rounds with Math.floor + 1, one block too many for a multiple of 16",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "const total = Math.ceil(bytecount / message.length) * message.length;",
      replace: "const total = (Math.floor(bytecount / message.length) + 1) * message.length;",
    }],
    caughtBy: "added a block too many",
  },
  {
    id: "bulk-closes-only-on-success",
    summary: "bulkTransfer closes its connection after a transfer, not when it fails",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "    const transfer = await exchange(conn, data);\n" +
        "    return { ...transfer, ms: performance.now() - started };\n" +
        "  } finally {\n    conn.close();\n  }",
      replace: "    const transfer = await exchange(conn, data);\n    conn.close();\n" +
        "    return { ...transfer, ms: performance.now() - started };\n" +
        "  } finally {\n    // closed above\n  }",
    }],
    caughtBy: "not closed",
  },
  {
    id: "error-log-names-kind-only",
    summary: "the server logs the error's name (ConnectionReset) instead of its message",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "then ${(error as Error).message}; socket closed",
      replace: "then ${(error as Error).name}; socket closed",
    }],
    caughtBy: "the error's own message",
  },
  ...outOfFilesMistakes("tcp_deadlock.ts"),
  {
    id: "close-logged-as-failure",
    summary: "the connection task logs the read that close() ended as the client failing",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "      if (!closing) {\n" +
        "        log(`  ${processed} bytes processed, then ${(error as Error).message}; socket closed`);\n" +
        "      }\n",
      replace:
        "      log(`  ${processed} bytes processed, then ${(error as Error).message}; socket closed`);\n",
    }],
    caughtBy: "logged close() as a client failing",
  },
  {
    id: "counts-before-echo",
    summary: "the byte count is added before the chunk is echoed, so a failed echo is counted",
    file: "tcp_deadlock.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));\n        processed += n;\n",
      replace: "        processed += n;\n        await writeAll(conn, buffer.subarray(0, n));\n",
    }],
    caughtBy: "count the bytes only after writeAll() has echoed them",
  },
];
