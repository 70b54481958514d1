/**
 * Lesson 01 — Clients, servers and bytes: the permission sandbox. The course
 * runs this suite with `--allow-net=127.0.0.1` and nothing else, so
 * 127.0.0.1 is open and 127.0.0.3 (also loopback on Linux) is closed.
 *
 * @module
 */

import { fetchGreeting } from "../../exercises/lesson-01/greeter.ts";
import { netAllowed } from "../../exercises/lesson-01/sandbox.ts";
// The same module's text, for the one check a hardened test realm leaves no other way to make.
import sandboxSource from "../../exercises/lesson-01/sandbox.ts" with { type: "text" };
import { within } from "../harness/deadline.ts";
import { expectEqual, expectThat, isNotImplemented } from "../harness/expect.ts";
import { sectionsOf } from "../harness/failure.ts";
import { FakeServer } from "../harness/tcp.ts";

const section = sectionsOf("lesson-01");
const where = section("Permissions: the network is closed until you open it");

/** These tests need the course's sandbox; a wider one (e.g. `-A`) makes them meaningless. */
const WIDE = (await Deno.permissions.query({ name: "net", host: "127.0.0.3" })).state === "granted";
const WIDE_REASON =
  "(skipped: run through `deno task test lesson-01`, which allows only 127.0.0.1)";
const sandboxTest = (name: string) => ({
  name: WIDE ? `${name} ${WIDE_REASON}` : name,
  ignore: WIDE,
});

Deno.test({
  ...sandboxTest("netAllowed: 127.0.0.1 was given and is allowed; 127.0.0.3 was not and is not"),
  async fn() {
    for (const host of ["127.0.0.1", "127.0.0.1:1060"]) {
      expectEqual(await netAllowed(host), true, {
        what: `netAllowed(${JSON.stringify(host)}) under --allow-net=127.0.0.1`,
        section: where,
      });
    }
    const status = await Deno.permissions.query({ name: "net", host: "127.0.0.3" });
    for (const host of ["127.0.0.3", "127.0.0.3:1060"]) {
      expectEqual(await netAllowed(host), false, {
        what: `netAllowed(${JSON.stringify(host)}) under --allow-net=127.0.0.1`,
        section: where,
        mistake: status.state === "prompt"
          ? `treated the state "prompt" as allowed: it means "not given, ask first", and with ` +
            `--no-prompt the attempt fails; only "granted" means allowed`
          : undefined,
      });
    }
  },
});

Deno.test({
  ...sandboxTest("sandbox: connecting to 127.0.0.3 fails with NotCapable before anything is sent"),
  async fn() {
    using fake = FakeServer.open(); // a real server on 127.0.0.1, at a real port
    let error: unknown;
    let value: unknown;
    try {
      value = await within(fetchGreeting({ hostname: "127.0.0.3", port: fake.addr.port }), {
        awaiting: "fetchGreeting to 127.0.0.3 to fail",
        section: where,
      });
    } catch (e) {
      if (isNotImplemented(e)) throw e;
      error = e;
    }
    expectThat(
      error instanceof Deno.errors.NotCapable,
      error instanceof Error
        ? `${error.name}: ${error.message}`
        : `returned ${JSON.stringify(value)}`,
      {
        what: "fetchGreeting to 127.0.0.3 under --allow-net=127.0.0.1",
        expected: "Deno.errors.NotCapable, passed on to the caller",
        section: where,
        mistake: error === undefined
          ? "do not catch connection errors and return something made up"
          : undefined,
      },
    );
  },
});

/** Whether code (its comments left out) calls `request` or `requestSync` on something. */
function callsRequest(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
  return /\.\s*request(Sync)?\b|\[\s*["'`]request(Sync)?["'`]\s*\]/.test(code);
}

Deno.test("netAllowed: only looks (query); it never asks for access (request)", async () => {
  type Request = (descriptor: Deno.PermissionDescriptor) => unknown;
  const permissions = Deno.permissions as unknown as Record<string, Request>;
  const asked: string[] = [];
  const denied = { state: "denied", partial: false, onchange: null };
  // Stand-ins that record the call and grant nothing. The grader freezes Deno's objects
  // (tools/grader/lockdown.ts): there no stand-in can be set, and the source is read instead.
  const hooked = !Object.isFrozen(Deno.permissions);
  if (hooked) {
    permissions.request = (descriptor) => {
      asked.push(`request(${JSON.stringify(descriptor)})`);
      return Promise.resolve(denied);
    };
    permissions.requestSync = (descriptor) => {
      asked.push(`requestSync(${JSON.stringify(descriptor)})`);
      return denied;
    };
  }
  try {
    await netAllowed("127.0.0.3");
    await netAllowed("127.0.0.1");
  } finally {
    if (hooked) {
      // The stand-ins are own properties: deleting them shows the real methods again.
      delete permissions.request;
      delete permissions.requestSync;
    }
  }
  const requests = callsRequest(sandboxSource);
  expectThat(
    asked.length === 0 && !requests,
    asked.length
      ? `it called Deno.permissions.${asked[0]}`
      : "its code calls Deno.permissions.request",
    {
      what: "how netAllowed finds out whether a host is allowed",
      expected: "Deno.permissions.query only",
      section: where,
      mistake: "query, never request: asking grants the access it asks about (in a terminal " +
        "Deno prompts, and a yes opens the network to that host), so a check that requests can " +
        "turn its own answer into true; the tests run with --no-prompt, where request only says " +
        '"denied", so they check the call itself',
    },
  );
});
