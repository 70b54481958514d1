/**
 * Lesson 07 — Datagram size: the 65,507-byte limit, "Message too long",
 * silent truncation, and the arithmetic of fragmentation, on real loopback
 * datagrams.
 *
 * @module
 */

import {
  DatagramTooLargeError,
  deliveryProbability,
  fragmentCount,
  payloadBudget,
  receiveChecked,
  sendChecked,
} from "../../exercises/lesson-07/datagram_size.ts";
import { background, within } from "../harness/deadline.ts";
import {
  expectEqual,
  expectRejects,
  expectThat,
  isNotImplemented,
} from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { openUdpSocket } from "../harness/sockets.ts";
import { UdpPeer } from "../harness/udp.ts";

const section = sectionsOf("lesson-07");

const MACOS = Deno.build.os === "darwin";

Deno.test({
  name: "sendChecked: sends a datagram of exactly 65,507 bytes whole" +
    (MACOS
      ? " (skipped on macOS: it caps UDP sends at 9,216 bytes by default)"
      : ""),
  ignore: MACOS,
}, async () => {
  using socket = openUdpSocket();
  using peer = UdpPeer.open();
  const data = new Uint8Array(65_507).fill(0x41);
  let sent: number;
  try {
    sent = await within(sendChecked(socket, data, peer.addr), {
      awaiting: "sendChecked() of 65,507 bytes",
      section: section("How big can a datagram be?"),
    });
  } catch (error) {
    if (isNotImplemented(error) || !(error instanceof DatagramTooLargeError)) {
      throw error;
    }
    fail({
      summary: "sendChecked() refused a datagram of exactly 65,507 bytes",
      section: section("How big can a datagram be?"),
      got: `${error.name}: ${error.message}`,
      mistake:
        "the limit itself is allowed: refuse only datagrams LONGER than the limit (>, not >=)",
    });
  }
  expectEqual(sent, 65_507, {
    what: "what sendChecked() returned (the bytes sent)",
    section: section("How big can a datagram be?"),
  });
  const got = await peer.receive({
    awaiting: "the 65,507-byte datagram",
    section: section("How big can a datagram be?"),
  });
  expectEqual(got.data.length, 65_507, {
    what: "the size of the datagram that arrived",
    section: section("How big can a datagram be?"),
  });
});

Deno.test('sendChecked: turns the OS\'s "Message too long" into a DatagramTooLargeError', async () => {
  using socket = openUdpSocket();
  using peer = UdpPeer.open();
  // A limit above what UDP allows, so the OS is the one that refuses.
  const error = await expectRejects(
    () => sendChecked(socket, new Uint8Array(70_000), peer.addr, 100_000),
    {
      kind: DatagramTooLargeError,
      what:
        "sendChecked() of 70,000 bytes (the caller's limit 100,000, UDP's 65,507)",
      section: section("Message too long"),
      mistake:
        'ignored the OS\'s "Message too long": catch the send error whose code is EMSGSIZE ' +
        "(os error 90) and throw a DatagramTooLargeError",
    },
  );
  expectThat(/70000|70,000/.test(error.message), error.message, {
    what: "the error's message names the datagram's size",
    expected: "a message mentioning 70000",
    section: section("Message too long"),
  });
  const cause = error.cause;
  expectThat(
    cause instanceof Error && /too long|os error 90/i.test(cause.message),
    String(cause),
    {
      what: "the DatagramTooLargeError's cause",
      expected: 'the OS\'s own error ("Message too long"), kept as { cause }',
      section: section("Message too long"),
      mistake: cause === undefined
        ? "dropped the original error: pass { cause: error } to the new error, so that " +
          "whoever debugs it still sees what the OS said"
        : undefined,
    },
  );
  expectEqual((await peer.collect(20)).length, 0, {
    what: "datagrams that reached the peer",
    section: section("Message too long"),
  });
});

Deno.test("sendChecked: refuses a payload over the caller's limit before sending anything", async () => {
  using socket = openUdpSocket();
  using peer = UdpPeer.open();
  const sending = background(
    sendChecked(socket, new Uint8Array(1473), peer.addr, 1472),
  );
  const arrived = await peer.collect(30);
  if (arrived.length) {
    fail({
      summary: "a 1,473-byte datagram left although the limit was 1,472",
      section: section("Refusing oversize datagrams up front"),
      got: `a datagram of ${arrived[0].data.length} bytes reached the peer`,
      mistake:
        "no up-front size check: compare data.length with the limit before calling send(), " +
        "the OS only enforces 65,507",
    });
  }
  await expectRejects(
    () =>
      within(sending, {
        awaiting: "sendChecked() to settle",
        section: section("Refusing oversize datagrams up front"),
      }),
    {
      kind: DatagramTooLargeError,
      what: "sendChecked() of 1,473 bytes with a limit of 1,472",
      section: section("Refusing oversize datagrams up front"),
    },
  );
});

Deno.test("receiveChecked: refuses a datagram longer than its limit instead of returning it truncated", async () => {
  using socket = openUdpSocket();
  using peer = UdpPeer.open();
  const to = socket.addr as Deno.NetAddr;
  await peer.send(new Uint8Array(600).fill(0x7a), to);
  let result: [Uint8Array, Deno.NetAddr] | undefined;
  try {
    result = await within(receiveChecked(socket, 512), {
      awaiting: "receiveChecked(socket, 512) with a 600-byte datagram waiting",
      section: section("Silent truncation"),
    });
  } catch (error) {
    if (!(error instanceof DatagramTooLargeError)) throw error;
  }
  if (result) {
    fail({
      summary:
        "receiveChecked() returned a datagram that was longer than its limit",
      section: section("Silent truncation"),
      expected: "a DatagramTooLargeError",
      got: `${result[0].length} bytes returned (600 were sent)`,
      mistake: result[0].length === 512
        ? "trusted a truncated datagram: a receive buffer of exactly the limit cannot tell a " +
          "512-byte datagram from a cut-off one; give it one byte to spare"
        : undefined,
    });
  }
  // A datagram of exactly the limit still comes through whole, from its sender.
  await peer.send(new Uint8Array(512).fill(0x79), to);
  const [data, from] = await within(receiveChecked(socket, 512), {
    awaiting: "receiveChecked(socket, 512) with a 512-byte datagram waiting",
    section: section("Silent truncation"),
  });
  expectEqual([data.length, from.port], [512, peer.addr.port], {
    what:
      "[size, sender's port] of a 512-byte datagram received with a 512-byte limit",
    section: section("Silent truncation"),
  });
});

Deno.test("payloadBudget and fragmentCount: the arithmetic of MTU and IP fragments", () => {
  const cases: [string, () => number, number][] = [
    ["payloadBudget(1500)", () => payloadBudget(1500), 1472],
    ["payloadBudget(576)", () => payloadBudget(576), 548],
    ["fragmentCount(1472, 1500)", () => fragmentCount(1472, 1500), 1],
    ["fragmentCount(1473, 1500)", () => fragmentCount(1473, 1500), 2],
    ["fragmentCount(8000, 1500)", () => fragmentCount(8000, 1500), 6],
    ["fragmentCount(65507, 1500)", () => fragmentCount(65_507, 1500), 45],
    ["fragmentCount(0, 1500)", () => fragmentCount(0, 1500), 1],
    // MTUs where mtu - 20 is no multiple of 8: fragments carry 984 and 8,976 bytes.
    ["fragmentCount(1962, 1006)", () => fragmentCount(1962, 1006), 3],
    ["fragmentCount(17945, 9000)", () => fragmentCount(17_945, 9000), 3],
    ["payloadBudget(9000)", () => payloadBudget(9000), 8972],
  ];
  for (const [call, run, expected] of cases) {
    const got = run();
    expectEqual(got, expected, {
      what: call,
      section: section("IP fragmentation"),
      mistake: call.startsWith("payloadBudget")
        ? "subtract both headers from the MTU: 20 bytes of IPv4 and 8 of UDP"
        : got < expected
        ? "the 8-byte UDP header travels in the fragments too, and each fragment holds " +
          "a multiple of 8 bytes: (mtu - 20) rounded down to 8"
        : undefined,
    });
  }
});

Deno.test("deliveryProbability: every fragment must arrive, so it is (1 - p)^k", () => {
  const cases: [number, number, string][] = [
    [0.01, 1, "0.9900"],
    [0.01, 45, "0.6362"],
    [0.05, 6, "0.7351"],
    [0, 45, "1.0000"],
  ];
  for (const [p, k, expected] of cases) {
    expectEqual(deliveryProbability(p, k).toFixed(4), expected, {
      what: `deliveryProbability(${p}, ${k}) to 4 places`,
      section: section("Why big datagrams get lost"),
      mistake:
        "the datagram arrives only if fragment 1 AND fragment 2 AND … arrive: " +
        "multiply (1 - p) by itself k times",
    });
  }
});
