/**
 * Lesson 06 — Binding to interfaces: who can reach a server bound to
 * 127.0.0.1, 127.0.0.2 or 0.0.0.0, which socket names conflict, and the
 * names clients get. On Linux all of 127.0.0.0/8 is loopback; elsewhere the
 * tests that need 127.0.0.2 are skipped. A datagram nobody hears is simply
 * lost, so "not reachable" is checked by a second datagram to the server's
 * own address: its reply comes first if the first datagram went unheard.
 *
 * @module
 */

import {
  AddressInUseError,
  ask,
  bindUdp,
  socketName,
  startServer,
} from "../../exercises/lesson-06/interfaces.ts";
import { background, within } from "../harness/deadline.ts";
import {
  expectBytes,
  expectEqual,
  expectRejects,
  expectThat,
  isNotImplemented,
} from "../harness/expect.ts";
import { fail, type Section, sectionsOf } from "../harness/failure.ts";
import { expectDoneWaitsForReplySend } from "../harness/held_sends.ts";
import { LogLines } from "../harness/log.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { expectCleanStop, stopAfter, stopServer } from "../harness/server_loop.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { openUdpSocket } from "../harness/sockets.ts";
import { type Peer, UdpPeer } from "../harness/udp.ts";
import { hostPort } from "../harness/wire.ts";
import { expectServesAfterNotUtf8, repliedAndLogged } from "../harness/not_utf8.ts";

const section = sectionsOf("lesson-06");
const bookReply = (bytes: number) => `Your data was ${bytes} bytes long`;

type Server = ReturnType<typeof startServer>;

/** Runs `body` with a learner's server bound as asked, and always closes it. */
async function withServer(
  options: { hostname: string; port?: number; log?: (line: string) => void },
  body: (server: Server, crashed: Promise<unknown>) => Promise<void>,
): Promise<void> {
  const server = startServer(options);
  const crashed = background(server.done.then(() => new Promise(() => {})));
  await stopAfter(async () => {
    await body(server, crashed);
  }, () =>
    stopServer(server, {
      awaiting: "the server loop to end after close()",
      section: section("Binding to one interface"),
    }));
}

/** Names the mistake when a server asked for `asked` is bound to `bound`. */
function boundMistake(bound: string, asked: string): string {
  return bound === "0.0.0.0"
    ? `you bound every interface (0.0.0.0), though asked for ${asked}: bind the hostname you ` +
      "were given"
    : `bind the hostname you were given: the server was asked for ${asked}, not ${bound}`;
}

function at(hostname: string, port: number): Deno.NetAddr {
  return { transport: "udp", hostname, port };
}

/**
 * Whom a datagram sent to `to` is answered by: that port on any loopback host
 * (a server bound to 0.0.0.0 answers from the address the OS picks).
 */
function answerer(to: Deno.NetAddr): Peer {
  return { hostname: "0.0.0.0", port: to.port };
}

/** Sends from a fresh test socket and returns the reply, failing (bounded) if none comes. */
async function expectAnswer(
  to: Deno.NetAddr,
  crashed: Promise<unknown>,
  check: { section: Section; mistake?: string },
): Promise<Deno.NetAddr> {
  using peer = UdpPeer.open();
  await peer.send("hello", to);
  const got = await peer.receive({
    awaiting: `a reply to a datagram sent to ${hostPort(to)}`,
    from: answerer(to),
    watch: crashed,
    ...check,
  });
  expectBytes(got.data, bookReply(5), { what: `the reply from ${hostPort(to)}`, ...check });
  return got.addr;
}

/**
 * Sends "hello" from a fresh test socket to `to`, where nobody may answer,
 * then "hello, again" to `server` (where the server says it is bound), and
 * receives until that is answered: the server answers its datagrams in order,
 * so a reply to the first would have come before it. No window to wait out.
 */
async function expectSilence(
  to: Deno.NetAddr,
  server: Deno.NetAddr,
  check: { what: string; section: Section; mistake: string },
): Promise<void> {
  using peer = UdpPeer.open();
  await peer.send("hello", to);
  const bound = at(server.hostname === "0.0.0.0" ? "127.0.0.1" : server.hostname, server.port);
  await peer.send("hello, again", bound);
  const { before: heard } = await peer.receiveUntil(
    (d) => new TextDecoder().decode(d.data) === bookReply(12),
    {
      awaiting: `the reply to a datagram sent after it to ${hostPort(bound)}, where the server ` +
        "is bound",
      from: answerer(to),
      section: check.section,
    },
  );
  expectEqual(heard.length, 0, {
    what: `replies to a datagram sent to ${hostPort(to)}: ${check.what}`,
    section: check.section,
    mistake: check.mistake,
  });
}

Deno.test("socketName: an IP and a port as HOST:PORT, IPv6 in brackets", () => {
  const cases: [Deno.NetAddr, string][] = [
    [at("127.0.0.1", 1060), "127.0.0.1:1060"],
    [at("0.0.0.0", 53), "0.0.0.0:53"],
    [at("::1", 1060), "[::1]:1060"],
  ];
  for (const [addr, want] of cases) {
    expectEqual(socketName(addr), want, {
      what: `socketName of ${addr.hostname} port ${addr.port}`,
      section: section("Socket names"),
      mistake: addr.hostname.includes(":")
        ? "an IPv6 address has colons of its own: put it in brackets before `:PORT`"
        : undefined,
    });
  }
});

Deno.test("server: bound to 127.0.0.1, it has that name and answers there", async () => {
  await withServer({ hostname: "127.0.0.1" }, async (server, crashed) => {
    expectEqual(server.addr.hostname, "127.0.0.1", {
      what: "the address the server's socket is bound to",
      section: section("Binding to one interface"),
      mistake: boundMistake(server.addr.hostname, "127.0.0.1"),
    });
    expectThat(server.addr.port > 0, `port ${server.addr.port}`, {
      what: "port 0 became a real port",
      section: section("Socket names"),
    });
    await expectAnswer(server.addr, crashed, { section: section("Binding to one interface") });
  });
});

Deno.test({
  ...linuxLoopbackTest("server: bound to 127.0.0.1, it does not hear datagrams sent to 127.0.0.2"),
  async fn() {
    await withServer({ hostname: "127.0.0.1" }, async (server) => {
      await expectSilence(at("127.0.0.2", server.addr.port), server.addr, {
        what: "the server is bound to 127.0.0.1 only",
        section: section("Binding to one interface"),
        mistake: "answered a datagram addressed to 127.0.0.2 though asked to bind 127.0.0.1: " +
          "you bound every interface (0.0.0.0); bind the hostname you were given",
      });
    });
  },
});

Deno.test({
  ...linuxLoopbackTest("server: bound to 0.0.0.0, it answers at 127.0.0.1 and at 127.0.0.2"),
  async fn() {
    await withServer({ hostname: "0.0.0.0" }, async (server, crashed) => {
      expectEqual(server.addr.hostname, "0.0.0.0", {
        what: "the address the server's socket is bound to",
        section: section("Binding to all interfaces: 0.0.0.0"),
        mistake: boundMistake(server.addr.hostname, "0.0.0.0"),
      });
      for (const host of ["127.0.0.1", "127.0.0.2"]) {
        const from = await expectAnswer(at(host, server.addr.port), crashed, {
          section: section("Binding to all interfaces: 0.0.0.0"),
          mistake: "a server asked to bind 0.0.0.0 must hear every local address: bind the " +
            "hostname you were given",
        });
        expectEqual(from.port, server.addr.port, {
          what: `the port the reply to ${host} came from`,
          section: section("Binding to all interfaces: 0.0.0.0"),
        });
      }
    });
  },
});

Deno.test({
  ...linuxLoopbackTest("server: bound to 127.0.0.2, it answers there and not at 127.0.0.1"),
  async fn() {
    await withServer({ hostname: "127.0.0.2" }, async (server, crashed) => {
      const mistake = "bind the hostname you were given: the server was asked for 127.0.0.2";
      expectEqual(server.addr.hostname, "127.0.0.2", {
        what: "the address the server's socket is bound to",
        section: section("Binding to one interface"),
        mistake: boundMistake(server.addr.hostname, "127.0.0.2"),
      });
      await expectAnswer(at("127.0.0.2", server.addr.port), crashed, {
        section: section("Binding to one interface"),
        mistake,
      });
      await expectSilence(at("127.0.0.1", server.addr.port), server.addr, {
        what: "the server is bound to 127.0.0.2 only",
        section: section("Binding to one interface"),
        mistake,
      });
    });
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "client: from 127.0.0.1, 127.0.0.2 or 0.0.0.0, it reaches a server on 127.0.0.2",
  ),
  async fn() {
    const log = new LogLines();
    await withServer({ hostname: "127.0.0.2", log: log.push }, async (server, crashed) => {
      for (
        const [bind, seenAs] of [["127.0.0.1", "127.0.0.1"], ["127.0.0.2", "127.0.0.2"], [
          "0.0.0.0",
          "127.0.0.1",
        ]]
      ) {
        const exchange = await within(ask(server.addr, `from ${bind}`, { bind }), {
          awaiting: `ask() bound to ${bind} to get a reply from ${hostPort(server.addr)}`,
          watch: crashed,
          section: section("Reaching a server from any local address"),
        });
        expectEqual(exchange.local.hostname, bind, {
          what: `the client's own address when asked to bind ${bind}`,
          section: section("The client's name"),
          mistake: "ask() ignored options.bind: bind the client's socket to that address",
        });
        expectEqual(exchange.reply, bookReply(`from ${bind}`.length), {
          what: `the reply to the client bound to ${bind}`,
          section: section("Reaching a server from any local address"),
        });
        await log.next(
          new RegExp(`^The client at ${seenAs.replaceAll(".", "\\.")}:${exchange.local.port} says`),
          {
            awaiting:
              `the server's line about the client bound to ${bind} (seen as ${seenAs}:${exchange.local.port})`,
            section: section("The client's name"),
          },
        );
      }
    });
  },
});

Deno.test("client: bound to 0.0.0.0 port 0, the OS picks its port and the address it sends from", async () => {
  using fake = UdpPeer.open();
  const asking = background(ask(fake.addr, "who am I?", { bind: "0.0.0.0" }));
  const request = await fake.receive({
    awaiting: "the client's datagram",
    watch: asking,
    section: section("The client's name"),
  });
  await fake.send(bookReply(request.data.length), request.addr);
  const exchange = await within(asking, {
    awaiting: "ask() to return",
    section: section("The client's name"),
  });
  expectEqual(socketName(exchange.local), `0.0.0.0:${request.addr.port}`, {
    what: "the client's own socket name, as ask() reports it",
    section: section("The client's name"),
    mistake: exchange.local.port === 0
      ? "report the socket's addr (the port the OS picked), not the port you asked for"
      : "ask() ignored options.bind: bind the client's socket to that address",
  });
  expectEqual(request.addr.hostname, "127.0.0.1", {
    what: "the source address the server saw",
    section: section("The client's name"),
  });
  expectEqual(exchange.from.port, fake.addr.port, {
    what: "where ask() says the reply came from",
    section: section("The client's name"),
  });
});

/** The mistake named when ask() reports where it sent the request as the reply's source. */
const FROM_IS_TO = "ask() reported `to` as where the reply came from: report the address " +
  "receive() returned with the reply, which need not be the one you sent to";

Deno.test({
  ...linuxLoopbackTest(
    "client: a server on 0.0.0.0 asked at 127.0.0.2 answers from 127.0.0.1, and ask() says so",
  ),
  async fn() {
    // Measured (Linux): the wildcard socket's reply leaves from the route's source address,
    // 127.0.0.1, whatever address the request was sent to.
    using fake = UdpPeer.open("0.0.0.0");
    const to = at("127.0.0.2", fake.addr.port);
    const where = section("Binding to all interfaces: 0.0.0.0");
    const asking = background(ask(to, "hello"));
    const request = await fake.receive({
      awaiting: `the client's datagram, sent to ${hostPort(to)}`,
      watch: asking,
      section: where,
    });
    await fake.send(bookReply(request.data.length), request.addr);
    const exchange = await within(asking, {
      awaiting: `ask() to return the reply, which comes from 127.0.0.1:${fake.addr.port}, ` +
        `not from ${hostPort(to)}`,
      section: where,
      mistake: "ask() waited for a reply from the address it sent to: take the first " +
        "datagram that arrives as the reply (a server on 0.0.0.0 answers from the address " +
        "the OS picks)",
    });
    expectEqual(socketName(exchange.from), `127.0.0.1:${fake.addr.port}`, {
      what: `where ask() says the reply to its datagram to ${hostPort(to)} came from`,
      section: where,
      mistake: exchange.from.hostname === to.hostname ? FROM_IS_TO : undefined,
    });
  },
});

/**
 * Tries `bindUdp(hostname, port)` while another socket holds a clashing name,
 * and returns the error it threw. Fails, naming the mistake, if it bound.
 */
function bindError(
  hostname: string,
  port: number,
  check: { what: string; section: Section },
): unknown {
  let second: Deno.DatagramConn | undefined;
  try {
    second = bindUdp(hostname, port);
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    return error;
  }
  const got = second.addr as Deno.NetAddr;
  second.close();
  return fail({
    summary: `${check.what}: it bound ${hostPort(got)} instead of failing`,
    section: check.section,
    expected: "an AddressInUseError",
    got: `a socket bound to ${hostPort(got)}`,
    mistake: got.port !== port
      ? `silently moved to another port (${got.port}) instead of failing: the caller asked for ` +
        "this name and must be told it is taken"
      : "two sockets share one socket name: do not set reuseAddress, so that the OS refuses " +
        "the second bind",
  });
}

/** Checks `error` is the clear AddressInUseError for `name`. */
function expectAddressInUse(
  error: unknown,
  name: string,
  check: { what: string; section: Section },
) {
  expectThat(error instanceof AddressInUseError, String(error), {
    what: check.what,
    expected: "an AddressInUseError",
    section: check.section,
    mistake: error instanceof Deno.errors.AddrInUse
      ? "let Deno's AddrInUse through: catch it and throw an AddressInUseError naming the socket " +
        "name"
      : undefined,
  });
  const { message, socketName: named } = error as AddressInUseError;
  expectThat(message.includes(name), message, {
    what: "the error's message names the socket name that is taken",
    expected: `a message containing ${name}`,
    section: check.section,
  });
  expectEqual(named, name, { what: "the error's socketName", section: check.section });
}

Deno.test("bindUdp: a second socket on a name in use fails with a clear AddressInUseError", () => {
  const first = bindUdp("127.0.0.1", 0);
  const { port } = first.addr as Deno.NetAddr;
  try {
    const check = {
      what: `bindUdp("127.0.0.1", ${port}) while another socket holds 127.0.0.1:${port}`,
      section: section("One socket per name"),
    };
    expectAddressInUse(bindError("127.0.0.1", port, check), `127.0.0.1:${port}`, check);
  } finally {
    first.close();
  }
  const again = bindUdp("127.0.0.1", port); // once the first is closed, the name is free
  again.close();
});

Deno.test("bindUdp: AddressInUseError keeps Deno's AddrInUse as its cause and is named so", () => {
  using first = openUdpSocket();
  const { port } = first.addr as Deno.NetAddr;
  const check = {
    what: `bindUdp("127.0.0.1", ${port}) while another socket holds 127.0.0.1:${port}`,
    section: section("One socket per name"),
  };
  const error = bindError("127.0.0.1", port, check) as AddressInUseError;
  expectAddressInUse(error, `127.0.0.1:${port}`, check);
  expectThat(error.cause instanceof Deno.errors.AddrInUse, `cause: ${String(error.cause)}`, {
    what: "the AddressInUseError's cause",
    expected: "Deno's AddrInUse error, the original, kept as { cause }",
    section: section("One socket per name"),
    mistake: "dropped the original error: pass { cause: error } to the new error, so that " +
      "whoever debugs it still sees what the OS said",
  });
  expectEqual(error.name, "AddressInUseError", {
    what: "the AddressInUseError's name (what a stack trace and String(error) show)",
    section: section("One socket per name"),
    mistake: 'set this.name = "AddressInUseError" in the constructor',
  });
});

Deno.test("bindUdp: another failure is not AddressInUseError: port 70000 fails as Deno says", () => {
  let error: unknown;
  try {
    bindUdp("127.0.0.1", 70_000).close();
  } catch (e) {
    if (isNotImplemented(e)) throw e;
    error = e;
  }
  expectThat(
    error !== undefined && !(error instanceof AddressInUseError),
    error === undefined
      ? "it bound a socket"
      : `${(error as Error).name}: ${(error as Error).message}`,
    {
      what: 'bindUdp("127.0.0.1", 70000): no such port, nothing to do with a name in use',
      expected: "Deno's own error for the bad port, passed on unchanged",
      section: section("One socket per name"),
      mistake: error instanceof AddressInUseError
        ? "turned every bind failure into AddressInUseError: translate only AddrInUse, " +
          "and rethrow anything else as it is"
        : undefined,
    },
  );
});

Deno.test("server: counts and logs UTF-8 bytes, and takes a 65,507-byte datagram whole", async () => {
  const log = new LogLines();
  await withServer({ hostname: "127.0.0.1", log: log.push }, async (server, crashed) => {
    using peer = UdpPeer.open();
    await peer.send("Grüße ☕", server.addr);
    const line = await log.next(/^The client at \S+ says (.*)$/, {
      awaiting: 'the server\'s log line for the datagram "Grüße ☕"',
      section: section("Binding to one interface"),
    });
    expectEqual(line[1], JSON.stringify("Grüße ☕"), {
      what: 'what the log line quotes for the datagram "Grüße ☕"',
      section: section("Binding to one interface"),
      mistake: line[1].includes("Ã")
        ? "decoded one character per byte (String.fromCharCode): decode as UTF-8"
        : undefined,
    });
    await peer.receive({
      awaiting: 'the reply to "Grüße ☕"',
      watch: crashed,
      section: section("Binding to one interface"),
    });
    const cases: [string | Uint8Array, number, string][] = [
      ["Grüße, café ☕", 18, "18 bytes, 13 characters"],
      [new Uint8Array(65_507).fill(0x61), 65_507, "65,507 bytes, the most IPv4 carries"],
    ];
    for (const [payload, n, what] of cases) {
      await peer.send(payload, server.addr);
      const got = await peer.receive({
        awaiting: `the reply to a datagram of ${what}`,
        watch: crashed,
        section: section("Binding to one interface"),
      });
      const text = new TextDecoder().decode(got.data);
      const counted = Number(text.match(/\d+/)?.[0]);
      expectBytes(got.data, bookReply(n), {
        what: `the reply to a datagram of ${what}`,
        section: section("Binding to one interface"),
        mistake: n === 18 && counted === 13
          ? "counted characters (the decoded string's length) instead of the bytes received"
          : counted < n
          ? `the receive buffer held only ${counted} bytes and UDP silently cut off the ` +
            "rest: receive into a buffer of 65535 bytes"
          : undefined,
      });
    }
  });
});

Deno.test("server: a datagram that is not UTF-8 is logged and answered, and the server goes on", async () => {
  const log = new LogLines();
  const where = section("Binding to one interface");
  await withServer({ hostname: "127.0.0.1", log: log.push }, async (server) => {
    await expectServesAfterNotUtf8(server, where, repliedAndLogged(log, where, { section: where }));
  });
});

Deno.test("client: ask() returns a UTF-8 reply, and replies of 2,000 and 65,507 bytes whole", async () => {
  for (const text of ["Grüße, café ☕", "z".repeat(2000), "z".repeat(65_507)]) {
    using fake = UdpPeer.open();
    const asking = background(ask(fake.addr, "hello"));
    const request = await fake.receive({
      awaiting: "the client's datagram",
      watch: asking,
      section: section("The client's name"),
    });
    await fake.send(text, request.addr);
    const result = await within(asking, {
      awaiting: "ask() to return after the reply arrived",
      section: section("The client's name"),
    });
    const long = text.length > 100;
    expectEqual(long ? result.reply.length : result.reply, long ? text.length : text, {
      what: long
        ? `the length of the ${text.length.toLocaleString("en")}-byte reply ask() returned`
        : "the UTF-8 reply ask() returned",
      section: section("The client's name"),
      mistake: result.reply.includes("Ã")
        ? "decoded one character per byte (String.fromCharCode): decode as UTF-8"
        : result.reply.length < text.length
        ? `the client's receive buffer held only ${result.reply.length} bytes and UDP ` +
          "silently cut off the rest: receive into a buffer of 65535 bytes"
        : undefined,
    });
  }
});

Deno.test("server: two servers asked for the same name: the second fails with AddressInUseError", async () => {
  await withServer({ hostname: "127.0.0.1" }, async (server) => {
    await expectRejects(
      () => startServer({ hostname: "127.0.0.1", port: server.addr.port }).close(),
      {
        kind: AddressInUseError,
        pattern: new RegExp(`127\\.0\\.0\\.1:${server.addr.port}`),
        what: `startServer on 127.0.0.1:${server.addr.port}, already held by another server`,
        section: section("One socket per name"),
        mistake: "a server asked for a name already in use must fail with bindUdp's " +
          "AddressInUseError, not start somewhere else",
      },
    );
  });
});

Deno.test({
  ...linuxLoopbackTest(
    "bindUdp: 0.0.0.0 holds the port on every address, so 127.0.0.1 on it is taken",
  ),
  fn() {
    using all = openUdpSocket({ hostname: "0.0.0.0" });
    const { port } = all.addr as Deno.NetAddr;
    const check = {
      what: `bindUdp("127.0.0.1", ${port}) while a socket holds 0.0.0.0:${port}`,
      section: section("Binding to all interfaces: 0.0.0.0"),
    };
    expectAddressInUse(bindError("127.0.0.1", port, check), `127.0.0.1:${port}`, check);
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "server: one port on two addresses: 127.0.0.1 and 127.0.0.2 coexist, each answering its own",
  ),
  async fn() {
    const logA = new LogLines();
    const logB = new LogLines();
    await withServer({ hostname: "127.0.0.1", log: logA.push }, async (a, crashedA) => {
      let b: Server;
      try {
        b = startServer({ hostname: "127.0.0.2", port: a.addr.port, log: logB.push });
      } catch (error) {
        return expectThat(false, String(error), {
          what:
            `a second server on 127.0.0.2:${a.addr.port} beside one on 127.0.0.1:${a.addr.port}`,
          expected: "it binds: the socket names differ (same port, other address)",
          section: section("Same port, different addresses"),
          mistake: "a socket name is an address AND a port: if this clashed, the first server " +
            "bound every interface (0.0.0.0) instead of the hostname it was given",
        });
      }
      const crashedB = background(b.done.then(() => new Promise(() => {})));
      await stopAfter(async () => {
        for (
          const [host, log, crashed] of [["127.0.0.1", logA, crashedA], [
            "127.0.0.2",
            logB,
            crashedB,
          ]] as const
        ) {
          const to = at(host, a.addr.port);
          await expectAnswer(to, crashed, { section: section("Same port, different addresses") });
          await log.next(/^The client at 127\.0\.0\.1:\d+ says "hello"$/, {
            awaiting: `the server bound to ${host} to log the datagram sent to ${hostPort(to)}`,
            section: section("Same port, different addresses"),
            mistake: "each datagram reaches the socket whose name matches its destination exactly",
          });
        }
      }, () =>
        stopServer(b, {
          awaiting: "the second server loop to end after close()",
          section: section("Same port, different addresses"),
        }));
    });
  },
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startServer(port === undefined ? undefined : { port }),
    "udp",
    section("Binding to one interface"),
  );
});

Deno.test("server: done resolves (never rejects) after close(), also after serving", async () => {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    await within(ask(running.addr, "hi"), {
      awaiting: "the reply to ask()",
      section: section("Binding to one interface"),
    });
  }, () =>
    expectCleanStop(running, {
      awaiting: "done to resolve after close()",
      section: section("Binding to one interface"),
    }));
});

Deno.test("server: done waits for the reply being sent when close() comes", async () => {
  await expectDoneWaitsForReplySend(() => startServer({ hostname: "127.0.0.1", port: 0 }), {
    request: "hold this reply",
    section: section("Binding to one interface"),
    replying: section("Binding to one interface"),
  });
});

Deno.test("client: without `bind`, two ask() calls at once use 127.0.0.1 and two OS-picked ports", async () => {
  using fake = UdpPeer.open();
  const asking = [background(ask(fake.addr, "one")), background(ask(fake.addr, "two"))];
  const where = section("The client's name");
  const [first, second] = await fake.receiveFromTwoClients(asking, where);
  await fake.send("Your data was 3 bytes long", first.addr);
  await fake.send("Your data was 3 bytes long", second.addr);
  const [a, b] = await within(Promise.all(asking), {
    awaiting: "both ask() calls to return",
    section: where,
  });
  const names = `${hostPort(a.local)} and ${hostPort(b.local)}`;
  expectThat(
    a.local.hostname === "127.0.0.1" && b.local.hostname === "127.0.0.1" &&
      a.local.port !== b.local.port,
    names,
    {
      what: "the names two ask() calls without `bind` report, running at once",
      expected: "127.0.0.1 (the default) with two different ports the OS picked",
      section: where,
    },
  );
});

Deno.test("client: ask() with text too long for a datagram rejects with the socket's error", async () => {
  using fake = UdpPeer.open();
  const outcome = await within(
    ask(fake.addr, "x".repeat(70_000)).then(() => "it resolved", (e: Error) => {
      if (isNotImplemented(e)) throw e;
      return `${e.name}: ${e.message}`;
    }),
    { awaiting: "ask() of 70,000 bytes to settle", section: section("The client's name") },
  );
  expectThat(outcome !== "it resolved", outcome, {
    what: "ask() of a 70,000-byte text (more than a datagram can carry)",
    expected: "a rejection with the socket's error",
    section: section("The client's name"),
    mistake: "ask() did not wait for its send: await it, so its error reaches the caller",
  });
});
