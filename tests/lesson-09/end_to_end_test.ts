/**
 * Lesson 09 — Client and server together through a relay that loses,
 * duplicates, holds back and delays datagrams by plan (seeded where random):
 * every increment must happen exactly once.
 *
 * @module
 */

import { benchmark, CounterClient } from "../../exercises/lesson-09/client.ts";
import { client, server } from "../../exercises/lesson-09/counter.ts";
import { startCounterServer } from "../../exercises/lesson-09/server.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectThat } from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { startClientRole, startServerRole } from "../harness/program.ts";
import { seeded } from "../harness/random.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { UdpPeer } from "../harness/udp.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { dropFirst, type Plan, script, UdpRelay } from "../harness/udp_relay.ts";

const section = sectionsOf("lesson-09");
const decoder = new TextDecoder();
const TWICE = "executed a duplicated request twice: answer a repeated (address, id) from the cache";
const NEW_ID = "a re-send must repeat the same request id: with a new id the server cannot " +
  "recognize the repeat and executes it again";

/** The likely mistake when one call was executed twice: a new id per re-send, or no cache. */
function executedTwice(relay: UdpRelay): string {
  const ids = new Set(relay.seen("request").map((e) => decoder.decode(e.data).slice(0, 8)));
  return ids.size > 1 ? NEW_ID : TWICE;
}

/** Starts the learner's server behind a relay with `plan`; closes both after `body`. */
async function withRelay(
  plan: Plan,
  body: (relay: UdpRelay, direct: Deno.NetAddr) => Promise<void>,
): Promise<void> {
  const running = startCounterServer({ hostname: "127.0.0.1", port: 0 });
  background(running.done);
  await stopAfter(async () => {
    await using relay = UdpRelay.open(running.addr, plan);
    await body(relay, running.addr);
  }, () =>
    stopServer(running, {
      awaiting: "the server loop to end after close()",
      section: section("The server: each request once"),
    }));
}

/** Reads a counter straight from the server (not through the relay), with a request written here. */
async function counterValue(server: Deno.NetAddr, name: string): Promise<number> {
  using peer = UdpPeer.open();
  await peer.send(`7e570000 GET ${name}`, server);
  const { data } = await peer.receive({
    awaiting: `the server's answer to "7e570000 GET ${name}"`,
    section: section("The protocol"),
  });
  const text = decoder.decode(data);
  const m = text.match(/^7e570000 OK (\d+)$/);
  if (!m) {
    expectBytes(text, "7e570000 OK <value>", {
      what: "the GET reply",
      section: section("The protocol"),
    });
  }
  return Number(m![1]);
}

/** Runs one call of the learner's client, bounded. */
function call(promise: Promise<number>, awaiting: string, ms = 1000): Promise<number> {
  return within(background(promise), {
    awaiting,
    ms,
    section: section("The client: backoff and matching replies"),
  });
}

Deno.test("end to end: lost requests are re-sent, and the counter moves once", async () => {
  await withRelay(dropFirst(2), async (relay, direct) => {
    using counter = CounterClient.open(relay.addr, {
      initialMs: 30,
      factor: 2,
      limitMs: 1000,
      sleep: relay.lossTimer(),
    });
    const value = await call(
      counter.increment("hits"),
      "increment() through a relay that drops the first two requests",
    );
    expectEqual(value, 1, {
      what: "the value increment() returned",
      section: section("The client: backoff and matching replies"),
    });
    const requests = relay.seen("request").map((e) => decoder.decode(e.data));
    expectThat(requests.length >= 3 && new Set(requests).size === 1, JSON.stringify(requests), {
      what: "the requests that crossed the relay",
      expected: "the same request at least 3 times (2 lost, then one through)",
      section: section("The client: backoff and matching replies"),
      mistake: new Set(requests).size > 1 ? NEW_ID : undefined,
    });
    expectEqual(await counterValue(direct, "hits"), 1, {
      what: "the counter on the server",
      section: section("The server: each request once"),
    });
  });
});

Deno.test("end to end: a lost reply makes the client re-send, and the server answers from its cache", async () => {
  await withRelay(dropFirst(1, "reply"), async (relay, direct) => {
    using counter = CounterClient.open(relay.addr, {
      initialMs: 30,
      factor: 2,
      limitMs: 1000,
      sleep: relay.lossTimer(),
    });
    const value = await call(
      counter.increment("hits"),
      "increment() through a relay that drops the first reply",
    );
    expectEqual(value, 1, {
      what: "the value increment() returned after its first reply was lost",
      section: section("The server: each request once"),
      mistake: value === 2 ? executedTwice(relay) : undefined,
    });
    expectEqual(await counterValue(direct, "hits"), 1, {
      what: "the counter on the server after one increment whose reply was lost",
      section: section("The server: each request once"),
      mistake: TWICE,
    });
  });
});

Deno.test("end to end: a held-back original arrives after its re-send; it is not executed again, and its stale reply is skipped", async () => {
  await withRelay(script(["hold"]), async (relay, direct) => {
    using counter = CounterClient.open(relay.addr, {
      initialMs: 30,
      factor: 2,
      limitMs: 1000,
      sleep: relay.lossTimer(),
    });
    const first = await call(counter.increment("hits"), "the first increment()");
    // The relay delivered the re-send, then the held original: two replies come back.
    await relay.waitFor(2, "reply", {
      awaiting: "the server's reply to the late original (answered from the cache)",
      section: section("The server: each request once"),
    });
    const second = await call(counter.increment("hits"), "the second increment()");
    expectEqual([first, second], [1, 2], {
      what: "the values of two increments, the first delivered twice and out of order",
      section: section("The client: backoff and matching replies"),
      mistake: second === 1
        ? "accepted a reply to another request: the second call took the stale reply to the " +
          "first; only a reply carrying this call's id counts"
        : second === 3
        ? TWICE
        : undefined,
    });
    expectEqual(await counterValue(direct, "hits"), 2, {
      what: "the counter after two increments",
      section: section("The server: each request once"),
      mistake: TWICE,
    });
  });
});

Deno.test("end to end: 20 increments through seeded 20% loss each way, each executed exactly once", async () => {
  const random = seeded(2024);
  const lossy: Plan = () => random() < 0.2 ? "drop" : "forward";
  await withRelay(lossy, async (relay, direct) => {
    using counter = CounterClient.open(relay.addr, {
      initialMs: 10,
      factor: 2,
      limitMs: 1000,
      sleep: relay.lossTimer(),
    });
    const values: number[] = [];
    for (let i = 0; i < 20; i++) {
      values.push(
        await call(counter.increment("hits"), `increment #${i + 1} through a lossy relay`),
      );
    }
    expectEqual(values, Array.from({ length: 20 }, (_, i) => i + 1), {
      what: "the values of 20 increments in a row",
      section: section("The server: each request once"),
      mistake: values.some((v, i) => v > i + 1) ? TWICE : undefined,
    });
    expectEqual(await counterValue(direct, "hits"), 20, {
      what: "the counter after 20 increments",
      section: section("The server: each request once"),
      mistake: TWICE,
    });
  });
});

Deno.test("end to end: two clients at once, with duplicated and reordered requests, total exactly", async () => {
  await withRelay(
    script(["duplicate", "hold", "duplicate", "forward", "hold", "duplicate", "duplicate"]),
    async (relay, direct) => {
      using alice = CounterClient.open(relay.addr, { initialMs: 30, factor: 2, limitMs: 1000 });
      using bob = CounterClient.open(relay.addr, { initialMs: 30, factor: 2, limitMs: 1000 });
      const run = async (c: CounterClient) => {
        const seen: number[] = [];
        for (let i = 0; i < 5; i++) seen.push(await c.increment("shared"));
        return seen;
      };
      const [a, b] = await within(background(Promise.all([run(alice), run(bob)])), {
        awaiting: "two clients to finish 5 increments each",
        ms: 2000,
        section: section("The client: backoff and matching replies"),
      });
      const all = [...a, ...b].sort((x, y) => x - y);
      expectEqual(all, Array.from({ length: 10 }, (_, i) => i + 1), {
        what: "the ten values the two clients saw, sorted",
        section: section("The server: each request once"),
        mistake: all.some((v) => v > 10) ? TWICE : undefined,
      });
      expectEqual(await counterValue(direct, "shared"), 10, {
        what: "the counter after 10 increments",
        section: section("The server: each request once"),
        mistake: TWICE,
      });
    },
  );
});

Deno.test("benchmark: measures the request/response rate of sequential increments", async () => {
  const running = startCounterServer({ hostname: "127.0.0.1", port: 0 });
  background(running.done);
  await stopAfter(async () => {
    const result = await within(
      background(benchmark(running.addr, { requests: 200, name: "bench" })),
      {
        awaiting: "benchmark() of 200 requests",
        section: section("How fast is it?"),
        // 200 round trips take about 10 ms idle; two checks at once on 2 cores took over 1 s.
        ms: 10_000,
      },
    );
    expectThat(
      result.requests === 200 && result.ms > 0 &&
        Math.abs(result.perSecond - 200 / (result.ms / 1000)) < 1e-6 * result.perSecond,
      JSON.stringify(result),
      {
        what: "benchmark()'s result",
        expected: "{ requests: 200, ms > 0, perSecond = requests / seconds }",
        section: section("How fast is it?"),
      },
    );
    expectEqual(await counterValue(running.addr, "bench"), 200, {
      what: "the counter after the benchmark",
      section: section("How fast is it?"),
    });
  }, () =>
    stopServer(running, {
      awaiting: "the server loop to end after close()",
      section: section("The server: each request once"),
    }));
});

Deno.test("program: `server` and `client` talk: `INCR visits -> 1`, then 2", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
  });
  for (const expected of [1, 2]) {
    const { log, running } = startClientRole(client, {
      port: program.port,
      args: ["INCR", "visits"],
    });
    await within(running, {
      awaiting: "client() to return",
      watch: program.running,
      section: section("Running it as a program"),
    });
    await log.next(new RegExp(`^INCR visits -> ${expected}$`), {
      awaiting: `the client's line \`INCR visits -> ${expected}\``,
      section: section("Running it as a program"),
    });
  }
});

Deno.test({
  ...linuxLoopbackTest("program: `client 127.0.0.2` talks to a server on 127.0.0.2, not 127.0.0.1"),
  async fn() {
    const where = section("Running it as a program");
    // The test holds 127.0.0.1 on the port the server gets on 127.0.0.2: a request that goes to
    // 127.0.0.1 instead lands here, where the test sees it.
    using decoy = UdpPeer.open();
    await using program = await startServerRole(server, {
      section: where,
      hostname: "127.0.0.2",
      port: decoy.addr.port,
      transport: "udp",
    });
    const { log, running, abort } = startClientRole(client, {
      hostname: "127.0.0.2",
      port: program.port,
      args: ["INCR", "far"],
    });
    let failed: unknown;
    try {
      await within(running, {
        awaiting: "client() to return",
        watch: program.running,
        section: where,
      });
    } catch (error) {
      failed = error;
      abort(); // a client still re-sending stops now
      await within(running.catch(() => {}), { awaiting: "client() to stop", section: where });
    }
    const misdirected = await decoy.drain({
      awaiting: "the test's own marker, after anything the client sent to 127.0.0.1",
      section: where,
    });
    if (misdirected.length) {
      fail({
        summary: `client() asked for 127.0.0.2:${program.port} sent its request to ` +
          `127.0.0.1:${program.port}`,
        section: where,
        // the id in it is random: the message reads the same on every run without it
        got: JSON.stringify(decoder.decode(misdirected[0].data).replace(/^[0-9a-f]{8}/, "<id>")),
        mistake: "the client ignored its host argument: open the client on options.hostname, " +
          "not 127.0.0.1",
      });
    }
    if (failed) throw failed;
    await log.next(/^INCR far -> 1$/, {
      awaiting: "the client's line `INCR far -> 1`",
      section: where,
    });
  },
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, { section: section("Running it as a program") });
});

Deno.test("program: `client` defaults to `INCR hits`, also does GET, and refuses other operations", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
  });
  const where = section("Running it as a program");
  for (
    const [args, line] of [[[], "INCR hits -> 1"], [["GET", "hits"], "GET hits -> 1"]] as const
  ) {
    const { log, running } = startClientRole(client, { port: program.port, args: [...args] });
    await within(running, {
      awaiting: "client() to return",
      watch: program.running,
      section: where,
    });
    await log.next(new RegExp(`^${line}$`), {
      awaiting: `the client's line \`${line}\``,
      section: where,
    });
  }
  const { running } = startClientRole(client, { port: program.port, args: ["FROB", "hits"] });
  const outcome = await within(
    running.then(() => "it returned", (e: Error) => e.message),
    { awaiting: "client() with the operation FROB to settle", section: where },
  );
  expectThat(outcome.includes("FROB"), outcome, {
    what: "client() with args FROB hits",
    expected: "an error naming the operation FROB (only INCR and GET exist)",
    section: where,
  });
});

Deno.test("program: `client` stops at once when its signal aborts while it waits", async () => {
  using fake = UdpPeer.open();
  const { running, abort } = startClientRole(client, { port: fake.addr.port });
  await fake.receive({
    awaiting: "the client's request",
    watch: running,
    section: section("Running it as a program"),
  });
  abort();
  await within(running.catch(() => {}), {
    ms: 500,
    awaiting: "client() to stop once its signal was aborted",
    section: section("Running it as a program"),
    mistake: "close the client when the signal aborts, so its wait ends",
  });
});

Deno.test("benchmark: its time is the wall time of the requests; the default name is `benchmark`", async () => {
  const running = startCounterServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    const before = performance.now();
    const result = await within(background(benchmark(running.addr, { requests: 20 })), {
      awaiting: "benchmark() of 20 requests",
      section: section("How fast is it?"),
    });
    const wall = performance.now() - before;
    expectThat(result.ms > 0 && result.ms <= wall, `ms ${result.ms}, wall ${wall}`, {
      what: "benchmark()'s ms against the wall time around the call",
      expected: "more than 0 and at most the wall time",
      section: section("How fast is it?"),
    });
    expectEqual(await counterValue(running.addr, "benchmark"), 20, {
      what: "the counter `benchmark` after benchmark() without a name",
      section: section("How fast is it?"),
    });
  }, () =>
    expectCleanStop(running, {
      awaiting: "done to resolve after close()",
      section: section("How fast is it?"),
    }));
});
