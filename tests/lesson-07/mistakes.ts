/**
 * Lesson 07's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in datagram_size.ts and fragments.ts. */
export const mistakes: Mistake[] = [
  {
    id: "ignores-message-too-long",
    summary: 'swallows the OS\'s "Message too long" and reports 0 bytes sent',
    file: "datagram_size.ts",
    edits: [{
      find: "    if (!isMessageTooLong(error)) throw error;\n",
      replace: "    if (isMessageTooLong(error)) return 0;\n    if (error) throw error;\n",
    }],
    caughtBy: 'ignored the OS\'s "Message too long"',
  },
  {
    id: "no-up-front-limit",
    summary: "relies on the OS alone, so datagrams over the protocol's own limit still leave",
    file: "datagram_size.ts",
    edits: [{ find: "  if (data.length > limit) {\n", replace: "  if (data.length > 65_507) {\n" }],
    caughtBy: "no up-front size check",
  },
  {
    id: "limit-off-by-one",
    summary: "refuses a datagram of exactly the limit (>= instead of >)",
    file: "datagram_size.ts",
    edits: [{ find: "  if (data.length > limit) {\n", replace: "  if (data.length >= limit) {\n" }],
    caughtBy: "the limit itself is allowed",
  },
  {
    id: "trusts-truncated-datagram",
    summary:
      "receives into a buffer of exactly maxBytes, so a longer datagram comes back cut short",
    file: "datagram_size.ts",
    edits: [{
      find: "socket.receive(new Uint8Array(maxBytes + 1))",
      replace: "socket.receive(new Uint8Array(maxBytes))",
    }],
    caughtBy: "trusted a truncated datagram",
  },
  {
    id: "receive-into-shared-buffer",
    summary: "receiveChecked receives into one module-level buffer and returns a view of it",
    file: "datagram_size.ts",
    edits: [{
      find: "  const [data, from] = await socket.receive(new Uint8Array(maxBytes + 1));",
      replace: "  if (shared.length !== maxBytes + 1) shared = new Uint8Array(maxBytes + 1);\n" +
        "  const [data, from] = await socket.receive(shared);",
    }, {
      find: "export async function receiveChecked(",
      replace: "let shared = new Uint8Array(0);\n\nexport async function receiveChecked(",
    }],
    caughtBy: "a view of one receive buffer shared by every call",
  },
  {
    id: "fragment-count-ignores-udp-header",
    summary: "counts IP fragments from the payload alone, forgetting the UDP header they carry",
    file: "datagram_size.ts",
    edits: [{
      find: "const ipPayload = payloadBytes + UDP_HEADER_BYTES;",
      replace: "const ipPayload = payloadBytes;",
    }],
    caughtBy: "the 8-byte UDP header travels in the fragments too",
  },
  {
    id: "forgets-header-room",
    summary: "cuts slices of maxDatagram bytes, so each datagram is 8 bytes over budget",
    file: "fragments.ts",
    edits: [{
      find: "const room = maxDatagram - HEADER_BYTES;",
      replace: "const room = maxDatagram;",
    }],
    caughtBy: "forgot the 8-byte header",
  },
  {
    id: "assumes-in-order",
    summary: "stores payloads in arrival order instead of at their index",
    file: "fragments.ts",
    edits: [{
      find: "    if (entry.parts[fragment.index] !== undefined) return undefined;\n" +
        "    entry.parts[fragment.index] = fragment.payload.slice();\n",
      replace: "    entry.parts[entry.have] = fragment.payload.slice();\n",
    }],
    caughtBy: "assumed datagrams arrive in order",
  },
  {
    id: "counts-duplicates",
    summary: "counts every arrival, so a duplicate makes a message with a hole look complete",
    file: "fragments.ts",
    edits: [{
      find: "    if (entry.parts[fragment.index] !== undefined) return undefined;\n",
      replace: "",
    }],
    caughtBy: "counted a duplicate fragment as new",
  },
  {
    id: "mixes-messages",
    summary: "adds every fragment to whichever partial message exists, ignoring the id",
    file: "fragments.ts",
    edits: [{
      find: "let entry = this.#partial.get(fragment.id);",
      replace: "let entry = this.#partial.values().next().value;",
    }],
    caughtBy: "mixed fragments of different messages",
  },
  {
    id: "waits-forever",
    summary: "waits for the missing fragment with no time limit",
    file: "fragments.ts",
    edits: [{
      find: 'const idle = sleep(options.idleMs, quiet.signal).then(() => "idle" as const);',
      replace: 'const idle = new Promise<"idle">(() => {});',
    }],
    caughtBy: "hung waiting for a lost fragment",
  },
  {
    id: "dataview-ignores-byteoffset",
    summary: "decodeFragment builds new DataView(datagram.buffer), reading from the buffer's start",
    file: "fragments.ts",
    edits: [{
      find: "const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);",
      replace: "const view = new DataView(datagram.buffer);",
    }],
    caughtBy: "read from the start of the whole buffer",
  },
  {
    id: "signed-index-and-count",
    summary: "decodeFragment reads index and count with getInt16, signed",
    file: "fragments.ts",
    edits: [{
      find: "    index: view.getUint16(4),\n    count: view.getUint16(6),",
      replace: "    index: view.getInt16(4),\n    count: view.getInt16(6),",
    }],
    caughtBy: "index and count are unsigned 16-bit",
  },
  {
    id: "keeps-views-of-receive-buffer",
    summary: "the Reassembler keeps each payload as a view of the reused receive buffer",
    file: "fragments.ts",
    edits: [{
      find: "entry.parts[fragment.index] = fragment.payload.slice();",
      replace: "entry.parts[fragment.index] = fragment.payload;",
    }],
    caughtBy: "kept each payload as a view of the receive buffer",
  },
  {
    id: "drops-the-cause",
    summary:
      "sendChecked's DatagramTooLargeError drops the OS's error instead of keeping it as cause",
    file: "datagram_size.ts",
    edits: [{
      find: "      MAX_UDP_PAYLOAD_IPV4,\n      { cause: error },\n    );",
      replace: "      MAX_UDP_PAYLOAD_IPV4,\n    );",
    }],
    caughtBy: "dropped the original error",
  },
  {
    id: "fragments-not-rounded-to-8",
    summary:
      "fragmentCount lets a fragment carry mtu - 20 bytes, not rounded down to a multiple of 8",
    file: "datagram_size.ts",
    edits: [{
      find: "const perFragment = Math.floor(room / 8) * 8;",
      replace: "const perFragment = room;",
    }],
    caughtBy: "rounded down to 8",
  },
  {
    id: "idle-limit-from-start",
    summary: "receiveMessage gives the whole message idleMs, instead of each silence",
    file: "fragments.ts",
    edits: [
      {
        find: "  const buffer = new Uint8Array(65_536);\n  while (true) {",
        replace:
          "  const buffer = new Uint8Array(65_536);\n  const whole = new AbortController();\n" +
          "  const deadline = sleep(options.idleMs, whole.signal);\n  while (true) {",
      },
      {
        find: 'const idle = sleep(options.idleMs, quiet.signal).then(() => "idle" as const);',
        replace: 'const idle = deadline.then(() => "idle" as const);',
      },
    ],
    caughtBy: "timed the whole message, not the silence",
  },
  {
    id: "fragment-count-by-payload-budget",
    summary: "fragmentCount divides the payload by payloadBudget(mtu), as if every fragment " +
      "carried the UDP header",
    file: "datagram_size.ts",
    edits: [{
      find: "  if (ipPayload <= room) return 1;",
      replace: "  return Math.max(1, Math.ceil(payloadBytes / payloadBudget(mtu)));",
    }],
    caughtBy: "only the first fragment carries the 8-byte UDP header",
  },
  {
    id: "last-fragment-rounded-to-8",
    summary: "fragmentCount divides by (mtu - 20) rounded down to 8 for every fragment, the " +
      "last one included",
    file: "datagram_size.ts",
    edits: [{
      find: "  if (ipPayload <= room) return 1;",
      replace: "  return Math.max(1, Math.ceil(ipPayload / (Math.floor(room / 8) * 8)));",
    }],
    caughtBy: "the last fragment was rounded down to a multiple of 8 too",
  },
  {
    id: "ignores-disagreeing-count",
    summary: "the Reassembler adds a fragment whose count disagrees with the first one seen",
    file: "fragments.ts",
    edits: [{
      find: "    if (entry.parts.length !== fragment.count) return undefined;\n",
      replace: "",
    }],
    caughtBy: "took a fragment whose count disagrees with the first one seen",
  },
  {
    id: "receive-buffer-1500",
    summary: "receiveMessage receives into a 1,500-byte buffer, cutting bigger fragments short",
    file: "fragments.ts",
    edits: [{ find: "new Uint8Array(65_536)", replace: "new Uint8Array(1500)" }],
    caughtBy: "received into a buffer smaller than a datagram",
  },
  {
    id: "ignores-given-reassembler",
    summary: "receiveMessage always starts a new Reassembler, ignoring options.reassembler",
    file: "fragments.ts",
    edits: [{
      find: "options.reassembler ?? new Reassembler()",
      replace: "new Reassembler()",
    }],
    caughtBy: "the fragments an earlier call collected were lost",
  },
  {
    id: "id-zero-replaced",
    summary: "sendMessage draws a random id when the caller asks for id 0 " +
      "(`options.id || randomMessageId()`)",
    file: "fragments.ts",
    edits: [{
      find: "options.id ?? randomMessageId()",
      replace: "options.id || randomMessageId()",
    }],
    caughtBy: "replaced the caller's id 0 with a random one",
  },
];
