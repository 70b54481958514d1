/**
 * Lesson 09 — The counter client against a fake server the test controls:
 * request format, random ids, matching replies, backoff, giving up, and the
 * size limit.
 *
 * @module
 */

import {
  CounterClient,
  RequestTooLargeError,
  ServerDownError,
  ServerError,
  type Sleep,
  sleep as courseSleep,
} from "../../exercises/lesson-09/client.ts";
import { describe } from "../harness/bytes.ts";
import { background, pause, within } from "../harness/deadline.ts";
import { expectEqual, expectRejects, expectThat, isNotImplemented } from "../harness/expect.ts";
import { fail, LessonFailure, sectionsOf } from "../harness/failure.ts";
import { UdpPeer } from "../harness/udp.ts";
import { countPendingReceives } from "../harness/udp_receives.ts";
import { ManualClock } from "../harness/manual_clock.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { openUdpSocket } from "../harness/sockets.ts";

const section = sectionsOf("lesson-09");
const decoder = new TextDecoder();
const REQUEST = /^([0-9a-f]{8}) (INCR|GET) (\S+)$/;

/** More waits than any client in these tests needs before it gives up (at most 5). */
const MAX_WAITS = 32;

/**
 * A sleep that records each wait and lasts `pauseMs` (1: backoff runs fast and is observable;
 * 0: at once). Past MAX_WAITS waits it rejects, so a client that never backs off or never gives
 * up stops there, and the test names what its waits show, instead of re-sending as fast as it
 * can until the test's deadline.
 */
function recordingSleep(pauseMs = 1): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  const sleep: Sleep = (ms, signal) => {
    waits.push(ms);
    if (waits.length > MAX_WAITS) {
      return Promise.reject(
        new Error(
          `the test's sleep() stopped the client after ${MAX_WAITS} waits ` +
            `(${waits.slice(0, 6).join(", ")}, …) without a reply: it never gave up`,
        ),
      );
    }
    return pauseMs ? pause(pauseMs, signal) : Promise.resolve();
  };
  return { waits, sleep };
}

/** Receives one request at the fake server and checks its shape. */
async function nextRequest(fake: UdpPeer, watch: Promise<unknown>, heading = "The protocol") {
  const got = await fake.receive({
    awaiting: "the client's request",
    watch,
    section: section(heading),
  });
  const text = decoder.decode(got.data);
  const m = text.match(REQUEST);
  if (!m) {
    fail({
      summary: "the client's request is not `<id> <OP> <name>`",
      section: section("The protocol"),
      expected: '"<8 lowercase hex digits> INCR <name>"',
      got: describe(got.data),
    });
  }
  return { id: m[1], op: m[2], name: m[3], text, from: got.addr };
}

/**
 * The mistake named when the client took a reply whose id only begins with
 * its own (`reply`, with `<id>` for the call's id) and `did` something with it.
 */
const PREFIX_MATCH = (reply: string, did: string) =>
  `matched the reply's id on its first 8 characters: ${reply} arrived from the server, its ` +
  `id this call's <id> followed by "ff", and the client ${did} instead of skipping it; an id ` +
  "ends at the space after its 8 hex digits: parse the reply (parseReply) and compare the " +
  "whole id with ===, not startsWith or a slice of 8";

Deno.test("client: sends `<id> INCR <name>`, skips replies with another id or from another address", async () => {
  using fake = UdpPeer.open();
  using stranger = UdpPeer.open();
  using client = CounterClient.open(fake.addr, { initialMs: 500, limitMs: 500 });
  const calling = background(client.increment("visits"));
  const request = await nextRequest(fake, calling);
  expectEqual([request.op, request.name], ["INCR", "visits"], {
    what: "the operation and name in the request",
    section: section("The protocol"),
  });
  const otherId = ((parseInt(request.id, 16) ^ 1) >>> 0).toString(16).padStart(8, "0"); // >>> 0: stay unsigned
  await fake.send(`${otherId} OK 99`, request.from); // a reply to some other request
  await stranger.send(`${request.id} OK 98`, request.from); // the right id, the wrong sender
  await fake.send(`${request.id}ff OK 97`, request.from); // an id that only begins with this one
  await fake.send(`${request.id} OK 7`, request.from);
  const value = await within(calling, {
    awaiting: "increment() to return once the matching reply arrived",
    section: section("The client: backoff and matching replies"),
  });
  expectEqual(value, 7, {
    what: "the value increment() returned",
    section: section("The client: backoff and matching replies"),
    mistake: value === 99
      ? "accepted a reply to another request: only a reply carrying this call's id counts"
      : value === 98
      ? "accepted a reply from another address: only the server's address counts"
      : value === 97
      ? PREFIX_MATCH("`<id>ff OK 97`", "took its 97 as the value")
      : undefined,
  });
});

/** How many fake servers are tried for a port that is also free on 127.0.0.2. */
const IMPOSTOR_TRIES = 5;

Deno.test({
  ...linuxLoopbackTest(
    "client: skips a reply with the right id from 127.0.0.2 on the server's own port number",
  ),
  async fn() {
    const where = section("The client: backoff and matching replies");
    for (let tries = 1; tries <= IMPOSTOR_TRIES; tries++) {
      using fake = UdpPeer.open();
      let impostor: Deno.DatagramConn & Disposable;
      try {
        // The same port number on another address: a port the OS gave on 127.0.0.1 may be
        // taken on 127.0.0.2 by another program, and then another fake server is tried.
        impostor = openUdpSocket({ hostname: "127.0.0.2", port: fake.addr.port });
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse && tries < IMPOSTOR_TRIES) continue;
        throw error;
      }
      using _impostor = impostor;
      using client = CounterClient.open(fake.addr, { initialMs: 500, limitMs: 500 });
      const calling = background(client.increment("visits"));
      const request = await nextRequest(fake, calling);
      await impostor.send(new TextEncoder().encode(`${request.id} OK 98`), request.from);
      await fake.send(`${request.id} OK 7`, request.from);
      const value = await within(calling, {
        awaiting: "increment() to return once the server's own reply arrived",
        section: where,
      });
      expectEqual(value, 7, {
        what: `the value increment() returned (127.0.0.2:${fake.addr.port} sent 98 first, ` +
          `the server at 127.0.0.1:${fake.addr.port} sent 7)`,
        section: where,
        mistake: value === 98
          ? "accepted a reply from 127.0.0.2 because its port matched: the server's address is " +
            "its hostname AND its port; compare both"
          : undefined,
      });
      return;
    }
  },
});

Deno.test("client: request ids are random, not sequential", async () => {
  using fake = UdpPeer.open();
  using client = CounterClient.open(fake.addr, { initialMs: 500, limitMs: 500 });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const calling = background(client.get(`c${i}`));
    const request = await nextRequest(fake, calling);
    ids.push(request.id);
    await fake.send(`${request.id} OK ${i}`, request.from);
    await within(calling, {
      awaiting: `call #${i + 1} to return`,
      section: section("The client: backoff and matching replies"),
    });
  }
  const numbers = ids.map((id) => parseInt(id, 16));
  const close = numbers.slice(1).some((n, i) => Math.abs(n - numbers[i]) <= 1000);
  expectThat(new Set(ids).size === 6 && !close, ids.join(", "), {
    what: "six request ids",
    expected: "six different ids with no pattern (32 random bits each)",
    section: section("Random request ids"),
    mistake: "sequential request ids: a stale reply to the previous request, or a stranger " +
      "who saw one id, can match the next; draw every id from crypto.getRandomValues",
  });
});

Deno.test("client: re-sends the same bytes after waits that grow, then gives up", async () => {
  using fake = UdpPeer.open();
  const { sleep, waits } = recordingSleep();
  using client = CounterClient.open(fake.addr, { initialMs: 10, factor: 2, limitMs: 100, sleep });
  const calling = background(client.increment("x"));
  let error: unknown;
  try {
    await within(calling, {
      awaiting: "increment() to give up on a server that never answers",
      section: section("The client: backoff and matching replies"),
    });
  } catch (e) {
    error = e;
  }
  if (isNotImplemented(error)) throw error;
  const sent = await fake.drain({
    awaiting: "the fake server's own marker, after the client's sends",
    section: section("The client: backoff and matching replies"),
  }, 4);
  const constant = waits.length > 1 && waits.every((w) => w === waits[0]);
  expectEqual(waits.slice(0, 8), [10, 20, 40, 80], {
    what: "the waits before each re-send (initialMs 10, factor 2, limitMs 100)",
    section: section("The client: backoff and matching replies"),
    mistake: constant
      ? "no backoff: the wait must grow by `factor` after every unanswered send"
      : waits.length > 4
      ? "never gave up: stop once the next wait would exceed limitMs"
      : undefined,
  });
  if (error instanceof LessonFailure) throw error;
  expectThat(error instanceof ServerDownError, String(error), {
    what: "how increment() failed",
    expected: "a ServerDownError",
    section: section("The client: backoff and matching replies"),
  });
  expectThat(/server is down/.test((error as Error).message), (error as Error).message, {
    what: "the ServerDownError's message",
    expected: 'a message saying "I think the server is down", as the book\'s client does',
    section: section("The client: backoff and matching replies"),
  });
  const texts = sent.map((d) => decoder.decode(d.data));
  expectThat(texts.length === 4 && new Set(texts).size === 1, JSON.stringify(texts), {
    what: "the datagrams the fake server received",
    expected: "the same request, byte for byte, 4 times",
    section: section("The client: backoff and matching replies"),
    mistake: new Set(texts).size > 1
      ? "a re-send must repeat the same request id: a new id makes the server execute it again"
      : undefined,
  });
});

/**
 * Calls `increment(name)` on a client with `maxRequestBytes` and requires a
 * RequestTooLargeError with nothing sent: a refusal comes at once, while a
 * client that sent the request waits for a reply instead, so the fake server
 * drains its socket (a marker after anything the client sent) and fails,
 * naming `sent.mistake`, if the request left. Returns the error.
 */
async function expectRefusedUnsent(
  name: string,
  maxRequestBytes: number,
  expected: {
    sent: { summary: string; got: (data: Uint8Array) => string; mistake: string };
    what: string;
    mistake?: string;
  },
): Promise<unknown> {
  using fake = UdpPeer.open();
  using client = CounterClient.open(fake.addr, { maxRequestBytes, initialMs: 50 });
  const calling = background(client.increment(name));
  await within(calling.catch(() => {}), {
    awaiting: "increment() to refuse the request",
    ms: 300,
    section: section("A size limit"),
  }).catch(() => {});
  const arrived = await fake.drain({
    awaiting: "the fake server's own marker, after anything the client sent",
    section: section("A size limit"),
  });
  if (arrived.length) {
    fail({
      summary: expected.sent.summary,
      section: section("A size limit"),
      got: expected.sent.got(arrived[0].data),
      mistake: expected.sent.mistake,
    });
  }
  return await expectRejects(
    () =>
      within(calling, {
        awaiting: "increment() to refuse the request",
        section: section("A size limit"),
      }),
    {
      kind: RequestTooLargeError,
      what: expected.what,
      section: section("A size limit"),
      mistake: expected.mistake,
    },
  );
}

Deno.test("client: refuses a request over the size limit before sending anything", async () => {
  await expectRefusedUnsent("abcdefghijklmnopqrstuvwxyz", 30, { // 40 bytes
    sent: {
      summary: "a 40-byte request left although the limit was 30",
      got: describe,
      mistake: "no size limit: encode the request, compare its length with maxRequestBytes " +
        "and throw a RequestTooLargeError before sending",
    },
    what: "increment() of a 40-byte request with maxRequestBytes 30",
  });
});

Deno.test("client: a wait equal to limitMs is still waited; only the next one gives up", async () => {
  using fake = UdpPeer.open();
  const { sleep, waits } = recordingSleep();
  using client = CounterClient.open(fake.addr, { initialMs: 10, factor: 2, limitMs: 80, sleep });
  const error = await expectRejects(
    () =>
      within(client.increment("x"), {
        awaiting: "increment() to give up on a server that never answers",
        section: section("The client: backoff and matching replies"),
      }),
    {
      kind: ServerDownError,
      what: "increment() against a silent server (initialMs 10, factor 2, limitMs 80)",
      section: section("The client: backoff and matching replies"),
    },
  );
  const sent = await fake.drain({
    awaiting: "the fake server's own marker, after the client's sends",
    section: section("The client: backoff and matching replies"),
  }, 4);
  expectEqual([waits.slice(0, 8), sent.length], [[10, 20, 40, 80], 4], {
    what: "the waits, and how many sends the fake server saw",
    section: section("The client: backoff and matching replies"),
    mistake: waits.length === 3
      ? "gave up one wait early: give up when the next wait would EXCEED " +
        "limitMs; a wait equal to it is still waited"
      : undefined,
  });
  expectEqual((error as ServerDownError).attempts, 4, {
    what: "the ServerDownError's attempts",
    section: section("The client: backoff and matching replies"),
    mistake: "miscounted attempts: it is the number of times the request was sent",
  });
});

Deno.test("client: a request of exactly maxRequestBytes is sent; one byte more is refused", async () => {
  using fake = UdpPeer.open();
  using client = CounterClient.open(fake.addr, { maxRequestBytes: 20, initialMs: 500 });
  const calling = background(client.increment("abcdef")); // "<id> INCR abcdef": 20 bytes
  const request = await nextRequest(fake, calling, "A size limit").catch((error) => {
    if (isNotImplemented(error)) throw error;
    fail({
      summary: "a request of exactly 20 bytes (limit 20) never left",
      section: section("A size limit"),
      got: `it failed with ${(error as Error).name ?? String(error)}`,
      mistake: "refused a request of exactly maxRequestBytes: only a longer " +
        "one is too large",
    });
  });
  await fake.send(`${request.id} OK 1`, request.from);
  await within(calling, {
    awaiting: "increment() to return its reply",
    section: section("A size limit"),
  });
  await expectRejects(() => client.increment("abcdefg"), {
    kind: RequestTooLargeError,
    what: "increment() of a 21-byte request with maxRequestBytes 20",
    section: section("A size limit"),
  });
});

Deno.test("client: an `ERR` reply rejects with a ServerError that keeps the reason", async () => {
  using fake = UdpPeer.open();
  using client = CounterClient.open(fake.addr, { initialMs: 500, limitMs: 500 });
  const calling = background(client.increment("x"));
  const request = await nextRequest(fake, calling);
  await fake.send(`${request.id}ff ERR busy`, request.from); // an id that only begins with this one
  await fake.send(`${request.id} ERR bad request`, request.from);
  const error = await expectRejects(
    () =>
      within(calling, {
        awaiting: "increment() to fail on an ERR reply",
        section: section("The client: backoff and matching replies"),
      }),
    {
      kind: ServerError,
      what: "increment() answered with `ERR bad request`",
      section: section("The client: backoff and matching replies"),
      mistake: "an ERR reply must reject with a ServerError, its own error kind",
    },
  );
  const reason = (error as ServerError).reason;
  expectEqual(reason, "bad request", {
    what: "the ServerError's reason (`<id>ff ERR busy` came first, then `<id> ERR bad request`)",
    section: section("The client: backoff and matching replies"),
    mistake: reason === "busy"
      ? PREFIX_MATCH("`<id>ff ERR busy`", "failed with its ERR")
      : undefined,
  });
});

Deno.test("client: sleep() ends at once when its signal aborts in the middle of a wait", async () => {
  const stop = new AbortController();
  const waiting = background(courseSleep(60_000, stop.signal));
  await pause(5); // lets an async sleep() reach its wait; any delay keeps it mid-60-s-wait
  stop.abort();
  await within(waiting, {
    awaiting: "sleep(60000) to end after its signal aborted",
    section: section("The client: backoff and matching replies"),
    mistake: "sleep() ignored the abort: listen for the signal's abort event, " +
      "clear the timer and resolve",
  });
});

Deno.test("client: sleep() with a signal already aborted returns at once", async () => {
  const stop = new AbortController();
  stop.abort();
  await within(courseSleep(60_000, stop.signal), {
    awaiting: "sleep(60 s) with an already-aborted signal to return",
    section: section("The client: backoff and matching replies"),
    mistake: "an abort that happened before sleep() was called fires no event: check " +
      "signal.aborted first",
  });
});

Deno.test("client: by default waits 100, 200, 400, 800, 1600 ms, then ServerDownError names the server", async () => {
  using fake = UdpPeer.open();
  const { sleep: instant, waits } = recordingSleep(0);
  using client = CounterClient.open(fake.addr, { sleep: instant });
  const error = await expectRejects(
    () =>
      within(client.increment("silent"), {
        awaiting: "increment() to give up on a silent server",
        section: section("The client: backoff and matching replies"),
      }),
    {
      kind: ServerDownError,
      what: "increment() against a server that never answers",
      section: section("The client: backoff and matching replies"),
    },
  );
  const e = error as ServerDownError;
  const seen = `${JSON.stringify(waits)} ${e.name} ${e.attempts} ` +
    `${e.message.includes(`127.0.0.1:${fake.addr.port}`)}`;
  expectEqual(seen, `[100,200,400,800,1600] ServerDownError 5 true`, {
    what: "the waits, then the error's name, attempts, and whether it names the server",
    section: section("The client: backoff and matching replies"),
  });
});

Deno.test("client: `local` is the port its requests leave from; close() then disposal is fine", async () => {
  using fake = UdpPeer.open();
  using client = CounterClient.open(fake.addr);
  const asking = background(client.increment("seen"));
  const request = await fake.receive({
    awaiting: "the client's request",
    watch: asking,
    section: section("The client: backoff and matching replies"),
  });
  const id = new TextDecoder().decode(request.data).slice(0, 8);
  await fake.send(`${id} OK 1`, request.addr);
  await within(asking, { awaiting: "increment() to return", section: section("The protocol") });
  expectEqual(client.local?.port, request.addr.port, {
    what: "client.local.port against the port the request came from",
    section: section("The client: backoff and matching replies"),
  });
  client.close(); // `using` closes it again at the end: that must be harmless
});

Deno.test("client: ServerError and RequestTooLargeError carry their names, reason, size and limit", async () => {
  using fake = UdpPeer.open();
  using client = CounterClient.open(fake.addr, { maxRequestBytes: 20 });
  const big = await expectRejects(() => client.increment("a-name-that-is-too-long"), {
    kind: RequestTooLargeError,
    what: "increment() of a 37-byte request with maxRequestBytes 20",
    section: section("A size limit"),
  }) as RequestTooLargeError;
  const asking = background(client.get("x"));
  const request = await fake.receive({
    awaiting: "the GET request",
    watch: asking,
    section: section("The protocol"),
  });
  const id = new TextDecoder().decode(request.data).slice(0, 8);
  await fake.send(`${id} ERR bad request`, request.addr);
  const refused = await expectRejects(
    () => within(asking, { awaiting: "get() to settle", section: section("The protocol") }),
    {
      kind: ServerError,
      what: "get() answered `ERR bad request`",
      section: section("The protocol"),
    },
  ) as ServerError;
  const seen = [
    `${big.name} ${big.size} ${big.limit} ${/37/.test(big.message) && /20/.test(big.message)}`,
    `${refused.name} ${refused.reason} ${refused.message.includes("bad request")}`,
  ];
  expectEqual(seen, ["RequestTooLargeError 37 20 true", "ServerError bad request true"], {
    what: "[name, size, limit, message names both] and [name, reason, message names it]",
    section: section("The protocol"),
  });
});

/** The mistake named when each wait starts a receive() of its own. */
const RECEIVE_PER_WAIT = "started a new receive() for each wait while the earlier one was " +
  "still pending: the orphaned receive takes the next datagram and nobody reads it; keep " +
  "one receive() in a field (#pending ??= socket.receive(…)) and race it again in every wait";

Deno.test("client: keeps one receive() pending across its waits and re-sends, never a second", async () => {
  using fake = UdpPeer.open();
  using receives = countPendingReceives([fake.addr.port]);
  const clock = new ManualClock();
  using client = CounterClient.open(fake.addr, {
    initialMs: 100,
    limitMs: 400,
    sleep: clock.sleep,
  });
  const calling = background(client.increment("x"));
  const where = section("The client: backoff and matching replies");
  let request = await nextRequest(fake, calling);
  for (const n of [1, 2]) {
    await within(clock.waitsAsked(n), {
      awaiting: `the client's wait after send #${n}`,
      watch: calling,
      section: where,
    });
    expectThat(receives.most <= 1, `${receives.most} at once, by the wait after send #${n}`, {
      what: "receive() calls pending on the client's socket",
      expected: "one, started in the first wait and raced again in each later wait",
      section: where,
      mistake: RECEIVE_PER_WAIT,
    });
    if (n === 1) {
      clock.advance(100); // the first wait runs out: the client re-sends
      request = await nextRequest(fake, calling, "The client: backoff and matching replies");
    }
  }
  await fake.send(`${request.id} OK 3`, request.from);
  const value = await within(calling, {
    awaiting: "increment() to return once the reply to its second send arrived",
    section: where,
    mistake: RECEIVE_PER_WAIT,
  });
  expectEqual(value, 3, { what: "the value increment() returned", section: where });
});

Deno.test("client: a skipped stale reply does not restart the wait", async () => {
  using fake = UdpPeer.open();
  const clock = new ManualClock();
  using client = CounterClient.open(fake.addr, {
    initialMs: 100,
    limitMs: 100,
    sleep: clock.sleep,
  });
  const calling = background(client.increment("x"));
  const request = await nextRequest(fake, calling);
  const otherId = ((parseInt(request.id, 16) ^ 1) >>> 0).toString(16).padStart(8, "0");
  await fake.send(`${otherId} OK 99`, request.from); // stale: a reply to another request
  await fake.send(`${request.id} OK 4`, request.from);
  const where = section("The client: backoff and matching replies");
  const value = await within(calling, {
    awaiting: "increment() to return once the matching reply arrived after a stale one",
    section: where,
  });
  expectEqual(value, 4, { what: "the value increment() returned", section: where });
  expectEqual(clock.asked, [100], {
    what: "the waits the client asked for (initialMs 100, one stale reply, then the reply)",
    section: where,
    mistake: clock.asked.length > 1
      ? "the wait restarted after a skipped stale reply, so a stream of stale replies keeps " +
        "the window open for ever: start the timer once per send, before the loop that skips " +
        "stale replies, and race every receive() against that same timer"
      : undefined,
  });
});

Deno.test("client: the size limit counts bytes, not characters (`éééé` is 8 bytes)", async () => {
  // `<id> INCR éééé` is 18 characters but 22 bytes of UTF-8: over the limit of 20.
  const BYTES_NOT_CHARACTERS = "the size limit counted characters, not bytes: compare the " +
    "encoded request's length (bytes) with maxRequestBytes";
  const error = await expectRefusedUnsent("éééé", 20, {
    sent: {
      summary: "a 22-byte request (18 characters) left although the limit was 20",
      // Not the bytes in hex: the id in them is random, and the message should read the same
      // on every run.
      got: (data) =>
        `${JSON.stringify(decoder.decode(data).replace(/^[0-9a-f]{8}/, "<id>"))} ` +
        `(${data.length} bytes)`,
      mistake: BYTES_NOT_CHARACTERS,
    },
    what: 'increment("éééé"): 22 bytes with maxRequestBytes 20',
    mistake: BYTES_NOT_CHARACTERS,
  });
  expectEqual((error as RequestTooLargeError).size, 22, {
    what: "the RequestTooLargeError's size",
    section: section("A size limit"),
    mistake: BYTES_NOT_CHARACTERS,
  });
});
