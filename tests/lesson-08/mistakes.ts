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
      find: "      if (!found.has(key)) found.set(key, { name, addr });\n",
      replace: "      if (!found.has(key)) found.set(key, { name, addr });\n      break;\n",
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
];
