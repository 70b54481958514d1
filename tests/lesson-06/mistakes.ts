/**
 * Lesson 06's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in interfaces.ts. */
export const mistakes: Mistake[] = [
  {
    id: "from-is-to",
    summary: "ask() reports the address it sent to as the reply's source",
    file: "interfaces.ts",
    edits: [{ find: "      from: from as Deno.NetAddr,\n", replace: "      from: to,\n" }],
    caughtBy: "ask() reported `to` as where the reply came from",
  },
  {
    id: "client-buffer-4096",
    summary: "ask() receives into a 4,096-byte buffer, so a longer reply is cut off",
    file: "interfaces.ts",
    edits: [{
      find: "    const [data, from] = await socket.receive(new Uint8Array(MAX_DATAGRAM));",
      replace: "    const [data, from] = await socket.receive(new Uint8Array(4096));",
    }],
    caughtBy: "silently cut off the rest",
  },
  {
    id: "binds-all-interfaces",
    summary: "the server binds 0.0.0.0 whatever hostname it is given, 'to be reachable'",
    file: "interfaces.ts",
    edits: [{
      find: 'const socket = bindUdp(options.hostname ?? "127.0.0.1", options.port ?? 0);',
      replace: 'const socket = bindUdp("0.0.0.0", options.port ?? 0);',
    }],
    caughtBy: "you bound every interface (0.0.0.0)",
  },
  {
    id: "always-loopback",
    summary: "the server binds 127.0.0.1 whatever hostname it is given",
    file: "interfaces.ts",
    edits: [{
      find: 'const socket = bindUdp(options.hostname ?? "127.0.0.1", options.port ?? 0);',
      replace: 'const socket = bindUdp("127.0.0.1", options.port ?? 0);',
    }],
    caughtBy: "the server was asked for 127.0.0.2",
  },
  {
    id: "raw-addr-in-use",
    summary: "lets Deno's bare AddrInUse escape instead of a clear error naming the socket name",
    file: "interfaces.ts",
    edits: [{
      find: "    if (error instanceof Deno.errors.AddrInUse) {",
      replace: "    if (error instanceof Deno.errors.AddrInUse && false) {",
    }],
    caughtBy: "let Deno's AddrInUse through",
  },
  {
    id: "moves-to-free-port",
    summary: "on AddrInUse, quietly binds port 0 instead and carries on",
    file: "interfaces.ts",
    edits: [{
      find:
        '      throw new AddressInUseError(socketName({ transport: "udp", hostname, port }), {\n' +
        "        cause: error,\n      });",
      replace: '      return Deno.listenDatagram({ hostname, port: 0, transport: "udp" });',
    }],
    caughtBy: "silently moved to another port",
  },
  {
    id: "reuse-address",
    summary: "sets reuseAddress, so a second socket may take a name already in use",
    file: "interfaces.ts",
    edits: [{
      find: 'return Deno.listenDatagram({ hostname, port, transport: "udp" });',
      replace:
        'return Deno.listenDatagram({ hostname, port, transport: "udp", reuseAddress: true });',
    }],
    caughtBy: "two sockets share one socket name",
  },
  {
    id: "client-ignores-bind",
    summary: "ask() always binds 127.0.0.1, ignoring options.bind",
    file: "interfaces.ts",
    edits: [{
      find: '    hostname: options.bind ?? "127.0.0.1",',
      replace: '    hostname: "127.0.0.1",',
    }],
    caughtBy: "ask() ignored options.bind",
  },
  {
    id: "ipv6-without-brackets",
    summary: "writes an IPv6 socket name as ::1:1060, where the port cannot be told apart",
    file: "interfaces.ts",
    edits: [{
      find: '  return addr.hostname.includes(":")\n' +
        "    ? `[${addr.hostname}]:${addr.port}`\n" +
        "    : `${addr.hostname}:${addr.port}`;",
      replace: "  return `${addr.hostname}:${addr.port}`;",
    }],
    caughtBy: "put it in brackets",
  },
  {
    id: "drops-the-cause",
    summary: "AddressInUseError is thrown without { cause }, so Deno's original error is lost",
    file: "interfaces.ts",
    edits: [{
      find: 'socketName({ transport: "udp", hostname, port }), {\n        cause: error,\n      });',
      replace: 'socketName({ transport: "udp", hostname, port }));',
    }],
    caughtBy: "dropped the original error",
  },
  {
    id: "every-error-is-address-in-use",
    summary: "bindUdp turns every bind failure into AddressInUseError",
    file: "interfaces.ts",
    edits: [{
      find:
        "    if (error instanceof Deno.errors.AddrInUse) {\n      throw new AddressInUseError(" +
        'socketName({ transport: "udp", hostname, port }), {\n        cause: error,\n' +
        "      });\n    }\n    throw error;",
      replace:
        '    throw new AddressInUseError(socketName({ transport: "udp", hostname, port }), {\n' +
        "      cause: error,\n    });",
    }],
    caughtBy: "turned every bind failure into AddressInUseError",
  },
  {
    id: "error-unnamed",
    summary: "AddressInUseError never sets this.name, so it shows as a plain Error",
    file: "interfaces.ts",
    edits: [{ find: '    this.name = "AddressInUseError";\n', replace: "" }],
    caughtBy: 'set this.name = "AddressInUseError"',
  },
  {
    id: "server-counts-characters",
    summary: "the server replies with the decoded string's length",
    file: "interfaces.ts",
    edits: [{
      find: "encoder.encode(replyFor(data.length))",
      replace: "encoder.encode(replyFor(decoder.decode(data).length))",
    }],
    caughtBy: "counted characters",
  },
  {
    id: "server-buffer-8192",
    summary: "the server receives into an 8192-byte buffer, cutting off bigger datagrams",
    file: "interfaces.ts",
    edits: [{
      find: "    const buffer = new Uint8Array(MAX_DATAGRAM);\n    while",
      replace: "    const buffer = new Uint8Array(8192);\n    while",
    }],
    caughtBy: "the receive buffer held only 8192 bytes",
  },
  {
    id: "ask-decodes-latin1",
    summary: "ask() turns the reply into text one character per byte",
    file: "interfaces.ts",
    edits: [{
      find: "      reply: decoder.decode(data),",
      replace: "      reply: String.fromCharCode(...data),",
    }],
    caughtBy: "decoded one character per byte",
  },
  {
    id: "log-latin1",
    summary: "the server logs the datagram decoded one character per byte",
    file: "interfaces.ts",
    edits: [{
      find: "says ${JSON.stringify(decoder.decode(data))}",
      replace: "says ${JSON.stringify(String.fromCharCode(...data))}",
    }],
    caughtBy: "decoded one character per byte",
  },
  {
    id: "done-rejects-after-close",
    summary: "the server loop rethrows the error of the receive() that close() interrupts",
    file: "interfaces.ts",
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
    file: "interfaces.ts",
    edits: [{
      find: "const decoder = new TextDecoder();",
      replace: 'const decoder = new TextDecoder("utf-8", { fatal: true });',
    }],
    caughtBy: "a datagram that is not UTF-8 ended the server",
  },
  {
    id: "reply-send-not-awaited",
    summary: "the server loop calls socket.send(reply, sender) without await",
    file: "interfaces.ts",
    edits: [{
      find: "      await socket.send(encoder.encode(replyFor(data.length)), from);",
      replace: "      socket.send(encoder.encode(replyFor(data.length)), from);",
    }],
    caughtBy: "the reply's send() was not awaited",
  },
];
