import { assertEquals, assertInstanceOf, assertRejects, assertStringIncludes } from "@std/assert";
import { LessonFailure } from "./failure.ts";
import {
  expectServesAfterResetBeforeAccept,
  openIdle,
  resetBeforeAccept,
  resetMidRequest,
} from "./tcp_misbehave.ts";

const section = { lesson: "lesson-11", heading: "harness" };

Deno.test("resetBeforeAccept: the next accept() fails for that connection, the listener still accepts", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pending = listener.accept(); // already waiting, like a server's loop
  resetBeforeAccept(listener.addr, section);
  const error = await pending.then(() => null, (error) => error);
  assertInstanceOf(error, Deno.errors.NotConnected);
  const client = Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  using accepted = await listener.accept();
  (await client).close();
  assertEquals(accepted.localAddr, listener.addr);
});

Deno.test("resetMidRequest: the server reads the bytes sent, then a reset", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const reset = resetMidRequest(listener.addr, "ECHO half", { awaiting: "a reset", section });
  using conn = await listener.accept();
  await reset;
  const buffer = new Uint8Array(64);
  const outcome = await conn.read(buffer).then((n) => n, (error) => error);
  if (typeof outcome === "number") {
    assertEquals(new TextDecoder().decode(buffer.subarray(0, outcome)), "ECHO half");
    const next = await conn.read(buffer).then(() => null, (error) => error);
    assertInstanceOf(next, Deno.errors.ConnectionReset);
  } else {
    assertInstanceOf(outcome, Deno.errors.ConnectionReset);
  }
});

Deno.test("openIdle: connections complete before accept and close on dispose", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  {
    using idle = await openIdle(listener.addr, 3, { awaiting: "3 connections", section });
    assertEquals(idle.conns.length, 3);
    for (let i = 0; i < 3; i++) accepted.push(await listener.accept());
  }
  for (const conn of accepted) {
    assertEquals(await conn.read(new Uint8Array(1)), null);
    conn.close();
  }
});

Deno.test("expectServesAfterResetBeforeAccept: fails, naming the mistake, when the loop rethrows", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    while (true) (await listener.accept()).close(); // rethrows every accept error
  })();
  try {
    const error = await assertRejects(() =>
      expectServesAfterResetBeforeAccept({ addr: listener.addr, done }, section, (watch) => watch)
    );
    assertInstanceOf(error, LessonFailure);
    assertStringIncludes(error.message, "done rejected: NotConnected: ");
    assertStringIncludes(error.message, "rethrows accept errors");
  } finally {
    listener.close();
  }
});

Deno.test("expectServesAfterResetBeforeAccept: passes when the loop goes on", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    while (true) {
      try {
        (await listener.accept()).close();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
      }
    }
  })();
  let served = false;
  await expectServesAfterResetBeforeAccept({ addr: listener.addr, done }, section, async () => {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    served = await conn.read(new Uint8Array(1)) === null;
  });
  listener.close();
  await done;
  assertEquals(served, true);
});
