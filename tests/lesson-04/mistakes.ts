/**
 * Lesson 04's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in udp_remote.ts. */
export const mistakes: Mistake[] = [
  {
    id: "factor-one-allowed",
    summary: "waitsFor refuses only a factor below 1, so a factor of 1 loops until V8 runs out " +
      "of array length",
    file: "udp_remote.ts",
    edits: [{ find: "if (!(backoff.factor > 1)) {", replace: "if (backoff.factor < 1) {" }],
    caughtBy: "let a factor of exactly 1 through",
  },
  {
    id: "error-name-unset",
    summary: "ServerDownError never sets this.name, so it prints as `Error: I think the server " +
      "is down`",
    file: "udp_remote.ts",
    edits: [{ find: '    this.name = "ServerDownError";\n', replace: "" }],
    caughtBy: 'set this.name = "ServerDownError"',
  },
  {
    id: "error-says-not-how-long",
    summary: "ServerDownError's message says the server is down, but not how long it tried",
    file: "udp_remote.ts",
    edits: [{
      find:
        "`I think the server is down: no reply after ${waits.length} tries (waited ${seconds} s)`",
      replace: "`I think the server is down: no reply after ${waits.length} tries`",
    }],
    caughtBy: "does not say how long the client tried",
  },
  {
    id: "fixed-wait",
    summary: "re-sends at a fixed interval: the wait never rises",
    file: "udp_remote.ts",
    edits: [{ find: "    waits.push(delay);", replace: "    waits.push(backoff.initialMs);" }],
    caughtBy: "the wait did not rise",
  },
  {
    id: "limit-inclusive",
    summary: "gives up when the next wait merely reaches the limit (>= instead of >)",
    file: "udp_remote.ts",
    edits: [{
      find: "while (delay <= backoff.limitMs)",
      replace: "while (delay < backoff.limitMs)",
    }],
    caughtBy: "gave up one wait early",
  },
  {
    id: "floods-without-waiting",
    summary: "re-sends as soon as it has sent: the race never waits for the timer",
    file: "udp_remote.ts",
    edits: [{
      find: "got = await Promise.race([pending, wait(ms, stop).then(() => undefined)]);",
      replace: "got = await Promise.race([pending, Promise.resolve(undefined)]);",
    }],
    caughtBy: "floods the network",
  },
  {
    id: "timer-not-cancelled",
    summary: "leaves the wait's timer running after the reply won the race",
    file: "udp_remote.ts",
    edits: [{
      find: "      } finally {\n        timer.abort();\n      }",
      replace: "      } finally {\n        // the timer is left running\n      }",
    }],
    caughtBy: "the wait was not cancelled",
  },
  {
    id: "new-socket-per-try",
    summary: "closes its socket and opens a new one for each re-send",
    file: "udp_remote.ts",
    edits: [
      {
        find: '  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport',
        replace: '  let socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport',
      },
      {
        find: "      await socket.send(bytes, server);",
        replace: "      if (attempts > 0) {\n" +
          "        pending?.catch(() => {});\n" +
          "        pending = undefined;\n" +
          "        socket.close();\n" +
          '        socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });\n' +
          "      }\n" +
          "      await socket.send(bytes, server);",
      },
    ],
    caughtBy: "re-sent from a new socket",
  },
  {
    id: "keeps-resending-after-reply",
    summary: "notes the reply but stays in the loop, so it re-sends anyway",
    file: "udp_remote.ts",
    edits: [
      {
        find: "    let attempts = 0;\n",
        replace: "    let attempts = 0;\n    let answer: Answer | undefined;\n",
      },
      {
        find:
          "        return { reply: decoder.decode(data), from: from as Deno.NetAddr, local, attempts };",
        replace:
          "        answer = { reply: decoder.decode(data), from: from as Deno.NetAddr, local, attempts };",
      },
      {
        find: "    options.signal?.throwIfAborted();\n    throw new ServerDownError(waits);",
        replace:
          "    if (answer) return { ...answer, attempts };\n    throw new ServerDownError(waits);",
      },
    ],
    caughtBy: "kept re-sending after the reply arrived",
  },
  {
    id: "drop-inverted",
    summary: "drops when random() is at or above dropProbability instead of below it",
    file: "udp_remote.ts",
    edits: [{
      find: "if (random() < dropProbability) {",
      replace: "if (random() >= dropProbability) {",
    }],
    caughtBy: "drop when random() is below dropProbability",
  },
  {
    id: "abort-reported-as-server-down",
    summary: "an abort during the last wait ends in ServerDownError instead of the abort",
    file: "udp_remote.ts",
    edits: [{
      find: "    options.signal?.throwIfAborted();\n    throw new ServerDownError(waits);",
      replace: "    throw new ServerDownError(waits);",
    }],
    caughtBy: "reported the server down although the caller aborted",
  },
  {
    id: "abort-not-passed-to-wait",
    summary: "the caller's signal is checked between sends but never ends a wait",
    file: "udp_remote.ts",
    edits: [{
      find: "      const stop = options.signal ? AbortSignal.any([timer.signal, options.signal]) " +
        ": timer.signal;",
      replace: "      const stop = timer.signal;",
    }],
    caughtBy: "the caller's signal never reached the wait",
  },
  {
    id: "send-error-retried",
    summary: "a failing send is caught and retried as if the datagram were lost",
    file: "udp_remote.ts",
    edits: [{
      find: "      await socket.send(bytes, server);\n      attempts++;",
      replace: "      try {\n        await socket.send(bytes, server);\n      } catch {\n" +
        "        // try again after the wait\n      }\n      attempts++;",
    }],
    caughtBy: "caught the send's error and carried on",
  },
  {
    id: "attempts-start-at-one",
    summary: "attempts starts at 1 and is incremented on every send, so one send counts as 2",
    file: "udp_remote.ts",
    edits: [{ find: "    let attempts = 0;", replace: "    let attempts = 1;" }],
    caughtBy: "miscounted",
  },
  {
    id: "reply-small-buffer",
    summary: "the client receives into a 4096-byte buffer",
    file: "udp_remote.ts",
    edits: [{
      find: "      pending ??= socket.receive(new Uint8Array(MAX_DATAGRAM));",
      replace: "      pending ??= socket.receive(new Uint8Array(4096));",
    }],
    caughtBy: "silently cut",
  },
  {
    id: "server-counts-characters",
    summary: "the server replies with the decoded string's length",
    file: "udp_remote.ts",
    edits: [{
      find: "encoder.encode(replyFor(data.length))",
      replace: "encoder.encode(replyFor(decoder.decode(data).length))",
    }],
    caughtBy: "counted characters",
  },
  {
    id: "done-rejects-after-close",
    summary: "the server loop rethrows the error of the receive() that close() interrupts",
    file: "udp_remote.ts",
    edits: [{
      find: "        if (closing) return;\n        throw error;",
      replace: "        throw error;",
    }],
    caughtBy: "done rejected after close()",
  },
  {
    id: "fatal-log-decoder",
    summary: "decodes with a fatal TextDecoder, so the log line of a datagram that is not " +
      "UTF-8 throws and ends the server loop",
    file: "udp_remote.ts",
    edits: [{
      find: "const decoder = new TextDecoder();",
      replace: 'const decoder = new TextDecoder("utf-8", { fatal: true });',
    }],
    caughtBy: "a datagram that is not UTF-8 ended the server",
  },
  {
    id: "receive-per-attempt",
    summary: "starts a new receive() for every send, leaving the earlier ones pending, " +
      "instead of racing the one pending receive() again",
    file: "udp_remote.ts",
    edits: [{ find: "pending ??= socket.receive(", replace: "pending = socket.receive(" }],
    caughtBy: "started another receive() for each re-send",
  },
  {
    id: "sleep-keeps-abort-listener",
    summary: "sleep() removes its abort listener only when the signal fires, so a wait its " +
      "timer ends leaves the listener on the caller's signal",
    file: "udp_remote.ts",
    edits: [{ find: '      signal?.removeEventListener("abort", done);\n', replace: "" }],
    caughtBy: "left its abort listener on the signal",
  },
  {
    id: "server-ignores-hostname",
    summary: "startServer binds 127.0.0.1 whatever hostname it is given",
    file: "udp_remote.ts",
    edits: [{
      find: '    hostname: options.hostname ?? "127.0.0.1",\n',
      replace: '    hostname: "127.0.0.1",\n',
    }],
    caughtBy: "ignored its hostname option: the server bound 127.0.0.1",
  },
  {
    id: "server-binds-any-address",
    summary: "startServer binds 0.0.0.0 (every address) whatever hostname it is given",
    file: "udp_remote.ts",
    edits: [{
      find: '    hostname: options.hostname ?? "127.0.0.1",\n',
      replace: '    hostname: "0.0.0.0",\n',
    }],
    caughtBy: "ignored its hostname option: the server asked for 0.0.0.0",
  },
  {
    id: "reply-send-not-awaited",
    summary: "the server loop calls socket.send(reply, sender) without await",
    file: "udp_remote.ts",
    edits: [{
      find: "      await socket.send(encoder.encode(replyFor(data.length)), from);",
      replace: "      socket.send(encoder.encode(replyFor(data.length)), from);",
    }],
    caughtBy: "the reply's send() was not awaited",
  },
];
