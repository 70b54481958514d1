/**
 * Lesson 05's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in connected.ts and request_ids.ts. */
export const mistakes: Mistake[] = [
  {
    id: "accepts-anyone",
    summary: "receive() returns the first datagram, whoever sent it",
    file: "connected.ts",
    edits: [{
      find: "        if (sameAddress(from as Deno.NetAddr, peer)) return data.slice();",
      replace: "        if (from) return data.slice();",
    }],
    caughtBy: "a stranger at another address",
  },
  {
    id: "host-only",
    summary: "compares only the sender's host, not its port",
    file: "connected.ts",
    edits: [{
      find: "return a.hostname === b.hostname && a.port === b.port;",
      replace: "return a.hostname === b.hostname;",
    }],
    caughtBy: "compare the port as well as the host",
  },
  {
    id: "connect-sends-hello",
    summary:
      "connectUdp sends an empty datagram to 'open' the connection, as if UDP had a handshake",
    file: "connected.ts",
    edits: [{
      find: "  let closed = false;\n",
      replace: "  let closed = false;\n  socket.send(new Uint8Array(0), peer).catch(() => {});\n",
    }],
    caughtBy: "UDP connect sends nothing",
  },
  {
    id: "no-id-check",
    summary: "returns the first reply from the server without comparing its ID",
    file: "request_ids.ts",
    edits: [{
      find: "        if (reply?.id === id) return reply.payload;",
      replace: "        if (reply) return reply.payload;",
    }],
    caughtBy: "did not check the reply's ID",
  },
  {
    id: "one-id-per-client",
    summary: "draws one ID when the client opens and uses it for every request",
    file: "request_ids.ts",
    edits: [
      {
        find: "  const conn = connectUdp(server);\n",
        replace: "  const conn = connectUdp(server);\n  const clientId = nextId();\n",
      },
      { find: "      const id = nextId();", replace: "      const id = clientId;" },
    ],
    caughtBy: "every request needs its own ID",
  },
  {
    id: "sequential-ids",
    summary: "starts at a random ID and counts up from there",
    file: "request_ids.ts",
    edits: [{
      find: "export function randomId(): number {\n" +
        "  return crypto.getRandomValues(new Uint32Array(1))[0];\n}",
      replace: "let lastId = crypto.getRandomValues(new Uint32Array(1))[0];\n" +
        "export function randomId(): number {\n  lastId = (lastId + 1) >>> 0;\n  return lastId;\n}",
    }],
    caughtBy: "sequential IDs",
  },
  {
    id: "math-random-ids",
    summary: "makes IDs with Math.random, which is predictable",
    file: "request_ids.ts",
    edits: [{
      find: "  return crypto.getRandomValues(new Uint32Array(1))[0];",
      replace: "  return Math.floor(Math.random() * 2 ** 32);",
    }],
    caughtBy: "the IDs come from Math.random",
  },
  {
    id: "little-endian-id",
    summary: "writes and reads the ID little-endian instead of in network byte order",
    file: "request_ids.ts",
    edits: [
      { find: "setUint32(0, id);", replace: "setUint32(0, id, true);" },
      { find: "view.getUint32(0)", replace: "view.getUint32(0, true)" },
    ],
    caughtBy: "must be big-endian",
  },
  {
    id: "server-counts-id-bytes",
    summary: "the server counts the whole datagram, ID included, in `Your data was N bytes long`",
    file: "request_ids.ts",
    edits: [{
      find: "`Your data was ${request.payload.length} bytes long`",
      replace: "`Your data was ${data.length} bytes long`",
    }],
    caughtBy: "counted the 4 ID bytes",
  },
  {
    id: "no-length-check",
    summary: "decodes datagrams shorter than 4 bytes, which throws a RangeError",
    file: "request_ids.ts",
    edits: [{ find: "  if (datagram.length < ID_BYTES) return undefined;\n", replace: "" }],
    caughtBy: "a datagram shorter than 4 bytes holds no ID",
  },
  {
    id: "dataview-ignores-byteoffset",
    summary: "decodeMessage builds new DataView(datagram.buffer), reading from the buffer's start",
    file: "request_ids.ts",
    edits: [{
      find: "new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength)",
      replace: "new DataView(datagram.buffer)",
    }],
    caughtBy: "read from the start of the whole buffer",
  },
  {
    id: "four-bytes-too-short",
    summary: "decodeMessage refuses a datagram of exactly 4 bytes (an ID, no payload)",
    file: "request_ids.ts",
    edits: [{
      find: "if (datagram.length < ID_BYTES) return undefined;",
      replace: "if (datagram.length <= ID_BYTES) return undefined;",
    }],
    caughtBy: "off by one: 4 bytes hold an ID",
  },
  {
    id: "receive-returns-reused-buffer",
    summary: "connectUdp's receive() reuses one buffer and returns a view of it, not a copy",
    file: "connected.ts",
    edits: [
      {
        find: "    async receive() {\n      const buffer = new Uint8Array(MAX_DATAGRAM);\n",
        replace: "    async receive() {\n",
      },
      {
        find: "  let closed = false;\n",
        replace: "  let closed = false;\n  const buffer = new Uint8Array(MAX_DATAGRAM);\n",
      },
      { find: "return data.slice();", replace: "return data;" },
    ],
    caughtBy: "the next receive() reuses",
  },
  {
    id: "server-counts-characters",
    summary: "the server counts the payload's characters, not its bytes",
    file: "request_ids.ts",
    edits: [{
      find: "const reply = `Your data was ${request.payload.length} bytes long`;",
      replace: "const reply = `Your data was ${new TextDecoder().decode(request.payload).length} " +
        "bytes long`;",
    }],
    caughtBy: "counted characters",
  },
  {
    id: "done-rejects-after-close",
    summary: "the server loop rethrows the error of the receive() that close() interrupts",
    file: "request_ids.ts",
    edits: [{
      find: "        if (closing) return;\n        throw error;",
      replace: "        throw error;",
    }],
    caughtBy: "done rejected after close()",
  },
  {
    id: "ignores-hostname-option",
    summary: "connectUdp always binds 127.0.0.1, whatever options.hostname says",
    file: "connected.ts",
    edits: [{
      find: 'hostname: options.hostname ?? "127.0.0.1",',
      replace: 'hostname: "127.0.0.1",',
    }],
    caughtBy: "ignored options.hostname",
  },
  {
    id: "message-sized-by-characters",
    summary: "encodeMessage sizes the message by the payload string's length, not its UTF-8 bytes",
    file: "request_ids.ts",
    edits: [{
      find: "new Uint8Array(ID_BYTES + body.length)",
      replace: "new Uint8Array(ID_BYTES + payload.length)",
    }],
    caughtBy: "sized the message by the string's length",
  },
  {
    id: "receive-buffer-1024",
    summary: "connectUdp's receive() reads into a 1024-byte buffer, cutting bigger datagrams short",
    file: "connected.ts",
    edits: [{ find: "new Uint8Array(MAX_DATAGRAM);", replace: "new Uint8Array(1024);" }],
    caughtBy: "the rest of the datagram was silently thrown away",
  },
  {
    id: "reply-send-not-awaited",
    summary: "the server loop calls socket.send(reply, sender) without await",
    file: "request_ids.ts",
    edits: [{
      find: "      await socket.send(encodeMessage(request.id, reply), sender as Deno.NetAddr);",
      replace: "      socket.send(encodeMessage(request.id, reply), sender as Deno.NetAddr);",
    }],
    caughtBy: "the reply's send() was not awaited",
  },
];
