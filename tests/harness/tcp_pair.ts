/**
 * A TCP connection on loopback whose two ends are both the test's: one end
 * to hand to the code under test, the other to play the peer with. Between
 * them, optionally, a {@linkcode TcpProxy} that re-chunks the stream, so the
 * code under test meets one byte per `read()`, or several messages in one.
 *
 * @module
 */

import type { Section } from "./failure.ts";
import { closeQuietly, connect, FakeServer } from "./tcp.ts";
import { type Shaping, TcpProxy } from "./tcp_proxy.ts";

/** How to open a {@linkcode TcpPair}. */
export interface TcpPairOptions {
  /** Where the code under test is taught (a failure to connect points there). */
  section: Section;
  /**
   * Put a proxy between the ends that reshapes the stream: `request` flows
   * from the connected end to the accepted one, `reply` back.
   */
  proxy?: { request?: Shaping; reply?: Shaping };
}

/** Both ends of one TCP connection. Create with {@linkcode TcpPair.open}; close with `await using`. */
export class TcpPair implements AsyncDisposable {
  /** The end that connected (through the proxy, if there is one). */
  readonly connected: Deno.TcpConn;
  /** The end the test's listener accepted (from the proxy, if there is one). */
  readonly accepted: Deno.TcpConn;
  /** The proxy between the ends, if one was asked for (its `events` show what crossed). */
  readonly proxy: TcpProxy | undefined;
  readonly #listener: FakeServer;

  private constructor(
    listener: FakeServer,
    proxy: TcpProxy | undefined,
    connected: Deno.TcpConn,
    accepted: Deno.TcpConn,
  ) {
    this.#listener = listener;
    this.proxy = proxy;
    this.connected = connected;
    this.accepted = accepted;
  }

  /**
   * Listens on 127.0.0.1, port 0, connects to it (through a proxy if asked)
   * and accepts, each step bounded.
   *
   * @example
   * ```ts
   * import { TcpPair } from "./tcp_pair.ts";
   * await using pair = await TcpPair.open({
   *   section: { lesson: "lesson-10", heading: "Reading exactly n bytes" },
   *   proxy: { request: { chunk: 1 } },
   * });
   * await pair.connected.write(new TextEncoder().encode("Hi"));
   * ```
   */
  static async open(options: TcpPairOptions): Promise<TcpPair> {
    const listener = FakeServer.open();
    let proxy: TcpProxy | undefined;
    let connected: Deno.TcpConn | undefined;
    try {
      proxy = options.proxy ? TcpProxy.open(listener.addr, options.proxy) : undefined;
      connected = await connect(proxy?.addr ?? listener.addr, {
        awaiting: proxy ? "a connection through the proxy" : "a connection to the test's listener",
        section: options.section,
      });
      const accepted = await listener.accept({
        awaiting: proxy ? "the proxy to connect" : "the connection to be accepted",
        section: options.section,
      });
      return new TcpPair(listener, proxy, connected, accepted);
    } catch (error) {
      if (connected) closeQuietly(connected);
      await proxy?.[Symbol.asyncDispose]();
      listener.close();
      throw error;
    }
  }

  /** Closes both ends (either may be closed already), the proxy and the listener. */
  async close(): Promise<void> {
    closeQuietly(this.connected);
    await this.proxy?.[Symbol.asyncDispose]();
    this.#listener.close(); // closes the accepted end too
  }

  /** Same as {@linkcode TcpPair.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
