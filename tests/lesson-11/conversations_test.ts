/**
 * Lesson 11 — One socket per conversation: the listener only accepts, each
 * accepted connection is its own socket with its own four-tuple, and a server
 * holds many conversations at once. Real loopback connections, several open
 * at the same time.
 *
 * @module
 */

import {
  connectTo,
  formatFourTuple,
  fourTuple,
  server,
  startServer,
} from "../../exercises/lesson-11/conversations.ts";
import { firstDifference } from "../harness/bytes.ts";
import { shortWritesNote, withShortWrites } from "../harness/short_writes.ts";
import { background, within } from "../harness/deadline.ts";
import { expectBytes, expectEqual, expectRejects, expectThat } from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";
import { LogLines } from "../harness/log.ts";
import { failOnUnhandled, UnhandledRejections } from "../harness/unhandled.ts";
import { startServerRole } from "../harness/program.ts";
import {
  expectCleanStop,
  expectDoneWaitsForHeldRead,
  stopAfter,
  stopServer,
} from "../harness/server_loop.ts";
import { unusedPort } from "../harness/sockets.ts";
import { closeQuietly, connect, readExactly, readToEnd, writeAll } from "../harness/tcp.ts";
import { TcpProxy } from "../harness/tcp_proxy.ts";
import { expectServesAfterResetBeforeAccept, RETHROWS_ACCEPT } from "../harness/tcp_misbehave.ts";
import { expectDefaultAddress } from "../harness/server_defaults.ts";
import { expectServerRoleLifecycle } from "../harness/role_lifecycle.ts";
import { expectAcceptFailureLogged } from "../harness/accept_log.ts";
import { expectServesAfterFdExhaustion, GIVES_UP_OUT_OF_FILES } from "../harness/fd_exhaustion.ts";
import { lowFdLimitTest } from "../harness/fd_limit.ts";

const section = sectionsOf("lesson-11");

const ONE_AT_A_TIME =
  "serving one client at a time: start each conversation without awaiting it, then accept the next";
const UNHANDLED =
  "an error in one conversation escaped as an unhandled rejection: catch errors inside each " +
  "connection's task, and await every write there";

/** The greeting the protocol prescribes, written out here so the test never trusts the code under test. */
const expectedGreeting = (conn: Deno.Conn) =>
  `You are 127.0.0.1:${(conn.localAddr as Deno.NetAddr).port}\n`;

/**
 * Starts the learner's server with its log captured, and guarantees it is
 * closed after `body`. An unhandled rejection from the server at any time is
 * reported as the failure, naming the mistake, instead of crashing the file.
 */
async function withServer(
  body: (addr: Deno.NetAddr, log: LogLines, watch: Promise<unknown>) => Promise<void>,
): Promise<void> {
  await failOnUnhandled("the server", section("Serving many clients at once"), async () => {
    const log = new LogLines();
    const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
    const watch = background(running.done.then(
      () =>
        fail({
          summary: "the server's accept loop ended although close() was not called",
          section: section("One socket per conversation"),
        }),
      (error) =>
        fail({
          summary: `the server's accept loop crashed: ${(error as Error).message}`,
          section: section("Serving many clients at once"),
          mistake: "an error in one conversation must end that conversation only",
        }),
    ));
    await stopAfter(() => body(running.addr, log, watch), () =>
      stopServer(running, {
        awaiting: "the server to end after close()",
        section: section("One socket per conversation"),
        mistake:
          "close() must close the listener and every open conversation, so that done settles",
      }));
  }, { mistake: UNHANDLED });
}

/** Connects a test client and reads its greeting, bounded. */
async function greeted(
  addr: Deno.NetAddr,
  which: string,
  watch: Promise<unknown>,
  mistake?: string,
): Promise<Deno.TcpConn> {
  const conn = await connect(addr, {
    awaiting: `${which} to connect`,
    section: section("One socket per conversation"),
    watch,
  });
  try {
    const greeting = expectedGreeting(conn);
    const got = await readExactly(conn, greeting.length, {
      awaiting: `the greeting of ${which}`,
      section: section("Serving many clients at once"),
      mistake,
      watch,
    });
    expectBytes(got, greeting, {
      what: `the greeting of ${which}`,
      section: section("The conversation protocol"),
      mistake: new TextDecoder().decode(got).includes(`:${addr.port}`)
        ? "the greeting named the server's address: name the client's, conn.remoteAddr on the server's side"
        : undefined,
    });
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

Deno.test("fourTuple: the two ends of one connection are mirror images", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using client = await connect(listener.addr, {
    awaiting: "a connection",
    section: section("The four-tuple"),
  });
  using accepted = await within(listener.accept(), {
    awaiting: "accept()",
    section: section("The four-tuple"),
  });
  const clientPort = (client.localAddr as Deno.NetAddr).port;
  const serverPort = listener.addr.port;
  const mistake = "local is conn.localAddr (this end), remote is conn.remoteAddr (the peer)";
  expectEqual(fourTuple(client), {
    localIp: "127.0.0.1",
    localPort: clientPort,
    remoteIp: "127.0.0.1",
    remotePort: serverPort,
  }, { what: "fourTuple() of the client's socket", section: section("The four-tuple"), mistake });
  expectEqual(fourTuple(accepted), {
    localIp: "127.0.0.1",
    localPort: serverPort,
    remoteIp: "127.0.0.1",
    remotePort: clientPort,
  }, { what: "fourTuple() of the accepted socket", section: section("The four-tuple"), mistake });
});

Deno.test("formatFourTuple: `(local_ip, local_port, remote_ip, remote_port)`", () => {
  expectEqual(
    formatFourTuple({
      localIp: "127.0.0.1",
      localPort: 1060,
      remoteIp: "127.0.0.2",
      remotePort: 50123,
    }),
    "(127.0.0.1, 1060, 127.0.0.2, 50123)",
    { what: "formatFourTuple() of a connection on port 1060", section: section("The four-tuple") },
  );
});

Deno.test("server: greets a client with its own address, echoes, and closes at the client's EOF", async () => {
  await withServer(async (addr, _log, watch) => {
    const conn = await greeted(addr, "the client", watch);
    try {
      await writeAll(conn, "Hi there, server", {
        awaiting: "the request to be sent",
        section: section("The conversation protocol"),
      });
      expectBytes(
        await readExactly(conn, 16, {
          awaiting: "the echo of 16 bytes",
          section: section("The conversation protocol"),
          watch,
        }),
        "Hi there, server",
        { what: "the echo", section: section("The conversation protocol") },
      );
      await conn.closeWrite();
      expectBytes(
        await readToEnd(conn, {
          awaiting: "the server to close after the client's half-close",
          section: section("The conversation protocol"),
          mistake: "at EOF (read() resolving null) the conversation is over: close the socket",
          watch,
        }),
        "",
        {
          what: "what the server sent after the echo",
          section: section("The conversation protocol"),
        },
      );
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: four clients at once, each greeted and echoed on its own connection", async () => {
  await withServer(async (addr, _log, watch) => {
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 1; i <= 4; i++) {
        conns.push(
          await greeted(addr, `client #${i} (the others still open)`, watch, ONE_AT_A_TIME),
        );
      }
      const ports = conns.map((c) => (c.localAddr as Deno.NetAddr).port);
      expectEqual(new Set(ports).size, 4, {
        what: "the clients' own ports",
        section: section("The four-tuple"),
      });
      for (const [i, conn] of [...conns.entries()].reverse()) {
        await writeAll(conn, `message from #${i + 1}`, {
          awaiting: `client #${i + 1}'s message to be sent`,
          section: section("Serving many clients at once"),
        });
      }
      for (const [i, conn] of conns.entries()) {
        const text = `message from #${i + 1}`;
        expectBytes(
          await readExactly(conn, text.length, {
            awaiting: `the echo to client #${i + 1}`,
            section: section("Serving many clients at once"),
            mistake: ONE_AT_A_TIME,
            watch,
          }),
          text,
          {
            what: `the echo to client #${i + 1}`,
            section: section("Serving many clients at once"),
            mistake:
              "each conversation has its own socket: answer on the connection the bytes came in on",
          },
        );
      }
    } finally {
      conns.forEach(closeQuietly);
    }
  });
});

Deno.test("server: the accepted sockets share the server's socket name and differ in the remote port", async () => {
  await withServer(async (addr, log, watch) => {
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 1; i <= 3; i++) {
        conns.push(await greeted(addr, `client #${i}`, watch, ONE_AT_A_TIME));
      }
      for (const [i, conn] of conns.entries()) {
        const port = (conn.localAddr as Deno.NetAddr).port;
        const tuple = `(127.0.0.1, ${addr.port}, 127.0.0.1, ${port})`;
        await log.next(new RegExp(`^Accepted ${tuple.replace(/[().]/g, "\\$&")}$`), {
          awaiting: `the line \`Accepted ${tuple}\` for client #${i + 1}`,
          section: section("The four-tuple"),
          mistake:
            "log the accepted socket's four-tuple, local end first: the server's socket name " +
            "is the same for every conversation, only the remote port differs",
          watch,
        });
      }
    } finally {
      conns.forEach(closeQuietly);
    }
  });
});

Deno.test("server: a long conversation, ten requests and replies on one connection", async () => {
  await withServer(async (addr, _log, watch) => {
    const conn = await greeted(addr, "the client", watch);
    try {
      for (let i = 1; i <= 10; i++) {
        const request = `request number ${i}`;
        await writeAll(conn, request, {
          awaiting: `request ${i} to be sent`,
          section: section("When to use TCP"),
        });
        expectBytes(
          await readExactly(conn, request.length, {
            awaiting: `the echo of request ${i}`,
            section: section("When to use TCP"),
            mistake: i > 1
              ? "a conversation goes on until the client's EOF: keep reading"
              : undefined,
            watch,
          }),
          request,
          { what: `the echo of request ${i}`, section: section("The conversation protocol") },
        );
      }
    } finally {
      conn.close();
    }
  });
});

Deno.test("server: a client that resets its connection ends only its own conversation", async () => {
  await withServer(async (addr, log, watch) => {
    const steady = await greeted(addr, "a steady client", watch, ONE_AT_A_TIME);
    try {
      const rude = await connect(addr, {
        awaiting: "a second client to connect",
        section: section("Serving many clients at once"),
        watch,
      });
      const port = (rude.localAddr as Deno.NetAddr).port;
      try {
        // Read 3 bytes of the greeting, send a request and close with the rest of the
        // greeting unread: the kernel then resets the connection (RST) instead of closing
        // it normally, and the server's echo of the request fails with "Broken pipe". The close()
        // follows the write at once, in the same turn of the event loop, so the reset is in
        // before the server reads `ping`: its read gets `ping`, its echo fails (3000 of 3000
        // runs, measured), and the log says 0 bytes, not 4.
        await readExactly(rude, 3, {
          awaiting: "the start of the second client's greeting",
          section: section("Serving many clients at once"),
          mistake: ONE_AT_A_TIME,
          watch,
        });
        await writeAll(rude, "ping", {
          awaiting: "the second client's request",
          section: section("Serving many clients at once"),
        });
      } finally {
        rude.close();
      }
      await log.next(
        new RegExp(
          `^Closed \\(127\\.0\\.0\\.1, ${addr.port}, 127\\.0\\.0\\.1, ${port}\\) after 0 bytes: `,
        ),
        {
          awaiting:
            `the line \`Closed (127.0.0.1, ${addr.port}, 127.0.0.1, ${port}) after 0 bytes: …\``,
          section: section("Serving many clients at once"),
          mistake: "the echo of `ping` failed, yet bytes were counted: count the bytes only " +
            "after writeAll() has echoed them (the log says how many were echoed)",
          watch,
        },
      );
      const closes = log.lines.filter((line) =>
        line.startsWith(`Closed (127.0.0.1, ${addr.port}, 127.0.0.1, ${port})`)
      );
      expectEqual(closes.length, 1, {
        what: `the Closed lines logged for the client that reset (${closes.join(" | ")})`,
        section: section("Serving many clients at once"),
        mistake: closes.length > 1
          ? "a conversation that failed was also logged as closed normally: log one Closed " +
            "line per conversation, with the error when there is one"
          : undefined,
      });
      await writeAll(steady, "still there?", {
        awaiting: "the steady client's message",
        section: section("Serving many clients at once"),
      });
      expectBytes(
        await readExactly(steady, 12, {
          awaiting: "the echo to the steady client after the other one reset",
          section: section("Serving many clients at once"),
          watch,
        }),
        "still there?",
        { what: "the echo to the steady client", section: section("Serving many clients at once") },
      );
    } finally {
      steady.close();
    }
  });
});

Deno.test("server: keeps serving after a client resets before accept()", async () => {
  const running = startServer({ hostname: "127.0.0.1", port: 0 });
  await stopAfter(async () => {
    const reread = section("When accept() fails for one connection");
    await expectServesAfterResetBeforeAccept(running, reread, async (watch) => {
      const next = await greeted(
        running.addr,
        "the client after the one that reset",
        watch,
        RETHROWS_ACCEPT,
      );
      next.close();
    });
  }, () =>
    stopServer(running, {
      awaiting: "the server to end after close()",
      section: section("One socket per conversation"),
      mistake: "close() must close the listener and every open conversation, so that done settles",
    }));
});

Deno.test({
  ...lowFdLimitTest("server: keeps serving after accept() ran out of file descriptors (EMFILE)"),
  async fn() {
    await expectServesAfterFdExhaustion(
      (log) => startServer({ log }),
      section("When accept() fails for one connection"),
      async (server, watch) => {
        const next = await greeted(
          server.addr,
          "the client after the descriptors were freed",
          watch,
          GIVES_UP_OUT_OF_FILES,
        );
        next.close();
      },
    );
  },
});

Deno.test("connectTo: the handshake completes before the server calls accept()", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using conn = await within(connectTo("127.0.0.1", listener.addr.port), {
    awaiting: "connectTo() to a listener that has not called accept() yet",
    section: section("The handshake: what connect() does"),
  });
  expectEqual((conn.remoteAddr as Deno.NetAddr).port, listener.addr.port, {
    what: "the connected socket's remote port",
    section: section("The handshake: what connect() does"),
  });
  using accepted = await within(listener.accept(), {
    awaiting: "accept() to hand over the connection the kernel already made",
    section: section("Two kinds of socket"),
  });
  expectEqual(
    (accepted.remoteAddr as Deno.NetAddr).port,
    (conn.localAddr as Deno.NetAddr).port,
    { what: "the accepted socket's remote port", section: section("Two kinds of socket") },
  );
});

Deno.test("connectTo: a refused connection becomes an error naming the address", async () => {
  const port = unusedPort(); // nothing listens on this port
  const error = await expectRejects(
    () =>
      within(connectTo("127.0.0.1", port), {
        awaiting: "connectTo() a port nobody listens on",
        section: section("When connect() fails"),
      }),
    {
      kind: Deno.errors.ConnectionRefused,
      what: `connectTo("127.0.0.1", ${port}) with nothing listening`,
      section: section("When connect() fails"),
      mistake: "keep the error's kind (Deno.errors.ConnectionRefused): callers test for it",
    },
  );
  expectThat(
    error.message.includes(`127.0.0.1:${port}`) && /nothing is listening/i.test(error.message),
    JSON.stringify(error.message),
    {
      what: "the refused connection's error message",
      expected: `a message naming 127.0.0.1:${port} and saying nothing is listening there`,
      section: section("When connect() fails"),
      mistake: "the bare OS message does not say where: name the address and what refused means",
    },
  );
  expectThat(
    error.cause instanceof Deno.errors.ConnectionRefused,
    error.cause === undefined ? "no cause" : String(error.cause),
    {
      what: "the refused connection's error cause",
      expected: "the original ConnectionRefused, as the new error's cause",
      section: section("When connect() fails"),
      mistake: "keep the original error as cause: new Deno.errors.ConnectionRefused(" +
        "message, { cause: error })",
    },
  );
});

Deno.test("connectTo: other errors pass through unchanged (127.0.0.3 is not allowed here)", async () => {
  const error = await expectRejects(
    () =>
      within(connectTo("127.0.0.3", 1), {
        awaiting: "connectTo() an address the tests have no permission for",
        section: section("When connect() fails"),
      }),
    {
      kind: Deno.errors.NotCapable,
      what: 'connectTo("127.0.0.3", 1) without permission for 127.0.0.3',
      section: section("When connect() fails"),
      mistake: OTHER_ERRORS,
    },
  );
  expectThat(!/refused/i.test(error.message), JSON.stringify(error.message), {
    what: "the permission error's message",
    expected: "the permission error, not a claim that the connection was refused",
    section: section("When connect() fails"),
    mistake: OTHER_ERRORS,
  });
});

/** The mistake named when connectTo() reports any failure as a refused connection. */
const OTHER_ERRORS = "connectTo() turned an error that is not a refused connection into " +
  "ConnectionRefused: only Deno.errors.ConnectionRefused means refused, rethrow other errors " +
  "as they are";

Deno.test("program: `server` prints where it listens and greets a client", async () => {
  using unhandled = new UnhandledRejections(
    "the server",
    section("Serving many clients at once"),
    UNHANDLED,
  );
  {
    await using program = await startServerRole(server, {
      section: section("Running it as a program"),
    });
    const conn = await greeted(program.addr, "a client of the program", program.running);
    const port = (conn.localAddr as Deno.NetAddr).port;
    try {
      await program.log.next(
        new RegExp(
          `^Accepted \\(127\\.0\\.0\\.1, ${program.addr.port}, 127\\.0\\.0\\.1, ${port}\\)$`,
        ),
        {
          awaiting: `the program's line \`Accepted (127.0.0.1, ${program.addr.port}, ` +
            `127.0.0.1, ${port})\``,
          section: section("Running it as a program"),
          mistake: "the server program printed no conversation: give options.log to " +
            "startServer, so the program prints each conversation it accepts and closes",
          watch: program.running,
        },
      );
    } finally {
      conn.close();
    }
  }
  await unhandled.check();
});

/** Whether a reply holds the greeting line and then at least `n` more bytes. */
function echoedAfterGreeting(n: number): (reply: Uint8Array) => boolean {
  return (reply) => {
    const newline = reply.indexOf(10);
    return newline !== -1 && reply.length - (newline + 1) >= n;
  };
}

/** A test pattern: byte i is (i * 7 + seed) mod 251, so a repeated or missing stretch shows. */
function pattern(size: number, seed: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < Math.min(size, 251); i++) data[i] = (i * 7 + seed) % 251;
  // The pattern repeats every 251 bytes: double the filled part until it is full.
  for (let filled = 251; filled < size; filled *= 2) data.copyWithin(filled, 0, filled);
  return data;
}

const SHORT_ECHO = "lost bytes in the echo: write() may take only part of the bytes; " +
  "call it again with the rest (writeAll)";

const REPEATED_ECHO = "the echo sends bytes again: after a partial write, write the rest " +
  "from where the writes so far end (add each write()'s count)";

Deno.test("server: echoes 4 MiB to each of two clients at once while a third stays silent", async () => {
  await withServer(async (addr, _log, watch) => {
    const silent = await greeted(addr, "a silent client", watch, ONE_AT_A_TIME);
    const busy: Deno.TcpConn[] = [];
    try {
      for (const which of ["client A", "client B"]) {
        busy.push(await greeted(addr, which, watch, ONE_AT_A_TIME));
      }
      const sent = busy.map((_, i) => pattern(4 * 1024 * 1024, i * 100));
      const echoes = busy.map((conn, i) =>
        background(readExactly(conn, sent[i].length, {
          awaiting: `the echo of 4 MiB to client ${"AB"[i]}`,
          section: section("Serving many clients at once"),
          mistake: SHORT_ECHO,
          ms: 5000,
          watch,
        }))
      );
      await within(
        Promise.all(busy.map((conn, i) =>
          writeAll(conn, sent[i], {
            awaiting: `4 MiB from client ${"AB"[i]}`,
            section: section("Serving many clients at once"),
            ms: 5000,
          })
        )),
        {
          awaiting: "both clients' 4 MiB to be sent while the echoes are read",
          section: section("Serving many clients at once"),
          ms: 5000,
          watch: Promise.race(echoes),
        },
      );
      for (const [i, echo] of echoes.entries()) {
        const got = await echo;
        const at = firstDifference(got, sent[i]);
        expectThat(at === -1, `a different byte at offset ${at}`, {
          what: `the echo of 4 MiB to client ${"AB"[i]}`,
          expected: "the same bytes, in the same order",
          section: section("One socket per conversation"),
          mistake: "the echo mixed another client's bytes in: give each conversation " +
            "its own buffer, not one shared by all",
        });
      }
    } finally {
      for (const conn of busy) closeQuietly(conn);
      closeQuietly(silent);
    }
  });
});

Deno.test("server: echoes non-ASCII split inside a character, and logs the count in bytes", async () => {
  await withServer(async (addr, log, watch) => {
    // Two pieces, cut inside the ü (after byte 3): the second leaves once three bytes have come
    // back after the greeting (the server has read all of the first piece, alone), or after the
    // proxy's long pause.
    await using proxy: TcpProxy = TcpProxy.open(addr, {
      request: {
        cuts: [3],
        cutProof: (_cut, done) => proxy.forwarded("reply", echoedAfterGreeting(3), done),
      },
    });
    const conn = await connect(proxy.addr, {
      awaiting: "a connection through the proxy",
      section: section("The conversation protocol"),
      watch,
    });
    const text = "Grüße, café ☕"; // 18 bytes, 13 characters
    const bytes = new TextEncoder().encode(text);
    try {
      await writeAll(conn, bytes, {
        awaiting: "18 bytes of UTF-8 to be sent",
        section: section("The conversation protocol"),
      });
      await conn.closeWrite();
      const all = await readToEnd(conn, {
        awaiting: "the greeting, the echo and EOF",
        section: section("The conversation protocol"),
        watch,
      });
      const echo = all.subarray(all.indexOf(10) + 1);
      expectBytes(echo, bytes, {
        what: "the echo of UTF-8 that arrived in 2 pieces, cut inside the ü",
        section: section("The conversation protocol"),
        mistake: echo.includes(0xbd)
          ? "decoded each read() to text and encoded it again: a character split " +
            "across reads becomes U+FFFD; echo the bytes as they are"
          : undefined,
      });
      const line = await log.next(/^Closed \(.*\) after (\d+) bytes/, {
        awaiting: "the line `Closed (…) after 18 bytes`",
        section: section("The conversation protocol"),
        watch,
      });
      const pieces = [bytes.subarray(0, 3), bytes.subarray(3)];
      const characters = pieces.reduce((n, p) => n + new TextDecoder().decode(p).length, 0);
      expectEqual(Number(line[1]), bytes.length, {
        what: "the byte count logged for 18 bytes of UTF-8 that came in 2 pieces (3 and 15 bytes)",
        section: section("The conversation protocol"),
        mistake: Number(line[1]) === pieces[1].length
          ? "kept only the last read()'s count: add each read()'s count to the total"
          : Number(line[1]) === characters
          ? "counted characters (each read's decoded text's length) instead of the bytes received"
          : undefined,
      });
    } finally {
      conn.close();
    }
    await using whole = TcpProxy.open(addr, { request: { gather: 18 } });
    const again = await connect(whole.addr, {
      awaiting: "a connection through the proxy",
      section: section("The conversation protocol"),
      watch,
    });
    try {
      await writeAll(again, bytes, {
        awaiting: "18 bytes of UTF-8 to be sent in one piece",
        section: section("The conversation protocol"),
      });
      await again.closeWrite();
      await readToEnd(again, {
        awaiting: "the greeting, the echo and EOF",
        section: section("The conversation protocol"),
        watch,
      });
      const line = await log.next(/^Closed \(.*\) after (\d+) bytes/, {
        awaiting: "the line `Closed (…) after 18 bytes`",
        section: section("The conversation protocol"),
        watch,
      });
      expectEqual(Number(line[1]), bytes.length, {
        what: "the byte count logged for 18 bytes of UTF-8 (13 characters)",
        section: section("The conversation protocol"),
        mistake: Number(line[1]) === 13
          ? "counted characters (the decoded text's length) instead of the bytes received"
          : undefined,
      });
    } finally {
      again.close();
    }
  });
});

Deno.test("server: close() with clients connected ends every conversation, and done resolves", async () => {
  const log = new LogLines();
  const running = startServer({ hostname: "127.0.0.1", port: 0, log: log.push });
  const conns: Deno.TcpConn[] = [];
  try {
    for (const which of ["a talking client", "a silent client"]) {
      conns.push(await greeted(running.addr, which, running.done, ONE_AT_A_TIME));
    }
    await writeAll(conns[0], "ping", {
      awaiting: "the talking client's request",
      section: section("The conversation protocol"),
    });
    await readExactly(conns[0], 4, {
      awaiting: "the echo of `ping`",
      section: section("The conversation protocol"),
    });
    await expectCleanStop(running, {
      awaiting: "done to settle after close(), with two clients connected",
      section: section("One socket per conversation"),
      mistake: "close() must close the listener and every open conversation, so " +
        "that done settles",
    });
    for (const [i, conn] of conns.entries()) {
      const rest = await readToEnd(conn, {
        awaiting: `EOF on client ${i + 1}'s connection after close()`,
        section: section("One socket per conversation"),
        mistake: "close() must close every open conversation, not only the listener",
      });
      expectEqual(rest.length, 0, {
        what: `bytes client ${i + 1} received after close()`,
        section: section("One socket per conversation"),
      });
    }
    const failures = log.lines.filter((l) => /^Closed .* bytes: /.test(l));
    expectThat(failures.length === 0, JSON.stringify(failures), {
      what: "`Closed … after N bytes: error` lines logged after close() with two clients connected",
      expected: "none: closing the server is not a conversation failing",
      section: section("The conversation protocol"),
      mistake: "close() was logged as each conversation failing: the read that close() " +
        "interrupts throws, and when closing that is no failure; log the error only when not closing",
    });
  } finally {
    for (const conn of conns) closeQuietly(conn);
    running.close();
    await running.done.catch(() => {});
  }
});

Deno.test("server: after close(), done waits for a conversation still at work, then resolves", async () => {
  // The conversation's read() settles only when the test says so, even once close() has closed
  // its connection: that conversation is still at work until then.
  await expectDoneWaitsForHeldRead(() => startServer({ hostname: "127.0.0.1", port: 0 }), {
    section: section("Serving many clients at once"),
    reading: {
      awaiting: "the server's conversation to read from the connection",
      section: section("The conversation protocol"),
    },
  });
});

Deno.test("server: echoes 2 MiB whole when each write() takes only part of its bytes", async () => {
  await withServer(async (addr, _log, watch) => {
    // A full send buffer makes write() take only part; over loopback the buffers hold megabytes,
    // so the test makes every write() on the server's side take a third (see short_writes.ts).
    // A write that begins before the previous one has finished is named, whatever it caused.
    await withShortWrites({ localPort: addr.port }, "the echo", async () => {
      const conn = await connect(addr, {
        awaiting: "a connection to the server",
        section: section("The conversation protocol"),
        watch,
      });
      try {
        const sent = pattern(2 * 1024 * 1024, 3);
        const reading = background(readToEnd(conn, {
          awaiting: "the greeting, the echo of 2 MiB, and EOF",
          section: section("The conversation protocol"),
          mistake: SHORT_ECHO,
          ms: 3000,
          watch,
          overflow: { atMost: sent.length + 1024, mistake: REPEATED_ECHO },
        }));
        await within(
          writeAll(conn, sent, {
            awaiting: "2 MiB to be sent",
            section: section("The conversation protocol"),
            ms: 3000,
          }),
          {
            awaiting: "2 MiB to be sent while the echo is read",
            section: section("The conversation protocol"),
            ms: 3000,
            watch: reading,
          },
        );
        await conn.closeWrite();
        const all = await reading;
        const echo = all.subarray(all.indexOf(10) + 1);
        const at = firstDifference(echo, sent);
        expectThat(
          at === -1,
          echo.length !== sent.length
            ? `${echo.length} bytes`
            : `the same length, different from byte ${at} on`,
          {
            what: `the echo of 2 MiB, while ${shortWritesNote("the server")}`,
            expected: `the same ${sent.length} bytes, in the same order`,
            section: section("The conversation protocol"),
            mistake: echo.length < sent.length ? SHORT_ECHO : undefined,
          },
        );
      } finally {
        conn.close();
      }
    });
  });
});

Deno.test("server: without options, 127.0.0.1 and a port the OS picks; a given port is used", async () => {
  await expectDefaultAddress(
    (port) => startServer(port === undefined ? undefined : { port }),
    "tcp",
    section("Serving many clients at once"),
  );
});

Deno.test("program: `server` runs until its signal is aborted, and stops at once if it was", async () => {
  await expectServerRoleLifecycle(server, { section: section("Running it as a program") });
});

Deno.test("server: an accept() that fails for one reset connection is logged", async () => {
  await expectAcceptFailureLogged(
    (log) => startServer({ log }),
    section("When accept() fails for one connection"),
  );
});
