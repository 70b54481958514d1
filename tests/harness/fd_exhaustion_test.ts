import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  expectServesAfterFdExhaustion,
  GIVES_UP_OUT_OF_FILES,
  SPINS_OUT_OF_FILES,
} from "./fd_exhaustion.ts";
import { lowFdLimitTest } from "./fd_limit.ts";
import { LessonFailure } from "./failure.ts";

const section = { lesson: "lesson-11", heading: "harness" };

/**
 * A server that says "hi" to each client. After a failed accept() it rests
 * `restMs` and goes on, or rethrows when `restMs` is undefined; it logs every
 * failure, or with `logEvery: false` only the first.
 */
function hiServer(
  log: (line: string) => void,
  restMs: number | undefined,
  { logEvery = true } = {},
) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let closing = false;
  let failed = 0;
  const done = (async () => {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        if (restMs === undefined) throw error;
        if (logEvery || !failed++) log(`accept() failed: ${(error as Error).message}`);
        if (restMs) await new Promise((resolve) => setTimeout(resolve, restMs));
        continue;
      }
      await conn.write(new TextEncoder().encode("hi")).catch(() => {});
      conn.close();
    }
  })();
  return {
    addr: listener.addr,
    done,
    close() {
      closing = true;
      listener.close();
    },
  };
}

async function readHi(addr: Deno.NetAddr, watch: Promise<never>): Promise<void> {
  using conn = await Promise.race([
    Deno.connect({ hostname: "127.0.0.1", port: addr.port }),
    watch,
  ]);
  const buffer = new Uint8Array(2);
  const n = await Promise.race([conn.read(buffer), watch]);
  assertEquals(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), "hi");
}

Deno.test({
  ...lowFdLimitTest("expectServesAfterFdExhaustion: a server that logs, rests and goes on passes"),
  async fn() {
    let logged: string[] = [];
    await expectServesAfterFdExhaustion(
      (log) =>
        hiServer((line) => {
          logged = [...logged, line];
          log(line);
        }, 20),
      section,
      (server, watch) => readHi(server.addr, watch),
    );
    assertStringIncludes(logged[0], "(os error 24)");
  },
});

Deno.test({
  ...lowFdLimitTest("expectServesAfterFdExhaustion: a loop that rethrows EMFILE fails, named"),
  async fn() {
    const error = await assertRejects(
      () =>
        expectServesAfterFdExhaustion(
          (log) => hiServer(log, undefined),
          section,
          (server, watch) => readHi(server.addr, watch),
        ),
      LessonFailure,
    );
    assertStringIncludes(error.message, GIVES_UP_OUT_OF_FILES);
    assertStringIncludes(error.message, "Too many open files (os error 24)");
  },
});

Deno.test({
  ...lowFdLimitTest("expectServesAfterFdExhaustion: a loop that retries at once fails, named"),
  async fn() {
    const error = await assertRejects(
      () =>
        expectServesAfterFdExhaustion(
          (log) => hiServer(log, 0),
          section,
          (server, watch) => readHi(server.addr, watch),
        ),
      LessonFailure,
    );
    assertStringIncludes(error.message, SPINS_OUT_OF_FILES);
  },
});

Deno.test({
  ...lowFdLimitTest(
    "expectServesAfterFdExhaustion: a loop that logs its first failure, then retries at once in silence, fails, named",
  ),
  async fn() {
    const error = await assertRejects(
      () =>
        expectServesAfterFdExhaustion(
          (log) => hiServer(log, 0, { logEvery: false }),
          section,
          (server, watch) => readHi(server.addr, watch),
        ),
      LessonFailure,
    );
    assertStringIncludes(error.message, SPINS_OUT_OF_FILES);
  },
});
