/**
 * Lesson 08's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in udp_broadcast.ts and discovery.ts. */
export const mistakes: Mistake[] = [
  {
    id: "broadcast-last-octet-only",
    summary: "always sets just the last byte to 255, whatever the prefix length",
    file: "udp_broadcast.ts",
    edits: [{
      find: "const hostBits = 2 ** (32 - prefixLength) - 1;",
      replace: "const hostBits = 255;",
    }],
    caughtBy: "x.x.x.255 is the broadcast address of a /24 only",
  },
  {
    id: "server-binds-given-host",
    summary:
      "the server binds the host it is given (127.0.0.1 by default), so it never hears a broadcast",
    file: "udp_broadcast.ts",
    edits: [{
      find: "    hostname: ALL_INTERFACES,\n",
      replace: "    hostname: options.hostname,\n",
    }],
    caughtBy: "not binding 0.0.0.0",
  },
  {
    id: "server-without-reuse",
    summary: "the server binds without reuseAddress, so a second copy on the same port fails",
    file: "udp_broadcast.ts",
    edits: [{
      find: '    transport: "udp",\n    reuseAddress: true,\n  });\n  const addr',
      replace: '    transport: "udp",\n  });\n  const addr',
    }],
    caughtBy: "no reuseAddress",
  },
  {
    id: "client-sends-to-localhost",
    summary: "the client sends to 127.0.0.1 instead of the broadcast address it is given",
    file: "udp_broadcast.ts",
    edits: [{
      find: "hostname: options.hostname, port: options.port };",
      replace: 'hostname: "127.0.0.1", port: options.port };',
    }],
    caughtBy: "not to 127.0.0.1",
  },
  {
    id: "responder-binds-loopback",
    summary:
      "the responder binds 127.0.0.1 by default, which never sees datagrams sent to 127.255.255.255",
    file: "discovery.ts",
    edits: [{
      find: 'hostname: options.hostname ?? "0.0.0.0",',
      replace: 'hostname: options.hostname ?? "127.0.0.1",',
    }],
    caughtBy: "not binding 0.0.0.0",
  },
  {
    id: "responder-without-reuse",
    summary: "the responder binds without reuseAddress, so only one can run per port",
    file: "discovery.ts",
    edits: [{
      find: '    port: options.port,\n    transport: "udp",\n    reuseAddress: true,\n',
      replace: '    port: options.port,\n    transport: "udp",\n',
    }],
    caughtBy: "no reuseAddress",
  },
  {
    id: "responder-trims-request",
    summary: "the responder trims the request before matching it, so it answers " +
      '"DISCOVER <id>\\n" and other requests with a space or line break around them',
    file: "discovery.ts",
    edits: [{
      find: "      const match = text.match(REQUEST);\n",
      replace: "      const match = text.trim().match(REQUEST);\n",
    }],
    caughtBy: "trimmed the request before matching it",
  },
  {
    id: "trusts-any-answer",
    summary: "accepts any `HERE <id> <name>`, whatever the id",
    file: "discovery.ts",
    edits: [{
      find:
        "  const prefix = `HERE ${id} `;\n  if (!text.startsWith(prefix)) return undefined;\n  const name = text.slice(prefix.length);\n",
      replace:
        '  const match = text.match(/^HERE \\S+ (.*)$/s);\n  if (!match) return undefined;\n  const name = match[1] + (id ? "" : "");\n',
    }],
    caughtBy: "trusted a malformed or stale answer",
  },
  {
    id: "stops-at-first-answer",
    summary: "returns as soon as one answer arrives instead of collecting for the whole window",
    file: "discovery.ts",
    edits: [{
      find: "      options.onFound?.(responder);\n",
      replace: "      options.onFound?.(responder);\n      break;\n",
    }],
    caughtBy: "stopped at the first answer",
  },
  {
    id: "dedupes-by-address-only",
    summary: "keeps one answer per source address, losing responders that share a port",
    file: "discovery.ts",
    edits: [{
      find: "      const key = `${addr.hostname}:${addr.port} ${name}`;\n",
      replace: "      const key = `${addr.hostname}:${addr.port}`;\n",
    }],
    caughtBy: "one per address AND name",
  },
  {
    id: "counts-responder-twice",
    summary: "keeps every answer, so a responder that answers twice is listed twice",
    file: "discovery.ts",
    edits: [{
      find: "      const key = `${addr.hostname}:${addr.port} ${name}`;\n",
      replace: "      const key = `${addr.hostname}:${addr.port} ${name} ${found.size}`;\n",
    }],
    caughtBy: "counted one responder twice",
  },
  {
    id: "shift-by-32",
    summary:
      "broadcastAddress builds the mask with 0xffffffff << (32 - prefix), which is no shift at /0",
    file: "udp_broadcast.ts",
    edits: [{
      find: "  const value = parts.reduce((n, p) => n * 256 + p, 0);\n" +
        "  const hostBits = 2 ** (32 - prefixLength) - 1; // as a number: 2 ** 32 - 1 fits exactly\n" +
        "  const broadcast = (value - (value % (hostBits + 1))) + hostBits;\n" +
        '  return [24, 16, 8, 0].map((shift) => Math.floor(broadcast / 2 ** shift) % 256).join(".");',
      replace: "  const value = parts.reduce((n, p) => ((n << 8) | p) >>> 0, 0);\n" +
        "  const mask = (0xffffffff << (32 - prefixLength)) >>> 0;\n" +
        "  const broadcast = (value | ~mask) >>> 0;\n" +
        '  return [24, 16, 8, 0].map((shift) => (broadcast >>> shift) & 255).join(".");',
    }],
    caughtBy: "shifted by 32",
  },
  {
    id: "address-parts-by-number",
    summary: "broadcastAddress checks each part with Number(), which reads 1e2 and 0x7f",
    file: "udp_broadcast.ts",
    edits: [{
      find: "    parts.length !== 4 || texts.some((t) => !/^[0-9]{1,3}$/.test(t)) ||\n" +
        "    parts.some((p) => p > 255) ||",
      replace:
        "    parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) ||",
    }],
    caughtBy: "accepted a part in exponent notation",
  },
  {
    id: "prefix-unchecked",
    summary: "broadcastAddress accepts any prefix length, 33 and 8.5 included",
    file: "udp_broadcast.ts",
    edits: [{
      find: "!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32",
      replace: "false",
    }],
    caughtBy: "accepted a prefix over 32",
  },
  {
    id: "line-latin1",
    summary: "broadcastLine decodes the datagram one character per byte",
    file: "udp_broadcast.ts",
    edits: [{
      find: "const text = JSON.stringify(decoder.decode(data))",
      replace: "const text = JSON.stringify(String.fromCharCode(...data))",
    }],
    caughtBy: "decoded one character per byte",
  },
  {
    id: "forgiving-answer-decoder",
    summary: "parseAnswer decodes with a forgiving TextDecoder, so invalid bytes become U+FFFD",
    file: "discovery.ts",
    edits: [{
      find: 'const strict = new TextDecoder("utf-8", { fatal: true });',
      replace: 'const strict = new TextDecoder("utf-8");',
    }],
    caughtBy: "in valid UTF-8, on one line",
  },
  {
    id: "answer-spans-lines",
    summary: "parseAnswer accepts a name with a line break in it",
    file: "discovery.ts",
    edits: [{
      find: "if (!name.trim() || /[\\r\\n]/.test(name)) return undefined;",
      replace: "if (!name.trim()) return undefined;",
    }],
    caughtBy: "in valid UTF-8, on one line",
  },
  {
    id: "id-unpadded",
    summary: "discoveryId prints the number in hex without padding it to 8 digits",
    file: "discovery.ts",
    edits: [{
      find: 'return n.toString(16).padStart(8, "0");',
      replace: "return n.toString(16);",
    }],
    caughtBy: "padStart(8",
    varyingOutput: "the ID that shows is whichever random draw came out short",
  },
  {
    id: "responder-done-rejects",
    summary: "the responder rethrows the error of the receive() that close() interrupts",
    file: "discovery.ts",
    edits: [{
      find: "        if (closing) return;\n        throw error;\n      }\n      let text",
      replace: "        throw error;\n      }\n      let text",
    }],
    caughtBy: "done rejected after close()",
  },
  {
    id: "window-timer-not-cleared",
    summary: "discover never aborts its window's wait, whose timer outlives a failed send",
    file: "discovery.ts",
    edits: [{ find: "    over.abort();\n", replace: "" }],
    caughtBy: "never completed",
  },
  {
    id: "window-per-receive",
    summary: "discover starts a new wait of windowMs for every receive(), so each answer " +
      "restarts the window",
    file: "discovery.ts",
    edits: [{
      find: "const next = await Promise.race([pending, windowOver]);",
      replace: "const next = await Promise.race([\n" +
        '        pending,\n        sleep(options.windowMs, over.signal).then(() => "over" as const),\n' +
        "      ]);",
    }, {
      find:
        '  const windowOver = sleep(options.windowMs, over.signal).then(() => "over" as const);\n',
      replace: "",
    }],
    caughtBy: "a new wait per receive() restarts the window",
  },
  {
    id: "reads-past-window",
    summary: "discover checks a flag that the window sets, between receives, so it waits for " +
      "one more datagram after the window and keeps it",
    file: "discovery.ts",
    edits: [{
      find: "    while (true) {\n      pending = socket.receive();\n" +
        "      const next = await Promise.race([pending, windowOver]);\n" +
        '      if (next === "over") break;\n',
      replace: "    let ended = false;\n    windowOver.then(() => ended = true);\n" +
        "    while (!ended) {\n      pending = socket.receive();\n      const next = await pending;\n",
    }],
    caughtBy: "kept an answer that arrived after the window had ended",
  },
  {
    id: "reports-every-answer",
    summary: "discover calls onFound for every good answer, a responder's repeats included",
    file: "discovery.ts",
    edits: [{
      find: "      if (found.has(key)) continue;\n      const responder = { name, addr };\n" +
        "      found.set(key, responder);\n      options.onFound?.(responder);\n",
      replace: "      const responder = { name, addr };\n      options.onFound?.(responder);\n" +
        "      if (found.has(key)) continue;\n      found.set(key, responder);\n",
    }],
    caughtBy: "call onFound exactly once for each responder",
  },
  {
    id: "line-fatal-decoder",
    summary: "broadcastLine decodes with a fatal TextDecoder, so a datagram that is not UTF-8 " +
      "makes the server's log line throw and ends the server",
    file: "udp_broadcast.ts",
    edits: [{
      find: "const decoder = new TextDecoder();",
      replace: 'const decoder = new TextDecoder("utf-8", { fatal: true });',
    }],
    caughtBy: "a datagram that is not UTF-8 ended the server",
  },
  {
    id: "dedupes-by-name-only",
    summary: "discover() keeps one entry per name, so two responders with the same name at " +
      "two addresses count as one",
    file: "discovery.ts",
    edits: [{
      find: "const key = `${addr.hostname}:${addr.port} ${name}`;",
      replace: "const key = name;",
    }],
    caughtBy: "kept one entry per name",
  },
  {
    id: "dedupes-without-hostname",
    summary: "discover() keeps one entry per name and port, so two devices with the same name " +
      "answering from the same port at two addresses count as one",
    file: "discovery.ts",
    edits: [{
      find: "const key = `${addr.hostname}:${addr.port} ${name}`;",
      replace: "const key = `${name}:${addr.port}`;",
    }],
    caughtBy: "kept one entry per port and name, without the hostname",
  },
  {
    id: "dedupes-without-port",
    summary: "discover() keeps one entry per hostname and name, so two responders with the same " +
      "name on two ports of one host count as one",
    file: "discovery.ts",
    edits: [{
      find: "const key = `${addr.hostname}:${addr.port} ${name}`;",
      replace: "const key = `${addr.hostname} ${name}`;",
    }],
    caughtBy: "kept one entry per hostname and name, without the port",
  },
  {
    id: "id-from-math-random",
    summary: "discoveryId() draws its id from Math.random, which is predictable",
    file: "discovery.ts",
    edits: [{
      find: "  const [n] = crypto.getRandomValues(new Uint32Array(1));\n" +
        '  return n.toString(16).padStart(8, "0");',
      replace: '  return Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, "0");',
    }],
    caughtBy: "the ids come from Math.random",
  },
  {
    id: "ignores-broadcast-option",
    summary: "discover() always sends to 127.255.255.255, whatever options.broadcast says",
    file: "discovery.ts",
    edits: [{
      find: "      hostname: options.broadcast ?? LOOPBACK_BROADCAST,",
      replace: "      hostname: LOOPBACK_BROADCAST,",
    }],
    caughtBy: "although options.broadcast named another address",
  },
  {
    id: "reply-send-not-awaited",
    summary: "the responder's loop calls socket.send(answer, sender) without await",
    file: "discovery.ts",
    edits: [{
      find: "        await socket.send(encoder.encode(`HERE ${match[1]} ${options.name}`), from);",
      replace: "        socket.send(encoder.encode(`HERE ${match[1]} ${options.name}`), from);",
    }],
    caughtBy: "the reply's send() was not awaited",
  },
];
