/**
 * Lesson 11's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/**
 * Where a write that ignores its count loses (or repeats) bytes only by chance:
 * the 4 MiB echo to two clients meets a nearly full send buffer on a busy
 * machine, not on a quiet one. The short-write test catches it on every run.
 */
const NATURAL_SHORT_WRITES = {
  tests: ["server: echoes 4 MiB to each of two clients at once while a third stays silent"],
  why: "a write comes back short there only when it meets a nearly full send buffer",
};

/** The bugs learners write in conversations.ts. */
export const mistakes: Mistake[] = [
  {
    id: "one-client-at-a-time",
    summary: "the accept loop awaits each conversation before accepting the next client",
    file: "conversations.ts",
    edits: [{
      find: "      const conversation = converse(conn);\n",
      replace: "      const conversation = converse(conn);\n      await conversation;\n",
    }],
    caughtBy: "serving one client at a time",
  },
  {
    id: "swapped-four-tuple",
    summary: "fourTuple takes the local end from remoteAddr and the remote end from localAddr",
    file: "conversations.ts",
    edits: [{
      find:
        "  const local = conn.localAddr as Deno.NetAddr;\n  const remote = conn.remoteAddr as Deno.NetAddr;",
      replace:
        "  const local = conn.remoteAddr as Deno.NetAddr;\n  const remote = conn.localAddr as Deno.NetAddr;",
    }],
    caughtBy: "local is conn.localAddr",
  },
  {
    id: "greets-with-server-address",
    summary:
      "the greeting names the accepted socket's local address (the server's) instead of the client's",
    file: "conversations.ts",
    edits: [{
      find: "greeting(conn.remoteAddr as Deno.NetAddr)",
      replace: "greeting(conn.localAddr as Deno.NetAddr)",
    }],
    caughtBy: "the greeting named the server's address",
  },
  {
    id: "unhandled-conversation-error",
    summary:
      "a conversation's errors are not caught, so a reset connection is an unhandled rejection",
    file: "conversations.ts",
    edits: [{
      find: "    } catch (error) {\n      if (!closing) log(",
      replace: "    } catch (error) {\n      throw error;\n      if (!closing) log(",
    }],
    caughtBy: "unhandled rejection",
  },
  {
    id: "bare-refused-error",
    summary: "connectTo lets the OS's bare `Connection refused` through, naming no address",
    file: "conversations.ts",
    edits: [{
      find: "  try {\n    return await Deno.connect({ hostname, port });\n",
      replace: "  return await Deno.connect({ hostname, port });\n" +
        "  try {\n    return await Deno.connect({ hostname, port });\n",
    }],
    caughtBy: "the bare OS message",
  },
  {
    id: "refused-as-plain-error",
    summary:
      "connectTo throws a plain Error with a good message, losing the ConnectionRefused kind",
    file: "conversations.ts",
    edits: [{
      find: "      throw new Deno.errors.ConnectionRefused(",
      replace: "      throw new Error(",
    }],
    caughtBy: "keep the error's kind",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "conversations.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) break;\n",
      replace: "        if (closing) break;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "one-buffer-for-all-conversations",
    summary: "the echo buffer is one module-level array shared by every conversation",
    file: "conversations.ts",
    edits: [
      { find: "      const buffer = new Uint8Array(64 * 1024);\n", replace: "" },
      {
        find: "const encoder = new TextEncoder();",
        replace: "const encoder = new TextEncoder();\nconst buffer = new Uint8Array(64 * 1024);",
      },
    ],
    caughtBy: "its own buffer",
  },
  {
    id: "close-only-the-listener",
    summary: "close() closes the listener but leaves open conversations running",
    file: "conversations.ts",
    edits: [{
      find: "      listener.close();\n      for (const conn of open) {\n        try {\n" +
        "          conn.close();\n        } catch {\n          // already closed\n        }\n      }",
      replace: "      listener.close();",
    }],
    caughtBy: "every open conversation",
  },
  {
    id: "refused-without-cause",
    summary: "connectTo's friendlier ConnectionRefused drops the original error",
    file: "conversations.ts",
    edits: [{ find: "        { cause: error },\n", replace: "" }],
    caughtBy: "keep the original error as cause",
  },
  {
    id: "counts-characters",
    summary: "the byte count in the log adds the decoded text's length",
    file: "conversations.ts",
    edits: [{
      find: "        bytes += n;",
      replace: "        bytes += new TextDecoder().decode(buffer.subarray(0, n)).length;",
    }],
    caughtBy: "counted characters",
  },
  {
    id: "echo-through-text",
    summary: "the echo decodes each read() to text and encodes it again",
    file: "conversations.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));",
      replace: "        await writeAll(conn, encoder.encode(new TextDecoder().decode(" +
        "buffer.subarray(0, n))));",
    }],
    caughtBy: "becomes U+FFFD",
  },
  {
    id: "echo-one-write",
    summary: "the echo calls conn.write() once per chunk and ignores how many bytes it took",
    file: "conversations.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));",
      replace: "        await conn.write(buffer.subarray(0, n));",
    }],
    caughtBy: "write() may take only part of the bytes",
    caughtSometimesBy: NATURAL_SHORT_WRITES,
  },
  {
    id: "echo-write-not-awaited",
    summary:
      "the echo starts each chunk's writeAll without awaiting it, then reads into the same buffer",
    file: "conversations.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));",
      replace: "        writeAll(conn, buffer.subarray(0, n));",
    }],
    caughtBy:
      "a write() of the echo began before the previous write() on that connection had finished",
    caughtSometimesBy: {
      tests: [
        ...NATURAL_SHORT_WRITES.tests,
        "server: a client that resets its connection ends only its own conversation",
      ],
      why: "a write comes back short there only when it meets a nearly full send buffer, and the " +
        "echo to the client that resets fails (and escapes) only if the reset arrived first",
    },
  },
  {
    id: "echo-write-loop-keeps-last-count",
    summary: "the echo loops over write() but sets the count to each write's instead of adding it",
    file: "conversations.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));",
      replace: "        const chunk = buffer.subarray(0, n);\n" +
        "        for (let sent = 0; sent < chunk.length;) sent = await conn.write(chunk.subarray(sent));",
    }],
    caughtBy: "the echo sends bytes again",
    caughtSometimesBy: NATURAL_SHORT_WRITES,
  },
  {
    id: "count-keeps-last-read",
    summary: "the byte count is set to each read()'s count instead of adding it",
    file: "conversations.ts",
    edits: [{ find: "        bytes += n;", replace: "        bytes = n;" }],
    caughtBy: "kept only the last read()'s count",
  },
  {
    id: "close-logged-as-failure",
    summary: "close() with clients connected is logged as each conversation failing",
    file: "conversations.ts",
    edits: [{
      find: "      if (!closing) log(`Closed ${name} after ${bytes} bytes: ",
      replace: "      log(`Closed ${name} after ${bytes} bytes: ",
    }],
    caughtBy: "close() was logged as each conversation failing",
  },
  {
    id: "connect-errors-all-refused",
    summary: "connectTo turns every error, not only a refused connection, into ConnectionRefused",
    file: "conversations.ts",
    edits: [{
      find: "    if (error instanceof Deno.errors.ConnectionRefused) {",
      replace: "    {",
    }],
    caughtBy: "only Deno.errors.ConnectionRefused means refused",
  },
  {
    id: "counts-before-echo",
    summary: "the byte count is added before the echo is written, so a failed echo is counted",
    file: "conversations.ts",
    edits: [{
      find: "        await writeAll(conn, buffer.subarray(0, n));\n        bytes += n;\n",
      replace: "        bytes += n;\n        await writeAll(conn, buffer.subarray(0, n));\n",
    }],
    caughtBy: "count the bytes only after writeAll() has echoed them",
  },
  {
    id: "program-drops-log",
    summary: "the server program starts the server without options.log, so it prints no " +
      "conversation",
    file: "conversations.ts",
    edits: [{
      find: "  const running = startServer(options);",
      replace: "  const running = startServer({ hostname: options.hostname, port: options.port });",
    }],
    caughtBy: "the server program printed no conversation",
  },
  {
    id: "closed-logged-twice",
    summary: "the plain Closed line is logged in finally, so a failed conversation gets two " +
      "Closed lines, one of them claiming a clean close",
    file: "conversations.ts",
    edits: [
      {
        find: "      log(`Closed ${name} after ${bytes} bytes`);\n    } catch (error) {\n",
        replace: "    } catch (error) {\n",
      },
      {
        find: "    } finally {\n      open.delete(conn);\n",
        replace: "    } finally {\n      log(`Closed ${name} after ${bytes} bytes`);\n" +
          "      open.delete(conn);\n",
      },
    ],
    caughtBy: "a conversation that failed was also logged as closed normally",
  },
  ...outOfFilesMistakes("conversations.ts"),
  {
    id: "done-before-conversations",
    summary: "done settles when the accept loop ends, without waiting for the conversations",
    file: "conversations.ts",
    edits: [{ find: "    await Promise.all(conversations);\n", replace: "" }],
    caughtBy: "done settled before every connection's task ended",
  },
];
