/**
 * A TCP fault proxy that re-chunks the stream. Clients connect to the proxy;
 * it connects to the server and copies bytes both ways, splitting them into
 * small pieces with pauses between (so one `read()` sees only part of a
 * message), or gathering them (so one `read()` sees several messages), and
 * passes on a half-close. It records what crossed, for transcripts.
 *
 * @module
 */

import { concat } from "./bytes.ts";
import { pause } from "./deadline.ts";
import { IoTurns } from "./io_turn.ts";
import { closeQuietly } from "./tcp.ts";
import { hostPort, wire } from "./wire.ts";

/** How one direction of the stream is reshaped. */
export interface Shaping {
  /** Forward in pieces of at most this many bytes (default: as read). */
  chunk?: number;
  /**
   * Pause this long between pieces, in milliseconds (default: one turn of
   * the event loop's I/O polling, see `IoTurns`, so that a reader waiting in
   * `read()` takes each piece on its own).
   */
  delayMs?: number;
  /** Hold bytes back until at least this many have arrived (or EOF), then forward them in one write. */
  gather?: number;
  /**
   * Cut the stream at these byte offsets (counted from this direction's
   * first byte) and pause `cutPauseMs` at each cut; `chunk` and `delayMs`
   * still apply between cuts. Pieces sent a millisecond apart may reach a
   * busy reader as one read; a long pause at the one place that matters
   * makes the reader see that cut on every run.
   */
  cuts?: number[];
  /** The pause at each cut, in milliseconds (default {@linkcode CUT_PAUSE_MS}). */
  cutPauseMs?: number;
  /**
   * Called at each cut, with the cut's offset and a signal that aborts once
   * the pause is over: the pause ends early once the promise it returns
   * resolves. Return proof that the peer has read the bytes before that cut
   * (their echo, with {@linkcode TcpProxy.forwarded}, or the reader's own
   * count, with `watchReads`), so the cut holds without waiting out the
   * pause; without that proof (or if it throws) the pause runs its full
   * length.
   */
  cutProof?: (cut: number, done: AbortSignal) => Promise<unknown>;
  /**
   * Whether `cutProof` is sure to come (the reader has been seen calling
   * `read()`, so its reads will prove it): then a cut whose pause is over
   * without the proof waits for it up to {@linkcode PROOF_WAIT_MS} more. A
   * busy reader (two checks at once on 2 cores) once read the bytes before a
   * cut after the pause, and the bytes after the cut went out first.
   */
  proofComing?: () => boolean;
}

/**
 * The default pause at a cut: long enough that a reader on a loaded machine
 * (two checks at once on 2 cores) has read the bytes before the cut.
 */
export const CUT_PAUSE_MS = 200;

/**
 * How long past its pause a cut still waits for a proof that is sure to come
 * (see {@linkcode Shaping.proofComing}): a bound that only keeps a reader
 * that never reads again from holding the test.
 */
export const PROOF_WAIT_MS = 5000;

/** One piece the proxy forwarded. */
export interface ProxyEvent {
  /** Milliseconds since the proxy opened. */
  at: number;
  /** `request` flows client → server, `reply` server → client. */
  direction: "request" | "reply";
  /** The bytes, or `null` for a half-close (EOF) passed on. */
  data: Uint8Array | null;
}

/** The re-chunking proxy. Create with {@linkcode TcpProxy.open}. */
export class TcpProxy implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #upstream: Deno.NetAddr;
  readonly #shape: { request: Shaping; reply: Shaping };
  readonly #conns: Deno.TcpConn[] = [];
  readonly #tasks: Promise<void>[] = [];
  readonly #stop = new AbortController();
  readonly #started = performance.now();
  readonly #waiters = new Set<() => boolean>();
  #turns: Promise<IoTurns> | undefined;
  /** What crossed the proxy, piece by piece. */
  readonly events: ProxyEvent[] = [];
  /** Where clients connect. */
  readonly addr: Deno.NetAddr;

  private constructor(
    listener: Deno.TcpListener,
    upstream: Deno.NetAddr,
    shape: { request?: Shaping; reply?: Shaping },
  ) {
    this.#listener = listener;
    this.#upstream = upstream;
    this.#shape = { request: shape.request ?? {}, reply: shape.reply ?? {} };
    this.addr = listener.addr;
    this.#tasks.push(this.#acceptLoop());
  }

  /**
   * Opens a proxy on 127.0.0.1, port 0, in front of `upstream`.
   *
   * @example
   * ```ts ignore
   * import { TcpProxy } from "./tcp_proxy.ts";
   * await using proxy = TcpProxy.open(server.addr, { reply: { chunk: 1 } });
   * ```
   */
  static open(
    upstream: Deno.NetAddr,
    shape: { request?: Shaping; reply?: Shaping } = {},
  ): TcpProxy {
    return new TcpProxy(Deno.listen({ hostname: "127.0.0.1", port: 0 }), upstream, shape);
  }

  async #acceptLoop(): Promise<void> {
    while (true) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      this.#conns.push(client);
      let server: Deno.TcpConn;
      try {
        server = await Deno.connect({
          hostname: this.#upstream.hostname,
          port: this.#upstream.port,
        });
      } catch {
        closeQuietly(client);
        continue;
      }
      this.#conns.push(server);
      // Small pieces must leave at once: without this, Nagle's algorithm holds each piece until
      // the previous one is acknowledged, and delayed ACKs make that ~40 ms a piece.
      try {
        client.setNoDelay(true);
        server.setNoDelay(true);
      } catch {
        return; // the proxy was closed meanwhile
      }
      this.#tasks.push(this.#copy(client, server, "request"), this.#copy(server, client, "reply"));
    }
  }

  /**
   * Resolves once the bytes forwarded in `direction` so far (all connections
   * together, in order) satisfy `proof`; checked after every piece. Stops
   * checking (and never resolves) once `signal` aborts.
   *
   * @example
   * ```ts ignore
   * import { TcpProxy } from "./tcp_proxy.ts";
   * const proxy: TcpProxy = TcpProxy.open(server.addr, {
   *   request: {
   *     cuts: [3],
   *     cutProof: (_cut, done) => proxy.forwarded("reply", (r) => r.length >= 3, done),
   *   },
   * });
   * ```
   */
  forwarded(
    direction: "request" | "reply",
    proof: (bytes: Uint8Array) => boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const bytes = concat(
          this.events.filter((e) => e.direction === direction && e.data).map((e) => e.data!),
        );
        if (!proof(bytes)) return false;
        this.#waiters.delete(check);
        resolve();
        return true;
      };
      if (signal?.aborted || check()) return;
      this.#waiters.add(check);
      signal?.addEventListener("abort", () => this.#waiters.delete(check), { once: true });
    });
  }

  /**
   * The pause at cut `cut`: its full length, or until the shaping's
   * `cutProof` resolves; past its length, while `proofComing` says the proof
   * will come, up to {@linkcode PROOF_WAIT_MS} more.
   */
  async #cutPause(shape: Shaping, cut: number): Promise<void> {
    const ms = shape.cutPauseMs ?? CUT_PAUSE_MS;
    const over = new AbortController();
    try {
      if (shape.cutProof) {
        const proof = shape.cutProof;
        // Called a turn later, and a failing proof only means no early end.
        Promise.resolve().then(() => proof(cut, over.signal)).then(() => over.abort(), () => {});
      }
      const ended = AbortSignal.any([this.#stop.signal, over.signal]);
      await pause(ms, ended);
      if (!ended.aborted && shape.proofComing?.()) await pause(PROOF_WAIT_MS, ended);
    } finally {
      over.abort(); // the pause is over: nothing waits on the proof any more
    }
  }

  /** The wait between two pieces: `delayMs`, or one turn of I/O polling. */
  async #between(shape: Shaping): Promise<void> {
    if (shape.delayMs !== undefined) return await pause(shape.delayMs, this.#stop.signal);
    if (this.#stop.signal.aborted) return;
    this.#turns ??= IoTurns.open();
    const turns = await this.#turns.catch(() => undefined);
    await (turns ? turns.turn() : pause(0, this.#stop.signal)); // no socket pair: a timer turn
  }

  async #copy(from: Deno.TcpConn, to: Deno.TcpConn, direction: "request" | "reply"): Promise<void> {
    const shape = this.#shape[direction];
    const ends = { from: hostPort(from.remoteAddr), to: hostPort(to.remoteAddr) };
    const buffer = new Uint8Array(64 * 1024);
    let gathered: Uint8Array[] = [];
    let gatheredBytes = 0;
    let offset = 0; // bytes of this direction forwarded so far
    const send = async (piece: Uint8Array) => {
      this.events.push({ at: performance.now() - this.#started, direction, data: piece });
      wire.record({ transport: "tcp", ...ends, data: piece, note: "via the proxy" });
      for (let sent = 0; sent < piece.length;) sent += await to.write(piece.subarray(sent));
      offset += piece.length;
      for (const check of [...this.#waiters]) check();
    };
    const forward = async (bytes: Uint8Array) => {
      const base = offset; // the stream offset of bytes[0]
      const cuts = (shape.cuts ?? []).map((c) => c - base).filter((c) => c > 0 && c < bytes.length);
      let at = 0;
      for (const end of [...cuts.sort((x, y) => x - y), bytes.length]) {
        const size = shape.chunk ?? end - at;
        for (let i = at; i < end; i += size) {
          await send(bytes.slice(i, Math.min(i + size, end)));
          if (shape.chunk !== undefined) await this.#between(shape);
        }
        if (end < bytes.length) await this.#cutPause(shape, base + end);
        at = end;
      }
    };
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (shape.gather) {
          gathered.push(buffer.slice(0, n));
          gatheredBytes += n;
          if (gatheredBytes < shape.gather) continue;
          const all = concat(gathered);
          gathered = [];
          gatheredBytes = 0;
          await forward(all);
        } else {
          await forward(buffer.slice(0, n));
        }
      }
      if (gatheredBytes) await forward(concat(gathered));
      this.events.push({ at: performance.now() - this.#started, direction, data: null });
      wire.record({
        transport: "tcp",
        ...ends,
        data: "EOF: half-close passed on",
        note: "via the proxy",
      });
      await to.closeWrite();
    } catch {
      // one side went away: the other side sees it on its next read or write
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  /** Closes the listener and every connection, and waits for the copies to end. */
  async close(): Promise<void> {
    this.#stop.abort();
    closeQuietly(this.#listener);
    for (const conn of this.#conns) closeQuietly(conn);
    const turns = await this.#turns?.catch(() => undefined);
    turns?.close();
    await Promise.all(this.#tasks);
  }

  /** Same as {@linkcode TcpProxy.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
