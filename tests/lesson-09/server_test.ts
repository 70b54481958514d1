/**
 * Lesson 09 — The idempotent counter server, driven byte by byte from a
 * test socket: replies, the cache of recent requests, the size limit, and
 * bad input.
 *
 * @module
 */

import { startCounterServer } from "../../exercises/lesson-09/server.ts";
import { describe } from "../harness/bytes.ts";
import { expectBytes, expectThat } from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { expectDoneWaitsForReplySend } from "../harness/held_sends.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import { expectBindsHostname, expectDefaultAddress } from "../harness/server_defaults.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { UdpPeer } from "../harness/udp.ts";

const section = sectionsOf("lesson-09");
const decoder = new TextDecoder();

/** Starts the learner's server and guarantees it is closed after `body`. */
async function withServer(
  body: (addr: Deno.NetAddr) => Promise<void>,
  options: { maxRequestBytes?: number; cacheSize?: number } = {},
): Promise<void> {
  const running = startCounterServer({ hostname: "127.0.0.1", port: 0, ...options });
  // A failure in the body is the one to report; done is judged only after a pass.
  await stopAfter(
    () => body(running.addr),
    (passed) =>
      (passed ? expectCleanStop : stopServer)(running, {
        awaiting: "the server loop to end after close()",
        section: section("The server: each request once"),
      }),
  );
}

/** Sends `text` from `peer` and returns the reply as text. */
async function ask(
  peer: UdpPeer,
  to: Deno.NetAddr,
  text: string,
  mistake?: string,
): Promise<string> {
  await peer.send(text, to);
  const { data } = await peer.receive({
    awaiting: `a reply to ${describe(text)}`,
    section: section("The protocol"),
    mistake,
  });
  return decoder.decode(data);
}

Deno.test("server: INCR and GET answer `<id> OK <value>`", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const steps: [string, string][] = [
      ["0000000a INCR visits", "0000000a OK 1"],
      ["0000000b INCR visits", "0000000b OK 2"],
      ["0000000c GET visits", "0000000c OK 2"],
      ["0000000d GET nobody", "0000000d OK 0"],
      ["0000000e INCR other.name-2", "0000000e OK 1"],
    ];
    for (const [request, expected] of steps) {
      expectBytes(await ask(peer, addr, request), expected, {
        what: `the reply to "${request}"`,
        section: section("The protocol"),
      });
    }
  });
});

Deno.test("server: a repeated request is answered from the cache, not executed again", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const twice = "executed a duplicated request twice: remember each reply under " +
      "(client address, request id) and send the remembered reply for a repeat";
    expectBytes(await ask(peer, addr, "1234abcd INCR x"), "1234abcd OK 1", {
      what: 'the reply to "1234abcd INCR x"',
      section: section("The protocol"),
    });
    expectBytes(await ask(peer, addr, "1234abcd INCR x"), "1234abcd OK 1", {
      what: 'the reply to the same "1234abcd INCR x" sent again (a re-send or a duplicate)',
      section: section("The server: each request once"),
      mistake: twice,
    });
    expectBytes(await ask(peer, addr, "1234abce GET x"), "1234abce OK 1", {
      what: "the counter after one request sent twice",
      section: section("The server: each request once"),
      mistake: twice,
    });
  });
});

Deno.test("server: the same id from two clients is two different requests", async () => {
  await withServer(async (addr) => {
    using alice = UdpPeer.open();
    using bob = UdpPeer.open();
    expectBytes(await ask(alice, addr, "00000001 INCR shared"), "00000001 OK 1", {
      what: "alice's reply",
      section: section("The protocol"),
    });
    expectBytes(await ask(bob, addr, "00000001 INCR shared"), "00000001 OK 2", {
      what: "bob's reply to a request with the same id as alice's",
      section: section("The server: each request once"),
      mistake: "keyed the cache by request id alone: ids are random per client, so two " +
        "clients may pick the same one; key by (client address, id)",
    });
  });
});

Deno.test("server: an oversize request gets `ERR too large`, is not executed, and is never truncated", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const big = `abcdef01 INCR ${"n".repeat(600)}`;
    const reply = await ask(peer, addr, big);
    expectBytes(reply, "abcdef01 ERR too large", {
      what: `the reply to a request of ${big.length} bytes (limit 512)`,
      section: section("A size limit"),
      mistake: reply === "abcdef01 ERR bad request"
        ? "trusted a truncated datagram: receive into maxRequestBytes + 1 bytes and refuse " +
          "a datagram that fills the buffer"
        : undefined,
    });
    expectBytes(await ask(peer, addr, `abcdef02 GET ${"n".repeat(64)}`), "abcdef02 OK 0", {
      what: "a counter that only the oversize request would have touched",
      section: section("A size limit"),
    });
  }, { maxRequestBytes: 512 });
});

/**
 * Datagrams whose first 8 bytes are lowercase hex digits but whose 9th is not
 * a space: an id 16 digits long, and one run into the operation. Neither
 * starts with an id.
 */
const PREFIX_ONLY = ["0000bee3deadbeef INCR x", "0000bee4-INCR x"];

Deno.test("server: ignores datagrams without an id, answers bad requests with `ERR bad request`, keeps serving", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    for (
      const junk of ["hello", "", "1234 INCR x", "ABCDEF01 INCR x", "\xff\xfe", ...PREFIX_ONLY]
    ) {
      await peer.send(junk, addr);
    }
    // The server answers in order: a reply to junk would come before the reply to this.
    await peer.send("0000beef FROB x", addr);
    const { before: replies, last } = await peer.receiveUntil(
      (d) => decoder.decode(d.data).startsWith("0000beef "),
      {
        awaiting: 'a reply to "0000beef FROB x", sent after the junk',
        section: section("The protocol"),
        mistake: "a bad datagram must be skipped or refused, not end the server loop",
      },
    );
    // A server that answers each datagram from a task of its own could answer junk after that
    // reply: a marker round trip through this socket catches an answer that came meanwhile.
    const late = await peer.drain({
      awaiting: "the test's own marker, after any late answer to the junk",
      section: section("The protocol"),
      from: addr,
    });
    const answered = [...replies, ...late].map((r) => decoder.decode(r.data));
    const prefixOnly = PREFIX_ONLY.find((junk) =>
      answered.some((reply) => reply.startsWith(`${junk.slice(0, 8)} `))
    );
    if (prefixOnly !== undefined) {
      fail({
        summary: `the server answered ${JSON.stringify(prefixOnly)} as request ${
          prefixOnly.slice(0, 8)
        }, though its 9th byte is not a space`,
        section: section("The protocol"),
        expected: `no reply: ${
          JSON.stringify(prefixOnly)
        } does not start with an id (8 hex digits AND a space), so there is nothing to answer`,
        got: answered.map((reply) => JSON.stringify(reply)).join(", "),
        mistake: "read the id without the space that ends it (the first 8 bytes, or " +
          "/^[0-9a-f]{8}/ without the space), so a longer or unterminated id was answered as " +
          "its first 8 characters: the id is the first 9 bytes, 8 lowercase hex digits and a " +
          "space; without that space, ignore the datagram",
      });
    }
    if (replies.length || late.length) {
      fail({
        summary: "the server answered a datagram that carries no request id",
        section: section("The protocol"),
        got: [...replies, ...late].map((r) => describe(r.data)).join(", "),
        mistake: "without `<8 lowercase hex digits> ` at the start there is no id to answer: " +
          "ignore the datagram",
      });
    }
    expectBytes(decoder.decode(last.data), "0000beef ERR bad request", {
      what: 'the reply to "0000beef FROB x"',
      section: section("The protocol"),
    });
    for (
      const [request, expected] of [
        ["0000bee0 INCR", "0000bee0 ERR bad request"],
        ["0000bee1 INCR has space", "0000bee1 ERR bad request"],
        ["0000bee2 INCR ok", "0000bee2 OK 1"],
      ]
    ) {
      expectBytes(
        await ask(
          peer,
          addr,
          request,
          "a bad datagram must be skipped or refused, not end the server loop",
        ),
        expected,
        { what: `the reply to "${request}"`, section: section("The protocol") },
      );
    }
  });
});

Deno.test("server: a request of exactly maxRequestBytes is served; one byte more is too large", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const exact = `abcdef03 INCR ${"n".repeat(26)}`; // 40 bytes
    const exactReply = await ask(peer, addr, exact);
    expectBytes(exactReply, "abcdef03 OK 1", {
      what: "the reply to a request of exactly 40 bytes (limit 40)",
      section: section("A size limit"),
      mistake: exactReply.endsWith("too large")
        ? "refused a request of exactly maxRequestBytes: only a datagram that " +
          "fills the maxRequestBytes + 1 buffer is too large"
        : undefined,
    });
    const over = `abcdef04 INCR ${"n".repeat(27)}`; // 41 bytes
    expectBytes(await ask(peer, addr, over), "abcdef04 ERR too large", {
      what: "the reply to a request of 41 bytes (limit 40)",
      section: section("A size limit"),
    });
  }, { maxRequestBytes: 40 });
});

Deno.test("server: the reply cache is bounded: the oldest entry is dropped first", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    for (const id of ["0000c001", "0000c002", "0000c003"]) {
      await ask(peer, addr, `${id} INCR bounded`);
    }
    const again = await ask(peer, addr, "0000c003 INCR bounded");
    expectBytes(again, "0000c003 OK 3", {
      what: "a repeat of the newest request (cacheSize 2)",
      section: section("The server: each request once"),
      mistake: "executed a duplicated request twice: the newest reply must stay cached",
    });
    const oldest = await ask(peer, addr, "0000c001 INCR bounded");
    expectBytes(oldest, "0000c001 OK 4", {
      what: "a repeat of the oldest of three requests (cacheSize 2)",
      section: section("The server: each request once"),
      mistake: oldest === "0000c001 OK 1"
        ? "an unbounded reply cache: with cacheSize 2 the oldest reply must be " +
          "dropped once a third is stored, or memory grows forever"
        : undefined,
    });
  }, { cacheSize: 2 });
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startCounterServer(port === undefined ? undefined : { port }),
    "udp",
    section("The server: each request once"),
  );
});

Deno.test({
  ...linuxLoopbackTest("server: given hostname 127.0.0.2, listens there and not on 127.0.0.1"),
  async fn() {
    const where = section("The server: each request once");
    await expectBindsHostname(
      (hostname, port) => startCounterServer({ hostname, port }),
      "udp",
      where,
      async (addr, watch) => {
        using peer = UdpPeer.open();
        await peer.send("0000000a INCR there", addr);
        const { data } = await peer.receive({
          awaiting: `the reply from ${addr.hostname}:${addr.port}`,
          from: addr,
          watch,
          section: where,
        });
        expectBytes(data, "0000000a OK 1", {
          what: "the reply of the server on 127.0.0.2",
          section: section("The protocol"),
        });
      },
    );
  },
});

Deno.test("server: done waits for the reply being sent when close() comes", async () => {
  await expectDoneWaitsForReplySend(
    () => startCounterServer({ hostname: "127.0.0.1", port: 0 }),
    {
      request: "0000000a INCR visits",
      section: section("The server: each request once"),
      replying: section("The protocol"),
    },
  );
});

Deno.test("server: `executed` counts requests run, not repeats; cacheSize 2 keeps the last two", async () => {
  const running = startCounterServer({ hostname: "127.0.0.1", port: 0, cacheSize: 2 });
  await stopAfter(async () => {
    using peer = UdpPeer.open();
    await ask(peer, running.addr, "0000e001 INCR kept");
    await ask(peer, running.addr, "0000e002 INCR kept");
    const repeat = await ask(peer, running.addr, "0000e001 INCR kept");
    expectBytes(repeat, "0000e001 OK 1", {
      what: "a repeat of the older of two requests (cacheSize 2)",
      section: section("The server: each request once"),
      mistake: "a cache of size 2 holds two replies: drop the oldest only past the size",
    });
    expectBytes(String(running.executed), "2", {
      what: "server.executed after two requests and one repeat",
      section: section("The server: each request once"),
    });
  }, () =>
    expectCleanStop(running, {
      awaiting: "done to resolve after close()",
      section: section("The server: each request once"),
    }));
});

Deno.test("server: a junk request of exactly maxRequestBytes is a bad request, not too large", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const junk = "0000e003 " + "?".repeat(64 - 9);
    expectBytes(await ask(peer, addr, junk), "0000e003 ERR bad request", {
      what: "the reply to a 64-byte junk request (maxRequestBytes 64)",
      section: section("A size limit"),
    });
  }, { maxRequestBytes: 64 });
});

Deno.test("program: the server logs one line per request, and marks a repeat from the cache", async () => {
  const lines: string[] = [];
  const running = startCounterServer({ hostname: "127.0.0.1", port: 0, log: (l) => lines.push(l) });
  await stopAfter(async () => {
    using peer = UdpPeer.open();
    await ask(peer, running.addr, "0000e004 INCR logged");
    await ask(peer, running.addr, "0000e004 INCR logged");
    const me = `127.0.0.1:${peer.addr.port}`;
    const ok = lines.length === 2 && lines.every((l) =>
      l.includes(me) && l.includes("0000e004 INCR logged")
    ) &&
      !/cache/.test(lines[0]) && /repeat|cache/.test(lines[1]);
    expectThat(ok, JSON.stringify(lines), {
      what: "the server's log after a request and its repeat",
      expected: `two lines naming ${me} and the whole request; only the second marks the cache`,
      section: section("Running it as a program"),
    });
  }, () =>
    expectCleanStop(running, {
      awaiting: "done to resolve after close()",
      section: section("Running it as a program"),
    }));
});

Deno.test("server: a request whose 10th byte starts a UTF-8 character still has its id", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    expectBytes(await ask(peer, addr, "0000e005 éé"), "0000e005 ERR bad request", {
      what: 'the reply to "0000e005 éé" (the id is the first 9 bytes, whole)',
      section: section("The protocol"),
    });
  });
});

/** The mistake named when the id is read by decoding the whole datagram. */
const WHOLE_DATAGRAM_DECODED = "no answer: the id was read by decoding the whole datagram, " +
  "which fails on bytes that are not UTF-8 after the id; decode only the first 9 bytes " +
  "(8 hex digits and a space) to find the id";

Deno.test("server: bytes that are not UTF-8 after the id, or an oversize request cut inside a character, are still answered", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const notText = new Uint8Array([...new TextEncoder().encode("0000beef INCR x"), 0xff]);
    await peer.send(notText, addr);
    const { data } = await peer.receive({
      awaiting: 'a reply to "0000beef INCR x" and the byte ff',
      section: section("The protocol"),
      mistake: WHOLE_DATAGRAM_DECODED,
    });
    expectBytes(data, "0000beef ERR bad request", {
      what: 'the reply to "0000beef INCR x" and the byte ff',
      section: section("The protocol"),
    });
  });
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    // 54 bytes; the server's 41-byte buffer cuts it in the middle of the 14th "é".
    const big = `abcdef05 INCR ${"é".repeat(20)}`;
    await peer.send(big, addr);
    const { data } = await peer.receive({
      awaiting: `a reply to "abcdef05 INCR " and 20 "é" (54 bytes, limit 40)`,
      section: section("A size limit"),
      mistake: WHOLE_DATAGRAM_DECODED,
    });
    expectBytes(data, "abcdef05 ERR too large", {
      what: `the reply to "abcdef05 INCR " and 20 "é" (54 bytes, limit 40)`,
      section: section("A size limit"),
    });
  }, { maxRequestBytes: 40 });
});
