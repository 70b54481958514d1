import { assertEquals, assertRejects } from "@std/assert";
import { fail, LessonFailure } from "./failure.ts";
import { pollOnce } from "./io_turn.ts";
import {
  cutWritesMistake,
  EMPTY_WRITES_STOPPED,
  onlyPartWritten,
  shortWrites,
  stoppedPartWay,
  withShortWrites,
  writesOverlapped,
  wroteAgain,
} from "./short_writes.ts";
import { failOnUnhandled } from "./unhandled.ts";

Deno.test("shortWrites: cuts the matched side's writes to a third, leaves others, restores on dispose", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  try {
    {
      using cutting = await shortWrites({ localPort: listener.addr.port });
      assertEquals(await server.write(new Uint8Array(10)), 3);
      assertEquals(await server.write(new Uint8Array(3)), 1);
      assertEquals(await server.write(new Uint8Array(1)), 1); // one byte cannot be cut
      assertEquals(await client.write(new Uint8Array(10)), 10); // the other side: untouched
      assertEquals([cutting.cut, cutting.writes], [2, 3]);
    }
    assertEquals(await server.write(new Uint8Array(10)), 10); // restored
    {
      using cutting = await shortWrites({ remotePort: listener.addr.port });
      assertEquals(await client.write(new Uint8Array(10)), 3);
      assertEquals(await server.write(new Uint8Array(10)), 10);
      assertEquals(cutting.cut, 1);
    }
  } finally {
    client.close();
    server.close();
    listener.close();
  }
});

Deno.test("shortWrites: counts a write that begins before the previous one on its connection ends", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  const other = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const otherServer = await listener.accept();
  try {
    using cutting = await shortWrites({ localPort: listener.addr.port });
    await server.write(new Uint8Array(9));
    await server.write(new Uint8Array(9)); // awaited one after the other: no overlap
    await Promise.all([server.write(new Uint8Array(9)), otherServer.write(new Uint8Array(9))]);
    assertEquals(cutting.overlapped, 0, "writes on two connections at once are not an overlap");
    await Promise.all([server.write(new Uint8Array(9)), server.write(new Uint8Array(9))]);
    assertEquals(cutting.overlapped, 1);
  } finally {
    for (const conn of [client, server, other, otherServer]) conn.close();
    listener.close();
  }
});

Deno.test("cutWritesMistake: names a loss, a repeat, or bytes that were not the rest", () => {
  assertEquals(cutWritesMistake("x", "ab", "ab"), undefined);
  assertEquals(cutWritesMistake("x", "a", "ab"), onlyPartWritten("x"));
  assertEquals(cutWritesMistake("x", "abb", "ab"), wroteAgain("x"));
  assertEquals(cutWritesMistake("x", "aa", "ab")?.startsWith("the bytes of x after"), true);
});

const section = { lesson: "lesson-11", heading: "The conversation protocol" };

/**
 * A connected pair on loopback for `body`, closed after it; the server side
 * is the one whose writes a test cuts.
 */
async function withPair(
  body: (server: Deno.Conn, client: Deno.Conn, port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  try {
    await body(server, client, listener.addr.port);
  } finally {
    for (const conn of [client, server]) {
      try {
        conn.close();
      } catch { /* closed by the body */ }
    }
    listener.close();
  }
}

Deno.test("withShortWrites: writes that overlapped are named, whatever the body did after them", async () => {
  await withPair(async (server, _client, port) => {
    const overlap = () =>
      Promise.all([server.write(new Uint8Array(9)), server.write(new Uint8Array(9))]);
    for (const after of ["returned", "failed"]) {
      const error = await assertRejects(
        () =>
          withShortWrites({ localPort: port }, "the echo", async () => {
            await overlap();
            if (after === "failed") fail({ summary: "the echo was 12 bytes", section });
          }),
        LessonFailure,
      );
      assertEquals(error.report.mistake, writesOverlapped("the echo"));
      assertEquals(error.report.causesRejections, true);
    }
    // Without an overlap, the body's own result or failure stands.
    assertEquals(
      await withShortWrites({ localPort: port }, "the echo", () => Promise.resolve(7)),
      7,
    );
    const own = await assertRejects(
      () =>
        withShortWrites({ localPort: port }, "the echo", () => fail({ summary: "own", section })),
      LessonFailure,
    );
    assertEquals(own.report.summary, "own");
  });
});

Deno.test("withShortWrites: in failOnUnhandled, overlapped writes stand over the rejections the close caused", async () => {
  await withPair(async (server, _client, port) => {
    const error = await assertRejects(
      () =>
        failOnUnhandled(
          "the server",
          section,
          () =>
            withShortWrites({ localPort: port }, "the echo", async () => {
              // The mistake: write loops not awaited, then the connection closed under them.
              const writeAll = async (data: Uint8Array) => {
                for (let sent = 0; sent < data.length;) {
                  sent += await server.write(data.subarray(sent));
                }
              };
              writeAll(new Uint8Array(16 * 1024 * 1024)); // more than the buffers hold
              writeAll(new Uint8Array(16 * 1024 * 1024)); // more than the buffers hold
              await pollOnce();
              server.close();
              await pollOnce();
            }),
        ),
      LessonFailure,
    );
    assertEquals(error.report.mistake, writesOverlapped("the echo"));
  });
});

Deno.test("withShortWrites: a write loop that writes no bytes again and again is stopped and named", async () => {
  await withPair(async (server, _client, port) => {
    let writes = 0;
    const error = await assertRejects(
      () =>
        withShortWrites({ localPort: port }, "the greeting", async () => {
          // The mistake: the rest's view is empty before the end, so each write takes 0 bytes.
          const data = new Uint8Array(8);
          try {
            for (let sent = 0; sent < data.length;) {
              writes++;
              sent += await server.write(data.subarray(sent, 0));
            }
          } catch {
            // the greeter's own catch: the client's problem
          }
        }),
      LessonFailure,
    );
    assertEquals(writes, EMPTY_WRITES_STOPPED);
    assertEquals(error.report.mistake, stoppedPartWay("the greeting"));
    assertEquals(error.report.causesRejections, true);
  });
});
