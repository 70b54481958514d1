/**
 * Lesson 04 — Unreliability: timeouts and backoff. The book's udp_remote
 * client, driven through a fault relay that drops, duplicates and delays
 * datagrams on purpose, with a fake clock the test controls, so every wait
 * is recorded exactly and no test waits for real seconds.
 *
 * @module
 */

import {
  type Backoff,
  client,
  request,
  server,
  ServerDownError,
  type Sleep,
  sleep,
  startServer,
  waitsFor,
} from "../../exercises/lesson-04/udp_remote.ts";
import { describe } from "../harness/bytes.ts";
import { type Awaiting, background, within } from "../harness/deadline.ts";
import {
  expectBytes,
  expectEqual,
  expectRejects,
  expectThat,
  isNotImplemented,
} from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { expectDoneWaitsForReplySend } from "../harness/held_sends.ts";
import { LogLines } from "../harness/log.ts";
import { startClientRole, startServerRole } from "../harness/program.ts";
import { seeded } from "../harness/random.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import { expectBindsHostname, expectDefaultAddress } from "../harness/server_defaults.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { UdpPeer } from "../harness/udp.ts";
import { countPendingReceives } from "../harness/udp_receives.ts";
import { dropAll, dropFirst, script, UdpRelay } from "../harness/udp_relay.ts";
import { expectServesAfterNotUtf8, repliedAndLogged } from "../harness/not_utf8.ts";

const section = sectionsOf("lesson-04");

/** The book's request, written out here so the test never trusts the code under test. */
const BOOK_MESSAGE = "This is another message";
/** The book's reply to it (23 bytes). */
const BOOK_REPLY = "Your data was 23 bytes long";
const bookReply = (bytes: number) => `Your data was ${bytes} bytes long`;

/** One wait the client asked the fake clock for. */
interface PendingSleep {
  /** How long the client asked to wait. */
  ms: number;
  /** The signal the client passed (aborted when it cancels the wait). */
  signal?: AbortSignal;
  /** Ends the wait, as if the time had passed. */
  fire(): void;
}

/**
 * A fake clock for `options.sleep`: records every wait the client asks for
 * and ends it only when the test says so (or when the client aborts it), so
 * the schedule is exact and no real time passes.
 */
class ManualClock {
  /** Every wait asked for, in milliseconds, in order. */
  readonly waits: number[] = [];
  readonly #queue: PendingSleep[] = [];
  #wakers: (() => void)[] = [];

  /** Pass this as `options.sleep`. */
  sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve) => {
      this.waits.push(ms);
      this.#queue.push({ ms, signal, fire: () => resolve() });
      for (const wake of this.#wakers.splice(0)) wake();
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });

  /** The next wait asked for, unbounded (wrap it in `within`). */
  async upcoming(): Promise<PendingSleep> {
    while (!this.#queue.length) await new Promise<void>((r) => this.#wakers.push(r));
    return this.#queue.shift()!;
  }

  /** The next wait asked for, bounded. */
  next(wait: Awaiting): Promise<PendingSleep> {
    return within(this.upcoming(), {
      mistake: "request() never asked options.sleep for its wait: take the wait from the " +
        "injected sleep (the default is the real timer), so that callers and tests control time",
      ...wait,
    });
  }
}

/** Names what is wrong with a schedule of waits, compared with the right one. */
function scheduleMistake(got: number[], want: number[]): string | undefined {
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (got.length === 0) {
    return "request() never called options.sleep: it re-sent without waiting (flooding) or used " +
      "a timer of its own; wait with the injected sleep";
  }
  if (got.length >= 2 && got.every((w) => w === got[0])) {
    return "the wait did not rise: multiply it by the factor after each timeout; a fixed wait " +
      "keeps hammering a server that is already struggling";
  }
  if (same(got, want.slice(0, -1))) {
    return `gave up one wait early: a wait equal to the limit (${want.at(-1)} ms) is still ` +
      "allowed; give up only once the next wait would be longer than limitMs";
  }
  if (got.length > want.length && same(got.slice(0, want.length), want)) {
    return "gave up too late: once the next wait would be longer than limitMs, stop re-sending";
  }
  if (same(got, [100, 200, 400, 800, 1600]) || got[0] === 100) {
    return "ignored the backoff options: initialMs, factor and limitMs come from the options; " +
      "the book's values are only the defaults";
  }
  return undefined;
}

type Outcome = { kind: "resolved"; value: unknown } | { kind: "rejected"; error: unknown };

/**
 * Lets every wait the client asks for pass at once, recording them, until
 * the client settles. Fails if it keeps waiting past `max` waits.
 */
async function driveUntilSettled(
  asking: Promise<unknown>,
  clock: ManualClock,
  want: number[],
): Promise<{ waits: number[]; outcome: Outcome }> {
  const settled: Promise<Outcome> = asking.then(
    (value) => ({ kind: "resolved", value }),
    (error) => ({ kind: "rejected", error }),
  );
  const waits: number[] = [];
  while (true) {
    const next = await within(Promise.race([clock.upcoming(), settled]), {
      awaiting: waits.length
        ? `a re-send and its next wait, or request() giving up, after the waits [${waits}]`
        : "the client's first wait (a call to options.sleep)",
      section: section("Giving up"),
      mistake: "request() neither waited again nor gave up: after the last wait, throw the error",
    });
    if ("kind" in next) {
      if (next.kind === "rejected" && isNotImplemented(next.error)) throw next.error;
      return { waits, outcome: next };
    }
    waits.push(next.ms);
    if (waits.length > want.length + 3) {
      fail({
        summary: `request() kept waiting and re-sending: waits [${waits}] and still going`,
        section: section("Giving up"),
        expected: `waits [${want}], then a ServerDownError`,
        got: `waits [${waits}] …`,
        mistake: scheduleMistake(waits, want) ?? "gave up too late, or never",
      });
    }
    next.fire();
  }
}

/**
 * Whether a message says how long the client tried before it gave up: every wait, in seconds or
 * in milliseconds, or their total in either.
 */
function statesHowLong(message: string, waits: number[]): boolean {
  const numbers = new Set((message.match(/\d+(?:\.\d+)?/g) ?? []).map(Number));
  const total = waits.reduce((sum, ms) => sum + ms, 0);
  return [1, 1000].some((per) =>
    waits.every((ms) => numbers.has(ms / per)) || numbers.has(total / per)
  );
}

/** Checks a client gave up with the book's error after exactly the waits `want`. */
async function expectGaveUp(
  asking: Promise<unknown>,
  clock: ManualClock,
  relay: UdpRelay,
  want: number[],
): Promise<void> {
  const { waits, outcome } = await driveUntilSettled(asking, clock, want);
  expectEqual(waits, want, {
    what: "the waits the client asked for, in milliseconds",
    section: section("Backoff: waits that rise"),
    mistake: scheduleMistake(waits, want),
  });
  const error = await expectRejects(
    () => outcome.kind === "rejected" ? Promise.reject(outcome.error) : 0,
    {
      kind: ServerDownError,
      pattern: /^I think the server is down/,
      what: "how request() ends when no reply ever comes",
      section: section("Giving up"),
      mistake: "after the last wait, throw new ServerDownError(waits): the caller must hear " +
        "that the server seems down, not get undefined or a hang",
    },
  );
  expectEqual(error.name, "ServerDownError", {
    what: "the name of the error request() gave up with",
    section: section("Giving up"),
    mistake: 'set this.name = "ServerDownError" in its constructor: without it the error is ' +
      'printed as "Error: I think the server is down: …", not "ServerDownError: …"',
  });
  const seconds = want.map((ms) => ms / 1000);
  const total = want.reduce((sum, ms) => sum + ms, 0);
  expectThat(statesHowLong(error.message, want), JSON.stringify(error.message), {
    what: "the message of the ServerDownError request() gave up with",
    expected: `it says how long the client tried: the waits (${seconds.join(", ")} s) or ` +
      `their total (${total / 1000} s)`,
    section: section("Giving up"),
    mistake: "the message does not say how long the client tried: name the waits that passed " +
      "without a reply (new ServerDownError(waits)), or their total",
  });
  const sent = await relay.waitFor(want.length, "request", {
    awaiting: `${want.length} sends at the relay`,
    section: section("Re-sending the same bytes"),
  });
  expectEqual(sent.length, want.length, {
    what: "how many times the request was sent (one per wait)",
    section: section("Re-sending the same bytes"),
  });
}

/**
 * Settles only if `running` fails with a stub's "not implemented" error: a
 * `watch` for waits that must not be cut short by the learner's other errors.
 */
function unimplemented(running: Promise<unknown>): Promise<unknown> {
  return running.then(
    () => new Promise(() => {}),
    (error) => isNotImplemented(error) ? Promise.reject(error) : new Promise(() => {}),
  );
}

Deno.test("waitsFor: the book's schedule is 100, 200, 400, 800, 1600 ms; others follow their backoff", () => {
  const cases: [{ initialMs: number; factor: number; limitMs: number }, number[]][] = [
    [{ initialMs: 100, factor: 2, limitMs: 2000 }, [100, 200, 400, 800, 1600]],
    [{ initialMs: 10, factor: 3, limitMs: 90 }, [10, 30, 90]],
    [{ initialMs: 50, factor: 2, limitMs: 20 }, [50]],
  ];
  for (const [backoff, want] of cases) {
    const got = waitsFor(backoff);
    expectEqual(got, want, {
      what: `waitsFor(${JSON.stringify(backoff)})`,
      section: section("Backoff: waits that rise"),
      mistake: got.length === 0
        ? "the first wait always happens, even when it is longer than the limit: the book " +
          "sends once and waits before it ever compares with the limit"
        : scheduleMistake(got, want),
    });
  }
});

/** What `waitsFor(backoff)` did: returned waits, or threw an error; and how long it took. */
function refusal(backoff: Backoff): { waits?: number[]; error?: Error; ms: number } {
  const started = performance.now();
  try {
    const waits = waitsFor(backoff);
    return { waits, ms: performance.now() - started };
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    const ms = performance.now() - started;
    return { error: error instanceof Error ? error : new Error(String(error)), ms };
  }
}

Deno.test("waitsFor: a factor of exactly 1 is refused at once, with a RangeError naming it", () => {
  // First with the first wait already over the limit: the loop never runs, so code that lets a
  // factor of 1 through returns [500] at once. With the book's limit it would loop for ever
  // instead, pushing 100 until V8 gives up (about 18 s and 1 GB later) with a RangeError of its
  // own, "Invalid array length": so that call is made only once this one is refused.
  const cases: Backoff[] = [
    { initialMs: 500, factor: 1, limitMs: 100 },
    { initialMs: 100, factor: 1, limitMs: 2000 },
  ];
  for (const backoff of cases) {
    const { waits, error, ms } = refusal(backoff);
    const call = `waitsFor(${JSON.stringify(backoff)})`;
    expectThat(
      error instanceof RangeError && /factor/i.test(error.message) && ms < 1000,
      error
        ? `${error.name}: ${error.message} (after ${Math.round(ms)} ms)`
        : `returned ${JSON.stringify(waits)}`,
      {
        what: call,
        expected: "a RangeError at once, saying the factor (1) must be greater than 1",
        section: section("Backoff: waits that rise"),
        mistake: waits
          ? "let a factor of exactly 1 through (factor < 1): with 1 the waits never grow, the " +
            "loop never reaches the limit and the client never gives up; refuse every factor " +
            "that is not above 1, !(factor > 1), before the loop"
          : undefined,
      },
    );
  }
});

Deno.test("sleep: a real timer that ends early, and leaves no timer behind, when aborted", async () => {
  const started = performance.now();
  await within(sleep(5), {
    awaiting: "sleep(5) to resolve",
    section: section("Racing receive() against a timer"),
  });
  const took = performance.now() - started;
  expectThat(took >= 4, `it resolved after ${took.toFixed(1)} ms`, {
    what: "sleep(5) waits about 5 ms",
    expected: "at least 5 ms",
    section: section("Racing receive() against a timer"),
  });
  const stop = new AbortController();
  const long = sleep(800, stop.signal);
  stop.abort();
  await within(long, {
    ms: 200,
    awaiting: "sleep(800, signal) to resolve once the signal was aborted",
    section: section("Racing receive() against a timer"),
    mistake: "sleep() ignored the abort: listen for the signal's abort event, clearTimeout " +
      "the timer and resolve at once",
  });
  await within(sleep(800, stop.signal), {
    ms: 200,
    awaiting: "sleep(800, signal) with an already aborted signal to resolve",
    section: section("Racing receive() against a timer"),
    mistake: "an already aborted signal never fires its abort event: check signal.aborted first",
  });
});

/** A fresh signal that keeps count of the abort listeners added to it and not yet removed. */
function countedSignal(): { signal: AbortSignal; listening(): number } {
  const { signal } = new AbortController();
  // Each listener, and the signal of its options that removes it once aborted (if any).
  const listeners = new Map<EventListenerOrEventListenerObject, AbortSignal | undefined>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  Object.defineProperties(signal, {
    addEventListener: {
      value(
        type: string,
        listener: EventListenerOrEventListenerObject,
        options?: boolean | AddEventListenerOptions,
      ) {
        if (type === "abort") {
          listeners.set(listener, typeof options === "object" ? options.signal : undefined);
        }
        add(type, listener, options);
      },
    },
    removeEventListener: {
      value(
        type: string,
        listener: EventListenerOrEventListenerObject,
        options?: boolean | EventListenerOptions,
      ) {
        if (type === "abort") listeners.delete(listener);
        remove(type, listener, options);
      },
    },
  });
  return {
    signal,
    listening: () =>
      [...listeners.values()].filter((until) => !until?.aborted).length + (signal.onabort ? 1 : 0),
  };
}

Deno.test("sleep: ended by its timer, it takes its abort listener off the signal", async () => {
  const counted = countedSignal();
  await within(sleep(1, counted.signal), {
    awaiting: "sleep(1, signal) to resolve",
    section: section("Racing receive() against a timer"),
  });
  expectEqual(counted.listening(), 0, {
    what: "abort listeners sleep(1, signal) left on the signal once its timer had ended it",
    section: section("Racing receive() against a timer"),
    mistake: "sleep() left its abort listener on the signal after its timer ended the wait: " +
      "a caller's signal may outlive many waits, and each listener stays on it; " +
      "removeEventListener in the function that ends the wait, whichever way it ends",
  });
});

/** The mistake named when a client has more than one receive() pending on its socket. */
const ANOTHER_RECEIVE = "started another receive() for each re-send while the earlier one " +
  "was still pending: a reply can then go to a receive() nobody awaits any more, and each " +
  "one is left running; start one receive() and race it again after every re-send " +
  "(pending ??= socket.receive(…))";

Deno.test("client: keeps one receive() pending across its re-sends, never a second", async () => {
  using fake = UdpPeer.open();
  using receives = countPendingReceives([fake.addr.port]);
  const clock = new ManualClock();
  const stop = new AbortController();
  const asking = background(request(fake.addr, { sleep: clock.sleep, signal: stop.signal }));
  const where = section("Blocking, and why Deno has no timeout");
  try {
    let client: Deno.NetAddr | undefined;
    for (const n of [1, 2, 3]) {
      client = (await fake.receive({ awaiting: `send #${n}`, watch: asking, section: where })).addr;
      const waiting = await clock.next({
        awaiting: `the wait after send #${n}`,
        watch: asking,
        section: section("Injected time"),
      });
      expectThat(receives.most <= 1, `${receives.most} at once, by the wait after send #${n}`, {
        what: "receive() calls pending on the client's socket",
        expected: "one, started with the first send and raced again after each re-send",
        section: where,
        mistake: ANOTHER_RECEIVE,
      });
      if (n < 3) waiting.fire();
    }
    await fake.send(BOOK_REPLY, client!);
    const answer = await within(asking, {
      awaiting: "request() to return once the reply to its third send arrived",
      section: section("Racing receive() against a timer"),
      mistake: ANOTHER_RECEIVE,
    });
    expectEqual(answer.reply, BOOK_REPLY, {
      what: "the reply request() returned",
      section: section("Racing receive() against a timer"),
    });
  } finally {
    stop.abort(); // a client stopped mid-way by a failure above closes its socket
    await within(asking.catch(() => {}), {
      awaiting: "request() to end",
      section: section("Racing receive() against a timer"),
    });
  }
});

Deno.test("client: sends `This is another message` once, returns the reply and cancels its wait", async () => {
  using fake = UdpPeer.open();
  const clock = new ManualClock();
  const asking = background(request(fake.addr, { sleep: clock.sleep }));
  const sent = await fake.receive({
    awaiting: "the client's first datagram",
    watch: asking,
    section: section("The protocol on the wire"),
  });
  expectBytes(sent.data, BOOK_MESSAGE, {
    what: "the datagram the client sent",
    section: section("The protocol on the wire"),
  });
  const waiting = await clock.next({
    awaiting: "the client to start its first wait",
    watch: asking,
    section: section("Injected time"),
  });
  expectEqual(waiting.ms, 100, {
    what: "the first wait with the book's defaults, in milliseconds",
    section: section("Backoff: waits that rise"),
  });
  await fake.send(BOOK_REPLY, sent.addr);
  const answer = await within(asking, {
    awaiting: "request() to return once the reply arrived",
    section: section("Racing receive() against a timer"),
    mistake: "the reply arrived while the client waited: race receive() against the timer " +
      "instead of awaiting one after the other",
  });
  expectEqual(answer.reply, BOOK_REPLY, {
    what: "the reply request() returned",
    section: section("Racing receive() against a timer"),
  });
  const extra = answer.attempts === 1 ? [] : await fake.collect(20);
  expectEqual(answer.attempts, 1, {
    what: `attempts when the first send was answered (sends seen: ${1 + extra.length})`,
    section: section("Re-sending the same bytes"),
    mistake: extra.length
      ? "kept re-sending after the reply arrived: return as soon as one comes in"
      : "miscounted: the request went out once, so attempts is 1; count each send",
  });
  expectEqual(answer.local.port, sent.addr.port, {
    what: "the client's own port as request() reports it",
    section: section("The protocol on the wire"),
  });
  expectEqual(answer.from.port, fake.addr.port, {
    what: "where request() says the reply came from",
    section: section("The protocol on the wire"),
  });
  expectThat(waiting.signal?.aborted === true, "the wait's signal was never aborted", {
    what: "the client cancels its wait once the reply is in",
    expected: "the signal passed to options.sleep aborted",
    section: section("Racing receive() against a timer"),
    mistake: "the wait was not cancelled when the reply arrived: its timer keeps running " +
      "(a leak); abort the signal you gave sleep(), in a finally",
  });
});

Deno.test("client: re-sends the identical bytes after each timeout, waiting 100 then 200 ms", async () => {
  using server = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, dropFirst(2));
  const clock = new ManualClock();
  const asking = background(request(relay.addr, { sleep: clock.sleep }));
  for (const [i, ms] of [100, 200].entries()) {
    await relay.waitFor(i + 1, "request", {
      awaiting: `send #${i + 1} (the relay drops it)`,
      watch: asking,
      section: section("Re-sending the same bytes"),
      mistake: i > 0 ? "no re-send after the wait passed without a reply" : undefined,
    });
    const waiting = await clock.next({
      awaiting: `the wait after send #${i + 1}`,
      watch: asking,
      section: section("Injected time"),
    });
    expectEqual(waiting.ms, ms, {
      what: `the wait after send #${i + 1}, in milliseconds`,
      section: section("Backoff: waits that rise"),
      mistake: waiting.ms === 100 && i > 0
        ? "the wait did not rise: multiply it by the factor after each timeout"
        : undefined,
    });
    waiting.fire();
  }
  const third = await server.receive({
    awaiting: "send #3, which the relay lets through",
    watch: asking,
    section: section("Re-sending the same bytes"),
  });
  for (const event of relay.seen("request")) {
    expectBytes(event.data, BOOK_MESSAGE, {
      what: `send #${event.index + 1}`,
      section: section("Re-sending the same bytes"),
      mistake: "every re-send must carry exactly the same bytes as the first",
    });
  }
  await server.send(BOOK_REPLY, third.addr);
  const answer = await within(asking, {
    awaiting: "request() to return after the third send was answered",
    section: section("Racing receive() against a timer"),
  });
  expectEqual(answer.attempts, 3, {
    what: "attempts (sends) until the reply",
    section: section("Re-sending the same bytes"),
  });
  expectEqual(clock.waits, [100, 200, 400], {
    what: "the waits asked for (the third one cut short by the reply)",
    section: section("Backoff: waits that rise"),
  });
  expectEqual(answer.from.port, relay.addr.port, {
    what: "where the reply came from",
    section: section("The protocol on the wire"),
  });
});

Deno.test("client: never re-sends before its wait is over (no flooding)", async () => {
  using fake = UdpPeer.open();
  const clock = new ManualClock();
  const asking = background(request(fake.addr, { sleep: clock.sleep }));
  const first = await fake.receive({
    awaiting: "the client's first datagram",
    watch: unimplemented(asking), // a flooding client may already have given up: check that below
    section: section("Backoff: waits that rise"),
  });
  const early = await fake.collect(60);
  expectEqual(early.length, 0, {
    what: "datagrams the client sent while its first 100 ms wait had not yet passed",
    section: section("Backoff: waits that rise"),
    mistake: early.length
      ? `re-sent ${early.length} times before its wait was over: that floods the network ` +
        "(and a struggling server); wait for the timer before each re-send"
      : undefined,
  });
  const waiting = await clock.next({
    awaiting: "the client's first wait",
    watch: asking,
    section: section("Injected time"),
  });
  waiting.fire();
  const second = await fake.receive({
    awaiting: "the re-send once the wait was over",
    watch: asking,
    section: section("Re-sending the same bytes"),
  });
  expectBytes(second.data, first.data, {
    what: "the re-send",
    section: section("Re-sending the same bytes"),
  });
  await fake.send(BOOK_REPLY, second.addr);
  await within(asking, {
    awaiting: "request() to return after the reply",
    section: section("Racing receive() against a timer"),
  });
});

Deno.test("client: gives up with `I think the server is down` after waits of 100…1600 ms (5 sends)", async () => {
  using server = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, dropAll());
  const clock = new ManualClock();
  const asking = background(request(relay.addr, { sleep: clock.sleep }));
  await expectGaveUp(asking, clock, relay, [100, 200, 400, 800, 1600]);
});

Deno.test("client: takes its timing from the options: waits 10, 30, 90 ms, then gives up", async () => {
  using server = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, dropAll());
  const clock = new ManualClock();
  const asking = background(
    request(relay.addr, { initialMs: 10, factor: 3, limitMs: 90, sleep: clock.sleep }),
  );
  await expectGaveUp(asking, clock, relay, [10, 30, 90]);
});

Deno.test("client: a late reply to an earlier send still answers the request", async () => {
  using fake = UdpPeer.open();
  const clock = new ManualClock();
  const asking = background(request(fake.addr, { sleep: clock.sleep }));
  const first = await fake.receive({
    awaiting: "the client's first datagram",
    watch: asking,
    section: section("Re-sending the same bytes"),
  });
  (await clock.next({
    awaiting: "the first wait",
    watch: asking,
    section: section("Injected time"),
  }))
    .fire();
  const second = await fake.receive({
    awaiting: "the re-send",
    watch: asking,
    section: section("Re-sending the same bytes"),
  });
  // The server was slow: its answer to the FIRST send arrives only now.
  await fake.send(BOOK_REPLY, first.addr);
  const answer = await within(asking, {
    awaiting: "request() to accept the late reply to its first send",
    section: section("Re-sending the same bytes"),
    mistake: second.addr.port !== first.addr.port
      ? `re-sent from a new socket (port ${first.addr.port}, then ${second.addr.port}): the late ` +
        "reply went to the socket you had closed; keep one socket for every attempt"
      : "any reply answers the request, also one to an earlier send: keep one receive() " +
        "pending across the attempts",
  });
  expectEqual(answer.attempts, 2, {
    what: "attempts when the reply to the first send came after the re-send",
    section: section("Re-sending the same bytes"),
  });
});

Deno.test("client: stops at the first reply; a duplicated reply changes nothing", async () => {
  using server = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, script(["duplicate"], "reply"));
  const clock = new ManualClock();
  const asking = background(request(relay.addr, { sleep: clock.sleep }));
  const got = await server.receive({
    awaiting: "the client's datagram",
    watch: asking,
    section: section("Re-sending the same bytes"),
  });
  await server.send(BOOK_REPLY, got.addr);
  const answer = await within(asking, {
    awaiting: "request() to return once the (duplicated) reply arrived",
    section: section("Racing receive() against a timer"),
  });
  const more = await server.collect(60);
  expectEqual(more.length, 0, {
    what: "datagrams the client sent after it had its reply",
    section: section("Re-sending the same bytes"),
    mistake: more.length
      ? "kept re-sending after the reply arrived: return as soon as one comes in"
      : undefined,
  });
  expectEqual(answer.attempts, 1, {
    what: "attempts when the first send was answered (twice)",
    section: section("Re-sending the same bytes"),
    mistake: more.length
      ? "kept re-sending after the reply arrived: return as soon as one comes in"
      : "counted the duplicated reply, or miscounted: the request went out once",
  });
  expectEqual(answer.reply, BOOK_REPLY, {
    what: "the reply request() returned",
    section: section("Racing receive() against a timer"),
  });
});

/** The outcome of `running` as one line: `returned …` or `NAME: message`. */
function settledAs(running: Promise<unknown>): Promise<string> {
  return running.then(
    (value) => `returned ${JSON.stringify(value)}`,
    (e: unknown) => {
      if (isNotImplemented(e)) throw e;
      return e instanceof Error || e instanceof DOMException
        ? `${e.name}: ${e.message}`
        : String(e);
    },
  );
}

Deno.test("client: an abort in the middle of a wait ends request() at once, as an AbortError", async () => {
  using fake = UdpPeer.open();
  const clock = new ManualClock();
  const stop = new AbortController();
  const asking = background(request(fake.addr, { sleep: clock.sleep, signal: stop.signal }));
  const waiting = await clock.next({
    awaiting: "the client's first wait",
    watch: asking,
    section: section("Injected time"),
  });
  stop.abort(); // the clock never fires: only the abort can end this wait
  const outcome = await within(settledAs(asking), {
    awaiting: "request() to end once its signal was aborted mid-wait (the clock never fired)",
    section: section("Racing receive() against a timer"),
    mistake: waiting.signal?.aborted
      ? undefined
      : "the caller's signal never reached the wait: pass AbortSignal.any([timer, " +
        "options.signal]) to sleep, so an abort ends the wait at once",
  });
  expectThat(outcome.startsWith("AbortError"), outcome, {
    what: "how request() ends when its signal is aborted in the middle of a wait",
    expected: "it rejects with the signal's AbortError",
    section: section("Racing receive() against a timer"),
  });
});

Deno.test("client: aborted during the last wait, it is the abort, not `server is down`", async () => {
  using server = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, dropAll());
  const clock = new ManualClock();
  const stop = new AbortController();
  const asking = background(
    request(relay.addr, {
      initialMs: 10,
      factor: 3,
      limitMs: 90,
      sleep: clock.sleep,
      signal: stop.signal,
    }),
  );
  for (const ms of [10, 30, 90]) {
    const waiting = await clock.next({
      awaiting: `the ${ms} ms wait`,
      watch: asking,
      section: section("Backoff: waits that rise"),
    });
    if (ms === 90) stop.abort(); // the last wait: aborted, not over
    else waiting.fire();
  }
  const outcome = await within(settledAs(asking), {
    awaiting: "request() to end once its signal was aborted in its last wait",
    section: section("Giving up"),
  });
  expectThat(outcome.startsWith("AbortError"), outcome, {
    what: "how request() ends when its signal is aborted during the last wait",
    expected: "the signal's AbortError: the caller gave up, the server was not proven down",
    section: section("Giving up"),
    mistake: outcome.startsWith("ServerDownError")
      ? "reported the server down although the caller aborted: check the signal " +
        "(throwIfAborted) before throwing ServerDownError"
      : undefined,
  });
});

Deno.test("client: a send that fails is that error, not a lost datagram to retry", async () => {
  using fake = UdpPeer.open();
  const clock = new ManualClock();
  const payload = new Uint8Array(70_000); // over 65,507: no datagram can carry it
  const asking = background(request(fake.addr, { sleep: clock.sleep, payload }));
  const first = await within(Promise.race([settledAs(asking), clock.upcoming()]), {
    awaiting: "request() with a 70,000-byte payload to fail, or to wait",
    section: section("Giving up"),
  });
  if (typeof first !== "string") {
    first.fire();
    fail({
      summary: "request() waited to retry after its send had failed",
      section: section("Giving up"),
      expected: "the send's own error (Message too long), at once",
      got: `a ${first.ms} ms wait`,
      mistake: "caught the send's error and carried on: a failed send is not a lost " +
        "datagram, and no retry can fix it; let the error out",
    });
  }
  expectThat(/too long/i.test(first) && !first.startsWith("ServerDownError"), first, {
    what: "how request() ends when its payload does not fit in a datagram",
    expected: "the send's own error (Message too long)",
    section: section("Giving up"),
  });
});

Deno.test("client: a UTF-8 reply and a 5,000-byte reply come back whole", async () => {
  for (const text of ["Grüße, café ☕", "y".repeat(5000)]) {
    using fake = UdpPeer.open();
    const clock = new ManualClock();
    const asking = background(request(fake.addr, { sleep: clock.sleep }));
    const sent = await fake.receive({
      awaiting: "the client's datagram",
      watch: asking,
      section: section("The protocol on the wire"),
    });
    await fake.send(text, sent.addr);
    const answer = await within(asking, {
      awaiting: "request() to return once the reply arrived",
      section: section("Racing receive() against a timer"),
    });
    const what = text.length > 100
      ? `the 5,000-byte reply request() returned (${answer.reply.length} characters)`
      : "the UTF-8 reply request() returned";
    expectEqual(
      text.length > 100 ? answer.reply.length : answer.reply,
      text.length > 100 ? 5000 : text,
      {
        what,
        section: section("The protocol on the wire"),
        mistake: answer.reply.includes("Ã")
          ? "decoded one character per byte (String.fromCharCode): decode as UTF-8"
          : answer.reply.length < text.length
          ? `the receive buffer held only ${answer.reply.length} bytes and UDP silently cut ` +
            "off the rest: receive into a buffer of 65535 bytes"
          : undefined,
      },
    );
  }
});

Deno.test("client: with the real timer and tiny waits, gives up quickly and leaves nothing open", async () => {
  using server = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, dropAll());
  const asking = background(request(relay.addr, { initialMs: 5, factor: 2, limitMs: 40 }));
  await expectRejects(
    () =>
      within(asking, {
        awaiting: "request() to give up after waits of 5, 10, 20 and 40 ms",
        section: section("Giving up"),
      }),
    {
      kind: ServerDownError,
      pattern: /^I think the server is down/,
      what: "request() with a real timer against a server that never answers",
      section: section("Giving up"),
    },
  );
  // Each send came at least one wait (5 ms or more) before request() gave up: the relay has seen it.
  const sends = relay.seen("request");
  expectEqual(sends.length, 4, {
    what: "sends for the waits 5, 10, 20, 40 ms",
    section: section("Giving up"),
    mistake: sends.length < 4
      ? "gave up early: a wait equal to limitMs (40 ms) is still allowed"
      : "gave up too late: once the next wait would be longer than limitMs, stop",
  });
  const spread = sends[3].at - sends[0].at;
  expectThat(spread >= 17, `the 4 sends came within ${spread.toFixed(1)} ms`, {
    what: "the re-sends are spaced by the waits (5 + 10 + 20 ms between the first and the last)",
    expected: "at least 35 ms (17 allowing for timer jitter)",
    section: section("Blocking, and why Deno has no timeout"),
    mistake: "re-sent before its wait was over: that floods the network",
  });
});

Deno.test("server: keeps or drops each datagram by one draw of random() against dropProbability", async () => {
  const draws = [0.9, 0.1, 0.5, 0.49, 0.75];
  let calls = 0;
  const log = new LogLines();
  const running = startServer({
    dropProbability: 0.5,
    random: () => draws[calls++] ?? 0.99,
    log: log.push,
  });
  background(running.done); // a crash of the loop fails the waits below at once
  await stopAfter(async () => {
    using peer = UdpPeer.open();
    const who = `127\\.0\\.0\\.1:${peer.addr.port}`;
    for (const [i, draw] of draws.entries()) {
      const size = i + 1; // distinct sizes: a reply to the wrong datagram shows
      const keep = !(draw < 0.5);
      await peer.send("x".repeat(size), running.addr);
      const line = await log.next(
        new RegExp(`^(The client at ${who} says "x+"|Pretending to drop packet from ${who})$`),
        {
          awaiting: `the server's line about datagram #${i + 1} (random() gave ${draw})`,
          watch: running.done,
          section: section("The remote server drops datagrams"),
        },
      );
      const dropped = line[0].startsWith("Pretending");
      expectEqual(dropped ? "dropped" : "kept", keep ? "kept" : "dropped", {
        what: `datagram #${i + 1} with random() = ${draw} and dropProbability 0.5`,
        section: section("The remote server drops datagrams"),
        mistake: "drop when random() is below dropProbability, keep otherwise, one draw per " +
          "datagram",
      });
      if (keep) {
        const reply = await peer.receive({
          awaiting: `the reply to datagram #${i + 1}`,
          watch: running.done,
          section: section("The remote server drops datagrams"),
        });
        expectBytes(reply.data, bookReply(size), {
          what: `the reply to datagram #${i + 1} (${size} bytes)`,
          section: section("The protocol on the wire"),
          mistake: "a dropped datagram must get no reply at all",
        });
      }
    }
    expectEqual(calls, draws.length, {
      what: "how many times random() was called for 5 datagrams",
      section: section("The remote server drops datagrams"),
    });
  }, () =>
    stopServer(running, {
      awaiting: "the server loop to end after close()",
      section: section("The remote server drops datagrams"),
    }));
});

Deno.test("server: dropProbability defaults to the book's 0.5; 0 keeps all, 1 drops all", async () => {
  const cases: [number | undefined, number, "kept" | "dropped"][] = [
    [undefined, 0.49, "dropped"],
    [undefined, 0.51, "kept"],
    [0, 0, "kept"],
    [1, 0.999, "dropped"],
  ];
  for (const [dropProbability, draw, want] of cases) {
    const log = new LogLines();
    const running = startServer({ dropProbability, random: () => draw, log: log.push });
    background(running.done);
    await stopAfter(async () => {
      using peer = UdpPeer.open();
      await peer.send("ping", running.addr);
      const line = await log.next(
        /^(The client at .* says .*|Pretending to drop packet from .*)$/,
        {
          awaiting: "the server's line about the datagram",
          watch: running.done,
          section: section("The remote server drops datagrams"),
        },
      );
      expectEqual(line[0].startsWith("Pretending") ? "dropped" : "kept", want, {
        what: `a datagram with dropProbability ${
          dropProbability ?? "unset"
        } and random() = ${draw}`,
        section: section("The remote server drops datagrams"),
        mistake: dropProbability === undefined
          ? "the default dropProbability is the book's 0.5"
          : "drop when random() is below dropProbability, keep otherwise",
      });
    }, () =>
      stopServer(running, {
        awaiting: "the server loop to end after close()",
        section: section("The remote server drops datagrams"),
      }));
  }
});

Deno.test("server: counts UTF-8 bytes; done resolves after close()", async () => {
  const running = startServer({ dropProbability: 0, random: () => 0.5 });
  let stopped = false;
  try {
    using peer = UdpPeer.open();
    await peer.send("Grüße, café ☕", running.addr); // 18 bytes, 13 characters
    const reply = await peer.receive({
      awaiting: "the reply to an 18-byte datagram of 13 characters",
      watch: running.done,
      section: section("The protocol on the wire"),
    });
    expectBytes(reply.data, bookReply(18), {
      what: "the reply to the 18 bytes of 13 characters",
      section: section("The protocol on the wire"),
      mistake: new TextDecoder().decode(reply.data) === bookReply(13)
        ? "counted characters (the decoded string's length) instead of the bytes received"
        : undefined,
    });
    await expectCleanStop(running, {
      awaiting: "done to settle after close()",
      section: section("The remote server drops datagrams"),
    });
    stopped = true;
  } finally {
    if (!stopped) {
      await stopServer(running, {
        awaiting: "the server loop to end after close()",
        section: section("The remote server drops datagrams"),
      });
    }
  }
});

Deno.test("server: a datagram that is not UTF-8 is logged and answered, and the server goes on", async () => {
  const log = new LogLines();
  const running = startServer({ dropProbability: 0, random: () => 0.5, log: log.push });
  const where = section("Running it as a program");
  await stopAfter(async () => {
    await expectServesAfterNotUtf8(
      running,
      where,
      repliedAndLogged(log, where, { section: section("The protocol on the wire") }),
    );
  }, () =>
    stopServer(running, {
      awaiting: "the server loop to end after close()",
      section: section("The remote server drops datagrams"),
    }));
});

Deno.test("server: done waits for the reply being sent when close() comes", async () => {
  await expectDoneWaitsForReplySend(() => startServer({ dropProbability: 0, random: () => 0.5 }), {
    request: BOOK_MESSAGE,
    section: section("The remote server drops datagrams"),
    replying: section("The protocol on the wire"),
  });
});

Deno.test("program: `server` prints `Listening at`, then what it keeps and what it drops", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
    extra: { random: seeded(7) },
    transport: "udp",
  });
  using peer = UdpPeer.open();
  const expected = seeded(7); // the same seed: the same datagrams are dropped
  for (let i = 0; i < 6; i++) {
    const keep = !(expected() < 0.5);
    await peer.send(BOOK_MESSAGE, program.addr);
    const pattern = keep
      ? `^The client at 127\\.0\\.0\\.1:${peer.addr.port} says "This is another message"$`
      : `^Pretending to drop packet from 127\\.0\\.0\\.1:${peer.addr.port}$`;
    await program.log.next(new RegExp(pattern), {
      awaiting: `the line ${
        keep
          ? `\`The client at 127.0.0.1:${peer.addr.port} says "This is another message"\``
          : `\`Pretending to drop packet from 127.0.0.1:${peer.addr.port}\``
      } (datagram #${i + 1})`,
      watch: program.running,
      section: section("Running it as a program"),
      mistake: "with the program's default dropProbability 0.5, one random() draw per datagram",
    });
    if (keep) {
      const reply = await peer.receive({
        awaiting: `the reply to datagram #${i + 1}`,
        section: section("The protocol on the wire"),
      });
      expectBytes(reply.data, BOOK_REPLY, {
        what: "the program's reply",
        section: section("The protocol on the wire"),
      });
    }
  }
});

Deno.test("program: `client` waits 0.1 s, re-sends, waits 0.2 s and prints the reply", async () => {
  using fake = UdpPeer.open();
  const { log, running } = startClientRole(client, { port: fake.addr.port });
  const first = await fake.receive({
    awaiting: "the client program's datagram",
    watch: running,
    section: section("Running it as a program"),
  });
  expectBytes(first.data, BOOK_MESSAGE, {
    what: "the client program's datagram",
    section: section("The protocol on the wire"),
  });
  // Say nothing: the client must re-send after its first wait of 0.1 s.
  const second = await fake.receive({
    awaiting: "the re-send after 0.1 s",
    watch: running,
    section: section("Running it as a program"),
  });
  expectBytes(second.data, BOOK_MESSAGE, {
    what: `the re-sent datagram ${describe(second.data)}`,
    section: section("Re-sending the same bytes"),
  });
  await fake.send(BOOK_REPLY, second.addr);
  await within(running, {
    awaiting: "client() to return",
    section: section("Running it as a program"),
  });
  for (
    const expected of [
      `Client socket name is 127.0.0.1:${first.addr.port}`,
      "Waiting up to 0.1 seconds for a reply",
      "Waiting up to 0.2 seconds for a reply",
      `The server says "${BOOK_REPLY}"`,
    ]
  ) {
    await log.next(new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`), {
      awaiting: `the line \`${expected}\``,
      section: section("Running it as a program"),
    });
  }
});

Deno.test("program: `client` stops waiting, and closes everything, when its signal aborts", async () => {
  using fake = UdpPeer.open();
  const { running, abort } = startClientRole(client, { port: fake.addr.port });
  await fake.receive({
    awaiting: "the client program's datagram",
    watch: running,
    section: section("Running it as a program"),
  });
  abort(); // like Ctrl-C while the client waits 0.1 s for a reply that never comes
  const outcome = await within(
    running.then(() => "it returned", (e: Error) => `${e.name}: ${e.message}`),
    {
      ms: 300,
      awaiting: "client() to stop once its signal was aborted",
      section: section("Running it as a program"),
      mistake: "pass the signal to the wait (AbortSignal.any with the timer's) and check " +
        "signal.throwIfAborted() before each re-send",
    },
  );
  expectThat(outcome.startsWith("AbortError"), outcome, {
    what: "how client() ends when its signal is aborted mid-wait",
    expected: "it rejects with the signal's AbortError (and its socket and timer are gone)",
    section: section("Running it as a program"),
  });
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startServer(port === undefined ? {} : { port }),
    "udp",
    section("The remote server drops datagrams"),
  );
});

Deno.test({
  ...linuxLoopbackTest("server: given hostname 127.0.0.2, listens there and not on 127.0.0.1"),
  async fn() {
    const where = section("The remote server drops datagrams");
    await expectBindsHostname(
      (hostname, port) => startServer({ hostname, port, dropProbability: 0 }),
      "udp",
      where,
      async (addr, watch) => {
        using peer = UdpPeer.open();
        await peer.send(BOOK_MESSAGE, addr);
        const { data } = await peer.receive({
          awaiting: `the reply from ${addr.hostname}:${addr.port} (dropProbability 0)`,
          from: addr,
          watch,
          section: where,
        });
        expectBytes(data, BOOK_REPLY, {
          what: "the reply of the server on 127.0.0.2",
          section: section("The protocol on the wire"),
        });
      },
    );
  },
});

Deno.test("client: two requests at once send from two ports the OS picks", async () => {
  using fake = UdpPeer.open();
  const options = { initialMs: 5_000, factor: 2, limitMs: 5_000 };
  const asking = [background(request(fake.addr, options)), background(request(fake.addr, options))];
  const where = section("The protocol on the wire");
  const [first, second] = await fake.receiveFromTwoClients(asking, where);
  await fake.send(BOOK_REPLY, first.addr);
  await fake.send(BOOK_REPLY, second.addr);
  await within(Promise.all(asking), { awaiting: "both requests to return", section: where });
  expectThat(first.addr.port !== second.addr.port, `both came from port ${first.addr.port}`, {
    what: "the source ports of two requests running at once",
    expected: "two different ports, each picked by the OS (bind port 0)",
    section: where,
  });
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, { section: section("Running it as a program") });
});

Deno.test("waitsFor: the RangeError for a factor of 1 or less names that factor", () => {
  let message = "it returned";
  try {
    waitsFor({ initialMs: 100, factor: 0.5, limitMs: 2000 });
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    message = error instanceof RangeError ? error.message : String(error);
  }
  expectThat(/factor/.test(message) && message.includes("0.5"), JSON.stringify(message), {
    what: "the message of waitsFor({ initialMs: 100, factor: 0.5, limitMs: 2000 })'s error",
    expected: "a RangeError saying the factor, 0.5, must be greater than 1",
    section: section("Backoff: waits that rise"),
  });
});
