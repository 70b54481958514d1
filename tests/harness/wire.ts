/**
 * The wire log: what crossed the sockets the harness watches during the
 * current test (its UDP peers, relay, proxy, fake servers and the TCP reads
 * and writes it makes), in order, with timing. Every {@linkcode LessonFailure}
 * ends with this transcript, so a learner sees what their code actually put
 * on the wire next to what was expected.
 *
 * The log is cleared before each test (`Deno.test.beforeEach`).
 *
 * @module
 */

import { hex, isPrintable, quote } from "./bytes.ts";

/** One thing that crossed (or happened on) the wire. */
export interface WireEvent {
  /** Milliseconds since the test started. */
  at: number;
  /** `udp` or `tcp`. */
  transport: "udp" | "tcp";
  /** Who sent it, as `host:port`. */
  from: string;
  /** Who it was for, as `host:port`. */
  to: string;
  /** The bytes (a copy of the first {@linkcode KEPT_BYTES}), or what happened instead (`connect`, `EOF`, …). */
  data: Uint8Array | string;
  /** How many bytes there were; 0 for a string event. */
  size: number;
  /** What a fault proxy did with it (`dropped`, `held back`, …), if anything. */
  note?: string;
}

/** The width a transcript line keeps to (failure messages indent it by about ten columns). */
const LINE_WIDTH = 68;

/** How many events a transcript shows at most (the last ones). */
const TRANSCRIPT_EVENTS = 12;

/** How much of each payload an event keeps: more than a transcript line shows. */
const KEPT_BYTES = 64;

/**
 * Formats an address as `host:port`.
 *
 * @example
 * ```ts
 * import { hostPort } from "./wire.ts";
 * hostPort({ transport: "tcp", hostname: "127.0.0.1", port: 80 }); // "127.0.0.1:80"
 * ```
 */
export function hostPort(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** The log of the current test. Use the shared {@linkcode wire} instance. */
export class WireLog {
  #events: WireEvent[] = [];
  #started = performance.now();

  /** Forgets everything (done before each test). */
  reset(): void {
    this.#events = [];
    this.#started = performance.now();
  }

  /**
   * Records one event.
   *
   * @example
   * ```ts
   * import { wire } from "./wire.ts";
   * wire.record({ transport: "udp", from: "127.0.0.1:5000", to: "127.0.0.1:6000", data: new Uint8Array([104, 105]) });
   * ```
   */
  record(event: Omit<WireEvent, "at" | "size">): void {
    const { data } = event;
    this.#events.push({
      ...event,
      // A copy, so that a reused buffer cannot change it; only the start, since that is all a
      // transcript shows, and a test may move megabytes.
      data: typeof data === "string" ? data : data.slice(0, KEPT_BYTES),
      size: typeof data === "string" ? 0 : data.length,
      at: performance.now() - this.#started,
    });
    if (this.#events.length > 500) this.#events.shift();
  }

  /**
   * The last {@linkcode TRANSCRIPT_EVENTS} events, one line each, or nothing.
   *
   * @example
   * ```ts
   * import { wire } from "./wire.ts";
   * wire.reset();
   * wire.record({ transport: "tcp", from: "127.0.0.1:5000", to: "127.0.0.1:6000", data: "connect" });
   * wire.transcript()[0].includes("connect"); // true
   * ```
   */
  transcript(): string[] {
    const shown = this.#events.slice(-TRANSCRIPT_EVENTS);
    const skipped = this.#events.length - shown.length;
    const lines = skipped ? [`… ${skipped} earlier events`] : [];
    for (const e of shown) {
      const what = typeof e.data === "string"
        ? `[${e.data}]`
        : `${quote(e.data, 32)} (${e.size} bytes)`;
      const head = `+${e.at.toFixed(0).padStart(4)} ms ${e.transport} ${e.from} → ${e.to}`;
      const body = what + (e.note ? ` (${e.note})` : "");
      // Keep within 80 columns once indented in a failure message: long payloads get their own line.
      if (head.length + body.length + 2 <= LINE_WIDTH) lines.push(`${head}  ${body}`);
      else lines.push(head, `         ${body}`);
      if (typeof e.data !== "string" && !isPrintable(e.data)) {
        lines.push(`         hex ${hex(e.data, 16)}`);
      }
    }
    return lines;
  }
}

/** The wire log every harness module records into. */
export const wire: WireLog = new WireLog();

Deno.test.beforeEach(() => wire.reset());
