import { assertEquals } from "@std/assert";
import { pause } from "./deadline.ts";
import { UdpPeer } from "./udp.ts";
import { dropFirst, script, seededLoss, UdpRelay } from "./udp_relay.ts";

const section = { lesson: "lesson-04", heading: "harness" };

Deno.test("relay: drops the first request, forwards the rest, replies come from the relay", async () => {
  using server = UdpPeer.open();
  using client = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, dropFirst(1));
  await client.send("one", relay.addr);
  await client.send("two", relay.addr);
  const got = await server.receive({ awaiting: "two", section });
  assertEquals(new TextDecoder().decode(got.data), "two");
  await server.send("reply", got.addr);
  const back = await client.receive({ awaiting: "reply", section });
  assertEquals(back.addr.port, relay.addr.port);
  assertEquals(relay.seen("request").map((e) => e.action), ["drop", "forward"]);
});

Deno.test("relay: hold reorders deterministically", async () => {
  using server = UdpPeer.open();
  using client = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, script(["hold"]));
  await client.send("first", relay.addr);
  await relay.waitFor(1, "request", { awaiting: "first", section });
  await client.send("second", relay.addr);
  const a = await server.receive({ awaiting: "a", section });
  const b = await server.receive({ awaiting: "b", section });
  assertEquals([a, b].map((d) => new TextDecoder().decode(d.data)), ["second", "first"]);
});

Deno.test("relay: seeded loss replays identically", () => {
  const a = seededLoss(9, 0.5);
  const b = seededLoss(9, 0.5);
  const run = (p: typeof a) =>
    Array.from(
      { length: 20 },
      (_, i) => p({ direction: "request", index: i, data: new Uint8Array() }),
    );
  assertEquals(run(a), run(b));
});

Deno.test("relay: lossTimer ends one wait per loss, at once; a wait with no loss ends only when aborted", async () => {
  using server = UdpPeer.open();
  using client = UdpPeer.open();
  await using relay = UdpRelay.open(server.addr, script(["drop", "hold", "forward"]));
  const timer = relay.lossTimer();
  const never = new AbortController().signal;
  await client.send("one", relay.addr);
  await relay.waitFor(1, "request", { awaiting: "one", section });
  const started = performance.now();
  await timer(60_000, never); // the drop, already seen
  const pending = timer(60_000, never); // ended by the hold to come
  await client.send("two", relay.addr);
  await pending;
  assertEquals(performance.now() - started < 30_000, true);
  const stop = new AbortController();
  let ended = false;
  const waiting = timer(1, stop.signal).then(() => ended = true);
  await pause(20); // far past its 1 ms: no real timer ends it, only a loss or the abort
  assertEquals(ended, false);
  stop.abort();
  await waiting;
  assertEquals(ended, true);
  await client.send("three", relay.addr);
  await server.receive({ awaiting: "three", section });
  await server.receive({ awaiting: "two, released after three", section });
});
