import { assert, assertEquals, assertRejects } from "@std/assert";
import { openUdpSocket, unusedPort } from "./sockets.ts";

Deno.test("openUdpSocket: binds 127.0.0.1 on an OS-chosen port and is closed by `using`", async () => {
  let port: number;
  {
    using socket = openUdpSocket();
    const addr = socket.addr as Deno.NetAddr;
    assertEquals(addr.hostname, "127.0.0.1");
    assert(addr.port > 0);
    port = addr.port;
  }
  using again = openUdpSocket({ port }); // free again: the first one was closed
  await again.send(new Uint8Array([1]), { transport: "udp", hostname: "127.0.0.1", port });
  const [data] = await again.receive();
  assertEquals(data, new Uint8Array([1]));
});

Deno.test("openUdpSocket: with reuseAddress, two sockets share a port", () => {
  using first = openUdpSocket({ reuseAddress: true });
  const port = (first.addr as Deno.NetAddr).port;
  using second = openUdpSocket({ port, reuseAddress: true });
  assertEquals((second.addr as Deno.NetAddr).port, port);
});

Deno.test("unusedPort: nothing listens there, and it can be bound", async () => {
  const port = unusedPort();
  await assertRejects(
    () => Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
  using listener = Deno.listen({ hostname: "127.0.0.1", port });
  assertEquals(listener.addr.port, port);
  using socket = openUdpSocket({ port: unusedPort({ transport: "udp" }) });
  assert((socket.addr as Deno.NetAddr).port > 0);
});
