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
  type Sleep,
} from "../../exercises/lesson-09/client.ts";
import { describe } from "../harness/bytes.ts";
import { background, pause, within } from "../harness/deadline.ts";
import { expectEqual, expectRejects, expectThat, isNotImplemented } from "../harness/expect.ts";
import { fail, LessonFailure, sectionsOf } from "../harness/failure.ts";
import { UdpPeer } from "../harness/udp.ts";

const section = sectionsOf("lesson-09");
const decoder = new TextDecoder();
const REQUEST = /^([0-9a-f]{8}) (INCR|GET) (\S+)$/;

/** A sleep that records each wait and lasts 1 ms, so backoff runs fast and is observable. */
function recordingSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: (ms, signal) => (waits.push(ms), pause(1, signal)) };
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
      : undefined,
  });
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
  const sent = await fake.collect(20);
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

Deno.test("client: refuses a request over the size limit before sending anything", async () => {
  using fake = UdpPeer.open();
  using client = CounterClient.open(fake.addr, { maxRequestBytes: 30, initialMs: 50 });
  const calling = background(client.increment("abcdefghijklmnopqrstuvwxyz")); // 40 bytes
  const arrived = await fake.collect(30);
  if (arrived.length) {
    fail({
      summary: "a 40-byte request left although the limit was 30",
      section: section("A size limit"),
      got: describe(arrived[0].data),
      mistake: "no size limit: encode the request, compare its length with maxRequestBytes " +
        "and throw a RequestTooLargeError before sending",
    });
  }
  await expectRejects(
    () =>
      within(calling, {
        awaiting: "increment() to refuse the request",
        section: section("A size limit"),
      }),
    {
      kind: RequestTooLargeError,
      what: "increment() of a 40-byte request with maxRequestBytes 30",
      section: section("A size limit"),
    },
  );
});
