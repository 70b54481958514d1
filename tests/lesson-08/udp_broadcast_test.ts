/**
 * Lesson 08 — Broadcast on loopback: the book's udp_broadcast program, the
 * subnet broadcast address, and what `reuseAddress` changes. Socket tests
 * need Linux (127.255.255.255 reaches sockets bound to 0.0.0.0) and skip
 * elsewhere with the reason in their name.
 *
 * @module
 */

import {
  broadcastAddress,
  broadcastLine,
  client,
  server,
} from "../../exercises/lesson-08/udp_broadcast.ts";
import { describe } from "../harness/bytes.ts";
import { within } from "../harness/deadline.ts";
import {
  expectBytes,
  expectEqual,
  expectRejects,
  expectThat,
  isNotImplemented,
} from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { type ListeningLine, startClientRole, startServerRole } from "../harness/program.ts";
import { openUdpSocket, unusedPort } from "../harness/sockets.ts";
import { UdpPeer } from "../harness/udp.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { expectServesAfterNotUtf8 } from "../harness/not_utf8.ts";

const section = sectionsOf("lesson-08");

/**
 * A port nobody holds on 0.0.0.0, where the servers bind (port 0 WITH
 * reuseAddress may hand out a port another reusing socket already holds).
 */
const freePort = () => unusedPort({ transport: "udp", hostname: "0.0.0.0" });

const LOOPBACK_BROADCAST = "127.255.255.255";
const toBroadcast = (port: number): Deno.NetAddr => ({
  transport: "udp",
  hostname: LOOPBACK_BROADCAST,
  port,
});

/** Starts the learner's `server` role on `port`, once it prints `Listening for broadcasts at …`. */
function runServer(port: number, listening: Partial<ListeningLine> & { awaiting: string }) {
  return startServerRole(server, {
    section: section("Running it as a program"),
    port,
    transport: "udp",
    listening: { pattern: /^Listening for broadcasts at/, ...listening },
  });
}

Deno.test("broadcastAddress: sets every host bit of the subnet to 1", () => {
  const cases: [string, number, string][] = [
    // Arithmetic only: nothing is sent to any of these.
    ["127.51.100.23", 24, "127.51.100.255"],
    ["127.0.0.1", 8, "127.255.255.255"],
    // A first octet of 128 or more sets bit 31, where signed 32-bit arithmetic goes negative. No
    // loopback address has it, so these two are outside 127.0.0.0/8: documentation addresses
    // (RFC 5737), only computed with, never sent to.
    ["203.0.113.3", 8, "203.255.255.255"],
    ["198.51.100.4", 12, "198.63.255.255"],
    ["127.51.100.21", 30, "127.51.100.23"],
    ["127.51.100.21", 32, "127.51.100.21"],
    ["127.51.100.20", 31, "127.51.100.21"],
    ["127.0.0.1", 1, "127.255.255.255"],
  ];
  for (const [address, prefix, expected] of cases) {
    const got = broadcastAddress(address, prefix);
    expectEqual(got, expected, {
      what: `broadcastAddress("${address}", ${prefix})`,
      section: section("The broadcast address of a subnet"),
      mistake: got.endsWith(".255") && prefix !== 24
        ? "x.x.x.255 is the broadcast address of a /24 only: set the last (32 - prefix) bits, " +
          "whatever the prefix"
        : undefined,
    });
  }
  // /0: every bit is a host bit (and 2 ** 32 - 1 must not overflow 32-bit integers). Checked as
  // a number, all 32 bits set: as text it is the limited-broadcast address, which this course
  // neither names nor sends to.
  const all = broadcastAddress("127.51.100.23", 0);
  const bits = /^\d{1,3}(\.\d{1,3}){3}$/.test(all)
    ? all.split(".").reduce((n, part) => n * 256 + Number(part), 0)
    : NaN;
  expectThat(bits === 2 ** 32 - 1, JSON.stringify(all), {
    what: 'broadcastAddress("127.51.100.23", 0)',
    expected: "every one of the 32 bits set (2 ** 32 - 1, read as a number)",
    section: section("The broadcast address of a subnet"),
    mistake: all === "127.51.100.23"
      ? "shifted by 32 (0xffffffff << 32 is 0xffffffff << 0 in JavaScript: shift " +
        "counts go modulo 32): at /0 every bit is a host bit"
      : undefined,
  });
});

Deno.test("broadcastAddress: junk addresses and prefixes are a RangeError", async () => {
  const cases: [string, number, string][] = [
    ["1e2.0.0.1", 8, 'a part in exponent notation (Number("1e2") is 100)'],
    ["0x7f.0.0.1", 8, 'a part in hex (Number("0x7f") is 127)'],
    ["+1.0.0.1", 8, "a sign"],
    [" 127.0.0.1", 8, "a leading space"],
    ["127.0.0.1\n", 8, "a trailing newline"],
    ["127..0.1", 8, 'an empty part (Number("") is 0)'],
    ["", 8, "nothing at all"],
    ["127.0.0", 8, "three parts"],
    ["١٢٧.0.0.1", 8, "digits other than 0-9"],
    ["256.0.0.1", 8, "a part over 255"],
    ["127.0.0.1", 33, "a prefix over 32"],
    ["127.0.0.1", -1, "a negative prefix"],
    ["127.0.0.1", 8.5, "a prefix that is not whole"],
    ["127.0.0.1", Number.NaN, "NaN as the prefix"],
  ];
  for (const [address, prefix, why] of cases) {
    let returned: string | undefined;
    let error: unknown;
    try {
      returned = broadcastAddress(address, prefix);
    } catch (e) {
      error = e;
    }
    await expectRejects(() => {
      if (error !== undefined) throw error;
      return returned;
    }, {
      kind: RangeError,
      what: `broadcastAddress(${JSON.stringify(address)}, ${prefix}): ${why}`,
      section: section("The broadcast address of a subnet"),
      mistake: returned !== undefined
        ? `accepted ${why}: check each part is 1 to 3 digits 0-9 and at most 255, ` +
          "and the prefix a whole number from 0 to 32"
        : undefined,
    });
  }
});

Deno.test("broadcastLine: a UTF-8 datagram is quoted as its text", () => {
  const from: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 50000 };
  const got = broadcastLine(from, new TextEncoder().encode("Grüße ☕"));
  expectEqual(got, "The client at (127.0.0.1, 50000) says: 'Grüße ☕'", {
    what: 'broadcastLine(127.0.0.1:50000, the 12 UTF-8 bytes of "Grüße ☕")',
    section: section("Running it as a program"),
    mistake: got.includes("Ã")
      ? "decoded one character per byte (String.fromCharCode): decode as UTF-8"
      : undefined,
  });
});

Deno.test({
  ...linuxLoopbackTest(
    "server: binds all interfaces and prints the book's line for a datagram sent to 127.255.255.255",
  ),
  async fn() {
    const port = freePort();
    await using running = await runServer(port, {
      pattern: /^Listening for broadcasts at (\S+):(\d+)$/,
      awaiting: "the line `Listening for broadcasts at 0.0.0.0:PORT`",
    });
    const { listening } = running;
    if (listening[1] !== "0.0.0.0") {
      fail({
        summary: `the server bound ${listening[1]}, which does not hear broadcasts`,
        section: section("Who hears a broadcast"),
        expected: `0.0.0.0:${port}`,
        got: `${listening[1]}:${listening[2]}`,
        mistake: `not binding 0.0.0.0: a socket bound to ${listening[1]} only gets datagrams ` +
          "addressed to that address; the book's server binds all interfaces whatever host is given",
      });
    }
    using sender = openUdpSocket();
    await sender.send(new TextEncoder().encode("Broadcast datagram!"), toBroadcast(port));
    const me = (sender.addr as Deno.NetAddr).port;
    await running.log.next(
      new RegExp(`^The client at \\(127\\.0\\.0\\.1, ${me}\\) says: 'Broadcast datagram!'$`),
      {
        awaiting: `the line \`The client at (127.0.0.1, ${me}) says: 'Broadcast datagram!'\``,
        watch: running.running,
        section: section("Running it as a program"),
        mistake: "not binding 0.0.0.0: only a socket bound to all interfaces hears " +
          "datagrams sent to 127.255.255.255",
      },
    );
  },
});

Deno.test({
  ...linuxLoopbackTest("server: two copies on one port both hear one broadcast (reuseAddress)"),
  async fn() {
    const port = freePort();
    await using first = await runServer(port, {
      awaiting: "the first server's `Listening for broadcasts at …` line",
    });
    const reuse = "no reuseAddress: every socket that shares a port must be bound with " +
      "reuseAddress: true (the first one too), or the second bind fails with AddrInUse";
    await using second = await runServer(port, {
      awaiting: "the second server's `Listening for broadcasts at …` line",
      section: section("Sharing a port: reuseAddress"),
      mistake: reuse,
    }).catch((error) => {
      if (isNotImplemented(error) || !(error instanceof Error) || error.name !== "AddrInUse") {
        throw error;
      }
      return fail({
        summary: "a second server on the same port could not bind",
        section: section("Sharing a port: reuseAddress"),
        got: `${error.name}: ${error.message}`,
        mistake: reuse,
      });
    });
    using sender = openUdpSocket();
    await sender.send(new TextEncoder().encode("Broadcast datagram!"), toBroadcast(port));
    const me = (sender.addr as Deno.NetAddr).port;
    const line = new RegExp(`^The client at \\(127\\.0\\.0\\.1, ${me}\\) says: `);
    for (const [which, copy] of [["first", first], ["second", second]] as const) {
      await copy.log.next(line, {
        awaiting: `the ${which} server to print the broadcast`,
        watch: copy.running,
        section: section("Sharing a port: reuseAddress"),
      });
    }
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "client: sends exactly `Broadcast datagram!` to the broadcast address given",
  ),
  async fn() {
    const port = freePort();
    // Bound to the broadcast address itself: it receives only datagrams sent to it.
    using listener = openUdpSocket({ hostname: LOOPBACK_BROADCAST, port });
    const { running } = startClientRole(client, { hostname: LOOPBACK_BROADCAST, port });
    const receiving = listener.receive();
    receiving.catch(() => {});
    const [data] = await within(receiving, {
      awaiting: `a datagram addressed to ${LOOPBACK_BROADCAST}:${port}`,
      watch: running,
      section: section("Running it as a program"),
      mistake: "the client must send to the host it is given (here 127.255.255.255), " +
        "not to 127.0.0.1",
    });
    expectBytes(data, "Broadcast datagram!", {
      what: `the client's datagram, ${describe(data)}`,
      section: section("Running it as a program"),
      mistake: "the book's bytes exactly: 19 bytes, no newline",
    });
    await within(running, {
      awaiting: "client() to return after sending",
      section: section("Running it as a program"),
    });
  },
});

Deno.test("broadcastLine: quotes the text the way Python's repr() does", () => {
  const line = broadcastLine(
    { transport: "udp", hostname: "127.0.0.1", port: 5 },
    new TextEncoder().encode(`say "hi", it's`),
  );
  expectEqual(line, `The client at (127.0.0.1, 5) says: 'say "hi", it\\'s'`, {
    what: `the line for the datagram say "hi", it's`,
    section: section("Running it as a program"),
  });
});

Deno.test("program: `server` prints a datagram that is not UTF-8 and goes on", async () => {
  await using running = await runServer(freePort(), {
    awaiting: "the line `Listening for broadcasts at …`",
  });
  const where = section("Running it as a program");
  // Sent to 127.0.0.1: a socket bound to 0.0.0.0 hears it, on any system.
  await expectServesAfterNotUtf8(
    { addr: running.addr, done: running.running },
    where,
    async (peer, sent, watch) => {
      await running.log.next(
        new RegExp(`^The client at \\(127\\.0\\.0\\.1, ${peer.addr.port}\\) says: `),
        { awaiting: `the line for the datagram ${describe(sent)}`, watch, section: where },
      );
    },
  );
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, {
    section: section("Running it as a program"),
    listening: {
      pattern: /^Listening for broadcasts at/,
      awaiting: "the line `Listening for broadcasts at …`",
    },
  });
});

Deno.test("program: two `client`s at once send from two OS-picked ports and say what they sent", async () => {
  using fake = UdpPeer.open();
  const clients = [
    startClientRole(client, { port: fake.addr.port }),
    startClientRole(client, { port: fake.addr.port }),
  ];
  const where = section("Running it as a program");
  const [first, second] = await fake.receiveFromTwoClients(clients.map((c) => c.running), where);
  for (const { log, running } of clients) {
    await within(running, { awaiting: "client() to return after sending", section: where });
    await log.next(
      new RegExp(`^Sent 'Broadcast datagram!' to 127\\.0\\.0\\.1:${fake.addr.port}$`),
      {
        awaiting: `the line \`Sent 'Broadcast datagram!' to 127.0.0.1:${fake.addr.port}\``,
        section: where,
      },
    );
  }
  expectThat(first.addr.port !== second.addr.port, `both from port ${first.addr.port}`, {
    what: "the source ports of two clients running at once",
    expected: "two different ports, each picked by the OS (bind port 0)",
    section: where,
  });
});

Deno.test("broadcastAddress: the RangeError names the address and prefix it refused", () => {
  let message = "it returned";
  try {
    broadcastAddress("1.2.3", 8);
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    message = error instanceof Error ? error.message : String(error);
  }
  expectThat(message.includes("1.2.3/8"), JSON.stringify(message), {
    what: 'the message of broadcastAddress("1.2.3", 8)\'s error',
    expected: "it names what was refused: 1.2.3/8",
    section: section("The broadcast address of a subnet"),
  });
});

Deno.test("broadcastAddress: an octet of 255 is a valid address", () => {
  let got: string;
  try {
    got = broadcastAddress("127.255.0.1", 16);
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    got = String(error);
  }
  expectEqual(got, "127.255.255.255", {
    what: 'broadcastAddress("127.255.0.1", 16)',
    section: section("The broadcast address of a subnet"),
    mistake: "an octet runs from 0 to 255 inclusive: refuse only above 255",
  });
});
