import { assertEquals } from "@std/assert";
import { IoTurns, pollOnce } from "./io_turn.ts";
import { nextTurn } from "./deadline.ts";
import { TcpPair } from "./tcp_pair.ts";

const section = { lesson: "lesson-10", heading: "harness" };

/** Writes `count` single bytes, each followed by `between()`, and returns how many reads took them. */
async function readsFor(
  count: number,
  between: () => Promise<void>,
  via: "read" | "readable",
): Promise<number> {
  await using pair = await TcpPair.open({ section });
  const { connected: client, accepted: server } = pair;
  let reads = 0;
  const reading = (async () => {
    if (via === "readable") {
      for await (const _ of server.readable) reads++;
      return;
    }
    const buffer = new Uint8Array(1024);
    while (await server.read(buffer) !== null) reads++;
  })();
  for (let i = 0; i < count; i++) {
    await client.write(new Uint8Array([0x61 + i % 26]));
    await between();
  }
  await client.closeWrite();
  await reading;
  return reads;
}

Deno.test("turn(): a reader waiting in read() or on readable takes each byte on its own", async () => {
  using turns = await IoTurns.open();
  for (const via of ["read", "readable"] as const) {
    for (let run = 0; run < 5; run++) {
      assertEquals(await readsFor(28, () => turns.turn(), via), 28, `${via}, run ${run}`);
    }
  }
});

Deno.test("without an I/O poll between them, the same bytes reach the reader together", async () => {
  // Why turn() exists: a MessageChannel turn lets no socket's reader run.
  assertEquals(await readsFor(28, nextTurn, "read") < 28, true);
});

Deno.test("turn(): calls at once queue, and after close() each resolves at once", async () => {
  const turns = await IoTurns.open();
  await Promise.all([turns.turn(), turns.turn(), turns.turn()]);
  turns.close();
  await turns.turn();
  turns.close(); // twice is harmless
});

Deno.test("pollOnce(): a read cut short by close() has rejected, and its rejection is dispatched", async () => {
  await using pair = await TcpPair.open({ section });
  const server = pair.accepted;
  const seen: unknown[] = [];
  const record = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    seen.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", record);
  try {
    server.read(new Uint8Array(16)); // nothing handles it
    server.close();
    await pollOnce();
    assertEquals(seen.length, 1);
  } finally {
    globalThis.removeEventListener("unhandledrejection", record);
  }
});
