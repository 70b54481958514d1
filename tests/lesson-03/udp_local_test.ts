/**
 * Lesson 03 — A first UDP server and client: the book's udp_local exchange on
 * real loopback datagrams.
 *
 * @module
 */

import {
  ask,
  client,
  MAX_DATAGRAM,
  server,
  startServer,
  timeMessage,
} from "../../exercises/lesson-03/udp_local.ts";
import { describe } from "../harness/bytes.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectRejects, expectThat } from "../harness/expect.ts";
import { sectionsOf } from "../harness/failure.ts";
import { expectDoneWaitsForReplySend } from "../harness/held_sends.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { startClientRole, startServerRole } from "../harness/program.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import { expectBindsHostname, expectDefaultAddress } from "../harness/server_defaults.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { UdpPeer } from "../harness/udp.ts";
import { LogLines } from "../harness/log.ts";
import { expectServesAfterNotUtf8, repliedAndLogged } from "../harness/not_utf8.ts";

const section = sectionsOf("lesson-03");

/** The book's reply, written out here so the test never trusts the code under test. */
const bookReply = (bytes: number) => `Your data was ${bytes} bytes long`;

/** Starts the learner's server and guarantees it is closed after `body`. */
async function withServer(body: (addr: Deno.NetAddr) => Promise<void>): Promise<void> {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    await body(running.addr);
  }, () =>
    stopServer(running, {
      awaiting: "the server loop to end after close()",
      section: section("The server loop"),
      mistake: "close() must close the socket so that the pending receive() ends the loop",
    }));
}

/** Sends `payload` from `peer` to the server and returns the reply's bytes. */
async function exchange(
  peer: UdpPeer,
  to: Deno.NetAddr,
  payload: string | Uint8Array,
  mistake?: string,
): Promise<Uint8Array> {
  await peer.send(payload, to);
  const { data, addr } = await peer.receive({
    awaiting: `a reply to the datagram ${describe(payload)}`,
    from: { hostname: to.hostname }, // any port there: the source port is checked below
    section: section("Replying to the sender"),
    mistake,
  });
  expectEqual(addr.port, to.port, {
    what: "the reply's source port",
    section: section("Replying to the sender"),
    mistake: "the reply must leave from the socket the request arrived on",
  });
  return data;
}

Deno.test("server: answers a 16-byte datagram with exactly `Your data was 16 bytes long`", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const reply = await exchange(peer, addr, "Hi there, server");
    const got = new TextDecoder().decode(reply);
    expectBytes(reply, "Your data was 16 bytes long", {
      what: "the reply to a 16-byte datagram",
      section: section("The protocol on the wire"),
      mistake: got.trimEnd() !== got
        ? "a trailing newline or space: a datagram is a message, not a line"
        : "the reply text must match the book byte for byte",
    });
  });
});

/**
 * Names the mistake when `reply` counted `sent` decoded and encoded again (a
 * byte that is not UTF-8 becomes U+FFFD, 3 bytes).
 */
function reEncodedMistake(sent: Uint8Array, reply: Uint8Array): string | undefined {
  const reEncoded = new TextEncoder().encode(new TextDecoder().decode(sent)).length;
  return reEncoded !== sent.length && new TextDecoder().decode(reply) === bookReply(reEncoded)
    ? "counted the bytes of the decoded text, encoded again: what was not UTF-8 became " +
      "U+FFFD, 3 bytes each time; count the bytes receive() returned (data.length)"
    : undefined;
}

Deno.test("server: counts bytes on the wire, not characters", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    const text = "Grüße, café ☕"; // 13 characters, 18 bytes in UTF-8
    const reply = await exchange(peer, addr, text);
    expectBytes(reply, bookReply(18), {
      what: `the reply to ${describe(text)}`,
      section: section("Counting bytes, not characters"),
      mistake: new TextDecoder().decode(reply).includes(`${text.length}`)
        ? "counted characters (the decoded string's length) instead of the bytes received"
        : undefined,
    });
    // Not UTF-8 at all: ff and c3 each decode to U+FFFD, which encodes to 3 bytes (7 in all).
    const binary = new Uint8Array([0xff, 0x00, 0xc3]);
    const counted = await exchange(peer, addr, binary);
    expectBytes(counted, bookReply(3), {
      what: `the reply to ${describe(binary)}`,
      section: section("Counting bytes, not characters"),
      mistake: reEncodedMistake(binary, counted),
    });
  });
});

Deno.test("server: a datagram that is not UTF-8 is logged and answered, and the server goes on", async () => {
  const log = new LogLines();
  const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
  const where = section("Running it as a program");
  await stopAfter(async () => {
    await expectServesAfterNotUtf8(
      running,
      where,
      repliedAndLogged(log, where, {
        section: section("Counting bytes, not characters"),
        mistake: reEncodedMistake,
      }),
    );
  }, () =>
    stopServer(running, {
      awaiting: "the server loop to end after close()",
      section: section("The server loop"),
    }));
});

Deno.test("server: replies to each sender at the sender's own address", async () => {
  await withServer(async (addr) => {
    using alice = UdpPeer.open();
    using bob = UdpPeer.open();
    const mistake =
      "the reply went to another address: answer the address receive() returned with this very datagram";
    expectBytes(await exchange(alice, addr, "from alice", mistake), bookReply(10), {
      what: "the reply to the first client",
      section: section("Replying to the sender"),
    });
    expectBytes(await exchange(bob, addr, "from bob!", mistake), bookReply(9), {
      what: "the reply to the second client, on another port",
      section: section("Replying to the sender"),
      mistake,
    });
  });
});

Deno.test("server: keeps answering, one reply per datagram, in a loop", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    for (const [i, text] of ["one", "three", "seventeen"].entries()) {
      const reply = await exchange(
        peer,
        addr,
        text,
        i > 0 ? "the server answered once and stopped: receive() belongs in a loop" : undefined,
      );
      expectBytes(reply, bookReply(text.length), {
        what: `the reply to datagram #${i + 1}`,
        section: section("The server loop"),
      });
    }
  });
});

Deno.test("server: receives 60,000- and 65,507-byte datagrams whole", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    // 65,507 bytes is the largest UDP payload IPv4 can carry: the limit itself.
    for (const size of [60_000, 65_507]) {
      const big = new Uint8Array(size).fill(0x61);
      const reply = new TextDecoder().decode(await exchange(peer, addr, big));
      const counted = Number(reply.match(/\d+/)?.[0]);
      expectBytes(reply, bookReply(size), {
        what: `the reply to a ${size}-byte datagram`,
        section: section("Sending and receiving datagrams"),
        mistake: counted < size
          ? `the receive buffer held only ${counted} bytes and UDP silently cut off the rest: ` +
            `give receive() a buffer of ${MAX_DATAGRAM} bytes`
          : undefined,
      });
    }
  });
});

Deno.test("server: two clients at once, interleaved, each get their own count", async () => {
  await withServer(async (addr) => {
    using alice = UdpPeer.open();
    using bob = UdpPeer.open();
    using silent = UdpPeer.open(); // a client that never sends: nothing to wait for
    await alice.send("Grüße, café ☕", addr); // 18 bytes, 13 characters
    await bob.send("a much longer message than alice's", addr); // 34 bytes
    await silent.send(new Uint8Array(0), addr);
    const expected: [UdpPeer, string, number][] = [[alice, "alice", 18], [bob, "bob", 34]];
    for (const [peer, who, bytes] of expected) {
      const { data } = await peer.receive({
        awaiting: `the reply to ${who}`,
        section: section("Replying to the sender"),
      });
      expectBytes(data, bookReply(bytes), {
        what: `the reply to ${who}'s ${bytes}-byte datagram, sent before the other's`,
        section: section("Replying to the sender"),
      });
    }
    await silent.receive({
      awaiting: "the reply to the empty datagram",
      section: section("The protocol on the wire"),
    });
  });
});

Deno.test("server: answers an empty datagram with `Your data was 0 bytes long`", async () => {
  await withServer(async (addr) => {
    using peer = UdpPeer.open();
    expectBytes(await exchange(peer, addr, new Uint8Array(0)), bookReply(0), {
      what: "the reply to an empty datagram",
      section: section("The protocol on the wire"),
    });
  });
});

Deno.test("server: binds the address asked, port 0 becomes a real port, close() frees it", async () => {
  const first = startServer({ hostname: "127.0.0.1", port: 0 });
  const { port, hostname } = first.addr;
  await stopServer(first, {
    awaiting: "the server loop to end after close()",
    section: section("The server loop"),
  });
  expectThat(port > 0 && hostname === "127.0.0.1", `bound to ${hostname}:${port}`, {
    what: "the server reports the socket name it was given",
    expected: "127.0.0.1 and a non-zero port",
    section: section("Binding a socket name"),
  });
  const again = startServer({ hostname: "127.0.0.1", port });
  await stopServer(again, {
    awaiting: "the second server loop to end after close()",
    section: section("The server loop"),
  });
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startServer(port === undefined ? undefined : { port }),
    "udp",
    section("Binding a socket name"),
  );
});

Deno.test({
  ...linuxLoopbackTest("server: given hostname 127.0.0.2, listens there and not on 127.0.0.1"),
  async fn() {
    const where = section("Binding a socket name");
    await expectBindsHostname(
      (hostname, port) => startServer({ hostname, port }),
      "udp",
      where,
      async (addr, watch) => {
        using peer = UdpPeer.open();
        await peer.send("Hi there, server", addr);
        const { data } = await peer.receive({
          awaiting: `the reply from ${addr.hostname}:${addr.port}`,
          from: addr,
          watch,
          section: where,
        });
        expectBytes(data, bookReply(16), {
          what: "the reply of the server on 127.0.0.2",
          section: section("The protocol on the wire"),
        });
      },
    );
  },
});

Deno.test("server: done waits for the reply being sent when close() comes", async () => {
  await expectDoneWaitsForReplySend(() => startServer({ hostname: "127.0.0.1", port: 0 }), {
    request: "hold this reply",
    section: section("The server loop"),
    replying: section("Replying to the sender"),
  });
});

Deno.test("server: done resolves (never rejects) after close(), also after serving", async () => {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    using peer = UdpPeer.open();
    await exchange(peer, running.addr, "hi");
  }, () =>
    expectCleanStop(running, {
      awaiting: "done to resolve after close()",
      section: section("The server loop"),
    }));
});

Deno.test("client: two ask() calls at once bind two ports the OS picks", async () => {
  using fake = UdpPeer.open();
  const asking = [background(ask(fake.addr, "one")), background(ask(fake.addr, "two"))];
  const [first, second] = await fake.receiveFromTwoClients(asking, section("The client"));
  await fake.send("Your data was 3 bytes long", first.addr);
  await fake.send("Your data was 3 bytes long", second.addr);
  await within(Promise.all(asking), {
    awaiting: "both ask() calls to return",
    section: section("The client"),
  });
  expectThat(
    first.addr.port !== second.addr.port,
    `both datagrams came from port ${first.addr.port}`,
    {
      what: "the source ports of two clients running at once",
      expected: "two different ports, each picked by the OS (bind port 0)",
      section: section("Binding a socket name"),
    },
  );
});

Deno.test("client: sends the text as one datagram and returns the reply", async () => {
  using fake = UdpPeer.open();
  const asking = background(ask(fake.addr, "This is my message"));
  const request = await fake.receive({
    awaiting: "the client's datagram",
    watch: asking,
    section: section("The client"),
  });
  expectBytes(request.data, "This is my message", {
    what: "the datagram the client sent",
    section: section("The client"),
  });
  await fake.send("Your data was 18 bytes long", request.addr);
  const result = await within(asking, {
    awaiting: "ask() to return after the reply arrived",
    section: section("The client"),
  });
  expectEqual(result.reply, "Your data was 18 bytes long", {
    what: "the reply ask() returned",
    section: section("The client"),
  });
  expectEqual(result.local.port, request.addr.port, {
    what: "the client's own port as ask() reports it",
    section: section("Binding a socket name"),
    mistake: "report the socket's addr (the port the OS picked), not the port you asked for",
  });
  expectEqual(result.from.port, fake.addr.port, {
    what: "where ask() says the reply came from",
    section: section("The client"),
  });
});

/** Runs ask(text) against a fake server that answers `reply`; returns ask's reply. */
async function askFake(text: string, reply: Uint8Array): Promise<string> {
  using fake = UdpPeer.open();
  const asking = background(ask(fake.addr, text));
  const request = await fake.receive({
    awaiting: "the client's datagram",
    watch: asking,
    section: section("The client"),
  });
  await fake.send(reply, request.addr);
  const result = await within(asking, {
    awaiting: "ask() to return after the reply arrived",
    section: section("The client"),
  });
  return result.reply;
}

Deno.test("client: a UTF-8 reply and a 2,000-byte reply come back whole", async () => {
  const text = "Grüße, café ☕ — Your data was 18 bytes long";
  const got = await askFake("hello", new TextEncoder().encode(text));
  expectEqual(got, text, {
    what: "the reply ask() returned for a reply in UTF-8",
    section: section("Counting bytes, not characters"),
    mistake: got.includes("Ã")
      ? "decoded one character per byte (String.fromCharCode): decode the reply as " +
        "UTF-8 with a TextDecoder"
      : undefined,
  });
  const long = "x".repeat(2000);
  const gotLong = await askFake("hello", new TextEncoder().encode(long));
  expectEqual(gotLong.length, long.length, {
    what: "the length of a 2,000-byte reply as ask() returned it",
    section: section("Sending and receiving datagrams"),
    mistake: gotLong.length < long.length
      ? `the client's receive buffer held only ${gotLong.length} bytes and UDP silently ` +
        `cut off the rest: give receive() a buffer of ${MAX_DATAGRAM} bytes`
      : undefined,
  });
});

Deno.test("client: a message too big for a datagram fails, and the socket is closed", async () => {
  using fake = UdpPeer.open();
  await expectRejects(() => ask(fake.addr, "x".repeat(70_000)), {
    pattern: /too long/i,
    what: "ask() with a 70,000-byte message (over 65,507, the most a datagram holds)",
    section: section("Sending and receiving datagrams"),
  });
  // The op sanitizer fails this test if ask() left its socket open on the way out.
});

/**
 * The fields of a `YYYY-MM-DD HH:MM:SS.ffffff` time that lack their leading zeros, by name
 * (empty when the text has another shape, or every field its full width).
 */
function unpaddedFields(message: string): string[] {
  const m = /^The time is (\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)\.(\d+)$/.exec(message);
  if (!m) return [];
  const fields: [string, number][] = [
    ["month", 2],
    ["day", 2],
    ["hour", 2],
    ["minute", 2],
    ["second", 2],
    ["microseconds", 6],
  ];
  return fields.filter(([, width], i) => m[i + 2].length < width).map(([name]) => name);
}

Deno.test("client: writes the time the way the book's Python client does", () => {
  // Every field has one digit here, so each one that is not zero-padded shows, on every day.
  const at = new Date(2026, 0, 5, 9, 5, 7, 42);
  const got = timeMessage(at);
  // The same instant in UTC: the suites run in a zone far from UTC (SUITE_TZ), so they differ.
  const utc = `The time is ${at.toISOString().replace("T", " ").replace("Z", "000")}`;
  const unpadded = unpaddedFields(got);
  expectBytes(got, "The time is 2026-01-05 09:05:07.042000", {
    what: "timeMessage(5 Jan 2026, 09:05:07.042 local time)",
    section: section("The protocol on the wire"),
    mistake: got === utc
      ? "that is the time in UTC: Python's datetime.now() is local time (getHours(), not " +
        "getUTCHours() or toISOString())"
      : unpadded.length
      ? `the ${unpadded.join(", ")} ${unpadded.length > 1 ? "are" : "is"} not zero-padded: ` +
        "Python writes every field at full width (January is 01, the 5th is 05, " +
        '42 ms is 042000): padStart(2, "0")'
      : "Python prints zero-padded fields and microseconds: YYYY-MM-DD HH:MM:SS.ffffff",
  });
});

Deno.test("program: `server` prints where it listens and logs each client", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
    transport: "udp",
  });
  using peer = UdpPeer.open();
  expectBytes(await exchange(peer, program.addr, "The time is now"), bookReply(15), {
    what: "the program's reply",
    section: section("The protocol on the wire"),
  });
  await program.log.next(
    new RegExp(`^The client at 127\\.0\\.0\\.1:${peer.addr.port} says "The time is now"$`),
    {
      awaiting: `the line \`The client at 127.0.0.1:${peer.addr.port} says "The time is now"\``,
      section: section("Running it as a program"),
    },
  );
});

Deno.test("program: `server` logs each datagram's own text, in UTF-8", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
    transport: "udp",
  });
  using peer = UdpPeer.open();
  for (const text of ["a longer first message", "Grüße ☕"]) {
    await exchange(peer, program.addr, text);
    const line = await program.log.next(/^The client at \S+ says (.*)$/, {
      awaiting: `the line for the datagram ${JSON.stringify(text)}`,
      section: section("Running it as a program"),
    });
    expectEqual(
      line[1],
      JSON.stringify(text),
      {
        what: `what the log line quotes for the datagram ${JSON.stringify(text)}`,
        section: section("Running it as a program"),
        mistake: text.startsWith("Gr") && line[0].includes("Ã")
          ? "decoded one character per byte (String.fromCharCode): decode as UTF-8"
          : line[0].includes("message")
          ? "decoded the whole receive buffer, stale bytes of the earlier, longer " +
            "datagram included: decode only the bytes this receive() returned"
          : undefined,
      },
    );
  }
});

Deno.test("program: `client` sends `The time is …` and prints the reply", async () => {
  using fake = UdpPeer.open();
  const { log, running } = startClientRole(client, { port: fake.addr.port });
  const request = await fake.receive({
    awaiting: "the client program's datagram",
    watch: running,
    section: section("Running it as a program"),
  });
  const text = new TextDecoder().decode(request.data);
  // The shape only: today's month, day or hour may have two digits anyway, so whether each field
  // is zero-padded is judged by timeMessage's own test, with a fixed date, the same on every day.
  expectThat(
    /^The time is \d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}\.\d{1,6}$/.test(text),
    describe(request.data),
    {
      what: "the client program's datagram",
      expected: '"The time is YYYY-MM-DD HH:MM:SS.ffffff"',
      section: section("The protocol on the wire"),
    },
  );
  const reply = bookReply(request.data.length);
  await fake.send(reply, request.addr);
  await within(running, {
    awaiting: "client() to return",
    section: section("Running it as a program"),
  });
  await log.next(
    new RegExp(`^The OS assigned me the address 127\\.0\\.0\\.1:${request.addr.port}$`),
    {
      awaiting: `the line \`The OS assigned me the address 127.0.0.1:${request.addr.port}\``,
      section: section("Running it as a program"),
    },
  );
  await log.next(
    new RegExp(`^The server 127\\.0\\.0\\.1:${fake.addr.port} replied "${reply}"$`),
    {
      awaiting: `the line \`The server 127.0.0.1:${fake.addr.port} replied "${reply}"\``,
      section: section("Running it as a program"),
    },
  );
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, { section: section("Running it as a program") });
});
