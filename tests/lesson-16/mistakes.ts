/**
 * Lesson 16's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in line_reader.ts, protocol.ts and line_server.ts. */
export const mistakes: Mistake[] = [
  {
    id: "serves-one-at-a-time",
    summary: "the accept loop awaits each connection's handler, so one silent client blocks all",
    file: "line_server.ts",
    edits: [{
      find: "? handle(conn) : turnAway(conn);\n",
      replace: "? handle(conn) : turnAway(conn);\n      await handler;\n",
    }],
    caughtBy: "serves one client at a time",
  },
  {
    id: "unbounded-line-buffer",
    summary:
      "checks a line's length only when its newline arrives, so an endless line grows memory",
    file: "line_reader.ts",
    edits: [{
      find: "if (this.#length + piece.length > this.maxBytes) {",
      replace: "if (newline !== -1 && this.#length + piece.length > this.maxBytes) {",
    }],
    caughtBy: "an endless line would grow memory without bound",
  },
  {
    id: "executes-partial-line",
    summary: "at EOF, treats the unfinished last line as a complete command",
    file: "line_reader.ts",
    edits: [{
      find: "      if (n === null) {\n        const partial = this.#length;",
      replace: "      if (n === null) {\n" +
        '        if (this.#length > 0) return { kind: "line", bytes: this.#takeLine() };\n' +
        "        const partial = this.#length;",
    }],
    caughtBy: "executed an unfinished line at EOF",
  },
  {
    id: "non-fatal-decoder",
    summary:
      "decodes with a forgiving TextDecoder, so invalid bytes become U+FFFD instead of an error",
    file: "protocol.ts",
    edits: [{
      find: 'const strict = new TextDecoder("utf-8", { fatal: true });',
      replace: "const strict = new TextDecoder();",
    }],
    caughtBy: "non-fatal TextDecoder",
  },
  {
    id: "crashes-on-malformed-line",
    summary:
      "throws on an unknown command, which ends the client's connection instead of an ERR line",
    file: "protocol.ts",
    edits: [{
      find: "      return { line: ERR_UNKNOWN, close: false };",
      replace: "      throw new Error(`unknown command: ${verb}`);",
    }],
    caughtBy: "crashing on a malformed line",
  },
  {
    id: "no-idle-timeout",
    summary: "reads without a timer, so a client that never speaks holds its connection forever",
    file: "line_server.ts",
    edits: [{
      find: "    const reader = new LineReader(idleLimited(conn), maxLineBytes);",
      replace: "    const reader = new LineReader(conn, maxLineBytes);",
    }],
    caughtBy: "no idle timeout",
  },
  {
    id: "shutdown-leaves-connections",
    summary: "close() closes the listener only; open connections stay and done never settles",
    file: "line_server.ts",
    edits: [{
      find: "      listener.close();\n      for (const conn of open) {",
      replace: "      listener.close();\n      for (const conn of [] as Deno.Conn[]) {",
    }],
    caughtBy: "close() left connections open",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "line_server.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;\n",
      replace: "        if (closing) return;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "no-connection-bound",
    summary: "the server handles every connection it accepts, however many are open",
    file: "line_server.ts",
    edits: [{
      find: "      const handler = served < maxConnections ? handle(conn) : turnAway(conn);",
      replace: "      const handler = handle(conn);",
    }],
    caughtBy: "no connection bound",
  },
  {
    id: "bound-never-frees",
    summary:
      "a handler that ends never gives its slot back, so the server ends up turning everyone away",
    file: "line_server.ts",
    edits: [{
      find: "      served--;\n",
      replace: "",
    }],
    caughtBy: "a connection that ends must free its slot",
  },
];
