import { assert, assertEquals } from "@std/assert";
import { connect, FakeServer, readExactly, readToEnd, writeAll } from "./tcp.ts";
import { TcpProxy } from "./tcp_proxy.ts";
import { pause } from "./deadline.ts";

const section = { lesson: "lesson-10", heading: "harness" };

Deno.test("proxy: splits the reply into 1-byte pieces and passes on the half-close", async () => {
  using server = FakeServer.open();
  await using proxy = TcpProxy.open(server.addr, { reply: { chunk: 1 } });
  const client = await connect(proxy.addr, { awaiting: "connect", section });
  try {
    await writeAll(client, "ping", { awaiting: "write", section });
    await client.closeWrite();
    const conn = await server.accept({ awaiting: "accept", section });
    assertEquals(
      new TextDecoder().decode(await readToEnd(conn, { awaiting: "request", section })),
      "ping",
    );
    await writeAll(conn, "pong!", { awaiting: "reply", section });
    await conn.closeWrite();
    assertEquals(
      new TextDecoder().decode(await readToEnd(client, { awaiting: "reply", section })),
      "pong!",
    );
    assertEquals(proxy.events.filter((e) => e.direction === "reply" && e.data).length, 5);
  } finally {
    client.close();
  }
});

Deno.test("proxy: gathers two writes into one", async () => {
  using server = FakeServer.open();
  await using proxy = TcpProxy.open(server.addr, { request: { gather: 6 } });
  const client = await connect(proxy.addr, { awaiting: "connect", section });
  try {
    await writeAll(client, "abc", { awaiting: "write", section });
    await writeAll(client, "def", { awaiting: "write", section });
    const conn = await server.accept({ awaiting: "accept", section });
    const buf = new Uint8Array(100);
    const n = await conn.read(buf);
    assertEquals(new TextDecoder().decode(buf.subarray(0, n!)), "abcdef");
  } finally {
    client.close();
  }
});

Deno.test("proxy: cuts the stream where asked, pausing at each cut, across reads", async () => {
  using server = FakeServer.open();
  await using proxy = TcpProxy.open(server.addr, { request: { cuts: [3, 8], cutPauseMs: 20 } });
  const client = await connect(proxy.addr, { awaiting: "connect", section });
  try {
    await writeAll(client, "abcde", { awaiting: "write", section });
    const conn = await server.accept({ awaiting: "accept", section });
    const buf = new Uint8Array(100);
    let got = "";
    while (got.length < 5) {
      got += new TextDecoder().decode(buf.subarray(0, await conn.read(buf) ?? 0));
    }
    await writeAll(client, "fghij", { awaiting: "write", section });
    await client.closeWrite();
    got += new TextDecoder().decode(await readToEnd(conn, { awaiting: "rest", section }));
    assertEquals(got, "abcdefghij");
    const pieces = proxy.events.filter((e) => e.data).map((e) => new TextDecoder().decode(e.data!));
    assertEquals(pieces, ["abc", "de", "fgh", "ij"]);
    conn.close();
  } finally {
    client.close();
  }
});

Deno.test("proxy: a cut's pause ends once the other way proves the piece was read", async () => {
  using server = FakeServer.open();
  // A pause far longer than the bounded waits below: only the proof can end it in time.
  await using proxy: TcpProxy = TcpProxy.open(server.addr, {
    request: {
      cuts: [3],
      cutPauseMs: 60_000,
      cutProof: (_cut, done) => proxy.forwarded("reply", (reply) => reply.length >= 3, done),
    },
  });
  const client = await connect(proxy.addr, { awaiting: "connect", section });
  try {
    await writeAll(client, "abcdef", { awaiting: "write", section });
    const conn = await server.accept({ awaiting: "accept", section });
    const first = await readExactly(conn, 3, { awaiting: "the piece before the cut", section });
    await writeAll(conn, "ab", { awaiting: "a partial echo", section });
    await writeAll(conn, "c", { awaiting: "the rest of the echo", section });
    const rest = await readExactly(conn, 3, {
      awaiting: "the piece after the cut, once the echo proved the first was read",
      section,
      ms: 2000,
    });
    assertEquals(new TextDecoder().decode(first) + new TextDecoder().decode(rest), "abcdef");
    conn.close();
  } finally {
    client.close();
  }
});

Deno.test("proxy: past a cut's pause, a proof that is coming is still waited for", async () => {
  using server = FakeServer.open();
  let proven = false;
  await using proxy = TcpProxy.open(server.addr, {
    request: {
      cuts: [3],
      cutPauseMs: 10,
      // The proof comes 60 ms in, long after the 10 ms pause (a busy reader's late read).
      cutProof: () => pause(60).then(() => proven = true),
      proofComing: () => true,
    },
  });
  const client = await connect(proxy.addr, { awaiting: "connect", section });
  try {
    await writeAll(client, "abcdef", { awaiting: "write", section });
    const conn = await server.accept({ awaiting: "accept", section });
    await readExactly(conn, 6, { awaiting: "both pieces", section, ms: 2000 });
    const rest = proxy.events.find((e) => e.data && new TextDecoder().decode(e.data) === "def");
    assert(rest && proven, "the piece after the cut went out before its proof");
    conn.close();
  } finally {
    client.close();
  }
});
