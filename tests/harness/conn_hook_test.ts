import { assertEquals } from "@std/assert";
import { holdReads } from "./conn_hook.ts";

Deno.test("holdReads: a server's read, interrupted by close(), settles only once released", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using held = await holdReads({ localPort: listener.addr.port });
  using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  const events: string[] = [];
  const reading = server.read(new Uint8Array(8)).then(
    () => events.push("read resolved"),
    () => events.push("read rejected"),
  );
  await held.reading;
  server.close();
  // The client's own reads are not held: the server's close() reaches it as EOF.
  assertEquals(await client.read(new Uint8Array(8)), null);
  events.push("released");
  held.release();
  await reading;
  assertEquals(events, ["released", "read rejected"]);
});
