import { assertEquals } from "@std/assert";
import { watchReads } from "./read_progress.ts";

Deno.test("watchReads: counts what read() returns on the matched side only; until() waits for it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  const buffer = new Uint8Array(16);
  try {
    {
      using reads = await watchReads({ localPort: listener.addr.port });
      const five = reads.until(5);
      await client.write(new TextEncoder().encode("abc"));
      assertEquals(await server.read(buffer), 3);
      assertEquals(reads.bytes, 3);
      await server.write(new TextEncoder().encode("xy"));
      assertEquals(await client.read(buffer), 2); // the client's side: not counted
      await client.write(new TextEncoder().encode("de"));
      assertEquals(await server.read(buffer), 2);
      await five; // resolved by the server's reads, 3 + 2
      assertEquals(reads.bytes, 5);
      await reads.until(1); // already reached: at once
    }
    await client.write(new TextEncoder().encode("f"));
    assertEquals(await server.read(buffer), 1); // after dispose: the real read(), unwatched
  } finally {
    client.close();
    server.close();
    listener.close();
  }
});
