/**
 * Lesson 01's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/** The bugs learners write in bytes.ts, greeter.ts and sandbox.ts. */
export const mistakes: Mistake[] = [
  {
    id: "latin1-encode",
    summary: "encodes one byte per character with charCodeAt (Latin-1), not UTF-8",
    file: "bytes.ts",
    edits: [{
      find: "return encoder.encode(text);",
      replace: "return Uint8Array.from(text, (ch) => ch.charCodeAt(0));",
    }],
    caughtBy: "Latin-1",
  },
  {
    id: "forgiving-decoder",
    summary: "decodes with a default TextDecoder, which turns invalid bytes into U+FFFD",
    file: "bytes.ts",
    edits: [{
      find: 'new TextDecoder("utf-8", { fatal: true });',
      replace: 'new TextDecoder("utf-8");',
    }],
    caughtBy: "forgiving TextDecoder",
  },
  {
    id: "hex-unpadded",
    summary: "prints a byte below 0x10 as one hex digit (`a` for a newline)",
    file: "bytes.ts",
    edits: [{ find: 'b.toString(16).padStart(2, "0")', replace: "b.toString(16)" }],
    caughtBy: "pad every byte to two hex digits",
  },
  {
    id: "single-read",
    summary: "the client calls read() once and returns whatever arrived first",
    file: "greeter.ts",
    edits: [{
      find:
        "    while (true) {\n      const n = await conn.read(buffer);\n      if (n === null) break;\n" +
        "      chunks.push(buffer.slice(0, n));\n    }\n",
      replace: "    const n = await conn.read(buffer);\n" +
        "    if (n !== null) chunks.push(buffer.slice(0, n));\n",
    }],
    caughtBy: "returned before the server closed the connection",
  },
  {
    id: "decode-per-chunk",
    summary: "the client decodes each chunk as it arrives and joins the strings",
    file: "greeter.ts",
    edits: [
      { find: "const chunks: Uint8Array[] = [];", replace: 'let text = "";' },
      {
        find: "chunks.push(buffer.slice(0, n));",
        replace: "text += new TextDecoder().decode(buffer.subarray(0, n));",
      },
      { find: "return decodeText(joinChunks(chunks));", replace: "return text;" },
    ],
    caughtBy: "decoded each chunk on its own",
  },
  {
    id: "greeter-one-write",
    summary: "the greeter writes the greeting with one write() and ignores how many bytes it took",
    file: "greeter.ts",
    edits: [{
      find:
        "        for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));",
      replace: "        await conn.write(bytes);",
    }],
    caughtBy: "only part of the greeting arrived",
  },
  {
    id: "greeter-write-loop-keeps-last-count",
    summary: "the greeter's write loop sets the count to each write()'s instead of adding it",
    file: "greeter.ts",
    edits: [{
      find:
        "        for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));",
      replace:
        "        for (let sent = 0; sent < bytes.length;) sent = await conn.write(bytes.subarray(sent));",
    }],
    caughtBy: "more bytes arrived than were in the greeting",
  },
  {
    id: "greeter-subarray-end-as-length",
    summary: "the greeter's write loop passes the bytes left as subarray's end, as if it were a " +
      "length, so the loop stops making progress half-way",
    file: "greeter.ts",
    edits: [{
      find: "conn.write(bytes.subarray(sent))",
      replace: "conn.write(bytes.subarray(sent, bytes.length - sent))",
    }],
    caughtBy: "subarray takes an end index, not a length",
  },
  {
    id: "greeter-never-closes",
    summary: "the greeter writes the greeting but never closes the connection",
    file: "greeter.ts",
    edits: [{
      find: "      } finally {\n        conn.close();\n      }",
      replace: "      } finally {\n        // forgot conn.close()\n      }",
    }],
    caughtBy: "never closed the connection",
  },
  {
    id: "greeter-fixed-text",
    summary: "the greeter sends the same greeting to everyone instead of naming the client",
    file: "greeter.ts",
    edits: [{
      find: "return `Hello, ${client.hostname}:${client.port}!\\n`;",
      replace: "return `Hello, client!\\n`;",
    }],
    caughtBy: "not a fixed text",
  },
  {
    id: "greeter-names-itself",
    summary: "the greeter names its own address (conn.localAddr) instead of the client's",
    file: "greeter.ts",
    edits: [{
      find: "greetingFor(conn.remoteAddr)",
      replace: "greetingFor(conn.localAddr)",
    }],
    caughtBy: "the server's own address",
  },
  {
    id: "greeter-serves-once",
    summary: "the greeter accepts one connection, greets it, and its loop ends",
    file: "greeter.ts",
    edits: [{
      find: "    while (true) {\n      let conn: Deno.TcpConn;",
      replace: "    for (let once = 0; once < 1; once++) {\n      let conn: Deno.TcpConn;",
    }],
    caughtBy: "accept() belongs in a loop",
  },
  {
    id: "client-leaks-connection",
    summary: "the client never closes its connection",
    file: "greeter.ts",
    edits: [{
      find: "  } finally {\n    conn.close();\n  }",
      replace: "  } finally {\n    // forgot conn.close()\n  }",
    }],
    caughtBy: "not closed",
  },
  {
    id: "prompt-counts-as-allowed",
    summary: 'netAllowed treats the state "prompt" as allowed (checks !== "denied")',
    file: "sandbox.ts",
    edits: [{
      find: 'return status.state === "granted";',
      replace: 'return status.state !== "denied";',
    }],
    caughtBy: '"prompt" as allowed',
  },
  {
    id: "requests-permission",
    summary: "netAllowed asks for the permission (Deno.permissions.request) instead of querying it",
    file: "sandbox.ts",
    edits: [{
      find: 'await Deno.permissions.query({ name: "net", host });',
      replace: 'await Deno.permissions.request({ name: "net", host });',
    }],
    caughtBy: "query, never request",
  },
  {
    id: "decode-whole-buffer",
    summary: "decodeText decodes bytes.buffer, the whole underlying buffer, not the view",
    file: "bytes.ts",
    edits: [{
      find: "return strict.decode(bytes);",
      replace: "return strict.decode(bytes.buffer);",
    }],
    caughtBy: "read the whole underlying buffer",
  },
  {
    id: "hex-whole-buffer",
    summary: "hexBytes wraps bytes.buffer in a new Uint8Array, ignoring byteOffset and length",
    file: "bytes.ts",
    edits: [{
      find: "Array.from(bytes, (b)",
      replace: "Array.from(new Uint8Array(bytes.buffer), (b)",
    }],
    caughtBy: "read the whole underlying buffer",
  },
  {
    id: "chunks-alias-read-buffer",
    summary:
      "fetchGreeting keeps subarray views of its one read buffer, so later reads overwrite them",
    file: "greeter.ts",
    edits: [{
      find: "chunks.push(buffer.slice(0, n));",
      replace: "chunks.push(buffer.subarray(0, n));",
    }],
    caughtBy: "kept each chunk as a view of the one read buffer",
  },
  {
    id: "done-rejects-after-close",
    summary: "the greeter rethrows the error of the accept() that close() interrupts",
    file: "greeter.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;\n",
      replace: "        throw error;\n",
    }],
    caughtBy: "done rejected after close()",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "greeter.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;\n",
      replace: "        if (closing) return;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "close-twice-throws",
    summary: "the greeter's close() closes the listener every time it is called, so a second " +
      "call throws BadResource",
    file: "greeter.ts",
    edits: [{
      find: "      if (closing) return;\n      closing = true;\n",
      replace: "      closing = true;\n",
    }],
    caughtBy: "close() must be safe to call twice",
  },
  {
    id: "greeter-write-error-stops",
    summary: "the greeter does not catch a failed write(), so one client that resets before " +
      "its greeting is written ends the accept loop (done rejects, later clients wait forever)",
    file: "greeter.ts",
    edits: [{
      find: "      } catch {\n" +
        "        // This client went away early: nothing to tell it, serve the next one.\n" +
        "      } finally {",
      replace: "      } finally {",
    }],
    caughtBy: "a failed write() ended the accept loop",
  },
  {
    id: "stream-decoder-never-flushed",
    summary: "fetchGreeting decodes each chunk with a fatal streaming TextDecoder " +
      "(stream: true) and never calls it once more at EOF, so a reply cut off in the middle " +
      "of a character returns without it instead of failing",
    file: "greeter.ts",
    edits: [
      {
        find: "const chunks: Uint8Array[] = [];",
        replace: 'const dec = new TextDecoder("utf-8", { fatal: true });\n    let text = "";',
      },
      {
        find: "chunks.push(buffer.slice(0, n));",
        replace: "text += dec.decode(buffer.subarray(0, n), { stream: true });",
      },
      { find: "return decodeText(joinChunks(chunks));", replace: "return text;" },
    ],
    caughtBy: "kept the cut-off character back",
  },
  {
    id: "decode-error-hides-bytes",
    summary: "decodeText throws `not valid UTF-8` without the bytes it refused",
    file: "bytes.ts",
    edits: [{
      find: "throw new TypeError(`not valid UTF-8: ${hexBytes(bytes)}`);",
      replace: "throw new TypeError(`not valid UTF-8`);",
    }],
    caughtBy: "must show the bytes that were refused",
  },
  ...outOfFilesMistakes("greeter.ts"),
];
