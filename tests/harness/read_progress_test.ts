import { assert, assertEquals } from "@std/assert";
import { oneByteAtATime, watchReads } from "./read_progress.ts";
import { TcpProxy } from "./tcp_proxy.ts";
import { TcpPair } from "./tcp_pair.ts";
import { pause, within } from "./deadline.ts";

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

Deno.test("until(n, ms): a reader seen calling read() is waited for past ms; one never seen is not", async () => {
  await using pair = await TcpPair.open({ section: { lesson: "lesson-10", heading: "harness" } });
  const { connected: client, accepted: server } = pair;
  const one = new Uint8Array(1);
  using reads = await watchReads({ localPort: server.localAddr.port });
  const blind = performance.now();
  await reads.until(1, 20); // nothing read, no read() call: a reader this cannot see
  assertEquals([reads.seen, reads.bytes], [false, 0]);
  assert(performance.now() - blind < 1000);
  await client.write(new TextEncoder().encode("ab"));
  assertEquals(await server.read(one), 1); // seen: one byte read
  // The busy reader's next read() comes 60 ms later, past the 20 ms fallback: still awaited.
  const late = pause(60).then(() => server.read(one));
  await reads.until(2, 20);
  assertEquals([reads.seen, reads.bytes], [true, 2]);
  assertEquals(await late, 1);
});

Deno.test("oneByteAtATime: through a proxy, every read() of a reader it sees returns one byte", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    using reads = await watchReads({ localPort: listener.addr.port });
    await using proxy = TcpProxy.open(listener.addr, { request: oneByteAtATime(16, () => reads) });
    const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.addr.port });
    const server = await listener.accept();
    try {
      await client.write(new TextEncoder().encode("Hi there, server"));
      const sizes: number[] = [];
      const buffer = new Uint8Array(64);
      for (let got = 0; got < 16;) {
        const n = await within(server.read(buffer), {
          awaiting: `byte ${got + 1} of 16 through the proxy`,
          section: { lesson: "lesson-10", heading: "Reading exactly n bytes" },
        });
        if (n === null) throw new Error(`EOF after ${got} of 16 bytes`);
        sizes.push(n);
        got += n;
      }
      assertEquals(sizes, Array(16).fill(1));
    } finally {
      client.close();
      server.close();
    }
  } finally {
    listener.close();
  }
});
