/**
 * Loopback throughput figures for `deno task bench`, printed as JSON:
 *
 * - lesson 13's reference bulk transfer (the upper-casing echo: the client
 *   writes and reads concurrently), in MB/s of payload;
 * - the same echo done by Deno's raw `readable.pipeTo(writable)`, the
 *   ceiling for Deno streams on this machine;
 * - `iperf3` on loopback, one direction, when it is installed;
 * - lesson 09's reference UDP request/response rate.
 *
 * Run by the bench as `deno run --allow-net=127.0.0.1 --allow-run=iperf3 tools/throughput.ts [MB]`;
 * `deno task facts` (tools/facts.ts) imports the same functions to re-check
 * the figures the lessons quote.
 *
 * @module
 */

import {
  bulkTransfer,
  startServer as startCapitalizer,
} from "../solutions/lesson-13/tcp_deadlock.ts";
import { benchmark } from "../solutions/lesson-09/client.ts";
import { startCounterServer } from "../solutions/lesson-09/server.ts";

const MB = 1_000_000;

/**
 * MB/s of payload through lesson 13's reference upper-casing echo, `bytes` sent.
 *
 * @example
 * ```ts ignore
 * const mbPerSecond = await lesson13(32_000_000);
 * ```
 */
export async function lesson13(bytes: number): Promise<number> {
  const server = startCapitalizer();
  try {
    const result = await bulkTransfer({
      hostname: "127.0.0.1",
      port: server.addr.port,
      bytecount: bytes,
    });
    return result.sent / MB / (result.ms / 1000);
  } finally {
    server.close();
    await server.done;
  }
}

/**
 * MB/s of the same echo done by `readable.pipeTo(writable)`, `bytes` sent.
 *
 * @example
 * ```ts ignore
 * const mbPerSecond = await pipeEcho(32_000_000);
 * ```
 */
export async function pipeEcho(bytes: number): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.readable.pipeTo(conn.writable);
  })();
  const started = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const chunk = new Uint8Array(256 * 1024).fill(0x61);
  const writing = (async () => {
    const writer = conn.writable.getWriter();
    for (let sent = 0; sent < bytes; sent += chunk.length) await writer.write(chunk);
    await conn.closeWrite();
  })();
  let received = 0;
  for await (const part of conn.readable) received += part.length;
  await writing;
  const ms = performance.now() - started;
  listener.close();
  await serving;
  return received / MB / (ms / 1000);
}

async function iperf3(): Promise<number | string> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  let server: Deno.ChildProcess;
  try {
    server = new Deno.Command("iperf3", {
      args: ["-s", "-B", "127.0.0.1", "-p", String(port)],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    return "iperf3 is not installed (Debian package iperf3): skipped";
  }
  try {
    // Wait until it listens: a connection that closes at once is ignored by an iperf3 server.
    for (let attempt = 0;; attempt++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    // The server may still be busy with the probe ("the server is busy running a test"): retry.
    let error = "no report";
    for (let attempt = 0; attempt < 5; attempt++) {
      const out = await new Deno.Command("iperf3", {
        args: ["-c", "127.0.0.1", "-p", String(port), "-t", "3", "-J"],
        stderr: "null",
      }).output();
      let report: { error?: string; end?: { sum_received?: { bits_per_second?: number } } };
      try {
        report = JSON.parse(new TextDecoder().decode(out.stdout));
      } catch {
        report = { error: "unreadable report" };
      }
      const bits = report.end?.sum_received?.bits_per_second;
      if (typeof bits === "number") return bits / 8 / MB;
      error = report.error ?? error;
      await new Promise((r) => setTimeout(r, 200));
    }
    return `iperf3 failed: ${error}`;
  } finally {
    server.kill();
    await server.status;
  }
}

/**
 * Requests per second of lesson 09's reference client and server, one
 * request after another.
 *
 * @example
 * ```ts ignore
 * const perSecond = await lesson09(2000);
 * ```
 */
export async function lesson09(requests: number): Promise<number> {
  const server = startCounterServer();
  try {
    return (await benchmark(server.addr, { requests })).perSecond;
  } finally {
    server.close();
    await server.done;
  }
}

if (import.meta.main) {
  const megabytes = Number(Deno.args[0] ?? "64");
  // Warm both echoes up first (JIT, buffers): otherwise whichever runs first pays for it.
  await lesson13(8 * MB);
  await pipeEcho(8 * MB);
  console.log(JSON.stringify({
    megabytes,
    lesson13MBps: await lesson13(megabytes * MB),
    pipeToMBps: await pipeEcho(megabytes * MB),
    iperf3MBps: await iperf3(),
    lesson09RequestsPerSecond: await lesson09(2000),
  }));
}
