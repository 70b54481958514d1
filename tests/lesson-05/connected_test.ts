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
  const sent = await peer.collect(50);
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
