/**
 * Lesson 09's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in the capstone's protocol, server and client. */
export const mistakes: Mistake[] = [
  {
    id: "request-id-from-math-random",
    summary: "newRequestId() draws its id from Math.random, which is predictable",
    file: "protocol.ts",
    edits: [{
      find: "  const [n] = crypto.getRandomValues(new Uint32Array(1));\n",
      replace: "  const n = Math.floor(Math.random() * 2 ** 32);\n",
    }],
    caughtBy: "the request ids come from Math.random",
  },
  {
    id: "no-reply-cache",
    summary: "the server executes every request it receives, repeats included",
    file: "server.ts",
    edits: [{
      find: "      let reply = cache.get(key);\n",
      replace: "      let reply: Uint8Array | undefined;\n      void key;\n",
    }],
    caughtBy: "executed a duplicated request twice",
    varyingOutput:
      "without a cache, how often a re-send runs again depends on when its timer fires",
  },
  {
    id: "cache-keyed-by-id-only",
    summary:
      "the reply cache is keyed by request id alone, so clients that pick the same id share replies",
    file: "server.ts",
    edits: [{
      find: "      const key = `${from.hostname}:${from.port} ${id}`;\n",
      replace: "      const key = id;\n",
    }],
    caughtBy: "keyed the cache by request id alone",
  },
  {
    id: "server-trusts-truncated",
    summary:
      "the server receives into a buffer of exactly the limit, so an oversize request arrives truncated",
    file: "server.ts",
    edits: [{ find: "new Uint8Array(maxBytes + 1)", replace: "new Uint8Array(maxBytes)" }],
    caughtBy: "trusted a truncated datagram",
  },
  {
    id: "sequential-ids",
    summary: "request ids count up from a random start instead of being random each time",
    file: "protocol.ts",
    edits: [
      {
        find: "const REPLY = /^([0-9a-f]{8}) (?:OK (0|[1-9][0-9]*)|ERR (.+))$/;\n",
        replace:
          "const REPLY = /^([0-9a-f]{8}) (?:OK (0|[1-9][0-9]*)|ERR (.+))$/;\nlet nextId = 0x1000;\n",
      },
      {
        find: "  const [n] = crypto.getRandomValues(new Uint32Array(1));\n",
        replace: "  const n = nextId++;\n",
      },
    ],
    caughtBy: "sequential request ids",
  },
  {
    id: "accepts-any-reply",
    summary: "the client takes the first reply from the server, whatever its id",
    file: "client.ts",
    edits: [{
      find: "        if (reply?.id === id) return reply;\n",
      replace: "        if (reply) return reply;\n",
    }],
    caughtBy: "accepted a reply to another request",
  },
  {
    id: "accepts-any-sender",
    summary: "the client does not check that a reply comes from the server's address",
    file: "client.ts",
    edits: [{
      find:
        "        if (from.hostname !== this.#server.hostname || from.port !== this.#server.port) continue;\n",
      replace: "        void from;\n",
    }],
    caughtBy: "accepted a reply from another address",
  },
  {
    id: "sender-port-only",
    summary: "the client checks only the port of a reply's sender, not its hostname",
    file: "client.ts",
    edits: [{
      find:
        "        if (from.hostname !== this.#server.hostname || from.port !== this.#server.port) continue;\n",
      replace: "        if (from.port !== this.#server.port) continue;\n",
    }],
    caughtBy: "because its port matched",
  },
  {
    id: "server-ignores-hostname",
    summary: "startCounterServer binds 127.0.0.1 whatever hostname it is given",
    file: "server.ts",
    edits: [{
      find: '    hostname: options.hostname ?? "127.0.0.1",\n',
      replace: '    hostname: "127.0.0.1",\n',
    }],
    caughtBy: "ignored its hostname option",
  },
  {
    id: "client-role-ignores-host",
    summary: "the `client` program talks to 127.0.0.1 whatever host it is given",
    file: "counter.ts",
    edits: [{
      find: "    hostname: options.hostname,\n",
      replace: '    hostname: "127.0.0.1",\n',
    }],
    caughtBy: "the client ignored its host argument",
  },
  {
    id: "no-backoff",
    summary: "the client re-sends after the same wait every time",
    file: "client.ts",
    edits: [{
      find: "      wait *= factor;\n      if (wait > limitMs) {",
      replace: "      if (attempts * wait > limitMs + 1e9) {",
    }],
    caughtBy: "no backoff",
  },
  {
    id: "never-gives-up",
    summary: "the client keeps re-sending with ever longer waits and never gives up",
    file: "client.ts",
    edits: [{ find: "      if (wait > limitMs) {", replace: "      if (wait > limitMs * 1e9) {" }],
    caughtBy: "never gave up",
  },
  {
    id: "new-id-per-send",
    summary: "the client draws a new request id for every re-send",
    file: "client.ts",
    edits: [
      {
        find:
          "    const id = newRequestId();\n    const request = encodeRequest({ id, op, name });\n",
        replace:
          "    let id = newRequestId();\n    let request = encodeRequest({ id, op, name });\n",
      },
      {
        find: "      await this.#socket.send(request, this.#server);\n",
        replace:
          "      if (attempts > 0) {\n        id = newRequestId();\n        request = encodeRequest({ id, op, name });\n      }\n      await this.#socket.send(request, this.#server);\n",
      },
    ],
    caughtBy: "a re-send must repeat the same request id",
  },
  {
    id: "no-size-limit",
    summary: "the client sends requests of any size",
    file: "client.ts",
    edits: [{
      find: "    if (request.length > maxRequestBytes) {",
      replace: "    if (request.length > maxRequestBytes * 1e9) {",
    }],
    caughtBy: "no size limit",
  },
  {
    id: "reply-value-unanchored",
    summary: "parseReply's pattern has no `$` and takes any digits: `OK 12abc` reads as 12",
    file: "protocol.ts",
    edits: [{
      find: "const REPLY = /^([0-9a-f]{8}) (?:OK (0|[1-9][0-9]*)|ERR (.+))$/;",
      replace: "const REPLY = /^([0-9a-f]{8}) (?:OK (\\d+)|ERR (.+))/;",
    }],
    caughtBy: "accepted a malformed value",
  },
  {
    id: "reply-value-parseint",
    summary: "parseReply takes any word after OK and converts it with parseInt",
    file: "protocol.ts",
    edits: [
      {
        find: "const REPLY = /^([0-9a-f]{8}) (?:OK (0|[1-9][0-9]*)|ERR (.+))$/;",
        replace: "const REPLY = /^([0-9a-f]{8}) (?:OK (\\S+)|ERR (.+))$/;",
      },
      { find: "value: Number(m[2])", replace: "value: parseInt(m[2])" },
    ],
    caughtBy: "accepted a malformed value",
  },
  {
    id: "name-without-length-limit",
    summary: "parseRequest accepts names of any length",
    file: "protocol.ts",
    edits: [{ find: "([A-Za-z0-9_.-]{1,64})$/", replace: "([A-Za-z0-9_.-]+)$/" }],
    caughtBy: "accepted a name outside the rules",
  },
  {
    id: "name-any-characters",
    summary: "parseRequest accepts any non-space characters in a name, non-ASCII too",
    file: "protocol.ts",
    edits: [{ find: "([A-Za-z0-9_.-]{1,64})$/", replace: "(\\S{1,64})$/" }],
    caughtBy: "accepted a name outside the rules",
  },
  {
    id: "request-id-ignores-byte-offset",
    summary: "requestId decodes the view's underlying buffer from byte 0",
    file: "protocol.ts",
    edits: [{
      find: "const head = text(data.subarray(0, 9));",
      replace: "const head = text(new Uint8Array(data.buffer, 0, 9));",
    }],
    caughtBy: "a subarray starts at its byteOffset",
  },
  {
    id: "client-limit-off-by-one",
    summary: "the client refuses a request of exactly maxRequestBytes",
    file: "client.ts",
    edits: [{
      find: "if (request.length > maxRequestBytes) {",
      replace: "if (request.length >= maxRequestBytes) {",
    }],
    caughtBy: "refused a request of exactly maxRequestBytes",
  },
  {
    id: "server-limit-off-by-one",
    summary: "the server answers `ERR too large` to a request of exactly maxRequestBytes",
    file: "server.ts",
    edits: [
      {
        find: "const request = data.length > maxBytes ? undefined",
        replace: "const request = data.length >= maxBytes ? undefined",
      },
      {
        find: 'reason: data.length > maxBytes ? "too large"',
        replace: 'reason: data.length >= maxBytes ? "too large"',
      },
    ],
    caughtBy: "refused a request of exactly maxRequestBytes",
  },
  {
    id: "gives-up-one-wait-early",
    summary: "the client gives up when the next wait equals limitMs, one send too few",
    file: "client.ts",
    edits: [{ find: "if (wait > limitMs) {", replace: "if (wait >= limitMs) {" }],
    caughtBy: "gave up one wait early",
  },
  {
    id: "attempts-miscounted",
    summary: "ServerDownError.attempts counts the re-sends, not the sends",
    file: "client.ts",
    edits: [{
      find: "          attempts,\n        );",
      replace: "          attempts - 1,\n        );",
    }],
    caughtBy: "miscounted attempts",
  },
  {
    id: "err-reply-plain-error",
    summary: "an ERR reply rejects with a plain Error instead of a ServerError",
    file: "client.ts",
    edits: [{
      find: "if (!reply.ok) throw new ServerError(reply.reason);",
      replace: "if (!reply.ok) throw new Error(reply.reason);",
    }],
    caughtBy: "its own error kind",
  },
  {
    id: "sleep-ignores-abort",
    summary: "sleep() waits out its full time although its signal aborted",
    file: "client.ts",
    edits: [{
      find: '    if (signal.aborted) done();\n    else signal.addEventListener("abort", done);\n',
      replace: "",
    }],
    caughtBy: "sleep() ignored the abort",
    caughtSometimesBy: {
      tests: ["program: `server` runs until its signal is aborted, and stops at once if it was"],
      why: "the sleep timers an aborted client leaves running end during whichever later test " +
        "is running then (Deno's sanitizer blames that test); whether this one is running " +
        "depends on how long the tests between took",
    },
  },
  {
    id: "reply-cache-unbounded",
    summary: "the server's reply cache never drops an entry",
    file: "server.ts",
    edits: [{
      find: "    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);\n",
      replace: "",
    }],
    caughtBy: "an unbounded reply cache",
  },
  {
    id: "done-rejects-after-close",
    summary: "the server's loop rethrows the error close() causes, so done rejects",
    file: "server.ts",
    edits: [{
      find:
        "      } catch (error) {\n        if (closing) return;\n        throw error;\n      }\n      const from",
      replace: "      } catch (error) {\n        throw error;\n      }\n      const from",
    }],
    caughtBy: "done rejected after close()",
  },
  {
    id: "forgiving-protocol-decoder",
    summary: "the protocol decodes datagrams with a forgiving TextDecoder, so a reply that is " +
      "not UTF-8 still parses, its bad bytes turned into U+FFFD",
    file: "protocol.ts",
    edits: [{
      find: 'const strict = new TextDecoder("utf-8", { fatal: true });',
      replace: 'const strict = new TextDecoder("utf-8");',
    }],
    caughtBy: "decoded bytes that are not UTF-8",
  },
  {
    id: "id-from-whole-datagram",
    summary: "requestId decodes the whole datagram, so bytes that are not UTF-8 after the id, " +
      "or an oversize request cut inside a character, leave it without an id and unanswered",
    file: "protocol.ts",
    edits: [{ find: "text(data.subarray(0, 9))", replace: "text(data)" }],
    caughtBy: "the id was read by decoding the whole datagram",
  },
  {
    id: "receive-per-wait",
    summary: "the client starts a new receive() for each wait instead of keeping one pending",
    file: "client.ts",
    edits: [{
      find:
        "        this.#pending ??= this.#socket.receive(new Uint8Array(MAX_REQUEST_BYTES + 1));\n" +
        "        const next = await Promise.race([this.#pending, timeout]);",
      replace:
        "        const pending = this.#socket.receive(new Uint8Array(MAX_REQUEST_BYTES + 1));\n" +
        "        const next = await Promise.race([pending, timeout]);",
    }],
    caughtBy: "started a new receive() for each wait",
  },
  {
    id: "wait-restarts-per-datagram",
    summary: "the client starts a new timer after every skipped datagram, so stale replies " +
      "keep the wait open",
    file: "client.ts",
    edits: [{
      find:
        '    const timeout = this.#options.sleep(ms, stop.signal).then(() => "timeout" as const);\n' +
        "    try {\n      while (true) {\n",
      replace: "    try {\n      while (true) {\n" +
        '        const timeout = this.#options.sleep(ms, stop.signal).then(() => "timeout" as const);\n',
    }],
    caughtBy: "the wait restarted after a skipped stale reply",
  },
  {
    id: "limit-counts-characters",
    summary: "the client's size limit counts the request's characters, not its bytes",
    file: "client.ts",
    edits: [{
      find: "    if (request.length > maxRequestBytes) {",
      replace: "    if (`${id} ${op} ${name}`.length > maxRequestBytes) {",
    }],
    caughtBy: "the size limit counted characters, not bytes",
  },
  {
    id: "request-id-without-separator",
    summary: "requestId's pattern has no space after the 8 hex digits, so `0000bee3deadbeef " +
      "INCR x` is answered as request 0000bee3",
    file: "protocol.ts",
    edits: [{ find: "const ID = /^([0-9a-f]{8}) /;", replace: "const ID = /^([0-9a-f]{8})/;" }],
    caughtBy: "read the id without the space that ends it",
  },
  {
    id: "request-id-first-8-bytes",
    summary: "requestId decodes the first 8 bytes only and checks they are hex digits, never " +
      "looking at the space that must follow",
    file: "protocol.ts",
    edits: [
      { find: "text(data.subarray(0, 9))", replace: "text(data.subarray(0, 8))" },
      { find: "const ID = /^([0-9a-f]{8}) /;", replace: "const ID = /^([0-9a-f]{8})$/;" },
    ],
    caughtBy: "read the id without the space that ends it",
  },
  {
    id: "reply-id-prefix-match",
    summary: "the client matches a reply by `text.startsWith(id)` and reads the rest after the " +
      "first space, so a reply whose id only begins with the call's id is taken",
    file: "client.ts",
    edits: [{
      find:
        "        const reply = parseReply(data);\n        if (reply?.id === id) return reply;\n",
      replace: "        const text = new TextDecoder().decode(data);\n" +
        "        if (!text.startsWith(id)) continue; // another call's reply\n" +
        '        const rest = text.slice(text.indexOf(" ") + 1); // "OK <value>" or "ERR <reason>"\n' +
        '        if (rest.startsWith("OK ")) return { id, ok: true, value: Number(rest.slice(3)) };\n' +
        '        if (rest.startsWith("ERR ")) return { id, ok: false, reason: rest.slice(4) };\n',
    }],
    caughtBy: "matched the reply's id on its first 8 characters",
  },
  {
    id: "reply-send-not-awaited",
    summary: "the server loop calls socket.send(reply, from) without await",
    file: "server.ts",
    edits: [{
      find: "        await socket.send(reply, from);",
      replace: "        socket.send(reply, from);",
    }],
    caughtBy: "the reply's send() was not awaited",
  },
];
