/**
 * Lesson 12 — Address already in use; binding to interfaces: listening again
 * on a port right after a server stopped (with a connection in TIME_WAIT), a
 * clear error for a port a live listener holds, and a server that answers only
 * on the address it is bound to (127.0.0.1 vs 127.0.0.2, Linux only).
 *
 * @module
 */

import { onlyPartWritten, withShortWrites, wroteAgain } from "../harness/short_writes.ts";
import { listenOn, server, startGreeter } from "../../exercises/lesson-12/rebind.ts";
import type { Greeter, GreeterOptions } from "../../exercises/lesson-12/rebind.ts";
import { within } from "../harness/deadline.ts";
import {
  expectBytes,
  expectEqual,
  expectRejects,
  expectThat,
  isNotImplemented,
} from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { LogLines } from "../harness/log.ts";
import { failFirstWrite } from "../harness/conn_hook.ts";
import { linuxLoopbackTest } from "../harness/platform.ts";
import { startServerRole } from "../harness/program.ts";
import { expectCleanStop, expectSecondCloseIsNoOp, stopServer } from "../harness/server_loop.ts";
import { connect, expectRefused, readToEnd } from "../harness/tcp.ts";

import { expectServesAfterResetBeforeAccept } from "../harness/tcp_misbehave.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { expectAcceptFailureLogged } from "../harness/accept_log.ts";
import { expectServesAfterFdExhaustion } from "../harness/fd_exhaustion.ts";
import { lowFdLimitTest } from "../harness/fd_limit.ts";
const section = sectionsOf("lesson-12");

const NOT_CLOSED =
  "close() must close the listener: until it is closed, the port stays taken by a live socket";

/** The mistake named when the greeter listens on 0.0.0.0 although it was given an address. */
const EVERY_INTERFACE =
  "bound to 0.0.0.0 (every interface) instead of the address asked: pass options.hostname to listenOn";

/**
 * Starts the learner's greeter. A greeter asked for one address that listens
 * on 0.0.0.0 (every interface) instead is reported as that mistake: it is
 * closed, and the test fails at once.
 */
function start(options: GreeterOptions): Greeter {
  const greeter = startGreeter(options);
  const bound = greeter.addr?.hostname;
  if (bound === "0.0.0.0" && options.hostname !== undefined && options.hostname !== bound) {
    greeter.close();
    greeter.done?.catch(() => {});
    fail({
      summary: `startGreeter(${JSON.stringify(options)}) listens on 0.0.0.0`,
      section: section("Binding to interfaces"),
      expected: `a listener on ${options.hostname}`,
      got: `greeter.addr ${bound}:${greeter.addr.port}`,
      mistake: EVERY_INTERFACE,
    });
  }
  return greeter;
}

/** Stops a greeter and waits (bounded) for its loop to end. */
async function stop(greeter: Greeter): Promise<void> {
  await stopServer(greeter, {
    awaiting: "the greeter's loop to end after close()",
    section: section("Restarting a server"),
    mistake: NOT_CLOSED,
  });
}

/** Connects to `addr`, reads everything up to the server's close, and returns it as text. */
async function greetingAt(addr: Deno.NetAddr, watch?: Promise<unknown>): Promise<string> {
  const conn = await connect(addr, {
    awaiting: `a connection to ${addr.hostname}:${addr.port}`,
    section: section("The greeter protocol"),
    watch,
  });
  try {
    const bytes = await readToEnd(conn, {
      awaiting:
        `the greeting from ${addr.hostname}:${addr.port} and then EOF (the server closes first)`,
      section: section("The greeter protocol"),
      mistake: "greet, then close the connection: the server closes first",
      watch,
      overflow: { atMost: 256, mistake: wroteAgain("the greeting") },
    });
    return new TextDecoder().decode(bytes);
  } finally {
    conn.close();
  }
}

Deno.test("listenOn: listens on the address asked; port 0 becomes a free port", () => {
  const listener = listenOn("127.0.0.1", 0);
  try {
    expectThat(
      listener.addr.hostname === "127.0.0.1" && listener.addr.port > 0,
      JSON.stringify(listener.addr),
      {
        what: "the listener's socket name",
        expected: "127.0.0.1 and a non-zero port",
        section: section("Socket names"),
      },
    );
  } finally {
    listener.close();
  }
});

Deno.test("listenOn: a second listener on a live address gets AddrInUse naming the address", async () => {
  const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = first.addr.port;
  try {
    const error = await expectRejects(() => listenOn("127.0.0.1", port).close(), {
      kind: Deno.errors.AddrInUse,
      what: `listenOn("127.0.0.1", ${port}) while another socket listens there`,
      section: section("Address already in use"),
      mistake: "keep the error's kind (Deno.errors.AddrInUse): callers test for it",
    });
    expectThat(
      error.message.includes(`127.0.0.1:${port}`) && /already in use/i.test(error.message),
      JSON.stringify(error.message),
      {
        what: "the AddrInUse error's message",
        expected: `a message naming 127.0.0.1:${port} and saying it is already in use`,
        section: section("Address already in use"),
        mistake: "the bare OS message does not say which address: name it, and what to do",
      },
    );
    expectThat(
      error.cause instanceof Deno.errors.AddrInUse,
      error.cause === undefined ? "no cause" : String(error.cause),
      {
        what: "the AddrInUse error's cause",
        expected: "the original AddrInUse, as the new error's cause",
        section: section("Address already in use"),
        mistake: "keep the original error as cause: new Deno.errors.AddrInUse(" +
          "message, { cause: error })",
      },
    );
  } finally {
    first.close();
  }
});

Deno.test("listenOn: port 0 twice gives two different free ports, both listening", () => {
  const listeners: Deno.TcpListener[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      try {
        listeners.push(listenOn("127.0.0.1", 0));
      } catch (error) {
        if (isNotImplemented(error)) throw error;
        fail({
          summary: `listenOn("127.0.0.1", 0) failed the ${i ? "second" : "first"} time`,
          section: section("Socket names"),
          got: `${(error as Error).name}`,
          mistake: "port 0 asks the OS for a free port: pass 0 on, do not " +
            "replace it with a fixed port",
        });
      }
    }
    const [a, b] = listeners.map((l) => l.addr.port);
    expectThat(a > 0 && b > 0 && a !== b, `ports ${a} and ${b}`, {
      what: "the ports of two listeners opened with port 0",
      expected: "two different non-zero ports",
      section: section("Socket names"),
      mistake: "port 0 asks the OS for a free port: pass 0 on, do not replace " +
        "it with a fixed port",
    });
  } finally {
    for (const l of listeners) l.close();
  }
});

Deno.test("listenOn: other errors pass through unchanged (127.0.0.3 is not allowed here)", async () => {
  const error = await expectRejects(() => listenOn("127.0.0.3", 0).close(), {
    kind: Deno.errors.NotCapable,
    what: 'listenOn("127.0.0.3", 0) without permission for 127.0.0.3',
    section: section("Address already in use"),
    mistake:
      "only Deno.errors.AddrInUse means the address is in use: rethrow other errors as they are",
  });
  expectThat(!/in use/i.test(error.message), JSON.stringify(error.message), {
    what: "the permission error's message",
    expected: "the permission error, not a claim that the address is in use",
    section: section("Address already in use"),
    mistake:
      "only Deno.errors.AddrInUse means the address is in use: rethrow other errors as they are",
  });
});

Deno.test("greeter: greets with its own socket name, closes first, logs the client", async () => {
  const log = new LogLines();
  const greeter = start({ hostname: "127.0.0.1", port: 0, log: log.push });
  try {
    const port = greeter.addr.port;
    const greeting = await greetingAt(greeter.addr, greeter.done);
    expectEqual(greeting, `This is 127.0.0.1:${port}\n`, {
      what: "the greeting",
      section: section("The greeter protocol"),
      mistake: /^This is 127\.0\.0\.1:\d+\n$/.test(greeting)
        ? "the greeting names the server's end of the connection, conn.localAddr, not the client's"
        : undefined,
    });
    await log.next(new RegExp(`^Accepted 127\\.0\\.0\\.1:\\d+ on 127\\.0\\.0\\.1:${port}$`), {
      awaiting: `the line \`Accepted 127.0.0.1:CLIENTPORT on 127.0.0.1:${port}\``,
      section: section("The greeter protocol"),
    });
  } finally {
    await stop(greeter);
  }
});

Deno.test("greeter: greets whole when each write() takes only part of its bytes", async () => {
  const greeter = start({ hostname: "127.0.0.1", port: 0 });
  try {
    // Over loopback a short write() is never cut by itself: the test makes it so.
    const expected = `This is 127.0.0.1:${greeter.addr.port}\n`;
    const greeting = await withShortWrites(
      { localPort: greeter.addr.port },
      "the greeting",
      () => greetingAt(greeter.addr, greeter.done),
    );
    expectEqual(greeting, expected, {
      what: "the greeting, with each of the greeter's write() calls cut to a third",
      section: section("The greeter protocol"),
      mistake: greeting.length < expected.length && expected.startsWith(greeting)
        ? onlyPartWritten("the greeting")
        : undefined,
    });
  } finally {
    await stop(greeter);
  }
});

Deno.test("greeter: starts again on the same port right after stopping, with a connection in TIME_WAIT", async () => {
  const first = start({ hostname: "127.0.0.1", port: 0 });
  const port = first.addr.port;
  try {
    // The greeter closes first, so its end of this connection now waits in TIME_WAIT,
    // still holding 127.0.0.1:port. Without SO_REUSEADDR, listening there would fail.
    expectEqual(await greetingAt(first.addr, first.done), `This is 127.0.0.1:${port}\n`, {
      what: "the first greeter's greeting",
      section: section("The greeter protocol"),
    });
  } finally {
    await stop(first);
  }
  let second: Greeter;
  try {
    second = start({ hostname: "127.0.0.1", port });
  } catch (error) {
    if (isNotImplemented(error) || !(error instanceof Deno.errors.AddrInUse)) throw error;
    fail({
      summary: `starting the greeter again on 127.0.0.1:${port} right after stopping it failed`,
      section: section("Restarting a server"),
      got: `${error.name}: ${error.message}`,
      mistake: NOT_CLOSED,
    });
  }
  try {
    expectEqual(await greetingAt(second.addr, second.done), `This is 127.0.0.1:${port}\n`, {
      what: "the restarted greeter's greeting",
      section: section("Restarting a server"),
    });
  } finally {
    await stop(second);
  }
});

Deno.test({
  ...linuxLoopbackTest(
    "greeter: two greeters share a port on 127.0.0.1 and 127.0.0.2, each answers its own",
  ),
  async fn() {
    const one = start({ hostname: "127.0.0.1", port: 0 });
    const port = one.addr.port;
    try {
      let two: Greeter;
      try {
        two = start({ hostname: "127.0.0.2", port });
      } catch (error) {
        if (isNotImplemented(error) || !(error instanceof Deno.errors.AddrInUse)) throw error;
        fail({
          summary: `a greeter on 127.0.0.2:${port} could not start beside one on 127.0.0.1:${port}`,
          section: section("Socket names"),
          got: `${error.name}: ${error.message}`,
          mistake: "ignored the hostname asked: a socket name is an (address, port) pair, " +
            "so 127.0.0.2:PORT is free while 127.0.0.1:PORT is taken",
        });
      }
      try {
        expectEqual(
          await greetingAt({ transport: "tcp", hostname: "127.0.0.2", port }, two.done),
          `This is 127.0.0.2:${port}\n`,
          { what: "the greeting at 127.0.0.2", section: section("Socket names") },
        );
        expectEqual(
          await greetingAt({ transport: "tcp", hostname: "127.0.0.1", port }, one.done),
          `This is 127.0.0.1:${port}\n`,
          { what: "the greeting at 127.0.0.1", section: section("Socket names") },
        );
      } finally {
        await stop(two);
      }
    } finally {
      await stop(one);
    }
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "greeter: bound to 127.0.0.1, refuses 127.0.0.2 before the application sees it",
  ),
  async fn() {
    const log = new LogLines();
    const greeter = start({ hostname: "127.0.0.1", port: 0, log: log.push });
    const port = greeter.addr.port;
    try {
      await expectRefused({ hostname: "127.0.0.2", port }, {
        what: `connecting to 127.0.0.2:${port} while the greeter listens on 127.0.0.1:${port}`,
        section: section("Binding to interfaces"),
        mistake: "the greeter listens on every interface: bind only the address asked",
      });
      expectEqual(await greetingAt(greeter.addr, greeter.done), `This is 127.0.0.1:${port}\n`, {
        what: "the greeting at 127.0.0.1 afterwards",
        section: section("Binding to interfaces"),
      });
      const first = await log.next(/^Accepted (\S+) on (\S+)$/, {
        awaiting: "the line `Accepted CLIENT on 127.0.0.1:PORT`",
        section: section("Binding to interfaces"),
      });
      expectEqual(first[2], `127.0.0.1:${port}`, {
        what: "where the first connection the greeter ever accepted was addressed",
        section: section("Binding to interfaces"),
        mistake: first[1] === `127.0.0.1:${port}`
          ? "the log line has its two addresses swapped: `Accepted CLIENT on " +
            "SERVER`, the client's address (remoteAddr) first"
          : first[2].startsWith("127.0.0.2:")
          ? "the refused connection must never reach the application"
          : undefined,
      });
    } finally {
      await stop(greeter);
    }
  },
});

Deno.test({
  ...linuxLoopbackTest(
    "greeter: bound to 0.0.0.0, greets a client of 127.0.0.2 with `This is 127.0.0.2:PORT`",
  ),
  async fn() {
    const greeter = start({ hostname: "0.0.0.0", port: 0 });
    const port = greeter.addr.port;
    try {
      // Only ever connect to loopback addresses: 0.0.0.0 is the listener's name, never a destination.
      for (const hostname of ["127.0.0.2", "127.0.0.1"]) {
        const greeting = await greetingAt({ transport: "tcp", hostname, port }, greeter.done);
        expectEqual(greeting, `This is ${hostname}:${port}\n`, {
          what: `the greeting of a greeter bound to 0.0.0.0:${port}, reached at ${hostname}`,
          section: section("The greeter protocol"),
          mistake: greeting === `This is 0.0.0.0:${port}\n`
            ? "greeted with the listener's name (0.0.0.0), not the connection's: a listener on " +
              "every address has no one address; greet with conn.localAddr, the address this " +
              "client reached"
            : undefined,
        });
      }
    } finally {
      await stop(greeter);
    }
  },
});

Deno.test("greeter: a greeting whose write() fails is logged, its connection closed, the next client greeted", async () => {
  const log = new LogLines();
  const greeter = start({ hostname: "127.0.0.1", port: 0, log: log.push });
  const where = section("The greeter protocol");
  try {
    // A client's reset cannot be timed to land between accept() and the greeter's write(): the
    // test makes the first write() fail the way a write to a reset connection does. (Writes
    // through conn.writable do not pass through write(): client #1 is then simply greeted.)
    using broken = await failFirstWrite(
      { localPort: greeter.addr.port },
      new Deno.errors.BrokenPipe("Broken pipe (os error 32)"),
    );
    {
      using first = await connect(greeter.addr, {
        awaiting: "client #1 to connect",
        section: where,
        watch: greeter.done,
      });
      await readToEnd(first, {
        awaiting: "EOF for client #1, whose greeting's write() failed",
        section: where,
        watch: greeter.done,
        mistake: CLOSED_ONLY_ON_SUCCESS,
      });
    }
    if (broken.failed) {
      await log.next(/^ {2}Could not greet: Broken pipe/, {
        awaiting: "the line `  Could not greet: Broken pipe (os error 32)`",
        section: where,
        watch: greeter.done,
      });
    }
    expectEqual(
      await greetingAt(greeter.addr, greeter.done),
      `This is 127.0.0.1:${greeter.addr.port}\n`,
      { what: "the greeting for client #2, after client #1's failed", section: where },
    );
  } finally {
    await stop(greeter);
  }
});

/** The mistake named when a connection whose greeting failed is left open. */
const CLOSED_ONLY_ON_SUCCESS = "the connection was left open after its greeting's write() " +
  "failed: the client waits for ever and the descriptor leaks; close it in a finally";

Deno.test("greeter: keeps serving after a client resets before accept()", async () => {
  const greeter = start({ hostname: "127.0.0.1", port: 0 });
  try {
    await expectServesAfterResetBeforeAccept(
      greeter,
      sectionsOf("lesson-11")("When accept() fails for one connection"),
      async (watch) => {
        expectEqual(
          await greetingAt(greeter.addr, watch),
          `This is 127.0.0.1:${greeter.addr.port}\n`,
          {
            what: "the greeting for the client after the one that reset",
            section: section("The greeter protocol"),
          },
        );
      },
    );
  } finally {
    await stop(greeter);
  }
});

Deno.test({
  ...lowFdLimitTest("greeter: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    const reread = sectionsOf("lesson-11")("When accept() fails for one connection");
    await expectServesAfterFdExhaustion(
      (log) => startGreeter({ log }),
      reread,
      async (server, watch) => {
        expectEqual(
          await greetingAt(server.addr, watch),
          `This is 127.0.0.1:${server.addr.port}\n`,
          {
            what: "the greeting once descriptors are free again",
            section: section("The greeter protocol"),
          },
        );
      },
    );
  },
});

Deno.test("program: `server` listens; a second copy on the same port fails with a clear AddrInUse", async () => {
  await using program = await startServerRole(server, {
    section: section("Running it as a program"),
  });
  const port = program.port;
  const copy = new AbortController();
  const error = await expectRejects(
    () =>
      within(
        server({ hostname: "127.0.0.1", port, log: () => {}, signal: copy.signal }).finally(
          () => copy.abort(),
        ),
        {
          awaiting: "a second copy of the server on the same port to fail",
          section: section("Address already in use"),
        },
      ),
    {
      kind: Deno.errors.AddrInUse,
      what: `a second server on 127.0.0.1:${port}`,
      section: section("Address already in use"),
    },
  );
  expectThat(error.message.includes(`127.0.0.1:${port}`), JSON.stringify(error.message), {
    what: "the second copy's error",
    expected: `a message naming 127.0.0.1:${port}`,
    section: section("Running it as a program"),
    mistake: "start the greeter through listenOn, so the program fails with its clear message",
  });
  expectBytes(
    await greetingAt(program.addr, program.running),
    `This is 127.0.0.1:${port}\n`,
    {
      what: "the first copy's greeting, still served",
      section: section("Running it as a program"),
    },
  );
  await program.log.next(
    new RegExp(`^Accepted 127\\.0\\.0\\.1:\\d+ on 127\\.0\\.0\\.1:${port}$`),
    {
      awaiting: `the program's line \`Accepted 127.0.0.1:PORT on 127.0.0.1:${port}\``,
      section: section("Running it as a program"),
      mistake: "the server program printed no connection: give options.log to startGreeter, " +
        "so the program prints each client it accepts",
      watch: program.running,
    },
  );
});

Deno.test("greeter: after serving two clients, close() frees the port and done resolves", async () => {
  const greeter = start({ hostname: "127.0.0.1", port: 0 });
  const port = greeter.addr.port;
  let stopped = false;
  try {
    const both = await within(
      Promise.all([greetingAt(greeter.addr, greeter.done), greetingAt(greeter.addr, greeter.done)]),
      { awaiting: "two clients' greetings", section: section("The greeter protocol") },
    );
    expectEqual(both, [`This is 127.0.0.1:${port}\n`, `This is 127.0.0.1:${port}\n`], {
      what: "the greetings of two clients that connected at once",
      section: section("The greeter protocol"),
    });
    stopped = true;
    await expectCleanStop(greeter, {
      awaiting: "the greeter's loop to end after close()",
      section: section("Restarting a server"),
    });
    await expectRefused({ port }, {
      what: `connecting to 127.0.0.1:${port} after close()`,
      section: section("Restarting a server"),
      mistake: NOT_CLOSED,
    });
  } finally {
    if (!stopped) await stop(greeter);
  }
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startGreeter(port === undefined ? undefined : { port }),
    "tcp",
    section("Socket names"),
  );
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, { section: section("Running it as a program") });
});

Deno.test("server: an accept() that fails for one reset connection is logged", async () => {
  await expectAcceptFailureLogged((log) => startGreeter({ log }), section("The greeter protocol"));
});

Deno.test("greeter: a second close() does nothing", async () => {
  await expectSecondCloseIsNoOp(startGreeter({ hostname: "127.0.0.1", port: 0 }), {
    what: "a second greeter.close()",
    section: section("Restarting a server"),
  });
});

Deno.test("listenOn: the AddrInUse message also says the way out (stop it, or -p)", async () => {
  const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const error = await expectRejects(() => listenOn("127.0.0.1", first.addr.port).close(), {
      kind: Deno.errors.AddrInUse,
      what: `listenOn("127.0.0.1", ${first.addr.port}) while another socket listens there`,
      section: section("Address already in use"),
    });
    expectThat(
      /-p\b/.test(error.message) && /stop/i.test(error.message),
      JSON.stringify(error.message),
      {
        what: "the AddrInUse error's message",
        expected: "it says what to do: stop that server first, or choose another port with -p",
        section: section("Address already in use"),
      },
    );
  } finally {
    first.close();
  }
});
