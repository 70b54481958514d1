/**
 * Lesson 05 — Request IDs: the wire format, random IDs, and a client that
 * counts only the reply carrying its request's ID, from the server it asked,
 * while the test injects stale, duplicated, forged and truncated replies.
 *
 * @module
 */

import {
  decodeMessage,
  encodeMessage,
  openClient,
  randomId,
  startServer,
} from "../../exercises/lesson-05/request_ids.ts";
import { describe, hex } from "../harness/bytes.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectThat, isNotImplemented } from "../harness/expect.ts";
import { expectNotFromMathRandom } from "../harness/random.ts";
import { fail, LessonFailure, sectionsOf } from "../harness/failure.ts";
import { expectDoneWaitsForReplySend } from "../harness/held_sends.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { type Datagram, UdpPeer } from "../harness/udp.ts";
import { script, UdpRelay } from "../harness/udp_relay.ts";

const section = sectionsOf("lesson-05");
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A message built here, independently of the code under test: 4-byte big-endian ID, payload. */
function wire(id: number, payload: string): Uint8Array {
  const body = encoder.encode(payload);
  const out = new Uint8Array(4 + body.length);
  out[0] = id >>> 24;
  out[1] = (id >>> 16) & 0xff;
  out[2] = (id >>> 8) & 0xff;
  out[3] = id & 0xff;
  out.set(body, 4);
  return out;
}

/** The ID at the front of a datagram, read here (big-endian, unsigned). */
function idOf(data: Uint8Array): number {
  return ((data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3]) >>> 0;
}

/**
 * Resolves like `running`, but turns a failure other than a stub's "not
 * implemented" into a lesson failure naming `mistake`.
 */
function failureNamed<T>(
  running: Promise<T>,
  what: string,
  mistake: string,
  heading: string,
): Promise<T> {
  return running.catch((error) => {
    if (isNotImplemented(error) || error instanceof LessonFailure) throw error;
    return fail({ summary: `${what} failed: ${error}`, section: section(heading), mistake });
  });
}

/** Starts the learner's server; a crash of its loop fails the test at once, by name. */
function startWatched(): { server: ReturnType<typeof startServer>; crashed: Promise<void> } {
  const server = startServer();
  const crashed = background(
    failureNamed(
      server.done,
      "the server loop",
      "the server must survive any datagram: skip one too short to hold an ID instead of " +
        "letting decoding throw",
      "The server side",
    ).then(() => new Promise<void>(() => {})),
  );
  return { server, crashed };
}

const showId = (id: number) => `0x${id.toString(16).padStart(8, "0")}`;

/** The test plays the server: receives one request and checks its shape. */
async function takeRequest(
  fake: UdpPeer,
  payload: string,
  watch: Promise<unknown>,
): Promise<Datagram & { id: number }> {
  const got = await fake.receive({
    awaiting: `the request for ${JSON.stringify(payload)}`,
    watch,
    section: section("The wire format"),
  });
  expectBytes(got.data.subarray(4), payload, {
    what: `the bytes after the 4-byte ID in the request ${describe(got.data)}`,
    section: section("The wire format"),
  });
  return { ...got, id: idOf(got.data) };
}

Deno.test("wire: a message is the 4-byte big-endian ID, then the payload", () => {
  expectBytes(encodeMessage(0x01020304, "hi"), new Uint8Array([1, 2, 3, 4, 0x68, 0x69]), {
    what: 'encodeMessage(0x01020304, "hi")',
    section: section("The wire format"),
    mistake: "the ID must be big-endian (network byte order): its most significant byte first",
  });
  expectBytes(encodeMessage(0xfffffffe, ""), new Uint8Array([0xff, 0xff, 0xff, 0xfe]), {
    what: 'encodeMessage(0xfffffffe, "")',
    section: section("The wire format"),
  });
  const decoded = decodeMessage(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x6f, 0x6b]));
  expectEqual(decoded ? showId(decoded.id) : "undefined", "0xdeadbeef", {
    what: "the ID decodeMessage read from de ad be ef 6f 6b",
    section: section("The wire format"),
    mistake: decoded && decoded.id < 0
      ? "read the ID as unsigned (getUint32): IDs go up to 2³² − 1"
      : "the ID must be big-endian (network byte order): its most significant byte first",
  });
  expectBytes(decoded?.payload ?? "", "ok", {
    what: "the payload decodeMessage returned",
    section: section("The wire format"),
  });
  let short: unknown = "not called";
  try {
    short = decodeMessage(new Uint8Array([1, 2, 3]));
  } catch (e) {
    short = e;
  }
  expectThat(short === undefined, String(short), {
    what: "decodeMessage of 3 bytes",
    expected: "undefined (too short to hold an ID)",
    section: section("The wire format"),
    mistake: "check the length first: a datagram shorter than 4 bytes holds no ID",
  });
});

/** What a message sized by a string's length, not its UTF-8 bytes, does: `set` overflows it. */
const SIZED_BY_CHARACTERS =
  "sized the message by the string's length (payload.length counts UTF-16 code units: " +
  '"é" is 1) instead of its UTF-8 bytes ("é" is 2): allocate 4 + the encoded bytes\' length';

Deno.test("wire: a string payload goes out as its UTF-8 bytes", () => {
  let encoded: Uint8Array | Error;
  try {
    encoded = encodeMessage(1, "é");
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    encoded = error instanceof Error ? error : new Error(String(error));
  }
  if (encoded instanceof Error) {
    fail({
      summary: `encodeMessage(1, "é") threw ${encoded.name}: ${encoded.message}`,
      section: section("The wire format"),
      expected: "00 00 00 01 c3 a9",
      mistake: encoded instanceof RangeError ? SIZED_BY_CHARACTERS : undefined,
    });
  }
  expectBytes(encoded, new Uint8Array([0, 0, 0, 1, 0xc3, 0xa9]), {
    what: 'encodeMessage(1, "é")',
    section: section("The wire format"),
    mistake: encoded.length === 5 ? SIZED_BY_CHARACTERS : undefined,
  });
});

Deno.test("wire: decodeMessage reads a view into a larger buffer at its own offset", () => {
  // A datagram inside a bigger buffer, the way a receive() into a reused
  // buffer returns it: byteOffset 5, with other bytes before and after.
  const buffer = new Uint8Array([
    ...[0x11, 0x22, 0x33, 0x44, 0x55],
    ...[0xca, 0xfe, 0xba, 0xbe, 0x68, 0x69],
    ...[0x99, 0x99, 0x99],
  ]);
  const view = buffer.subarray(5, 11);
  const decoded = decodeMessage(view);
  const offsetMistake = "read from the start of the whole buffer (new DataView(bytes.buffer)): " +
    "a Uint8Array may be a view at a byteOffset; pass byteOffset and byteLength too";
  expectEqual(decoded ? showId(decoded.id) : "undefined", "0xcafebabe", {
    what: "the ID decodeMessage read from bytes 5 to 11 of a 14-byte buffer (ca fe ba be 68 69)",
    section: section("The wire format"),
    mistake: decoded?.id === 0x11223344 ? offsetMistake : undefined,
  });
  expectBytes(decoded?.payload ?? "", "hi", {
    what: "the payload decodeMessage returned for that view",
    section: section("The wire format"),
    mistake: decoded && decoded.payload.length > 2 ? offsetMistake : undefined,
  });
  const bare = decodeMessage(new Uint8Array([0x80, 0, 0, 0]));
  expectEqual(
    bare ? { id: showId(bare.id), payload: bare.payload.length } : "undefined",
    { id: "0x80000000", payload: 0 },
    {
      what: "decodeMessage of exactly 4 bytes (80 00 00 00): an ID and an empty payload",
      section: section("The wire format"),
      mistake: bare === undefined
        ? "off by one: 4 bytes hold an ID; only fewer than 4 are too short"
        : bare.id < 0
        ? "read the ID as unsigned (getUint32): IDs go up to 2³² − 1"
        : undefined,
    },
  );
});

Deno.test("randomId: 2000 IDs spread over all 32 bits, not sequential", () => {
  const ids = Array.from({ length: 2000 }, () => randomId());
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= 2 ** 32);
  expectThat(bad === undefined, `got ${bad}`, {
    what: "every ID is a whole number from 0 to 2³² − 1",
    section: section("Random, not sequential"),
  });
  // Steps between consecutive IDs: random ones are almost never small (p ≈ 2⁻¹⁶ each).
  let smallSteps = 0;
  for (let i = 1; i < ids.length; i++) {
    if (((ids[i] - ids[i - 1]) >>> 0) < 2 ** 16) smallSteps++;
  }
  expectThat(smallSteps <= 5, `${smallSteps} of 1999 steps were small (under 65536)`, {
    what: "each ID is unrelated to the one before",
    expected: "almost no small steps between consecutive IDs",
    section: section("Random, not sequential"),
    mistake: "sequential IDs: each is the last plus a small step, so anyone who sees one ID " +
      "can guess the next; draw every ID at random",
  });
  const distinct = new Set(ids).size;
  expectThat(distinct >= 1990, `${distinct} distinct IDs out of 2000`, {
    what: "IDs rarely repeat",
    expected: "at least 1990 distinct",
    section: section("Random, not sequential"),
    mistake: "IDs come from too small a range: use all 32 bits",
  });
  const high = ids.filter((id) => id >= 2 ** 31).length;
  const min = Math.min(...ids);
  const max = Math.max(...ids);
  expectThat(
    high >= 850 && high <= 1150 && min < 2 ** 28 && max > 2 ** 32 - 2 ** 28,
    `${high} of 2000 had the top bit set; smallest ${showId(min)}, largest ${showId(max)}`,
    {
      what: "IDs cover the whole 32-bit space evenly",
      expected: "about half with the top bit set, some near 0x00000000 and some near 0xffffffff",
      section: section("Random, not sequential"),
      mistake: "IDs cover only part of the 32-bit space, which makes them easier to guess: " +
        "take 32 random bits (crypto.getRandomValues(new Uint32Array(1))[0])",
    },
  );
});

Deno.test("randomId: comes from crypto.getRandomValues, not Math.random", () => {
  // If the IDs depend on Math.random, they all come out the same while it is fixed.
  expectNotFromMathRandom(randomId, {
    what: "four IDs made while Math.random always returns 0.5",
    expected: "four different IDs",
    show: (ids) => `${ids.map(showId)}`,
    section: section("Random, not sequential"),
    mistake: "the IDs come from Math.random, whose output can be predicted from what it gave " +
      "before; use crypto.getRandomValues",
  });
});

Deno.test("client: each request carries its own ID; the reply with that ID is returned", async () => {
  using fake = UdpPeer.open();
  using client = openClient(fake.addr);
  const seen: number[] = [];
  for (const payload of ["first", "second request", "third!"]) {
    const asking = background(client.request(payload));
    const request = await takeRequest(fake, payload, asking);
    expectThat(!seen.includes(request.id), `ID ${showId(request.id)} again`, {
      what: `the ID of request #${seen.length + 1}, after ${seen.map(showId).join(", ") || "none"}`,
      expected: "a new ID",
      section: section("Random, not sequential"),
      mistake: "every request needs its own ID: make a fresh one per request, not one per client",
    });
    seen.push(request.id);
    const answer = `answer to ${payload}`;
    await fake.send(wire(request.id, answer), request.addr);
    const reply = await within(asking, {
      awaiting: `request(${JSON.stringify(payload)}) to return the reply with ID ${
        showId(request.id)
      }`,
      section: section("Matching replies to requests"),
    });
    expectBytes(reply, answer, {
      what: "what request() returned",
      section: section("Matching replies to requests"),
      mistake: reply.length === answer.length + 4
        ? "return the payload only: strip the 4-byte ID from the reply"
        : undefined,
    });
  }
});

Deno.test("client: a request in non-ASCII text reaches the server whole, byte for byte", async () => {
  using fake = UdpPeer.open();
  using client = openClient(fake.addr, { nextId: () => 0x0000c0de });
  const payload = "Grüße ☕"; // 7 characters, 11 bytes of UTF-8
  const asking = background(
    client.request(payload).catch((error) => {
      if (!(error instanceof RangeError)) throw error;
      return fail({
        summary: `request(${JSON.stringify(payload)}) failed: ${error}`,
        section: section("The wire format"),
        mistake: SIZED_BY_CHARACTERS,
      });
    }),
  );
  const request = await takeRequest(fake, payload, asking);
  expectBytes(request.data, wire(0x0000c0de, payload), {
    what: `the request for ${JSON.stringify(payload)} as the server received it`,
    section: section("The wire format"),
  });
  await fake.send(wire(request.id, "Danke ☕"), request.addr);
  const reply = await within(asking, {
    awaiting: "request() to return the reply",
    section: section("Matching replies to requests"),
  });
  expectBytes(reply, "Danke ☕", {
    what: "what request() returned",
    section: section("Matching replies to requests"),
  });
});

Deno.test("client: ignores a stale reply with an old ID, and a duplicate of the last", async () => {
  using fake = UdpPeer.open();
  const ids = [0x5eed0001, 0x9a1b2c3d, 0x0badf00d];
  let next = 0;
  using client = openClient(fake.addr, { nextId: () => ids[next++] });

  const one = background(client.request("one"));
  const r1 = await takeRequest(fake, "one", one);
  await fake.send(wire(r1.id, "reply one"), r1.addr);
  await within(one, {
    awaiting: "the first request",
    section: section("Matching replies to requests"),
  });

  const two = background(client.request("two"));
  const r2 = await takeRequest(fake, "two", two);
  expectEqual(showId(r2.id), showId(ids[1]), {
    what: "the ID of the second request (options.nextId gave 0x9a1b2c3d)",
    section: section("Matching replies to requests"),
    mistake: "take each request's ID from options.nextId",
  });
  await fake.send(wire(r1.id, "stale reply one"), r2.addr); // a late copy of the first reply
  await fake.send(wire(r2.id, "reply two"), r2.addr);
  const got2 = decoder.decode(
    await within(two, {
      awaiting: "the second request",
      section: section("Matching replies to requests"),
    }),
  );
  expectEqual(got2, "reply two", {
    what: "the second request's reply, with a stale reply (old ID) queued before it",
    section: section("Matching replies to requests"),
    mistake: "did not check the reply's ID: a stale reply to an earlier request was taken as " +
      "the answer; compare the reply's ID with the request's",
  });

  const three = background(client.request("three"));
  const r3 = await takeRequest(fake, "three", three);
  await fake.send(wire(r2.id, "reply two"), r3.addr); // a duplicate of the last reply
  await fake.send(wire(r3.id, "reply three"), r3.addr);
  const got3 = decoder.decode(
    await within(three, {
      awaiting: "the third request",
      section: section("Matching replies to requests"),
    }),
  );
  expectEqual(got3, "reply three", {
    what: "the third request's reply, with a duplicate of the second reply before it",
    section: section("Matching replies to requests"),
    mistake: "did not check the reply's ID: a duplicated reply was taken as the answer",
  });
});

Deno.test("client: ignores a forged reply from 127.0.0.1 on another port, even with the right ID", async () => {
  using fake = UdpPeer.open();
  using forger = UdpPeer.open();
  using stray = UdpPeer.open();
  using client = openClient(fake.addr);
  const asking = background(client.request("who answers?"));
  const request = await takeRequest(fake, "who answers?", asking);
  await stray.send("hello, anyone there?", request.addr); // a stray sender, no ID at all
  await forger.send(wire(request.id, "forged"), request.addr); // right ID, wrong port
  await fake.send(wire(request.id, "genuine"), request.addr);
  const reply = decoder.decode(
    await within(asking, {
      awaiting: "the genuine reply",
      section: section("Same address means host and port"),
    }),
  );
  expectEqual(reply, "genuine", {
    what: `the reply, after a forged one from ${forger.addr.hostname}:${forger.addr.port}`,
    section: section("Same address means host and port"),
    mistake: reply === "forged"
      ? "took a reply from another port because its ID matched: the ID does not replace " +
        "checking the sender; compare the port as well as the host"
      : "took a stray datagram as the reply: accept only the server's address and the request's ID",
  });
});

Deno.test("client: ignores a datagram too short to hold an ID", async () => {
  using fake = UdpPeer.open();
  using client = openClient(fake.addr);
  const asking = background(client.request("tiny"));
  const request = await takeRequest(fake, "tiny", asking);
  await fake.send(new Uint8Array([7, 7]), request.addr);
  await fake.send(wire(request.id, "fine"), request.addr);
  const mistake = "check the length first: a datagram shorter than 4 bytes holds no ID";
  const reply = await within(
    failureNamed(
      asking,
      "request() with a 2-byte datagram",
      mistake,
      "Matching replies to requests",
    ),
    {
      awaiting: "the reply after a 2-byte datagram",
      section: section("Matching replies to requests"),
      mistake,
    },
  );
  expectBytes(reply, "fine", {
    what: "the reply after a 2-byte datagram",
    section: section("Matching replies to requests"),
  });
});

Deno.test("server: answers with the request's ID, then `Your data was N bytes long` (N without the ID)", async () => {
  const { server, crashed } = startWatched();
  await stopAfter(async () => {
    using peer = UdpPeer.open();
    await peer.send(new Uint8Array([9]), server.addr); // too short: no answer, and no crash
    for (const [id, payload] of [[0x8badf00d, "sixteen bytes!!!"], [0x00000001, ""]] as const) {
      await peer.send(wire(id, payload), server.addr);
      const got = await peer.receive({
        awaiting: `the reply to the request with ID ${showId(id)}`,
        section: section("The server side"),
        watch: crashed,
        mistake: "the server must survive a datagram too short to hold an ID: skip it",
      });
      const n = encoder.encode(payload).length;
      expectBytes(got.data, wire(id, `Your data was ${n} bytes long`), {
        what: `the reply to ${showId(id)} + ${JSON.stringify(payload)}`,
        section: section("The server side"),
        mistake: decoder.decode(got.data.subarray(4)).includes(`${n + 4} bytes`)
          ? "counted the 4 ID bytes: N is the payload's length only"
          : idOf(got.data) !== id
          ? `the reply's ID is ${hex(got.data.subarray(0, 4))}: copy the request's ID unchanged`
          : undefined,
      });
    }
  }, () =>
    stopServer(server, {
      awaiting: "the server loop to end after close()",
      section: section("The server side"),
    }));
});

Deno.test("server: counts UTF-8 bytes, serves two clients at once, done resolves after close()", async () => {
  const { server, crashed } = startWatched();
  let stopped = false;
  try {
    using alice = UdpPeer.open();
    using bob = UdpPeer.open();
    using silent = UdpPeer.open(); // sends one request, then never reads its reply
    await silent.send(wire(7, "ignored"), server.addr);
    await alice.send(wire(0xffffffff, "Grüße, café ☕"), server.addr); // 18 bytes, 13 characters
    await bob.send(wire(0x80000000, "x".repeat(60_000)), server.addr);
    const expected: [UdpPeer, string, number, number][] = [
      [alice, "alice", 0xffffffff, 18],
      [bob, "bob", 0x80000000, 60_000],
    ];
    for (const [peer, who, id, n] of expected) {
      const got = await peer.receive({
        awaiting: `the reply to ${who}'s request ${showId(id)}`,
        section: section("The server side"),
        watch: crashed,
      });
      expectBytes(got.data, wire(id, `Your data was ${n} bytes long`), {
        what: `the reply to ${who}'s request ${showId(id)} (${n} bytes of payload)`,
        section: section("The server side"),
        mistake: decoder.decode(got.data.subarray(4)) === "Your data was 13 bytes long"
          ? "counted characters (the decoded string's length) instead of the payload's bytes"
          : undefined,
      });
    }
    await expectCleanStop(server, {
      awaiting: "done to settle after close()",
      section: section("The server side"),
    });
    stopped = true;
  } finally {
    if (!stopped) {
      await stopServer(server, {
        awaiting: "the server loop to end after close()",
        section: section("The server side"),
      });
    }
  }
});

Deno.test("client and server: replies duplicated and delayed by a relay still match their requests", async () => {
  const { server, crashed } = startWatched();
  await stopAfter(async () => {
    // The first reply is delivered twice; the second comes 30 ms late, after that duplicate.
    await using relay = UdpRelay.open(server.addr, script(["duplicate", { delayMs: 30 }], "reply"));
    using client = openClient(relay.addr);
    const payloads = ["a", "bb", "ccc", "dddd"];
    const asking = background((async () => {
      const out: string[] = [];
      for (const p of payloads) out.push(decoder.decode(await client.request(p)));
      return out;
    })());
    const replies = await within(asking, {
      awaiting: "the four replies",
      watch: crashed,
      section: section("Matching replies to requests"),
    });
    const want = payloads.map((p) => `Your data was ${p.length} bytes long`);
    expectEqual(replies, want, {
      what: "the replies, in request order, with duplicates and a delay on the way",
      section: section("Matching replies to requests"),
      mistake: replies[0] === `Your data was ${payloads[0].length + 4} bytes long`
        ? "the server counted the 4 ID bytes: N is the payload's length only"
        : "a duplicated reply was taken as the answer to the next request: each request needs " +
          "its own ID, and the reply's ID must match it",
    });
  }, () =>
    stopServer(server, {
      awaiting: "the server loop to end after close()",
      section: section("The server side"),
    }));
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startServer(port === undefined ? undefined : { port }),
    "udp",
    section("The server side"),
  );
});

Deno.test("server: done resolves (never rejects) after close(), also after serving", async () => {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    using client = openClient(running.addr, { nextId: () => 7 });
    await within(client.request("hi"), {
      awaiting: "the reply to request 7",
      section: section("The server side"),
    });
  }, () =>
    expectCleanStop(running, {
      awaiting: "done to resolve after close()",
      section: section("The server side"),
    }));
});

Deno.test("server: done waits for the reply being sent when close() comes", async () => {
  await expectDoneWaitsForReplySend(() => startServer({ hostname: "127.0.0.1", port: 0 }), {
    request: wire(7, "hold this reply"),
    section: section("The server side"),
    replying: section("The server side"),
  });
});

Deno.test("client: a request that cannot be sent rejects with the socket's error", async () => {
  using server = UdpPeer.open();
  using client = openClient(server.addr, { nextId: () => 1 });
  const outcome = await within(
    client.request(new Uint8Array(70_000)).then(() => "it resolved", (e: Error) => e.name),
    {
      awaiting: "request() of 70,000 bytes to settle",
      section: section("Matching replies to requests"),
    },
  );
  expectThat(outcome !== "it resolved", outcome, {
    what: "request() of a 70,000-byte payload (more than a datagram can carry)",
    expected: "a rejection with the socket's error",
    section: section("Matching replies to requests"),
    mistake: "request() did not wait for its send: await it, so its error reaches the caller",
  });
});
