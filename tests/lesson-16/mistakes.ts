/**
 * Lesson 16's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/** The bugs learners write in line_reader.ts, protocol.ts and line_server.ts. */
export const mistakes: Mistake[] = [
  {
    id: "reply-write-loop-from-start",
    summary: "sendLine's write loop writes from the start of the line again after a partial write",
    file: "line_server.ts",
    edits: [{
      find:
        "    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));\n" +
        "  }\n\n  async function handle(",
      replace: "    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes);\n" +
        "  }\n\n  async function handle(",
    }],
    caughtBy: "more bytes arrived than were in the replies",
  },
  {
    id: "reply-one-write",
    summary: "sendLine writes each reply with one conn.write() and ignores how many bytes it took",
    file: "line_server.ts",
    edits: [{
      find:
        "    for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));\n" +
        "  }\n\n  async function handle(",
      replace: "    await conn.write(bytes);\n  }\n\n  async function handle(",
    }],
    caughtBy: "only part of the replies arrived",
  },
  {
    id: "reply-not-awaited",
    summary: "the handler starts each reply's sendLine without awaiting it, and closes after QUIT",
    file: "line_server.ts",
    edits: [{
      find: "        await sendLine(conn, reply.line);",
      replace: "        sendLine(conn, reply.line);",
    }],
    caughtBy: "a write() of the replies began before the previous write() on that connection",
    caughtSometimesBy: {
      tests: ["server: 50 clients at once (and one that never speaks) all get their own answers"],
      why: "an unawaited BYE fails there only if close() comes before its write completes",
    },
  },
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
  {
    id: "verb-case-insensitive",
    summary: "respond() upper-cases the verb before matching it",
    file: "protocol.ts",
    edits: [{ find: "  switch (verb) {", replace: "  switch (verb.toUpperCase()) {" }],
    caughtBy: "verbs are case-sensitive",
  },
  {
    id: "trims-the-line",
    summary: "respond() trims the decoded line before splitting off the verb",
    file: "protocol.ts",
    edits: [{
      find: "    text = strict.decode(line);",
      replace: "    text = strict.decode(line).trim();",
    }],
    caughtBy: "trimmed or reshaped the line",
  },
  {
    id: "text-rebuilt-from-words",
    summary: "respond() splits on spaces and joins the non-empty words again",
    file: "protocol.ts",
    edits: [{
      find: '  const argument = space === -1 ? "" : text.slice(space + 1);',
      replace: '  const argument = text.split(" ").slice(1).filter((w) => w).join(" ");',
    }],
    caughtBy: "rebuilt the text from words",
  },
  {
    id: "upper-ascii-only",
    summary: "UPPER upper-cases only a-z",
    file: "protocol.ts",
    edits: [{
      find: "      return { line: ok(argument.toUpperCase()), close: false };",
      replace: "      return { line: ok(argument.replace(/[a-z]/g, (c) => c.toUpperCase())), " +
        "close: false };",
    }],
    caughtBy: "UPPER is Unicode upper case",
  },
  {
    id: "pieces-are-views",
    summary: "the reader keeps views of its read buffer as the line's pieces",
    file: "line_reader.ts",
    edits: [{
      find: "        this.#pieces.push(piece.slice());",
      replace: "        this.#pieces.push(piece);",
    }],
    caughtBy: "kept views of the read buffer",
  },
  {
    id: "keeps-carriage-return",
    summary: "the reader returns a \\r\\n line with its \\r",
    file: "line_reader.ts",
    edits: [{
      find: "    return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;",
      replace: "    return line;",
    }],
    caughtBy: "kept the \\r of a \\r\\n",
  },
  {
    id: "end-drops-count",
    summary: "end always reports 0 bytes dropped",
    file: "line_reader.ts",
    edits: [{
      find: "        const partial = this.#length;",
      replace: "        const partial = 0;",
    }],
    caughtBy: "end must count the bytes",
  },
  {
    id: "skips-past-the-newline",
    summary: "after too-long the reader always skips to the next \\n, even one it already passed",
    file: "line_reader.ts",
    edits: [{
      find:
        "          this.#skipping = newline === -1; // when the newline is here, the long line ends here\n" +
        "          this.#start += newline === -1 ? chunk.length : newline + 1;",
      replace: "          this.#skipping = true;\n          this.#start += chunk.length;",
    }],
    caughtBy: "skipped past the end of the long line",
  },
  {
    id: "limit-inclusive",
    summary: "the reader reports a line of exactly maxBytes as too long",
    file: "line_reader.ts",
    edits: [{
      find: "        if (this.#length + piece.length > this.maxBytes) {",
      replace: "        if (this.#length + piece.length >= this.maxBytes) {",
    }],
    caughtBy: "refused a line of exactly maxBytes",
  },
  {
    id: "idle-from-connect",
    summary: "the idle limit is one deadline counted from connect, not from the last bytes",
    file: "line_server.ts",
    edits: [{
      find:
        "  function idleLimited(conn: Deno.Conn): Source {\n    return {\n      read: (buffer) =>\n" +
        "        new Promise((resolve, reject) => {\n" +
        "          const quiet = new AbortController();\n" +
        "          sleep(idleMs, quiet.signal).then(() => {",
      replace:
        "  function idleLimited(conn: Deno.Conn): Source {\n    const quiet = new AbortController();\n" +
        "    const deadline = sleep(idleMs, quiet.signal);\n" +
        "    return {\n      read: (buffer) =>\n        new Promise((resolve, reject) => {\n" +
        "          deadline.then(() => {",
    }, {
      find: "          conn.read(buffer).then(resolve, reject).finally(() => quiet.abort());",
      replace: "          conn.read(buffer).then(resolve, reject);",
    }],
    caughtBy: "the idle limit counted from connect",
  },
  {
    id: "idle-close-without-a-word",
    summary: "an idle client is closed without `ERR idle timeout`",
    file: "line_server.ts",
    edits: [{ find: "        await sendLine(conn, ERR_IDLE).catch(() => {});\n", replace: "" }],
    caughtBy: "closed an idle client without a word",
  },
  {
    id: "client-one-write",
    summary: "the client program writes its lines with one write() and never checks how much " +
      "it took, so a long request is cut short",
    file: "line_server.ts",
    edits: [{
      find:
        "for (let sent = 0; sent < request.length;) sent += await conn.write(request.subarray(sent));",
      replace: "await conn.write(request);",
    }],
    caughtBy: "write until every byte is written",
  },
  {
    id: "client-listener-left",
    summary: "the client program leaves its abort listener on the signal after it returns",
    file: "line_server.ts",
    edits: [{ find: '    options.signal.removeEventListener("abort", abort);\n', replace: "" }],
    caughtBy: "remove the abort listener when client() ends",
  },
  {
    id: "reader-keeps-long-line",
    summary: "on too-long, the line reader forgets only the current read, not the pieces of the " +
      "long line gathered from earlier reads",
    file: "line_reader.ts",
    edits: [{
      find: "          this.#forget();\n          this.#skipping",
      replace: "          this.#skipping",
    }],
    caughtBy: "kept part of the long line",
  },
  {
    id: "client-decodes-each-read",
    summary: "the client program decodes each read() on its own and splits the text on \\n, so a " +
      "character cut between two reads becomes U+FFFD",
    file: "line_server.ts",
    edits: [{
      find: "    const replies = new LineReader(conn, MAX_LINE_BYTES);\n    while (true) {\n" +
        '      const result = await replies.next();\n      if (result.kind === "end") break;\n' +
        '      options.log(\n        result.kind === "line"\n' +
        "          ? `< ${decoder.decode(result.bytes)}`\n" +
        '          : "< (a reply too long to show)",\n      );\n    }\n',
      replace:
        '    const buffer = new Uint8Array(4096);\n    let text = "";\n    while (true) {\n' +
        "      const n = await conn.read(buffer);\n      if (n === null) break;\n" +
        "      text += decoder.decode(buffer.subarray(0, n));\n" +
        '      const parts = text.split("\\n");\n      text = parts.pop()!;\n' +
        "      for (const part of parts) {\n" +
        '        options.log(part.length > MAX_LINE_BYTES ? "< (a reply too long to show)" : `< ${part}`);\n' +
        "      }\n    }\n",
    }],
    caughtBy: "a character cut between two reads became U+FFFD",
  },
  {
    id: "client-sends-any-argument",
    summary: "the client program sends an argument with a line break in it, which the server " +
      "takes as two requests",
    file: "line_server.ts",
    edits: [{
      find: "  const broken = lines.find((line) => /[\\r\\n]/.test(line));\n",
      replace: "  const broken = undefined;\n",
    }],
    caughtBy: "each argument is one request line",
  },
  {
    id: "client-refuses-newline-only",
    summary: "the client program refuses an argument with \\n in it but sends one with a lone \\r",
    file: "line_server.ts",
    edits: [{
      find: "  const broken = lines.find((line) => /[\\r\\n]/.test(line));\n",
      replace: '  const broken = lines.find((line) => line.includes("\\n"));\n',
    }],
    caughtBy: "each argument is one request line",
  },
  {
    id: "reader-stale-newline",
    summary:
      "the reader looks for the \\n in the whole read buffer, past the bytes the last read " +
      "returned, so a stale \\n from an earlier, longer read splits a line",
    file: "line_reader.ts",
    edits: [{
      find: "        const newline = chunk.indexOf(NEWLINE);",
      replace: "        const found = this.#buffer.indexOf(NEWLINE, this.#start);\n" +
        "        const newline = found === -1 ? -1 : found - this.#start;",
    }],
    caughtBy: "a stale \\n from an earlier, longer read split the line",
  },
  {
    id: "too-long-at-exactly-max",
    summary:
      "the reader reports too-long as soon as an unfinished line reaches exactly maxBytes, " +
      "before its \\n has been read",
    file: "line_reader.ts",
    edits: [{
      find: "        if (this.#length + piece.length > this.maxBytes) {",
      replace: "        if (\n" +
        "          this.#length + piece.length > this.maxBytes ||\n" +
        "          (newline === -1 && this.#length + piece.length === this.maxBytes)\n" +
        "        ) {",
    }],
    caughtBy: "reported too-long when the line reached maxBytes with its \\n not yet read",
  },
  {
    id: "carriage-return-not-counted",
    summary: "the reader leaves a line's trailing \\r out of the limit",
    file: "line_reader.ts",
    edits: [{
      find: "        if (this.#length + piece.length > this.maxBytes) {",
      replace: "        if (\n" +
        "          this.#length + piece.length - (piece.at(-1) === CARRIAGE_RETURN ? 1 : 0) >\n" +
        "            this.maxBytes\n" +
        "        ) {",
    }],
    caughtBy: "left the \\r out of the limit",
  },
  {
    id: "turn-away-uncaught",
    summary: "turnAway has no catch or finally: a flood client gone before its busy reply makes " +
      "the write reject unhandled, and its connection is never closed",
    file: "line_server.ts",
    edits: [{
      find:
        "    try {\n      await sendLine(conn, ERR_BUSY);\n    } catch {\n      // it left already\n" +
        "    } finally {\n      open.delete(conn);\n      try {\n        conn.close();\n" +
        "      } catch {\n        // already closed by close()\n      }\n    }\n",
      replace: "    await sendLine(conn, ERR_BUSY);\n    open.delete(conn);\n    conn.close();\n",
    }],
    caughtBy: "turnAway() let its failed busy reply escape",
  },
  {
    id: "close-logged-as-failure",
    summary: "the handler logs the read that close() ended as the client failing",
    file: "line_server.ts",
    edits: [{ find: "      } else if (!closing) {", replace: "      } else {" }],
    caughtBy: "logged close() as a client failing",
  },
  ...outOfFilesMistakes("line_server.ts", {
    rest: "if (OUT_OF_DESCRIPTORS.test((error as Error).message)) await rest(ACCEPT_BACKOFF_MS);",
  }),
  {
    id: "idle-controller-per-connection",
    summary: "one AbortController per connection for the idle limit: aborted by the first " +
      "read, it ends every later wait at once",
    file: "line_server.ts",
    edits: [{
      find: "    return {\n      read: (buffer) =>\n        new Promise((resolve, reject) => {\n" +
        "          const quiet = new AbortController();\n",
      replace: "    const quiet = new AbortController();\n    return {\n      read: (buffer) =>\n" +
        "        new Promise((resolve, reject) => {\n",
    }],
    caughtBy: "the idle limit ran only until the first read",
  },
  {
    id: "ignores-max-line-bytes",
    summary: "the server reads lines with MAX_LINE_BYTES whatever options.maxLineBytes says",
    file: "line_server.ts",
    edits: [{
      find: "    const reader = new LineReader(idleLimited(conn), maxLineBytes);",
      replace: "    const reader = new LineReader(idleLimited(conn), MAX_LINE_BYTES);",
    }],
    caughtBy: "the server ignored options.maxLineBytes",
  },
  {
    id: "empty-args-no-demo",
    summary: "the client role uses options.args ?? DEMO_LINES, so the empty list `deno task " +
      "run` passes sends only QUIT",
    file: "line_server.ts",
    edits: [{
      find: '  const lines = [...(options.args?.length ? options.args : DEMO_LINES), "QUIT"];',
      replace: '  const lines = [...(options.args ?? DEMO_LINES), "QUIT"];',
    }],
    caughtBy: "with no arguments, send DEMO_LINES",
  },
  {
    id: "line-is-a-view",
    summary: "a line that arrived whole in one read is returned as a view of the read buffer, " +
      "which the next read overwrites",
    file: "line_reader.ts",
    edits: [{
      find: "        this.#pieces.push(piece.slice());",
      replace: "        if (newline !== -1 && this.#pieces.length === 0) {\n" +
        "          this.#start += newline + 1;\n" +
        "          return {\n" +
        '            kind: "line",\n' +
        "            bytes: piece.at(-1) === CARRIAGE_RETURN ? piece.subarray(0, -1) : piece,\n" +
        "          };\n" +
        "        }\n" +
        "        this.#pieces.push(piece.slice());",
    }],
    caughtBy: "returned a view of the read buffer as the line",
  },
  {
    id: "removes-every-carriage-return",
    summary: "the reader removes every \\r of a line, not only the one just before its \\n",
    file: "line_reader.ts",
    edits: [{
      find: "    return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;",
      replace: "    return line.filter((b) => b !== CARRIAGE_RETURN);",
    }],
    caughtBy: "removed every \\r",
  },
  {
    id: "decoder-in-stream-mode",
    summary: "respond() decodes with the shared fatal decoder in stream mode, so an unfinished " +
      "character at the end of one line is kept for the next",
    file: "protocol.ts",
    edits: [{
      find: "    text = strict.decode(line);",
      replace: "    text = strict.decode(line, { stream: true });",
    }],
    caughtBy: "decode was called with stream: true",
  },
  {
    id: "bound-off-by-one",
    summary: "the accept loop serves while served <= maxConnections: one client too many",
    file: "line_server.ts",
    edits: [{
      find: "      const handler = served < maxConnections ? handle(conn) : turnAway(conn);",
      replace: "      const handler = served <= maxConnections ? handle(conn) : turnAway(conn);",
    }],
    caughtBy: "the bound let one too many in",
  },
];
