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
];
