import { assertEquals } from "@std/assert";
import { cutWritesMistake, shortWrites, writesOverlapped } from "./short_writes.ts";

Deno.test("shortWrites: cuts the matched side's writes to a third, leaves others, restores on dispose", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  try {
    {
      using cutting = await shortWrites({ localPort: listener.addr.port });
      assertEquals(await server.write(new Uint8Array(10)), 3);
      assertEquals(await server.write(new Uint8Array(3)), 1);
      assertEquals(await server.write(new Uint8Array(1)), 1); // one byte cannot be cut
      assertEquals(await client.write(new Uint8Array(10)), 10); // the other side: untouched
      assertEquals([cutting.cut, cutting.writes], [2, 3]);
    }
    assertEquals(await server.write(new Uint8Array(10)), 10); // restored
    {
      using cutting = await shortWrites({ remotePort: listener.addr.port });
      assertEquals(await client.write(new Uint8Array(10)), 3);
      assertEquals(await server.write(new Uint8Array(10)), 10);
      assertEquals(cutting.cut, 1);
    }
  } finally {
    client.close();
    server.close();
    listener.close();
  }
});

Deno.test("shortWrites: counts a write that begins before the previous one on its connection ends", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  const other = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const otherServer = await listener.accept();
  try {
    using cutting = await shortWrites({ localPort: listener.addr.port });
    await server.write(new Uint8Array(9));
    await server.write(new Uint8Array(9)); // awaited one after the other: no overlap
    await Promise.all([server.write(new Uint8Array(9)), otherServer.write(new Uint8Array(9))]);
    assertEquals(cutting.overlapped, 0, "writes on two connections at once are not an overlap");
    await Promise.all([server.write(new Uint8Array(9)), server.write(new Uint8Array(9))]);
    assertEquals(cutting.overlapped, 1);
  } finally {
    for (const conn of [client, server, other, otherServer]) conn.close();
    listener.close();
  }
});

Deno.test("cutWritesMistake: an overlap is named before a loss or a repeat", () => {
  assertEquals(cutWritesMistake("x", "ab", "ab", { overlapped: 1 }), undefined);
  assertEquals(cutWritesMistake("x", "a", "ab", { overlapped: 1 }), writesOverlapped("x"));
  assertEquals(cutWritesMistake("x", "a", "ab", { overlapped: 0 })?.startsWith("only part"), true);
});
