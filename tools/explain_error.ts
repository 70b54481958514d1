/**
 * Errors that teach: the network errors a learner meets, each turned into a
 * short explanation that points at the lesson that covers it, instead of a
 * stack trace.
 *
 * @module
 */

/** An explanation of one kind of error. */
export interface Explanation {
  /** One paragraph in plain words. */
  text: string;
  /** Where to read more: `lessons/lesson-NN/README.md`. */
  lesson: string;
}

const TABLE: { match: (e: Error) => boolean; explain: Explanation }[] = [
  {
    match: (e) => e.name === "AddrInUse",
    explain: {
      text: "Another socket already holds this address and port (maybe another copy of this " +
        "program). Stop it, or pick another port with -p.",
      lesson: "lessons/lesson-06/README.md (UDP) and lessons/lesson-12/README.md (TCP)",
    },
  },
  {
    match: (e) => e.name === "ConnectionRefused",
    explain: {
      text:
        "Nothing is listening at that address and port, so the other machine's OS refused the " +
        "handshake. Start the server first, and check host and port.",
      lesson: "lessons/lesson-11/README.md",
    },
  },
  {
    match: (e) => e.name === "ConnectionReset" || e.name === "BrokenPipe",
    explain: {
      text: "The peer closed the connection while this side was still reading or writing.",
      lesson: "lessons/lesson-14/README.md",
    },
  },
  {
    match: (e) => e.name === "BadResource",
    explain: {
      text: "The socket was already closed when the code used it: by its own close() (one that " +
        "ran while a write started without await was pending, or a second close()), or by " +
        "conn.readable or conn.writable, which close the whole " +
        "connection when their stream ends (reading to EOF, cancelling, a pipeTo that " +
        "finishes). Read with conn.read() where the connection must stay open afterwards.",
      lesson: 'lessons/lesson-15/README.md ("Who owns the connection")',
    },
  },
  {
    match: (e) => /message too long|os error 90/i.test(e.message),
    explain: {
      text: "The datagram is bigger than UDP allows (65,507 bytes of payload over IPv4). Split it.",
      lesson: "lessons/lesson-07/README.md",
    },
  },
  {
    match: (e) => e.name === "NotCapable" || e.name === "PermissionDenied",
    explain: {
      text: "Deno's sandbox denied it: the course grants network access to loopback addresses " +
        "only (127.0.0.0/8), never to other machines.",
      lesson: "lessons/lesson-01/README.md",
    },
  },
  {
    match: (e) => e.name === "TimedOut",
    explain: {
      text: "The operation took longer than allowed: the peer never answered.",
      lesson: "lessons/lesson-04/README.md",
    },
  },
];

/**
 * Explains an error a learner's program raised (in `lesson`, if known), or
 * returns undefined for errors the course has no explanation for.
 *
 * @example
 * ```ts
 * import { explainError } from "./explain_error.ts";
 * const e = new Error("Address already in use (os error 98)");
 * e.name = "AddrInUse";
 * explainError(e)?.lesson; // "lessons/lesson-06/README.md (UDP) and lessons/lesson-12/README.md (TCP)"
 * ```
 */
export function explainError(error: unknown, lesson?: string): Explanation | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.message.startsWith("not implemented")) {
    return {
      text: "This part of the exercise is still a stub: fill in the function named above.",
      lesson: `lessons/${lesson ?? "lesson-NN"}/README.md#exercises`,
    };
  }
  return TABLE.find((row) => row.match(error))?.explain;
}
