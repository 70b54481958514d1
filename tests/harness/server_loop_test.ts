import { assertEquals, assertRejects } from "@std/assert";
import { fail, LessonFailure } from "./failure.ts";
import {
  expectCleanStop,
  expectDoneWaitsForHandler,
  stopAfter,
  stopServer,
} from "./server_loop.ts";

const wait = {
  awaiting: "the server loop to end after close()",
  section: { lesson: "lesson-10", heading: "harness" },
  mistake: "close() must end the loop",
  ms: 50,
};

Deno.test("stopServer: closes the server and waits for its loop to end", async () => {
  const events: string[] = [];
  let end = () => {};
  const server = {
    close: () => {
      events.push("close");
      end();
    },
    done: new Promise<void>((resolve) => end = resolve).then(() => events.push("done")),
  };
  await stopServer(server, wait);
  assertEquals(events, ["close", "done"]);
});

Deno.test("stopServer: a loop that failed still counts as ended", async () => {
  const done = Promise.reject(new Error("crashed"));
  done.catch(() => {});
  await stopServer({ close() {}, done }, wait);
});

Deno.test("stopServer: a loop that does not end fails, naming what was awaited and the mistake", async () => {
  const error = await assertRejects(
    () => stopServer({ close() {}, done: new Promise(() => {}) }, wait),
    LessonFailure,
    "timed out after 50 ms awaiting the server loop to end after close()",
  );
  assertEquals(error.report.mistake, "close() must end the loop");
});

Deno.test("expectCleanStop: a done that resolves after close() passes", async () => {
  let end = () => {};
  const done = new Promise<void>((resolve) => end = resolve);
  await expectCleanStop({ close: () => end(), done }, wait);
});

Deno.test("expectCleanStop: a done that rejects after close() fails, naming the error", async () => {
  const done = Promise.reject(new Deno.errors.BadResource("Bad resource ID"));
  done.catch(() => {});
  const error = await assertRejects(
    () => expectCleanStop({ close() {}, done }, wait),
    LessonFailure,
    "done rejected after close()",
  );
  assertEquals(error.report.got, "BadResource: Bad resource ID");
});

Deno.test("stopAfter: the server is stopped whatever the body did; the body's failure stands over the stop's", async () => {
  const stuck = { close() {}, done: new Promise(() => {}) };
  const own = () => fail({ summary: "the greeting was cut short", section: wait.section });
  const both = await assertRejects(
    () => stopAfter(own, () => stopServer(stuck, wait)),
    LessonFailure,
  );
  assertEquals(both.report.summary, "the greeting was cut short");
  // Only the stop failed: its failure is reported.
  await assertRejects(
    () => stopAfter(() => Promise.resolve(1), () => stopServer(stuck, wait)),
    LessonFailure,
    "timed out after 50 ms awaiting the server loop to end after close()",
  );
  // Both went well: the body's value, and the server was stopped.
  let stopped = false;
  const value = await stopAfter(() => Promise.resolve(7), () => {
    stopped = true;
    return Promise.resolve();
  });
  assertEquals([value, stopped], [7, true]);
});

/** A server whose handler ends at `release()`, and whose done waits for it or not. */
function heldServer(waitsForHandler: boolean) {
  let release = () => {};
  const handler = new Promise<void>((resolve) => release = resolve);
  let end = () => {};
  const loop = new Promise<void>((resolve) => end = resolve);
  const done = waitsForHandler ? Promise.all([loop, handler]) : loop;
  return { server: { close: () => end(), done }, release };
}

const atWork = { accepts: { calls: [], [Symbol.dispose]() {} }, section: wait.section };

Deno.test("expectDoneWaitsForHandler: a done that waits for the handler passes", async () => {
  const { server, release } = heldServer(true);
  await expectDoneWaitsForHandler(server, { ...atWork, release });
});

Deno.test("expectDoneWaitsForHandler: a done that settles with the loop fails, naming the mistake", async () => {
  const { server, release } = heldServer(false);
  const error = await assertRejects(
    () => expectDoneWaitsForHandler(server, { ...atWork, release }),
    LessonFailure,
    "while a handler is still at work",
  );
  release();
  assertEquals(error.report.got, '"resolved"');
  assertEquals(
    error.report.mistake?.startsWith("done settled before every connection's task ended"),
    true,
  );
});
