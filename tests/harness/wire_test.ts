import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { LessonFailure } from "./failure.ts";
import { UdpPeer } from "./udp.ts";
import { wire } from "./wire.ts";

const section = { lesson: "lesson-03", heading: "harness" };

Deno.test("wire: a failure ends with what crossed the test's sockets, in order", async () => {
  using a = UdpPeer.open();
  using b = UdpPeer.open();
  await a.send("ping", b.addr);
  await b.receive({ awaiting: "ping", section });
  const message = new LessonFailure({ summary: "no pong", section }).message;
  assertStringIncludes(message, "on the wire, in this test:");
  const lines = message.split("\n").filter((l) => l.includes("udp 127.0.0.1"));
  assertEquals(lines.length, 2, message);
  assertStringIncludes(
    lines[0],
    `127.0.0.1:${a.addr.port} → 127.0.0.1:${b.addr.port}  "ping" (4 bytes)`,
  );
});

Deno.test("wire: each test starts with an empty log", () => {
  assertEquals(wire.transcript().length, 0);
  const message = new LessonFailure({ summary: "nothing sent", section }).message;
  assert(!message.includes("on the wire"), message);
});

Deno.test("wire: a big payload keeps only its start, and the transcript gives its full size", () => {
  wire.record({
    transport: "tcp",
    from: "127.0.0.1:1",
    to: "127.0.0.1:2",
    data: new Uint8Array(1_000_000).fill(0x61),
  });
  assertStringIncludes(
    wire.transcript().join("\n"),
    '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" (1000000 bytes)',
  );
});
