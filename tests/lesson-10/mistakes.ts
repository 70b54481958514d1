/**
 * Lesson 10's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/**
 * The tests that drip a message through the harness proxy one byte a millisecond over real
 * sockets: a reader busy for longer finds several bytes waiting and reads them at once, so a
 * mistake in reading may pass them. readExactly's own test catches it on every run.
 */
const DRIPPED = {
  tests: [
    "server: reads the whole request although it arrives one byte at a time",
    "client: ask() sends exactly 16 bytes and reads a reply that arrives one byte at a time",
  ],
  why: "over real sockets, dripped bytes may reach a busy reader as one read",
};

/** The bugs learners write in tcp_sixteen.ts. */
export const mistakes: Mistake[] = [
  {
    id: "server-ignores-hostname",
    summary: "startServer listens on 127.0.0.1 whatever hostname it is given",
    file: "tcp_sixteen.ts",
    edits: [{
      find: '    hostname: options.hostname ?? "127.0.0.1",\n',
      replace: '    hostname: "127.0.0.1",\n',
    }],
    caughtBy: "ignored its hostname option",
  },
  {
    id: "ask-ignores-hostname",
    summary: "ask() connects to 127.0.0.1 whatever the server's hostname",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "Deno.connect({ hostname: server.hostname, port: server.port })",
      replace: 'Deno.connect({ hostname: "127.0.0.1", port: server.port })',
    }],
    caughtBy: "ask() ignored the server's hostname",
  },
  {
    id: "single-read",
    summary: "readExactly calls read() once, as if one read() returned one whole message",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "  while (got < n) {\n    const more = await conn.read(buffer.subarray(got));",
      replace: "  if (got < n) {\n    const more = await conn.read(buffer.subarray(got));",
    }],
    caughtBy: "a single read()",
    caughtSometimesBy: {
      tests: [
        ...DRIPPED.tests,
        "server: a client that resets after 5 bytes is reported, and the next one is served",
      ],
      why: `${DRIPPED.why}; and its one read() takes the 5 bytes as a whole request, so the ` +
        "reset test only passes when the client's RST lands before the reply is written " +
        "(the reset is made on another thread: a race either way)",
    },
  },
  {
    id: "reads-past-the-message",
    summary: "readExactly reads into a 1024-byte buffer and keeps only the first n bytes",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "    const more = await conn.read(buffer.subarray(got));\n",
      replace: "    const scratch = new Uint8Array(1024);\n" +
        "    const more = await conn.read(scratch);\n" +
        "    if (more !== null) buffer.set(scratch.subarray(0, Math.min(more, n - got)), got);\n",
    }],
    caughtBy: "read past its 16 bytes",
  },
  {
    id: "eof-returns-short",
    summary: "readExactly stops quietly at EOF and returns fewer bytes than asked",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "    if (more === null) {\n      throw new Deno.errors.UnexpectedEof(",
      replace:
        "    if (more === null) break;\n    if (more === null) {\n      throw new Deno.errors.UnexpectedEof(",
    }],
    caughtBy: "read() resolves null at EOF",
  },
  {
    id: "single-write",
    summary: "writeAll calls write() once and ignores the count it returns",
    file: "tcp_sixteen.ts",
    edits: [{
      find:
        "  while (sent < data.length) {\n    sent += await conn.write(data.subarray(sent));\n  }",
      replace: "  sent += await conn.write(data.subarray(sent));",
    }],
    caughtBy: "ignored the count write() returned",
  },
  {
    id: "writes-whole-buffer-again",
    summary: "writeAll loops, but passes the whole buffer to write() each time",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "sent += await conn.write(data.subarray(sent));",
      replace: "sent += await conn.write(data);",
    }],
    caughtBy: "only the rest",
  },
  {
    id: "server-bypasses-writeall",
    summary: "the server writes its reply with one conn.write() instead of writeAll",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "      await writeAll(conn, encoder.encode(REPLY));",
      replace: "      await conn.write(encoder.encode(REPLY));",
    }],
    caughtBy: "only part of the reply arrived",
  },
  {
    id: "client-bypasses-writeall",
    summary: "ask() writes the request with one conn.write() instead of writeAll",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "    await writeAll(conn, encoder.encode(REQUEST));",
      replace: "    await conn.write(encoder.encode(REQUEST));",
    }],
    caughtBy: "only part of the request arrived",
  },
  {
    id: "dies-on-short-client",
    summary: "the server lets a client's early hang-up escape the accept loop, as the book's does",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "      if (closing) return;\n      log(`  Client hung up early",
      replace: "      throw error;\n      log(`  Client hung up early",
    }],
    caughtBy: "must not stop the server",
  },
  {
    id: "reply-write-outside-try",
    summary: "the server's try wraps only the read: the reply's writeAll() comes after it, " +
      "unguarded, so a client that resets after its 16 bytes stops the server",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "      await writeAll(conn, encoder.encode(REPLY));\n" +
        '      log("  Reply sent, socket closed");\n' +
        "    } catch (error) {\n      if (closing) return;\n" +
        "      log(`  Client hung up early: ${(error as Error).message}; socket closed`);\n" +
        "    } finally {\n      try {\n        conn.close();\n      } catch {\n" +
        "        // already closed by close()\n      }\n    }\n",
      replace: "    } catch (error) {\n      try {\n        conn.close();\n      } catch {\n" +
        "        // already closed by close()\n      }\n      if (closing) return;\n" +
        "      log(`  Client hung up early: ${(error as Error).message}; socket closed`);\n" +
        "      return;\n    }\n" +
        "    await writeAll(conn, encoder.encode(REPLY));\n" +
        '    log("  Reply sent, socket closed");\n    conn.close();\n',
    }],
    caughtBy: "the reply's writeAll() is outside the try",
  },
  {
    id: "keeps-connection-open",
    summary: "the server replies but never closes the client's connection",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "    } finally {\n      try {\n        conn.close();\n      } catch {\n" +
        "        // already closed by close()\n      }\n    }",
      replace: "    } finally {\n      // forgot conn.close()\n    }",
    }],
    caughtBy: "close the connection after replying",
  },
  {
    id: "client-leaks-connection",
    summary: "ask() never closes its connection",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "  } finally {\n    conn.close();\n  }",
      replace: "  } finally {\n    // forgot conn.close()\n  }",
    }],
    caughtBy: "not closed",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;\n",
      replace: "        if (closing) return;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "sequence-masked",
    summary: "nextSequence wraps with `& 0xffffffff`, a signed 32-bit result",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "return (seq + length) % 2 ** 32;",
      replace: "return (seq + length) & 0xffffffff;",
    }],
    caughtBy: "unsigned 32-bit",
  },
  {
    id: "sequence-or-zero",
    summary: "nextSequence wraps with `| 0`",
    file: "tcp_sixteen.ts",
    edits: [{ find: "return (seq + length) % 2 ** 32;", replace: "return (seq + length) | 0;" }],
    caughtBy: "unsigned 32-bit",
  },
  {
    id: "sequence-wraps-past-2-32",
    summary: "nextSequence subtracts 2^32 only when the sum is greater, so 2^32 stays",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "return (seq + length) % 2 ** 32;",
      replace: "const s = seq + length;\n  return s > 2 ** 32 ? s - 2 ** 32 : s;",
    }],
    caughtBy: "must wrap to 0",
  },
  {
    id: "rereads-whole-buffer",
    summary: "readExactly loops, but reads into the whole buffer each time",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "const more = await conn.read(buffer.subarray(got));",
      replace: "const more = await conn.read(buffer);",
    }],
    caughtBy: "only the unfilled part",
    caughtSometimesBy: DRIPPED,
  },
  {
    id: "reuses-one-buffer",
    summary: "readExactly reads into one module-level buffer and returns it",
    file: "tcp_sixteen.ts",
    edits: [
      {
        find: "  const buffer = new Uint8Array(n);\n  let got = 0;",
        replace: "  if (shared.length !== n) shared = new Uint8Array(n);\n" +
          "  const buffer = shared;\n  let got = 0;",
      },
      {
        find: "const encoder = new TextEncoder();",
        replace: "let shared = new Uint8Array(0);\nconst encoder = new TextEncoder();",
      },
    ],
    caughtBy: "reused one buffer",
  },
  {
    id: "close-leaves-client-open",
    summary: "close() closes the listener but not the connection being served",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "      listener.close();\n      try {\n        current?.close();\n      } catch {\n" +
        "        // already closed\n      }",
      replace: "      listener.close();",
    }],
    caughtBy: "close() must also close the connection being served",
  },
  {
    id: "writes-all-but-last-byte",
    summary: "writeAll loops while sent < data.length - 1",
    file: "tcp_sixteen.ts",
    edits: [{ find: "while (sent < data.length) {", replace: "while (sent < data.length - 1) {" }],
    caughtBy: "writeAll() stopped after",
  },
  {
    id: "client-closes-only-on-success",
    summary: "ask() closes its connection after a reply, not when reading fails",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "    const reply = await readExactly(conn, MESSAGE_LENGTH);\n" +
        "    return { reply: decoder.decode(reply), local: conn.localAddr };\n" +
        "  } finally {\n    conn.close();\n  }",
      replace: "    const reply = await readExactly(conn, MESSAGE_LENGTH);\n    conn.close();\n" +
        "    return { reply: decoder.decode(reply), local: conn.localAddr };\n" +
        "  } finally {\n    // closed above\n  }",
    }],
    caughtBy: "not closed",
  },
  {
    id: "close-logged-as-hang-up",
    summary: "the connection that close() interrupts is logged as the client hanging up early",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "    } catch (error) {\n      if (closing) return;\n      log(`  Client hung up",
      replace: "    } catch (error) {\n      log(`  Client hung up",
    }],
    caughtBy: "close() was logged as the client hanging up early",
  },
  {
    id: "serve-not-awaited",
    summary: "the accept loop does not await serve(), so close() reaches only the last connection",
    file: "tcp_sixteen.ts",
    edits: [{
      find: "      await serve(current);\n      current = undefined;\n",
      replace: "      serve(current);\n",
    }],
    caughtBy: "close() reached only the last connection accepted",
  },
  ...outOfFilesMistakes("tcp_sixteen.ts"),
];
