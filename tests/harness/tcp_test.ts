import { assertEquals, assertRejects } from "@std/assert";
import { LessonFailure } from "./failure.ts";
import { expectRefused } from "./tcp.ts";

const check = {
  what: "connecting after close()",
  section: { lesson: "lesson-14", heading: "harness" },
  mistake: "close() must close the listener too",
};

Deno.test("expectRefused: passes when nothing listens on the port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await expectRefused({ port }, check);
});

Deno.test("expectRefused: a connection that succeeds fails the check, naming the mistake", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept().then((conn) => conn.close());
  const error = await assertRejects(
    () => expectRefused({ hostname: "127.0.0.1", port: listener.addr.port }, check),
    LessonFailure,
    "connecting after close(): expected it to fail, but it succeeded",
  );
  assertEquals(error.report.mistake, "close() must close the listener too");
  await accepting;
});
