import { assertEquals } from "@std/assert";
import { shortWrites } from "./short_writes.ts";

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
