import { assertEquals } from "@std/assert";
import { readExactly, readToEnd, writeAll } from "./tcp.ts";
import { TcpPair } from "./tcp_pair.ts";

const section = { lesson: "lesson-10", heading: "harness" };
const decoder = new TextDecoder();

Deno.test("TcpPair: the two ends of one connection, bytes flowing both ways", async () => {
  await using pair = await TcpPair.open({ section });
  assertEquals(pair.proxy, undefined);
  assertEquals(pair.accepted.remoteAddr, pair.connected.localAddr);
  await writeAll(pair.connected, "ping", { awaiting: "write", section });
  assertEquals(
    decoder.decode(await readExactly(pair.accepted, 4, { awaiting: "ping", section })),
    "ping",
  );
  await writeAll(pair.accepted, "pong", { awaiting: "write", section });
  await pair.accepted.closeWrite();
  assertEquals(
    decoder.decode(await readToEnd(pair.connected, { awaiting: "pong", section })),
    "pong",
  );
});

Deno.test("TcpPair: through a proxy, the reply arrives in the pieces asked for", async () => {
  await using pair = await TcpPair.open({ section, proxy: { reply: { chunk: 2 } } });
  await writeAll(pair.accepted, "abcdef", { awaiting: "write", section });
  await pair.accepted.closeWrite();
  assertEquals(
    decoder.decode(await readToEnd(pair.connected, { awaiting: "reply", section })),
    "abcdef",
  );
  assertEquals(pair.proxy?.events.filter((e) => e.direction === "reply" && e.data).length, 3);
});

Deno.test("TcpPair: close() may follow the test's own close of either end", async () => {
  const pair = await TcpPair.open({ section });
  pair.connected.close();
  pair.accepted.close();
  await pair.close();
});
