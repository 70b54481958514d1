import { assertEquals, assertRejects } from "@std/assert";
import { LessonFailure } from "./failure.ts";
import {
  expectDoneWaitsForReplySend,
  holdServerSends,
  REPLY_SEND_NOT_AWAITED,
} from "./held_sends.ts";
import { pollOnce } from "./io_turn.ts";
import { within } from "./deadline.ts";
import { UdpPeer } from "./udp.ts";

const section = { lesson: "lesson-03", heading: "harness" };

/** An echo server whose loop awaits each reply's send() or, with `awaits` false, does not. */
function startEcho(awaits: boolean) {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  let closing = false;
  const done = (async () => {
    while (true) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await socket.receive();
      } catch (error) {
        if (closing) return;
        throw error;
      }
      const sent = socket.send(got[0], got[1]);
      if (awaits) await sent.catch(() => {});
      else sent.catch(() => {});
    }
  })();
  return {
    addr: socket.addr as Deno.NetAddr,
    done,
    close() {
      if (closing) return;
      closing = true;
      socket.close();
    },
  };
}

Deno.test("holdServerSends: the datagram goes out at once; its send() settles at the release", async () => {
  const server = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    using peer = UdpPeer.open();
    using held = holdServerSends((server.addr as Deno.NetAddr).port);
    let settled = false;
    const sent = server.send(new Uint8Array([7]), peer.addr).then(() => settled = true);
    await held.sending;
    const { data } = await peer.receive({ awaiting: "the held datagram", section });
    assertEquals([...data], [7]);
    await pollOnce();
    assertEquals(settled, false);
    // Sockets on other ports are not held.
    const other = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
    try {
      await within(other.send(new Uint8Array([8]), peer.addr), {
        awaiting: "a send from another port",
        section,
      });
    } finally {
      other.close();
    }
    held.release();
    await sent;
    assertEquals(settled, true);
  } finally {
    server.close();
  }
});

Deno.test("holdServerSends: lastReceive() is the socket's latest receive(), settling on close", async () => {
  const server = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  using held = holdServerSends((server.addr as Deno.NetAddr).port);
  const receiving = server.receive();
  receiving.catch(() => {});
  const last = held.lastReceive();
  server.close();
  assertEquals(await last, undefined);
});

Deno.test("expectDoneWaitsForReplySend: a loop that awaits its reply's send() passes", async () => {
  await expectDoneWaitsForReplySend(() => startEcho(true), {
    request: "hi",
    section,
    replying: section,
  });
});

Deno.test("expectDoneWaitsForReplySend: a loop that does not await it fails, naming that", async () => {
  const error = await assertRejects(
    () =>
      expectDoneWaitsForReplySend(() => startEcho(false), {
        request: "hi",
        section,
        replying: section,
        name: "responder",
      }),
    LessonFailure,
    "done, after close(), while the responder's reply send() is still pending",
  );
  assertEquals(error.report.mistake, REPLY_SEND_NOT_AWAITED);
  assertEquals(error.report.got, '"resolved"');
});
