import { assert, assertEquals, assertRejects } from "@std/assert";
import type { ProgramOptions } from "@course/program";
import { within } from "./deadline.ts";
import { LessonFailure } from "./failure.ts";
import { startClientRole, startServerRole } from "./program.ts";

const section = { lesson: "lesson-10", heading: "harness" };

/** A server role like the lessons' own: listens, logs where, serves until aborted. */
async function server(options: ProgramOptions & { greeting?: string }): Promise<void> {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  options.log(`Listening at ${listener.addr.hostname}:${listener.addr.port}`);
  options.signal.addEventListener("abort", () => listener.close(), { once: true });
  for await (const conn of listener) {
    await conn.write(new TextEncoder().encode(options.greeting ?? "hi"));
    conn.close();
  }
}

Deno.test("startServerRole: reads the port from `Listening at`, passes extra options, stops on dispose", async () => {
  let returned = false;
  {
    await using running = await startServerRole(
      (options: ProgramOptions & { greeting?: string }) =>
        server(options).finally(() => returned = true),
      { section, extra: { greeting: "hello" } },
    );
    assert(running.port > 0);
    assertEquals(running.addr, { transport: "tcp", hostname: "127.0.0.1", port: running.port });
    assertEquals(running.listening[0], `Listening at 127.0.0.1:${running.port}`);
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: running.port });
    const buffer = new Uint8Array(16);
    const n = await conn.read(buffer);
    assertEquals(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), "hello");
  }
  assert(returned, "disposing the handle waits for the role to return");
});

Deno.test("startServerRole: a role that fails at once fails the start at once, with its error", async () => {
  // Its own error, not the timeout awaiting the listening line (which would name that line).
  await assertRejects(
    () => startServerRole(() => Promise.reject(new Error("not implemented: server")), { section }),
    Error,
    "not implemented: server",
  );
});

Deno.test("startServerRole: no listening line is a timeout naming it, and the role is stopped", async () => {
  let aborted = false;
  const silent = (options: ProgramOptions) =>
    new Promise<void>((resolve) =>
      options.signal.addEventListener("abort", () => {
        aborted = true;
        resolve();
      }, { once: true })
    );
  const error = await assertRejects(
    () => startServerRole(silent, { section }),
    LessonFailure,
    "awaiting the line `Listening at 127.0.0.1:PORT`",
  );
  assert(error.message.includes("printed so far: (nothing)"));
  assert(aborted, "the role's signal was aborted before the failure was thrown");
});

Deno.test("startServerRole: a pattern without a `port` group keeps the port asked for", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await using running = await startServerRole(server, {
    section,
    port,
    listening: { pattern: /^Listening at/, awaiting: "the line `Listening at …`" },
    transport: "udp",
  });
  assertEquals(running.addr, { transport: "udp", hostname: "127.0.0.1", port });
});

Deno.test("startServerRole: stop() reports how the role ended; disposing afterwards adds nothing", async () => {
  const failing = async (options: ProgramOptions) => {
    options.log("Listening at 127.0.0.1:1");
    await new Promise((_, reject) =>
      options.signal.addEventListener("abort", () => reject(new Error("crashed on abort")))
    );
  };
  await using running = await startServerRole(failing, { section });
  assertEquals(running.port, 1);
  await assertRejects(() => running.stop(), Error, "crashed on abort");
});

Deno.test("startClientRole: passes host, port and words, and abort() aborts its signal", async () => {
  const client = async (options: ProgramOptions) => {
    options.log(`${options.hostname}:${options.port} ${options.args?.join(" ")}`);
    await new Promise((resolve) => options.signal.addEventListener("abort", resolve));
  };
  const started = startClientRole(client, {
    hostname: "127.0.0.2",
    port: 1060,
    args: ["INCR", "visits"],
  });
  assertEquals(started.log.lines, ["127.0.0.2:1060 INCR visits"]);
  started.abort();
  await within(started.running, { awaiting: "client() to return", section });
});
