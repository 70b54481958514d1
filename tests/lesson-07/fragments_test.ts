/**
 * Lesson 07 — Splitting a message into datagrams no bigger than an MTU and
 * putting it back together, through a relay that reorders, duplicates and
 * drops fragments by plan.
 *
 * @module
 */

import {
  decodeFragment,
  encodeFragment,
  IncompleteMessageError,
  randomMessageId,
  Reassembler,
  type ReceivedMessage,
  receiveMessage,
  sendMessage,
  splitMessage,
} from "../../exercises/lesson-07/fragments.ts";
import { describe, toBytes } from "../harness/bytes.ts";
import { background, within } from "../harness/deadline.ts";
import { ManualClock } from "../harness/manual_clock.ts";
import {
  expectBytes,
  expectEqual,
  expectRejects,
  expectThat,
  isNotImplemented,
} from "../harness/expect.ts";
import { fail, LessonFailure, sectionsOf } from "../harness/failure.ts";
import { seeded } from "../harness/random.ts";
import { openUdpSocket } from "../harness/sockets.ts";
import { UdpPeer } from "../harness/udp.ts";
import { type Plan, script, UdpRelay } from "../harness/udp_relay.ts";

const section = sectionsOf("lesson-07");

/** A fragment written byte by byte here, so no test trusts the code under test's encoder. */
function frag(id: number, index: number, count: number, payload: string | Uint8Array): Uint8Array {
  const body = toBytes(payload);
  const out = new Uint8Array(8 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, id);
  view.setUint16(4, index);
  view.setUint16(6, count);
  out.set(body, 8);
  return out;
}

/** The id, index and count in a datagram's first 8 bytes. */
function header(datagram: Uint8Array): [number, number, number] {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  return [view.getUint32(0), view.getUint16(4), view.getUint16(6)];
}

/** Bytes from a seeded generator: the same every run. */
function seededBytes(seed: number, length: number): Uint8Array {
  const random = seeded(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/**
 * Whether a reassembled message shows the mark of payloads kept as views of
 * one reused receive buffer: every piece's slot starts with the payload that
 * arrived LAST (each later receive() overwrote the pieces kept before).
 */
function overwritten(got: Uint8Array, sizes: number[], lastArrived: string): boolean {
  const last = toBytes(lastArrived);
  if (got.length !== sizes.reduce((a, b) => a + b, 0)) return false;
  let at = 0;
  for (const size of sizes) {
    const n = Math.min(size, last.length);
    if (!got.subarray(at, at + n).every((b, i) => b === last[i])) return false;
    at += size;
  }
  return true;
}

const SIGNED_U16 = "index and count are unsigned 16-bit (u16): getInt16 reads 32,768 and up as " +
  "negative numbers; use getUint16";

const reusedBuffer = "kept each payload as a view of the receive buffer, and the next " +
  "receive() overwrote it: copy the payload (slice) before keeping it";

/**
 * Runs the learner's receiveMessage() on a fresh socket behind a relay with
 * `plan`, sends `datagrams` through the relay, and returns how it settled.
 * The idle limit runs on a fake clock that runs out only once the receiver
 * has taken in all `arrivals` datagrams the plan lets through and asked to
 * wait again, so a stalled machine never cuts a message short.
 */
async function deliver(
  plan: Plan,
  datagrams: Uint8Array[],
  idleMs: number,
  wait: { awaiting: string; heading: string; mistake?: string; arrivals?: number },
): Promise<{ value?: ReceivedMessage; error?: unknown; relay: string }> {
  using receiver = openUdpSocket();
  using sender = UdpPeer.open();
  await using relay = UdpRelay.open(receiver.addr as Deno.NetAddr, plan);
  const clock = new ManualClock();
  const receiving = background(receiveMessage(receiver, { idleMs, sleep: clock.sleep }));
  for (const datagram of datagrams) await sender.send(datagram, relay.addr);
  const arrivals = wait.arrivals ?? datagrams.length;
  const silence = clock.waitsAsked(arrivals + 1).then(() => {
    clock.runOut();
    return receiving;
  });
  try {
    const value = await within(Promise.race([receiving, silence]), {
      awaiting: wait.awaiting,
      section: section(wait.heading),
      mistake: wait.mistake,
    });
    return { value, relay: relay.transcript() };
  } catch (error) {
    if (error instanceof LessonFailure || isNotImplemented(error)) throw error;
    return { error, relay: relay.transcript() };
  }
}

Deno.test("splitMessage: datagrams no bigger than the limit, header included, in the agreed layout", () => {
  const message = toBytes("abcdefghijklmnopqrst"); // 20 bytes
  const datagrams = splitMessage(message, 0xc0ffee01, 16);
  const sizes = datagrams.map((d) => d.length);
  expectThat(sizes.every((n) => n <= 16), `datagram sizes ${JSON.stringify(sizes)}`, {
    what: "splitMessage(20 bytes, id, 16): every datagram fits in 16 bytes",
    expected: "each at most 16",
    section: section("Splitting a message"),
    mistake: sizes.some((n) => n === 24)
      ? "forgot the 8-byte header: each datagram has room for maxDatagram - 8 bytes of message"
      : undefined,
  });
  const expected = [
    frag(0xc0ffee01, 0, 3, "abcdefgh"),
    frag(0xc0ffee01, 1, 3, "ijklmnop"),
    frag(0xc0ffee01, 2, 3, "qrst"),
  ];
  expectEqual(datagrams.length, 3, {
    what: "how many datagrams 20 bytes make at 8 bytes of payload each",
    section: section("Splitting a message"),
  });
  for (const [i, datagram] of datagrams.entries()) {
    expectBytes(datagram, expected[i], {
      what: `datagram #${i} (header: id u32, index u16, count u16, big-endian)`,
      section: section("A header for each piece"),
    });
  }
  expectBytes(splitMessage(new Uint8Array(0), 7, 16)[0] ?? new Uint8Array(0), frag(7, 0, 1, ""), {
    what: "the single datagram of an empty message",
    section: section("Splitting a message"),
  });
});

Deno.test("encodeFragment/decodeFragment: the header round-trips; a datagram too short or out of range is refused", async () => {
  const bytes = encodeFragment({ id: 0xdeadbeef, index: 2, count: 5, payload: toBytes("xyz") });
  expectBytes(bytes, frag(0xdeadbeef, 2, 5, "xyz"), {
    what: 'encodeFragment({ id: 0xdeadbeef, index: 2, count: 5, payload: "xyz" })',
    section: section("A header for each piece"),
  });
  const back = decodeFragment(frag(42, 1, 3, "hello"));
  expectEqual([back.id, back.index, back.count, new TextDecoder().decode(back.payload)], [
    42,
    1,
    3,
    "hello",
  ], {
    what: 'decodeFragment(id 42, index 1, count 3, "hello")',
    section: section("A header for each piece"),
  });
  for (
    const [what, datagram] of [
      ["a 5-byte datagram", new Uint8Array(5)],
      ["index 3 of count 3", frag(1, 3, 3, "x")],
      ["count 0", frag(1, 0, 0, "x")],
    ] as const
  ) {
    await expectRejects(() => decodeFragment(datagram), {
      kind: RangeError,
      what: `decodeFragment(${what})`,
      section: section("A header for each piece"),
    });
  }
});

Deno.test("decodeFragment: reads a view into a larger buffer at its own offset", () => {
  // The fragment sits at byteOffset 6 of a buffer with other bytes around it,
  // the way a receive() into a reused buffer may hand it over.
  const inner = frag(0xfedcba98, 1, 2, "ok");
  const buffer = new Uint8Array(6 + inner.length + 4).fill(0x11);
  buffer.set(inner, 6);
  const got = decodeFragment(buffer.subarray(6, 6 + inner.length));
  expectEqual(
    [got.id.toString(16), got.index, got.count, new TextDecoder().decode(got.payload)],
    ["fedcba98", 1, 2, "ok"],
    {
      what: 'decodeFragment of bytes 6 to 16 of a 20-byte buffer (id fedcba98, 1 of 2, "ok")',
      section: section("A header for each piece"),
      mistake: got.id === 0x11111111
        ? "read from the start of the whole buffer (new DataView(bytes.buffer)): a " +
          "Uint8Array may be a view at a byteOffset; pass byteOffset and byteLength too"
        : undefined,
    },
  );
});

Deno.test("decodeFragment: index and count are unsigned 16-bit, up to 65,535", () => {
  // splitMessage makes up to 65,535 fragments: from 32,768 up the top bit of the u16 is set.
  for (
    const [index, count] of [[32767, 32768], [32768, 32769], [65534, 65535], [0, 65535]] as const
  ) {
    const what = `decodeFragment(id 7, index ${index}, count ${count}, "z")`;
    let got;
    try {
      got = decodeFragment(frag(7, index, count, "z"));
    } catch (error) {
      if (isNotImplemented(error)) throw error;
      fail({
        summary: `${what} threw ${(error as Error).name}: ${(error as Error).message}`,
        section: section("A header for each piece"),
        expected: `fragment ${index} of ${count}`,
        mistake: SIGNED_U16,
      });
    }
    expectEqual([got.id, got.index, got.count], [7, index, count], {
      what,
      section: section("A header for each piece"),
      mistake: got.index < 0 || got.count < 0 ? SIGNED_U16 : undefined,
    });
  }
});

Deno.test("receiveMessage: the idle limit counts from the last fragment, not from the start", async () => {
  using receiver = openUdpSocket();
  using sender = UdpPeer.open();
  const pieces = ["one ", "two ", "three ", "four ", "five ", "six"];
  const clock = new ManualClock();
  const receiving = background(
    receiveMessage(receiver, { idleMs: 400, sleep: clock.sleep }),
  );
  // Fault injection: a slow sender, 100 ms of fake time between fragments,
  // 500 ms in all. No gap comes near the 400 ms idle limit; the whole message
  // takes longer. The clock is injected, so a stalled machine changes nothing.
  for (const [i, piece] of pieces.entries()) {
    // Time moves only once the fragment before has been taken in (the receiver
    // asked for its next wait), so a slow receiver never sees a gap grow.
    await within(clock.waitsAsked(i + 1), {
      awaiting: `receiveMessage() to wait for fragment ${i} (a call to options.sleep)`,
      section: section("Reassembly: order, duplicates, loss"),
      watch: receiving,
      mistake: i === 0
        ? "receiveMessage() did not wait with options.sleep: take the idle wait " +
          "from the injected sleep (the default is a real timer)"
        : "timed the whole message, not the silence: the idle limit restarts with " +
          "every fragment that arrives (a fresh options.sleep(idleMs) per receive)",
    });
    if (i > 0) clock.advance(100);
    await sender.send(frag(77, i, pieces.length, piece), receiver.addr as Deno.NetAddr);
  }
  const outcome = await within(
    receiving.then((v) => v, (e: unknown) => {
      if (isNotImplemented(e)) throw e;
      return e as Error;
    }),
    {
      awaiting: "receiveMessage() to return the slowly sent message",
      section: section("Reassembly: order, duplicates, loss"),
    },
  );
  if (outcome instanceof Error) {
    fail({
      summary: "receiveMessage() gave up on a message whose fragments kept coming",
      section: section("Reassembly: order, duplicates, loss"),
      expected: '"one two three four five six", after 500 ms (gaps of 100 ms, limit 400)',
      got: `${outcome.name}: ${outcome.message}`,
      mistake: outcome.name === "IncompleteMessageError"
        ? "timed the whole message, not the silence: the idle limit restarts with " +
          "every fragment that arrives"
        : undefined,
    });
  }
  expectBytes(outcome.message, pieces.join(""), {
    what: "the slowly sent message",
    section: section("Reassembly: order, duplicates, loss"),
  });
});

/** One call of `Reassembler.add`: what it is, the fragment, and what it must return. */
type Step = [
  what: string,
  id: number,
  index: number,
  count: number,
  payload: string,
  expected?: string,
];

/**
 * Feeds `steps` to one Reassembler in order and fails at the first step
 * whose result is not its `expected`. `mistakes` names the likely mistake:
 * when a step throws, and when one returns the wrong thing.
 */
function expectSteps(
  steps: Step[],
  mistakes: {
    threw: (step: Step) => string;
    wrong: (step: Step, result: Uint8Array | undefined) => string | undefined;
  },
): void {
  const r = new Reassembler();
  for (const step of steps) {
    const [what, id, index, count, payload, expected] = step;
    let result: Uint8Array | undefined;
    try {
      result = r.add({ id, index, count, payload: toBytes(payload) });
    } catch (error) {
      if (isNotImplemented(error)) throw error;
      fail({
        summary: `Reassembler.add(${what}) threw`,
        section: section("Reassembly: order, duplicates, loss"),
        got: String(error),
        mistake: mistakes.threw(step),
      });
    }
    const got = result === undefined ? "undefined" : describe(result);
    const want = expected === undefined ? "undefined" : describe(expected);
    if (got === want) continue;
    fail({
      summary: `Reassembler.add(${what}) returned the wrong thing`,
      section: section("Reassembly: order, duplicates, loss"),
      expected: want,
      got,
      mistake: mistakes.wrong(step, result),
    });
  }
}

Deno.test("Reassembler: fills in by index, ignores duplicates, keeps messages apart", () => {
  expectSteps([
    ["message 1, piece 2 of 3", 1, 2, 3, "ccc"],
    ["message 2, piece 1 of 2", 2, 1, 2, "YY"],
    ["message 1, piece 0 of 3", 1, 0, 3, "aaa"],
    ["message 1, piece 0 again (a duplicate)", 1, 0, 3, "aaa"],
    ["message 1, piece 1 of 3", 1, 1, 3, "bbb", "aaabbbccc"],
    ["message 2, piece 0 of 2", 2, 0, 2, "XX", "XXYY"],
  ], {
    threw: () =>
      "counted a duplicate fragment as new, so the message looked complete " +
      "with a piece still missing: count distinct indexes",
    wrong: ([, , , , , expected], result) =>
      expected === undefined && result !== undefined
        ? "counted a duplicate fragment as new, or mixed up messages: a message is complete " +
          "only when every index of ITS id has arrived"
        : result && expected && result.length === expected.length
        ? "assumed datagrams arrive in order: put each payload at its index"
        : undefined,
  });
});

Deno.test("Reassembler: ignores a fragment whose count disagrees with the first one seen", () => {
  const mistake = ([, id]: Step) =>
    `took a fragment whose count disagrees with the first one seen for ` +
    `message ${id}: ignore it, or the message comes out with a piece too many or a hole`;
  expectSteps([
    ["message 1, piece 0 of 2", 1, 0, 2, "aa"],
    ["message 1, piece 2 of 3 (a count that disagrees)", 1, 2, 3, "ZZ"],
    ["message 1, piece 1 of 2", 1, 1, 2, "bb", "aabb"],
    ["message 2, piece 0 of 3", 2, 0, 3, "xx"],
    ["message 2, piece 1 of 2 (a count that disagrees)", 2, 1, 2, "yy"],
    ["message 2, piece 1 of 3", 2, 1, 3, "yy"],
    ["message 2, piece 2 of 3", 2, 2, 3, "zz", "xxyyzz"],
  ], { threw: mistake, wrong: mistake });
});

Deno.test("receiveMessage: reassembles fragments that arrive out of order", async () => {
  const pieces = ["The ", "quick ", "brown ", "fox ", "jumps"];
  const datagrams = pieces.map((p, i) => frag(0x01020304, i, 5, p));
  // hold, hold, forward: the wire order becomes 2, 0, 1, then 4 held until … 3.
  const { value, error } = await deliver(
    script(["hold", "hold", "forward", "hold", "forward"]),
    datagrams,
    200,
    {
      awaiting: "receiveMessage() to return the reordered message",
      heading: "Reassembly: order, duplicates, loss",
    },
  );
  if (error) throw error;
  const got = value!.message;
  expectBytes(got, "The quick brown fox jumps", {
    what: "the message put back together from fragments that arrived as #2, #0, #1, #4, #3",
    section: section("Reassembly: order, duplicates, loss"),
    mistake: overwritten(got, pieces.map((p) => p.length), "fox ")
      ? reusedBuffer
      : new TextDecoder().decode(got) === "brown The quick jumpsfox "
      ? "assumed datagrams arrive in order: put each payload at the index in its header"
      : undefined,
  });
  expectEqual(value!.id, 0x01020304, {
    what: "the id receiveMessage() reports",
    section: section("A header for each piece"),
  });
});

Deno.test("receiveMessage: duplicated fragments do no harm", async () => {
  const datagrams = ["AAAA", "BBBB", "CCCC", "DD"].map((p, i) => frag(99, i, 4, p));
  const { value, error, relay } = await deliver(
    script(["duplicate", "duplicate", "forward", "duplicate"]),
    datagrams,
    200,
    {
      arrivals: 7,
      awaiting: "receiveMessage() to return the message despite duplicates",
      heading: "Reassembly: order, duplicates, loss",
    },
  );
  if (error && !isNotImplemented(error)) {
    fail({
      summary: "receiveMessage() failed on a message whose fragments were each sent twice",
      section: section("Reassembly: order, duplicates, loss"),
      got: String(error),
      detail: relay.split("\n"),
      mistake: "counted a duplicate fragment as new: the message looked complete " +
        "with a piece still missing",
    });
  }
  if (error) throw error;
  expectBytes(value!.message, "AAAABBBBCCCCDD", {
    what: "the message reassembled from duplicated fragments",
    section: section("Reassembly: order, duplicates, loss"),
    mistake: overwritten(value!.message, [4, 4, 4, 2], "DD")
      ? reusedBuffer
      : value!.message.length < 14
      ? "counted a duplicate fragment as new: keep one payload per index"
      : undefined,
  });
});

Deno.test("receiveMessage: a lost fragment is reported as an IncompleteMessageError, not waited on forever", async () => {
  const datagrams = ["one-", "two-", "three-", "four"].map((p, i) => frag(0xabcdef, i, 4, p));
  const { value, error, relay } = await deliver(
    script(["forward", "duplicate", "forward", "drop"]),
    datagrams,
    80,
    {
      arrivals: 4,
      awaiting: "receiveMessage() to give up on a message whose fragment #3 was lost " +
        "(idleMs: 80)",
      heading: "Giving up on a missing piece",
      mistake: "hung waiting for a lost fragment: when nothing arrives for idleMs, " +
        "throw an IncompleteMessageError",
    },
  );
  if (value) {
    fail({
      summary: "receiveMessage() returned a message whose fragment #3 never arrived",
      section: section("Reassembly: order, duplicates, loss"),
      got: describe(value.message),
      detail: relay.split("\n"),
      mistake: "counted a duplicate fragment as new: #1 arrived twice, so 4 arrivals " +
        "looked like 4 of 4 pieces",
    });
  }
  if (!(error instanceof IncompleteMessageError)) {
    fail({
      summary: "receiveMessage() failed, but not with an IncompleteMessageError",
      section: section("Giving up on a missing piece"),
      got: String(error),
      detail: relay.split("\n"),
      mistake: error instanceof TypeError
        ? "counted a duplicate fragment as new, then built the message with a hole in it"
        : undefined,
    });
  }
  expectEqual([error.id, error.missing], [0xabcdef, [3]], {
    what: "the IncompleteMessageError's [id, missing]",
    section: section("Giving up on a missing piece"),
  });
  expectThat(/\b3\b/.test(error.message), error.message, {
    what: "the error's message names the missing fragment",
    expected: "a message mentioning fragment 3",
    section: section("Giving up on a missing piece"),
  });
});

Deno.test("receiveMessage: gives up when nothing at all arrives", async () => {
  using receiver = openUdpSocket();
  const settled = background(receiveMessage(receiver, { idleMs: 10 })).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  const { value, error } = await within(settled, {
    awaiting: "receiveMessage() on a silent socket to give up (idleMs: 10)",
    section: section("Giving up on a missing piece"),
    mistake: "hung waiting for a lost fragment: bound every wait by idleMs",
  });
  if (isNotImplemented(error)) throw error;
  expectThat(
    error instanceof IncompleteMessageError,
    value ? "it returned a message" : String(error),
    {
      what: "receiveMessage() with no datagram at all rejects with an IncompleteMessageError",
      expected: "IncompleteMessageError",
      section: section("Giving up on a missing piece"),
    },
  );
});

Deno.test("receiveMessage: keeps two messages apart by id and skips what is not a fragment", async () => {
  const datagrams = [
    frag(1, 0, 2, "stale"), // a message whose other half never comes
    new Uint8Array([1, 2, 3]), // too short to be a fragment
    frag(2, 1, 2, "-world"),
    frag(2, 0, 2, "hello"),
  ];
  const { value, error, relay } = await deliver(script([]), datagrams, 200, {
    awaiting: "receiveMessage() to return message 2",
    heading: "Reassembly: order, duplicates, loss",
  });
  if (error) {
    if (isNotImplemented(error)) throw error;
    fail({
      summary: "receiveMessage() failed where message 2 was complete",
      section: section("Reassembly: order, duplicates, loss"),
      got: String(error),
      detail: relay.split("\n"),
      mistake: error instanceof RangeError
        ? "a datagram that is not a fragment must be skipped, not end the receive"
        : undefined,
    });
  }
  const got = new TextDecoder().decode(value!.message);
  expectBytes(value!.message, "hello-world", {
    what: "the message with id 2",
    section: section("Reassembly: order, duplicates, loss"),
    mistake: got.includes("stale")
      ? "mixed fragments of different messages: keep partial messages apart by id"
      : overwritten(value!.message, [5, 6], "hello")
      ? reusedBuffer
      : got === "-worldhello"
      ? "assumed datagrams arrive in order: put each payload at the index in its header"
      : undefined,
  });
});

Deno.test("sendMessage → receiveMessage: 20,000 bytes in datagrams of at most 1,472 bytes, through reordering and duplicates", async () => {
  using receiver = openUdpSocket();
  using sending = openUdpSocket();
  await using relay = UdpRelay.open(
    receiver.addr as Deno.NetAddr,
    script(["forward", "hold", "duplicate", "forward", "hold", "hold", "forward"]),
  );
  const message = seededBytes(7, 20_000);
  // A fake clock that never moves: the message is complete long before any idle limit.
  const clock = new ManualClock();
  const receiving = background(receiveMessage(receiver, { idleMs: 300, sleep: clock.sleep }));
  const sent = await within(sendMessage(sending, message, relay.addr, { maxDatagram: 1472 }), {
    awaiting: "sendMessage() of 20,000 bytes",
    section: section("Splitting a message"),
    watch: receiving,
  });
  const got = await within(receiving, {
    awaiting: "receiveMessage() to return the 20,000-byte message",
    section: section("Reassembly: order, duplicates, loss"),
  });
  const wire = relay.seen("request");
  const sizes = wire.map((e) => e.data.length);
  expectThat(sizes.every((n) => n <= 1472), `datagram sizes ${JSON.stringify(sizes)}`, {
    what: "every datagram on the wire fits the 1,472-byte budget",
    expected: "each at most 1472",
    section: section("Splitting a message"),
  });
  expectEqual([sent, wire.length], [14, 14], {
    what: "[datagrams sendMessage() reported, datagrams on the wire] for 20,000 bytes at " +
      "1,464 bytes of payload each",
    section: section("Splitting a message"),
  });
  const ids = new Set(wire.map((e) => header(e.data)[0]));
  expectEqual(ids.size, 1, {
    what: "how many different message ids the fragments of one message carry",
    section: section("A header for each piece"),
  });
  expectBytes(got.message, message, {
    what: "the 20,000 bytes after the round trip",
    section: section("Reassembly: order, duplicates, loss"),
  });
});

Deno.test("sendMessage → receiveMessage: datagrams of 9,000 bytes arrive whole", async () => {
  using receiver = openUdpSocket();
  using sending = openUdpSocket();
  const message = seededBytes(9, 20_000);
  // A fake clock that never moves: the message is complete long before any idle limit.
  const clock = new ManualClock();
  const receiving = background(receiveMessage(receiver, { idleMs: 300, sleep: clock.sleep }));
  await within(
    sendMessage(sending, message, receiver.addr as Deno.NetAddr, { maxDatagram: 9000 }),
    {
      awaiting: "sendMessage() of 20,000 bytes in datagrams of at most 9,000",
      section: section("Splitting a message"),
      watch: receiving,
    },
  );
  const got = await within(receiving, {
    awaiting: "receiveMessage() to return the 20,000-byte message",
    section: section("Reassembly: order, duplicates, loss"),
  });
  expectEqual(got.message.length, message.length, {
    what: "the length of the message sent in datagrams of up to 9,000 bytes",
    section: section("Reassembly: order, duplicates, loss"),
    mistake: got.message.length < message.length
      ? "received into a buffer smaller than a datagram, so the fragments were cut short " +
        "without a word: the receiver does not know the sender's maxDatagram, so receive " +
        "into a buffer big enough for any datagram (65,536 bytes)"
      : undefined,
  });
  expectBytes(got.message, message, {
    what: "the 20,000 bytes sent in datagrams of up to 9,000 bytes",
    section: section("Reassembly: order, duplicates, loss"),
  });
});

Deno.test("receiveMessage: continues the partial messages of the reassembler it is given", async () => {
  using receiver = openUdpSocket();
  using sender = UdpPeer.open();
  const reassembler = new Reassembler();
  reassembler.add({ id: 5, index: 0, count: 2, payload: toBytes("collected earlier, ") });
  const clock = new ManualClock();
  const receiving = background(
    receiveMessage(receiver, { idleMs: 200, reassembler, sleep: clock.sleep }),
  );
  await sender.send(frag(5, 1, 2, "and the rest"), receiver.addr as Deno.NetAddr);
  // Time runs out only once the receiver has taken in the one datagram and asked to wait again.
  const silence = clock.waitsAsked(2).then(() => {
    clock.runOut();
    return receiving;
  });
  const outcome = await within(
    Promise.race([receiving, silence]).then((v) => v, (e: unknown) => {
      if (isNotImplemented(e)) throw e;
      return e instanceof Error ? e : new Error(String(e));
    }),
    {
      awaiting: "receiveMessage() to complete message 5 with its second half",
      section: section("Giving up on a missing piece"),
    },
  );
  if (outcome instanceof Error) {
    fail({
      summary: "receiveMessage() did not complete message 5, whose first half its " +
        "options.reassembler already held",
      section: section("Giving up on a missing piece"),
      expected: '"collected earlier, and the rest"',
      got: `${outcome.name}: ${outcome.message}`,
      mistake: outcome.name === "IncompleteMessageError"
        ? "started a fresh Reassembler, so the fragments an earlier call collected were " +
          "lost: use options.reassembler when it is given (a new one only by default)"
        : undefined,
    });
  }
  expectEqual(
    `${outcome.id} ${new TextDecoder().decode(outcome.message)}`,
    "5 collected earlier, and the rest",
    {
      what: "the id and text of the message receiveMessage() returned",
      section: section("Giving up on a missing piece"),
    },
  );
});

Deno.test("decodeFragment, splitMessage: exactly at their limits, and one past", () => {
  const outcome = (run: () => unknown) => {
    try {
      const value = run();
      return Array.isArray(value) ? `${value.length} datagrams` : "decoded";
    } catch (error) {
      if (isNotImplemented(error)) throw error;
      return error instanceof RangeError ? `RangeError ${error.message}` : String(error);
    }
  };
  const cases: [string, () => unknown, RegExp][] = [
    ["decodeFragment(header only, 8 bytes)", () => decodeFragment(frag(1, 0, 1, "")), /^decoded$/],
    ["decodeFragment(5 bytes)", () => decodeFragment(new Uint8Array(5)), /^RangeError .*5/],
    ["decodeFragment(fragment 0 of 1)", () => decodeFragment(frag(1, 0, 1, "x")), /^decoded$/],
    [
      "decodeFragment(fragment 3 of 3)",
      () => decodeFragment(frag(1, 3, 3, "x")),
      /^RangeError .*3/,
    ],
    [
      "splitMessage(1 byte, datagrams of 9)",
      () => splitMessage(new Uint8Array(1), 1, 9),
      /^1 datagrams$/,
    ],
    [
      "splitMessage(empty, datagrams of 8)",
      () => splitMessage(new Uint8Array(0), 1, 8),
      /^RangeError .*8/,
    ],
    [
      "splitMessage(65,535 bytes, datagrams of 9)",
      () => splitMessage(new Uint8Array(65_535), 1, 9),
      /^65535 datagrams$/,
    ],
    [
      "splitMessage(65,536 bytes, datagrams of 9)",
      () => splitMessage(new Uint8Array(65_536), 1, 9),
      /^RangeError .*65536/,
    ],
  ];
  for (const [call, run, expected] of cases) {
    const got = outcome(run);
    expectThat(expected.test(got), got, {
      what: call,
      expected: String(expected),
      section: section("A header for each piece"),
    });
  }
});

Deno.test("Reassembler: a finished message is forgotten, and its late duplicates are ignored", () => {
  const reassembler = new Reassembler();
  const first = reassembler.add(decodeFragment(frag(9, 0, 1, "solo")));
  const again = reassembler.add(decodeFragment(frag(9, 0, 1, "solo")));
  const left = JSON.stringify(reassembler.incomplete());
  expectEqual([first ? describe(first) : "nothing", again ? describe(again) : "nothing", left], [
    describe("solo"),
    "nothing",
    "[]",
  ], {
    what: "[first add, the duplicate's add, incomplete()] for a one-fragment message",
    section: section("Reassembly: order, duplicates, loss"),
    mistake: "a message is delivered once: remember its id as finished, and drop its entry",
  });
});

Deno.test("sendMessage: uses the id it is given, 0 included; an over-size datagram is an error", async () => {
  using socket = openUdpSocket();
  using peer = UdpPeer.open().expectFrom(socket.addr as Deno.NetAddr);
  await sendMessage(socket, new Uint8Array(20), peer.addr, { maxDatagram: 100, id: 7 });
  const got = await peer.receive({
    awaiting: "the one fragment",
    section: section("A header for each piece"),
  });
  expectEqual(header(got.data), [7, 0, 1], {
    what: "[id, index, count] of sendMessage(20 bytes, { id: 7 })",
    section: section("A header for each piece"),
  });
  // 0 is a valid u32 id: the caller's 0 must not be taken for "no id given".
  await sendMessage(socket, new Uint8Array(5), peer.addr, { maxDatagram: 100, id: 0 });
  const zero = await peer.receive({
    awaiting: "the one fragment of sendMessage(5 bytes, { id: 0 })",
    section: section("A header for each piece"),
  });
  const [zeroId, ...zeroRest] = header(zero.data);
  if (zeroId !== 0) {
    fail({
      summary: "sendMessage(5 bytes, { id: 0 }) sent its fragment with another id",
      section: section("A header for each piece"),
      expected: "id 0 in the header (bytes 00 00 00 00): the id the caller gave",
      // Not the number itself: it is random, and the message should read the same on every run.
      got: "an id other than 0 (the datagram is on the wire below)",
      mistake: "replaced the caller's id 0 with a random one: `options.id || randomMessageId()` " +
        "treats 0 as missing; 0 is a valid id (0 to 2^32 - 1), so draw one only when the " +
        "option is undefined (`options.id ?? randomMessageId()`)",
    });
  }
  expectEqual(zeroRest, [0, 1], {
    what: "[index, count] of sendMessage(5 bytes, { id: 0 })",
    section: section("A header for each piece"),
  });
  await expectRejects(
    () => sendMessage(socket, new Uint8Array(69_000), peer.addr, { maxDatagram: 70_000, id: 8 }),
    {
      kind: Error,
      what: "sendMessage() of one 69,008-byte datagram (over UDP's 65,507)",
      section: section("Message too long"),
      mistake: "await each send, so that its error reaches the caller",
    },
  );
});

Deno.test("IncompleteMessageError: named so; says which id and which fragments are missing", async () => {
  const { error } = await deliver(
    script([]),
    [frag(5, 0, 4, "a"), frag(5, 3, 4, "d")],
    250, // on the fake clock, so no longer a margin against a loaded machine
    {
      awaiting: "receiveMessage() to give up on message 5",
      heading: "Giving up on a missing piece",
    },
  );
  const e = error as IncompleteMessageError;
  const seen = error instanceof Error
    ? `${e.name}; id ${e.id}; missing ${e.missing}; ${/\b5\b/.test(e.message)}; ${
      /1, 2/.test(e.message)
    }`
    : String(error);
  expectEqual(seen, "IncompleteMessageError; id 5; missing 1,2; true; true", {
    what: "name; id; missing; the message names 5; it lists `1, 2`",
    section: section("Giving up on a missing piece"),
  });
  const { error: silent } = await deliver(script([]), [], 30, {
    awaiting: "receiveMessage() to give up when nothing arrives",
    heading: "Giving up on a missing piece",
  });
  const text = silent instanceof Error ? `${silent.name}: ${silent.message}` : String(silent);
  expectThat(/^IncompleteMessageError: .*30 ms/.test(text), text, {
    what: "receiveMessage({ idleMs: 30 }) when nothing arrives",
    expected: "an IncompleteMessageError whose message names the 30 ms",
    section: section("Giving up on a missing piece"),
  });
});

Deno.test("randomMessageId: whole numbers from 0 to 2^32 - 1", () => {
  const ids = Array.from({ length: 50 }, () => randomMessageId());
  const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id > 0xffff_ffff);
  expectThat(bad === -1, `randomMessageId() returned ${ids[bad]}`, {
    what: "50 ids from randomMessageId()",
    expected: "each a whole number from 0 to 4294967295 (an unsigned 32-bit id)",
    section: section("A header for each piece"),
  });
});

Deno.test("receiveMessage: with its own real timer, a whole message ends the wait and clears the timer", async () => {
  // No injected clock here: the default timer must be armed for each wait and cleared as soon as
  // a datagram wins the race (the test's sanitizer fails on a timer left behind).
  using receiver = openUdpSocket();
  using sender = UdpPeer.open();
  await sender.send(frag(7, 0, 1, "whole"), receiver.addr as Deno.NetAddr);
  const got = await within(background(receiveMessage(receiver, { idleMs: 5_000 })), {
    awaiting: "receiveMessage() to return the one-fragment message waiting on its socket",
    section: section("Giving up on a missing piece"),
    mistake: "gave up at once: the idle wait must last idleMs, from the last fragment",
  });
  expectEqual(`${got.id} ${new TextDecoder().decode(got.message)}`, "7 whole", {
    what: "the id and text of the message receiveMessage() returned",
    section: section("Giving up on a missing piece"),
  });
});
