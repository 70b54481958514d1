/**
 * Lesson 08 — A discovery protocol over loopback broadcast: responders on
 * 0.0.0.0 sharing a port, and a client that collects the answers arriving
 * within a short window and ignores malformed ones. Linux only (elsewhere
 * loopback has no broadcast address); skipped there with the reason.
 *
 * @module
 */

import {
  discover,
  discoveryId,
  type Found,
  parseAnswer,
  type Responder,
  startResponder,
} from "../../exercises/lesson-08/discovery.ts";
import { describe } from "../harness/bytes.ts";
import { background, pause, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectRejects, expectThat } from "../harness/expect.ts";
import { expectNotFromMathRandom } from "../harness/random.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { expectDoneWaitsForReplySend } from "../harness/held_sends.ts";
import { ManualClock } from "../harness/manual_clock.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { expectCleanStop, stopServer } from "../harness/server_loop.ts";
import { openUdpSocket, unusedPort } from "../harness/sockets.ts";
import { UdpPeer } from "../harness/udp.ts";

const section = sectionsOf("lesson-08");
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LOOPBACK_BROADCAST = "127.255.255.255";
const ONE_ANSWER = "stopped at the first answer (collect every answer until the window closes), " +
  "or kept one answer per address: responders sharing a port on one machine answer from the " +
  "same address, so keep one per address AND name";

/** A port nobody holds on 0.0.0.0 (port 0 with reuseAddress may hand out a shared one). */
const freePort = () => unusedPort({ transport: "udp", hostname: "0.0.0.0" });

const toBroadcast = (port: number): Deno.NetAddr => ({
  transport: "udp",
  hostname: LOOPBACK_BROADCAST,
  port,
});

/** Starts the learner's responder and guarantees it is stopped. */
function responder(name: string, port: number): Responder & AsyncDisposable {
  let running: Responder;
  try {
    running = startResponder({ name, port });
  } catch (error) {
    if (error instanceof Error && error.name === "AddrInUse") {
      fail({
        summary: `a responder could not bind 0.0.0.0:${port}, where another already listens`,
        section: section("Sharing a port: reuseAddress"),
        got: `${error.name}: ${error.message}`,
        mistake: "no reuseAddress: bind every responder with reuseAddress: true, " +
          "or only one per port (and machine) can run",
      });
    }
    throw error;
  }
  background(running.done);
  return Object.assign(running, {
    async [Symbol.asyncDispose]() {
      await stopServer(running, {
        awaiting: "the responder to stop after close()",
        section: section("A discovery protocol"),
      });
    },
  });
}

/**
 * A fake responder the test controls: bound to 0.0.0.0:port with
 * reuseAddress, it waits for one `DISCOVER <id>` and, once `after` has
 * settled, sends the datagrams `answers(id)` one after another (with
 * `answerFrom`: from a socket of their own bound there, as another device).
 * `sent` settles when they are all sent.
 */
function fakeResponder(
  port: number,
  answers: (id: string) => (string | Uint8Array)[],
  after: Promise<unknown> = Promise.resolve(),
  options: { answerFrom?: { hostname: string; port: number } } = {},
) {
  const socket = Deno.listenDatagram({
    hostname: "0.0.0.0",
    port,
    transport: "udp",
    reuseAddress: true,
  });
  // Another device: it answers from an address of its own (it may share the port: reuseAddress).
  const answering = options.answerFrom
    ? Deno.listenDatagram({ ...options.answerFrom, transport: "udp", reuseAddress: true })
    : socket;
  const request = (async () => {
    const [data, from] = await socket.receive();
    return { data, from };
  })();
  const sent = (async () => {
    const { data, from } = await request;
    await after;
    const id = decoder.decode(data).match(/^DISCOVER ([0-9a-f]{8})$/)?.[1];
    if (!id) return;
    for (const answer of answers(id)) {
      await answering.send(typeof answer === "string" ? encoder.encode(answer) : answer, from);
    }
  })();
  // Closing the socket rejects a request never received (discover() failed first, say): each
  // promise is marked handled, or that rejection would stop the whole test file.
  const data = request.then((r) => r.data);
  for (const promise of [request, sent, data]) promise.catch(() => {});
  return {
    request: data,
    sent,
    [Symbol.dispose]: () => {
      socket.close();
      if (answering !== socket) answering.close();
    },
  };
}

/** The window every fake-clock discovery asks for, in milliseconds. */
const WINDOW_MS = 150;

/**
 * How long a discovery on the fake clock waits for onFound to report the
 * last answers before its window is ended anyway. Correct code never waits
 * this long; code that loses or never reports an answer does, and is then
 * judged by what it returns.
 */
const REPORT_WAIT_MS = 3000;

/** What one discovery on the fake clock returned and reported. */
interface Discovery {
  /** The names discover() returned, sorted. */
  names: string[];
  /** What discover() returned, in its order. */
  found: Found[];
  /** The names onFound reported, sorted. */
  reported: string[];
  /** Every wait discover() asked of its clock. */
  asked: number[];
}

/**
 * Runs the learner's discover() with a fake clock and ends its window once
 * onFound has reported every name in `last`, as many times as it is there
 * (each the last answer one responder sends, so every datagram before it has
 * been read too), or once
 * discover() returns by itself. No real window decides what arrives "in
 * time", so a loaded machine changes nothing. `windowEnded` is called as
 * soon as the window is over (a late answer is sent then).
 */
async function discoverUntil(
  port: number,
  last: string[],
  sent: Promise<unknown> = Promise.resolve(),
  windowEnded: () => void = () => {},
): Promise<Discovery> {
  const clock = new ManualClock();
  const reported: string[] = [];
  let allReported = () => {};
  const reportedAll = new Promise<void>((resolve) => allReported = resolve);
  const times = (names: string[], name: string) => names.filter((n) => n === name).length;
  const onFound = (found: Found) => {
    reported.push(found.name);
    if (last.every((name) => times(reported, name) >= times(last, name))) allReported();
  };
  const running = background(discover({ port, windowMs: WINDOW_MS, sleep: clock.sleep, onFound }));
  const giveUp = new AbortController();
  try {
    await Promise.race([
      reportedAll,
      running.then(() => {}, () => {}),
      (async () => {
        // From when the answers were all sent (or could not be), so a slow start costs nothing.
        await Promise.race([sent.catch(() => {}), pause(REPORT_WAIT_MS, giveUp.signal)]);
        await pause(REPORT_WAIT_MS, giveUp.signal);
      })(),
    ]);
  } finally {
    giveUp.abort();
  }
  clock.runOut();
  windowEnded();
  const found: Found[] = await within(running, {
    awaiting: "discover() to return once its window (on the test's clock) is over",
    section: section("Collecting answers in a window"),
    mistake: "the window waits through options.sleep (default a real timer): stop when it ends",
  });
  return {
    names: found.map((f) => f.name).sort(),
    found,
    reported: reported.sort(),
    asked: clock.asked,
  };
}

/** Runs the learner's discover() on real time (bounded) and returns the names found, sorted. */
async function discoverNames(port: number, windowMs: number, mistake?: string) {
  const found: Found[] = await within(background(discover({ port, windowMs })), {
    awaiting: `discover() to return after its ${windowMs} ms window`,
    ms: windowMs + 1000,
    section: section("Collecting answers in a window"),
    mistake,
  });
  return found.map((f) => f.name).sort();
}

Deno.test("parseAnswer: accepts `HERE <id> <name>` for this id only", () => {
  const id = "0badcafe";
  const cases: [string | Uint8Array, string | undefined][] = [
    ["HERE 0badcafe printer", "printer"],
    ["HERE 0badcafe big printer", "big printer"],
    ["HERE 12345678 printer", undefined],
    ["HERE 0badcafe ", undefined],
    ["HERE 0badcafe", undefined],
    ["here 0badcafe printer", undefined],
    ["DISCOVER 0badcafe", undefined],
    [new Uint8Array([0x48, 0x45, 0x52, 0x45, 0x20, 0xff, 0xfe]), undefined],
    ["HERE 0badcafe Küche ☕", "Küche ☕"],
    ["HERE 0badcafe printer\nHERE 0badcafe fake", undefined],
    ["HERE 0badcafe printer\r", undefined],
    [
      new Uint8Array([...encoder.encode("HERE 0badcafe "), 0x70, 0xff, 0x72]), // p, ff, r
      undefined,
    ],
  ];
  for (const [datagram, expected] of cases) {
    const bytes = typeof datagram === "string" ? encoder.encode(datagram) : datagram;
    expectEqual(parseAnswer(bytes, id) ?? null, expected ?? null, {
      what: `parseAnswer(${describe(bytes)}, "${id}")`,
      section: section("A discovery protocol"),
      mistake: expected === undefined
        ? "trusted a malformed or stale answer: accept exactly `HERE <this id> <non-empty name>`" +
          " in valid UTF-8, on one line"
        : undefined,
    });
  }
});

Deno.test({
  ...linuxLoopbackTest(
    "responder: answers `DISCOVER <id>` sent to 127.255.255.255 with `HERE <id> <name>`",
  ),
  async fn() {
    const port = freePort();
    await using _ = responder("alpha", port);
    using peer = UdpPeer.open();
    await peer.send("DISCOVER 0123abcd", toBroadcast(port));
    const answer = await peer.receive({
      awaiting: "the responder's answer to a broadcast `DISCOVER 0123abcd`",
      from: { hostname: "127.0.0.1" }, // any port there: the source port is checked below
      section: section("Who hears a broadcast"),
      mistake: "not binding 0.0.0.0: a responder bound to 127.0.0.1 never sees datagrams " +
        "sent to 127.255.255.255",
    });
    expectBytes(answer.data, "HERE 0123abcd alpha", {
      what: "the answer",
      section: section("A discovery protocol"),
    });
    expectEqual(answer.addr.port, port, {
      what: "the port the answer came from",
      section: section("A discovery protocol"),
      mistake: "answer from the responder's own socket, to the sender's address",
    });
  },
});

/** Near-miss requests: a good one with a line break or space around it, each with its own id. */
const PADDED_REQUESTS = [
  "DISCOVER 0a0a0a01\n",
  "DISCOVER 0a0a0a02\r\n",
  "DISCOVER 0a0a0a03 ",
  " DISCOVER 0a0a0a04",
];

Deno.test({
  ...linuxLoopbackTest("responder: ignores malformed requests and keeps answering"),
  async fn() {
    const port = freePort();
    await using _ = responder("alpha", port);
    using peer = UdpPeer.open();
    const junk = [
      "DISCOVER",
      "DISCOVER xyz",
      "DISCOVER 0123ABCD",
      "DISCOVER 0123abcd please",
      "hello",
      new Uint8Array([0xff, 0x00, 0x41]),
      ...PADDED_REQUESTS,
    ];
    for (const datagram of junk) await peer.send(datagram, toBroadcast(port));
    // The responder answers in order: an answer to junk would come before this one's.
    await peer.send("DISCOVER 00c0ffee", toBroadcast(port));
    const { before: replies, last: answer } = await peer.receiveUntil(
      (d) => decoder.decode(d.data).startsWith("HERE 00c0ffee"),
      {
        awaiting: `an answer to a good request sent after ${junk.length} bad ones`,
        section: section("A discovery protocol"),
        mistake: "a malformed datagram must be skipped, not end the responder's loop",
      },
    );
    if (replies.length) {
      // Each padded request has an id of its own: an answer carrying it says which was answered.
      const padded = PADDED_REQUESTS.filter((request) =>
        replies.some((r) => decoder.decode(r.data).includes(request.trim().slice(9)))
      );
      fail({
        summary: padded.length
          ? `the responder answered ${padded.map((r) => JSON.stringify(r)).join(", ")}: ` +
            "a request with a space or line break around it is not an exact request"
          : "the responder answered a malformed request",
        section: section("A discovery protocol"),
        got: replies.map((r) => describe(r.data)).join(", "),
        mistake: padded.length
          ? "trimmed the request before matching it: the whole datagram must be `DISCOVER ` " +
            "and 8 lowercase hex digits, nothing before or after; match it as it came"
          : "accept exactly `DISCOVER ` followed by 8 lowercase hex digits; ignore the rest",
      });
    }
    expectBytes(answer.data, "HERE 00c0ffee alpha", {
      what: "the answer to the good request",
      section: section("A discovery protocol"),
    });
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "responders: two on one port both answer a broadcast; a unicast reaches only one",
  ),
  async fn() {
    const port = freePort();
    await using _a = responder("alpha", port);
    await using _b = responder("beta", port);
    using peer = UdpPeer.open();
    await peer.send("DISCOVER 11112222", toBroadcast(port));
    const first = await peer.receive({
      awaiting: "a first answer to the broadcast",
      section: section("Sharing a port: reuseAddress"),
    });
    const second = await peer.receive({
      awaiting: "a second answer to the broadcast (two responders share the port)",
      section: section("Sharing a port: reuseAddress"),
    });
    expectEqual([decoder.decode(first.data), decoder.decode(second.data)].sort(), [
      "HERE 11112222 alpha",
      "HERE 11112222 beta",
    ], {
      what: "the answers to one broadcast",
      section: section("Sharing a port: reuseAddress"),
    });
    // Measured on Linux: a datagram sent to 127.0.0.1:port goes to ONE of them.
    await peer.send("DISCOVER 33334444", { transport: "udp", hostname: "127.0.0.1", port });
    // Then a broadcast that both answer, each after whatever it answered before.
    await peer.send("DISCOVER 55556666", toBroadcast(port));
    let markers = 0;
    const { before } = await peer.receiveUntil(
      (d) => decoder.decode(d.data).startsWith("HERE 55556666") && ++markers === 2,
      {
        awaiting: "both answers to a broadcast sent after the unicast",
        section: section("Sharing a port: reuseAddress"),
      },
    );
    const unicast = before.filter((d) => decoder.decode(d.data).startsWith("HERE 33334444"));
    expectEqual(unicast.length, 1, {
      what: "answers to the same request sent to 127.0.0.1 instead of the broadcast address",
      section: section("Sharing a port: reuseAddress"),
    });
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "discover: broadcasts `DISCOVER <id>`, collects the good answers, ignores malformed and stale ones",
  ),
  async fn() {
    const port = freePort();
    // Each fake ends with a good answer; once discover() has reported both, it has read every
    // datagram before them. The second fake answers only after the first: a fixed order.
    using one = fakeResponder(port, (id) => [
      `HERE ${id} alpha`,
      `HERE ${id} alpha`, // the same responder twice
      "HERE deadbeef mallory", // an answer to another discovery
      "garbage",
      `HERE ${id} gamma`, // the same address, another name: another responder
    ]);
    using two = fakeResponder(port, (id) => [
      `HERE ${id} `, // no name
      new Uint8Array([0x48, 0x45, 0x52, 0x45, 0x20, 0xc3]), // not UTF-8
      `HERE ${id}x shouty`, // a longer id
      `HERE ${id} beta`,
    ], one.sent);
    const sent = Promise.all([one.sent, two.sent]);
    const { names, reported, asked } = await discoverUntil(port, ["gamma", "beta"], sent);
    for (const fake of [one, two]) {
      const request = await within(fake.request, {
        awaiting: "the broadcast request",
        section: section("A discovery protocol"),
      });
      expectThat(/^DISCOVER [0-9a-f]{8}$/.test(decoder.decode(request)), describe(request), {
        what: "the discovery request",
        expected: '"DISCOVER " and 8 lowercase hex digits',
        section: section("A discovery protocol"),
      });
    }
    const expected = ["alpha", "beta", "gamma"];
    const malformed = names.some((n) => !expected.includes(n));
    expectEqual(names, expected, {
      what: "the names discover() returned (sorted)",
      section: section("Collecting answers in a window"),
      mistake: malformed
        ? "trusted a malformed or stale answer: keep only `HERE <this id> <name>`"
        : names.length < expected.length
        ? ONE_ANSWER
        : names.length > expected.length
        ? "counted one responder twice: keep one answer per responder (address and name)"
        : undefined,
    });
    expectEqual(reported, names, {
      what: "the names onFound reported (sorted), against those discover() returned",
      section: section("Collecting answers in a window"),
      mistake: "call onFound exactly once for each responder you keep, when you keep it",
    });
    expectEqual(asked, [WINDOW_MS], {
      what: "the waits discover() asked of options.sleep",
      section: section("Collecting answers in a window"),
      mistake: asked.length === 0
        ? "wait out the window through options.sleep (a real timer only when none is given), " +
          "not a setTimeout of your own: the tests' clock decides when the window ends"
        : "one wait of windowMs for the whole window, through options.sleep: a new wait " +
          "per receive() restarts the window with every answer",
    });
  },
});

const BY_NAME = "kept one entry per name: two devices may have the same name (two " +
  "printers), and each answers from its own address; keep one entry per address AND name";
const WITHOUT_HOST = "kept one entry per port and name, without the hostname: two devices at " +
  "two addresses (127.0.0.1 and 127.0.0.2) may answer from the same port with the same name; " +
  "keep one entry per hostname, port AND name";
const WITHOUT_PORT = "kept one entry per hostname and name, without the port: two responders " +
  "on one host, on two ports, may have the same name; keep one entry per hostname, port AND name";

Deno.test({
  ...linuxLoopbackTest(
    "discover: responders with one name at four addresses (two hosts, two ports) are four entries",
  ),
  async fn() {
    const port = freePort();
    // Four devices called printer, answering in this order from 127.0.0.1 and 127.0.0.2, each on
    // the responders' port and on another: whichever part of the address a key leaves out, two
    // of them collapse into one, and the two kept show which part that was.
    const printer = (id: string) => [`HERE ${id} printer`];
    const at = (hostname: string, answerPort: number) => ({
      answerFrom: { hostname, port: answerPort },
    });
    using one = fakeResponder(port, printer);
    const other = freePort(); // one holds port now: this is another
    using two = fakeResponder(port, printer, one.sent, at("127.0.0.1", other));
    using three = fakeResponder(port, printer, two.sent, at("127.0.0.2", port));
    using four = fakeResponder(port, printer, three.sent, at("127.0.0.2", other));
    const sent = Promise.all([one.sent, two.sent, three.sent, four.sent]);
    const { found, names, reported } = await discoverUntil(port, Array(4).fill("printer"), sent);
    const hosts = new Set(found.map((f) => f.addr.hostname));
    const ports = new Set(found.map((f) => f.addr.port));
    expectEqual(
      found.map((f) => `${f.name} ${f.addr.hostname}:${f.addr.port}`).sort(),
      [
        `printer 127.0.0.1:${port}`,
        `printer 127.0.0.1:${other}`,
        `printer 127.0.0.2:${port}`,
        `printer 127.0.0.2:${other}`,
      ].sort(),
      {
        what: "what discover() returned (name host:port, sorted), from four devices all called " +
          "printer, at 127.0.0.1 and 127.0.0.2, each on two ports",
        section: section("Collecting answers in a window"),
        mistake: names.length === 1
          ? BY_NAME
          : names.length === 2 && hosts.size === 1
          ? WITHOUT_HOST
          : names.length === 2 && ports.size === 1
          ? WITHOUT_PORT
          : undefined,
      },
    );
    expectEqual(reported, names, {
      what: "the names onFound reported, against those discover() returned",
      section: section("Collecting answers in a window"),
      mistake: "call onFound exactly once for each responder you keep, when you keep it",
    });
  },
});

const IGNORES_BROADCAST = "discover() sent to 127.255.255.255 although options.broadcast " +
  "named another address: send to options.broadcast, and to 127.255.255.255 only without it";

Deno.test("discover: sends to options.broadcast when given (127.0.0.1: the one responder there)", async () => {
  // A socket bound to 127.0.0.1 does not hear 127.255.255.255, so only a datagram sent where
  // options.broadcast says reaches it; any system has 127.0.0.1.
  using fake = UdpPeer.open("127.0.0.1");
  const where = section("A discovery protocol");
  const clock = new ManualClock();
  let reportFound = (_found: Found) => {};
  const reported = new Promise<Found>((resolve) => reportFound = resolve);
  const running = background(discover({
    port: fake.addr.port,
    windowMs: WINDOW_MS,
    broadcast: "127.0.0.1",
    sleep: clock.sleep,
    onFound: (found) => reportFound(found),
  }));
  try {
    const request = await fake.receive({
      awaiting: `DISCOVER <id> at ${fake.addr.hostname}:${fake.addr.port}, where ` +
        "options.broadcast (127.0.0.1) says to send it",
      watch: running,
      section: where,
      mistake: IGNORES_BROADCAST,
    });
    const id = decoder.decode(request.data).match(/^DISCOVER ([0-9a-f]{8})$/)?.[1];
    expectThat(id !== undefined, describe(request.data), {
      what: "the request discover() sent to options.broadcast",
      expected: "DISCOVER and 8 lowercase hex digits",
      section: where,
    });
    await fake.send(`HERE ${id} lamp`, request.addr);
    await within(reported, {
      awaiting: "onFound to report the one answer, `lamp`",
      watch: running,
      section: section("Collecting answers in a window"),
    });
  } finally {
    clock.runOut();
  }
  const found: Found[] = await within(running, {
    awaiting: "discover() to return once its window (on the test's clock) is over",
    section: section("Collecting answers in a window"),
  });
  expectEqual(found.map((f) => `${f.name} ${f.addr.hostname}:${f.addr.port}`), [
    `lamp 127.0.0.1:${fake.addr.port}`,
  ], {
    what: "what discover() returned after asking 127.0.0.1, where one responder answered",
    section: where,
  });
});

const LATE = "kept an answer that arrived after the window had ended: when the window is over, " +
  "stop at once (race each receive() against the window), do not wait for one more datagram";

Deno.test({
  ...linuxLoopbackTest("discover: an answer that arrives after the window has ended is left out"),
  async fn() {
    const port = freePort();
    let windowEnded = () => {};
    const ended = new Promise<void>((resolve) => windowEnded = resolve);
    using early = fakeResponder(port, (id) => [`HERE ${id} alpha`]);
    using late = fakeResponder(port, (id) => [`HERE ${id} latecomer`], ended);
    const { names, reported } = await discoverUntil(port, ["alpha"], early.sent, windowEnded);
    await within(late.sent, {
      awaiting: "the late answer to be sent",
      section: section("Collecting answers in a window"),
    });
    expectEqual(names, ["alpha"], {
      what: "the names discover() returned, one answer in the window and one after it",
      section: section("Collecting answers in a window"),
      mistake: names.includes("latecomer") ? LATE : undefined,
    });
    expectEqual(reported, ["alpha"], {
      what: "the names onFound reported",
      section: section("Collecting answers in a window"),
      mistake: reported.includes("latecomer") ? LATE : undefined,
    });
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "discover: with no sleep given, a real timer ends the window; nobody answers: an empty list",
  ),
  async fn() {
    const port = freePort();
    // Holding the port on 127.0.0.1 only: no socket on it can hear the broadcast. With no answer
    // to miss, a real window decides nothing but when discover() returns.
    using _holder = openUdpSocket({ port });
    const started = performance.now();
    const names = await discoverNames(
      port,
      20,
      "waited for an answer that never comes: the window alone decides when to stop",
    );
    const took = performance.now() - started;
    expectEqual(names, [], {
      what: "what discover() found with nobody listening",
      section: section("Collecting answers in a window"),
    });
    // A real timer never fires early: half the window is a margin only against clock rounding.
    expectThat(took >= 10, `returned after ${Math.round(took)} ms`, {
      what: "when discover() returned, with a window of 20 ms",
      expected: "not before the window is over (at least 10 ms)",
      section: section("Collecting answers in a window"),
      mistake: "the default sleep ended at once: it must wait `ms` (setTimeout), and end " +
        "early only when its signal aborts",
    });
  },
});

Deno.test({
  ...linuxLoopbackTest("discover + responders: finds both responders sharing a port"),
  async fn() {
    const port = freePort();
    await using _a = responder("alpha", port);
    await using _b = responder("beta", port);
    const { names } = await discoverUntil(port, ["alpha", "beta"]);
    expectEqual(names, ["alpha", "beta"], {
      what: "the names discover() found",
      section: section("Collecting answers in a window"),
      mistake: names.length === 1
        ? ONE_ANSWER
        : names.length === 0
        ? "not binding 0.0.0.0: no responder heard the broadcast"
        : undefined,
    });
  },
});

Deno.test("discoveryId: always exactly 8 lowercase hex digits, small numbers zero-padded", () => {
  // 1 in 16 random 32-bit numbers is below 0x10000000 and needs padding:
  // among 2000 draws, some are (a miss has probability (15/16)^2000 < 1e-55).
  const ids = Array.from({ length: 2000 }, () => discoveryId());
  const bad = ids.find((id) => !/^[0-9a-f]{8}$/.test(id));
  expectThat(bad === undefined, JSON.stringify(bad), {
    what: "discoveryId() over 2000 draws",
    expected: "8 lowercase hex digits every time",
    section: section("A discovery protocol"),
    mistake: bad !== undefined && /^[0-9a-f]{1,7}$/.test(bad)
      ? 'a small number printed fewer than 8 digits: padStart(8, "0")'
      : undefined,
  });
});

Deno.test("discoveryId: comes from crypto.getRandomValues, not Math.random", () => {
  // If the ids depend on Math.random, they all come out the same while it is fixed.
  expectNotFromMathRandom(discoveryId, {
    what: "four discovery ids made while Math.random always returns 0.5",
    expected: "four different ids",
    section: section("A discovery protocol"),
    mistake: "the ids come from Math.random, whose output can be predicted from what it gave " +
      "before; use crypto.getRandomValues, as lesson 05 does",
  });
});

Deno.test({
  ...linuxLoopbackTest("responder: done resolves after close(), also with requests in flight"),
  async fn() {
    const port = freePort();
    const running = startResponder({ name: "alpha", port });
    let stopped = false;
    try {
      using peer = UdpPeer.open();
      await peer.send("DISCOVER 0123abcd", toBroadcast(port));
      await peer.receive({
        awaiting: "the responder's answer",
        section: section("A discovery protocol"),
      });
      await peer.send("DISCOVER 89abcdef", toBroadcast(port)); // unanswered when closed
      await expectCleanStop(running, {
        awaiting: "the responder's done to settle after close()",
        section: section("A discovery protocol"),
      });
      stopped = true;
    } finally {
      if (!stopped) {
        await stopServer(running, {
          awaiting: "the responder to stop after close()",
          section: section("A discovery protocol"),
        });
      }
    }
  },
});

Deno.test("responder: done waits for the answer being sent when close() comes", async () => {
  // Bound to 127.0.0.1 and asked by unicast: no broadcast needed, so it runs on every system.
  const start = () => startResponder({ name: "alpha", port: freePort(), hostname: "127.0.0.1" });
  await expectDoneWaitsForReplySend(start, {
    request: "DISCOVER 0123abcd",
    section: section("A discovery protocol"),
    replying: section("A discovery protocol"),
    name: "responder",
  });
});

Deno.test("discover: a failed send rejects at once, clearing its window timer, closing its socket", async () => {
  // Port 0 is no destination: the send fails (Invalid argument) before any window.
  await expectRejects(
    () =>
      within(discover({ port: 0, windowMs: 60_000 }), {
        awaiting: "discover() to fail at once when its broadcast cannot be sent",
        section: section("Collecting answers in a window"),
        mistake: "waited out the window although the broadcast was never sent: let the " +
          "send's error out",
      }),
    {
      pattern: /invalid argument/i,
      what: "discover() to port 0 (the send is refused)",
      section: section("Collecting answers in a window"),
    },
  );
  // The op sanitizer fails this test if the 60 s window timer or the socket was left behind.
});

Deno.test({
  ...linuxLoopbackTest(
    "discover: two at once, each from its own OS-picked port, both find the responder",
  ),
  async fn() {
    const port = freePort();
    await using _a = responder("alpha", port);
    const [one, two] = await Promise.all([
      discoverUntil(port, ["alpha"]),
      discoverUntil(port, ["alpha"]),
    ]);
    expectEqual([one.names, two.names], [["alpha"], ["alpha"]], {
      what: "the names two discover() calls running at once found",
      section: section("Collecting answers in a window"),
      mistake: "each discover() binds its own socket on port 0 so the OS picks a free port",
    });
  },
});

Deno.test("responder: binds the hostname it is given, and 0.0.0.0 without one", async () => {
  const where = section("Who hears a broadcast");
  const given = startResponder({ name: "alpha", port: 0, hostname: "127.0.0.1" });
  await stopServer(given, { awaiting: "the responder to stop", section: where });
  const plain = startResponder({ name: "beta", port: 0 });
  await stopServer(plain, { awaiting: "the responder to stop", section: where });
  expectEqual([given.addr.hostname, plain.addr.hostname], ["127.0.0.1", "0.0.0.0"], {
    what: "[with hostname 127.0.0.1, without a hostname]: the responders' bound addresses",
    section: where,
  });
});
