/**
 * Lesson 05 — Connected replies: a UDP socket tied to one peer, built by
 * hand since Deno has no `connect()`. Strangers (another host, or the same
 * host on another port) send first; only the peer's datagram may count.
 *
 * @module
 */

import { connectUdp, sameAddress } from "../../exercises/lesson-05/connected.ts";
import { describe } from "../harness/bytes.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectThat } from "../harness/expect.ts";
import { sectionsOf } from "../harness/failure.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { UdpPeer } from "../harness/udp.ts";
import { hostPort } from "../harness/wire.ts";

const section = sectionsOf("lesson-05");
const decoder = new TextDecoder();

/**
 * Opens a client connected to `peer`, has `strangers` send first, then the
 * peer, and returns what `receive()` gave back.
 */
async function receiveAmongStrangers(
  peer: UdpPeer,
  strangers: UdpPeer[],
): Promise<{ text: string; from: string }> {
  using client = connectUdp(peer.addr);
  const receiving = background(client.receive());
  const senders = new Map<string, string>();
  for (const [i, stranger] of strangers.entries()) {
    const text = `stray datagram #${i + 1}`;
    senders.set(text, hostPort(stranger.addr));
    await stranger.send(text, client.addr);
  }
  senders.set("from the peer", hostPort(peer.addr));
  await peer.send("from the peer", client.addr);
  const data = await within(receiving, {
    awaiting: "receive() to return the peer's datagram",
    section: section("Deno has no connect(): build it"),
    mistake: "the peer's datagram came after the strays: skip a stray and keep receiving",
  });
  const text = decoder.decode(data);
  return { text, from: senders.get(text) ?? "?" };
}

Deno.test("connectUdp: takes a socket name of its own and sends nothing by itself", async () => {
  using peer = UdpPeer.open();
  using client = connectUdp(peer.addr);
  expectThat(
    client.addr.hostname === "127.0.0.1" && client.addr.port > 0,
    `addr is ${hostPort(client.addr)}`,
    {
      what: "the connected socket's own name",
      expected: "127.0.0.1 and the port the OS picked (not 0)",
      section: section("Deno has no connect(): build it"),
    },
  );
  expectEqual(hostPort(client.peer), hostPort(peer.addr), {
    what: "the peer the socket is tied to",
    section: section("Deno has no connect(): build it"),
  });
  // One datagram of our own, then the peer drains its queue: anything connectUdp() sent by
  // itself went out before "ping" and is in the queue with it.
  await within(client.send("ping"), {
    awaiting: 'send("ping") on the connected socket',
    section: section("Deno has no connect(): build it"),
  });
  const sent = (await peer.drain({
    awaiting: "the peer's own marker, after the client's datagrams",
    section: section("Deno has no connect(): build it"),
  })).filter((d) => decoder.decode(d.data) !== "ping");
  expectEqual(sent.map((d) => describe(d.data)), [], {
    what: "datagrams that reached the peer when the client merely connected",
    section: section("What connect() does for UDP"),
    mistake: sent.length
      ? "UDP connect sends nothing: it only records the peer (there is no handshake, unlike TCP)"
      : undefined,
  });
});

Deno.test("connected: send() needs no address; receive() returns the peer's datagram", async () => {
  using peer = UdpPeer.open();
  using client = connectUdp(peer.addr);
  await client.send("This is my message");
  const got = await peer.receive({
    awaiting: "the client's datagram at the peer",
    from: { hostname: client.addr.hostname }, // any port there: the port is checked below
    section: section("What connect() does for UDP"),
  });
  expectBytes(got.data, "This is my message", {
    what: "what send() delivered to the peer",
    section: section("What connect() does for UDP"),
  });
  expectEqual(got.addr.port, client.addr.port, {
    what: "the port the datagram came from",
    section: section("Deno has no connect(): build it"),
    mistake: "send from the connected socket itself, so that the peer's reply comes back to it",
  });
  const receiving = background(client.receive());
  await peer.send(new Uint8Array([0, 1, 2, 255]), got.addr);
  expectBytes(
    await within(receiving, {
      awaiting: "receive() to return the peer's reply",
      section: section("Deno has no connect(): build it"),
    }),
    new Uint8Array([0, 1, 2, 255]),
    {
      what: "the peer's reply as receive() returned it",
      section: section("What connect() does for UDP"),
    },
  );
});

Deno.test({
  ...linuxLoopbackTest("connected: skips a datagram from another host (127.0.0.2)"),
  async fn() {
    using peer = UdpPeer.open();
    using stranger = UdpPeer.open("127.0.0.2");
    const { text, from } = await receiveAmongStrangers(peer, [stranger]);
    expectEqual(text, "from the peer", {
      what: `receive() with a stray from ${
        hostPort(stranger.addr)
      } queued before the peer's datagram`,
      section: section("Same address means host and port"),
      mistake: `accepted a datagram from a stranger at another address (${from}): return only ` +
        "datagrams whose source is the peer",
    });
  },
});

Deno.test("connected: skips datagrams from the peer's host on other ports", async () => {
  using peer = UdpPeer.open();
  using strangerA = UdpPeer.open();
  using strangerB = UdpPeer.open();
  const { text, from } = await receiveAmongStrangers(peer, [strangerA, strangerB]);
  expectEqual(text, "from the peer", {
    what: `receive() with strays from 127.0.0.1 (other ports) before the peer ${
      hostPort(peer.addr)
    }`,
    section: section("Same address means host and port"),
    mistake: `accepted a datagram from ${from}, not the peer ${hostPort(peer.addr)}: compare ` +
      "the port as well as the host (two programs on one machine differ only by port)",
  });
});

Deno.test("sameAddress: equal only when both host and port match", () => {
  const a: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 1060 };
  const cases: [Deno.NetAddr, boolean][] = [
    [{ transport: "udp", hostname: "127.0.0.1", port: 1060 }, true],
    [{ transport: "udp", hostname: "127.0.0.1", port: 1061 }, false],
    [{ transport: "udp", hostname: "127.0.0.2", port: 1060 }, false],
  ];
  for (const [b, want] of cases) {
    expectEqual(sameAddress(a, b), want, {
      what: `sameAddress(127.0.0.1:1060, ${hostPort(b)})`,
      section: section("Same address means host and port"),
      mistake: b.port !== a.port
        ? "compare the port as well as the host (two programs on one machine differ only by port)"
        : "a stranger at another address is not the peer: compare the host too",
    });
  }
});

Deno.test("connected: close() ends a pending receive() and frees the socket", async () => {
  using peer = UdpPeer.open();
  const client = connectUdp(peer.addr);
  const receiving = background(client.receive());
  client.close();
  const outcome = await within(
    receiving.then(() => "returned", (e: Error) => `rejected: ${e.name}`),
    {
      awaiting: "the pending receive() to end after close()",
      section: section("Deno has no connect(): build it"),
      mistake: "close() must close the socket, which ends a pending receive()",
    },
  );
  expectThat(outcome.startsWith("rejected"), outcome, {
    what: "a receive() pending when the socket closed",
    expected: "it rejects (there is no datagram to return)",
    section: section("Deno has no connect(): build it"),
  });
  client.close(); // a second close() is harmless
});

Deno.test("connectUdp: two connected sockets at once get two ports the OS picks", () => {
  using server = UdpPeer.open();
  using a = connectUdp(server.addr);
  using b = connectUdp(server.addr);
  expectThat(a.addr.port !== b.addr.port && a.addr.port > 0, `${a.addr.port} and ${b.addr.port}`, {
    what: "the local ports of two connected sockets open at once",
    expected: "two different ports, each picked by the OS (bind port 0)",
    section: section("Deno has no connect(): build it"),
  });
});

Deno.test("connected: send() rejects when the datagram cannot be sent", async () => {
  using server = UdpPeer.open();
  using client = connectUdp(server.addr);
  const outcome = await within(
    client.send(new Uint8Array(70_000)).then(() => "it resolved", (e: Error) => e.name),
    {
      awaiting: "send() of 70,000 bytes to settle",
      section: section("Deno has no connect(): build it"),
    },
  );
  expectThat(outcome !== "it resolved", outcome, {
    what: "send() of a 70,000-byte datagram (more than UDP can carry)",
    expected: "a rejection with the socket's error, not a send that seems to succeed",
    section: section("Deno has no connect(): build it"),
    mistake: "send() did not wait for the socket's send: await it (return its promise)",
  });
});

Deno.test("connected: what receive() returned stays intact after the next receive()", async () => {
  using peer = UdpPeer.open();
  using client = connectUdp(peer.addr);
  const first = background(client.receive());
  await peer.send("the first, longer datagram", client.addr);
  const a = await within(first, {
    awaiting: "the first receive() to return",
    section: section("Deno has no connect(): build it"),
  });
  const second = background(client.receive());
  await peer.send("2nd", client.addr);
  await within(second, {
    awaiting: "the second receive() to return",
    section: section("Deno has no connect(): build it"),
  });
  expectBytes(a, "the first, longer datagram", {
    what: "the first datagram, as receive() returned it, after a second receive()",
    section: section("Deno has no connect(): build it"),
    mistake: decoder.decode(a).startsWith("2nd")
      ? "returned a view of a receive buffer that the next receive() reuses, so it was " +
        "overwritten: return a copy (data.slice())"
      : undefined,
  });
});

Deno.test("connected: receive() returns a 5,000-byte datagram whole", async () => {
  using peer = UdpPeer.open();
  using client = connectUdp(peer.addr);
  const big = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
  const receiving = background(client.receive());
  await peer.send(big, client.addr);
  const got = await within(receiving, {
    awaiting: "receive() to return the peer's 5,000-byte datagram",
    section: section("Deno has no connect(): build it"),
  });
  const mistake = got.length < big.length
    ? `received into a ${got.length}-byte buffer, and the rest of the datagram was silently ` +
      "thrown away: receive into a buffer of MAX_DATAGRAM (65535) bytes, more than any UDP payload"
    : undefined;
  expectEqual(got.length, big.length, {
    what: "the length of the 5,000-byte datagram as receive() returned it",
    section: section("Deno has no connect(): build it"),
    mistake,
  });
  expectBytes(got, big, {
    what: "the 5,000-byte datagram as receive() returned it",
    section: section("Deno has no connect(): build it"),
  });
});

Deno.test({
  ...linuxLoopbackTest("connectUdp: binds the hostname asked (127.0.0.2), not always 127.0.0.1"),
  async fn() {
    using peer = UdpPeer.open();
    using client = connectUdp(peer.addr, { hostname: "127.0.0.2" });
    await client.send("hello");
    const got = await peer.receive({
      awaiting: "the client's datagram",
      section: section("Deno has no connect(): build it"),
    });
    expectEqual(
      `${got.addr.hostname} (addr says ${client.addr.hostname})`,
      "127.0.0.2 (addr says 127.0.0.2)",
      {
        what: "where the datagram came from, with options.hostname 127.0.0.2",
        section: section("Deno has no connect(): build it"),
        mistake: got.addr.hostname === "127.0.0.1"
          ? "ignored options.hostname: bind the socket to the address asked"
          : undefined,
      },
    );
  },
});
