/**
 * Lesson 12's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";
import { outOfFilesMistakes } from "../harness/accept_loop_mistakes.ts";

/** The bugs learners write in rebind.ts. */
export const mistakes: Mistake[] = [
  {
    id: "greeter-one-write",
    summary: "the greeter writes the greeting with one write() and ignores how many bytes it took",
    file: "rebind.ts",
    edits: [{
      find: "        for (let sent = 0; sent < greeting.length;) {\n" +
        "          sent += await conn.write(greeting.subarray(sent));\n        }\n",
      replace: "        await conn.write(greeting);\n",
    }],
    caughtBy: "only part of the greeting arrived",
  },
  {
    id: "bare-addr-in-use",
    summary: "listenOn lets the OS's bare `Address already in use` through, naming no address",
    file: "rebind.ts",
    edits: [{
      find: '  try {\n    return Deno.listen({ hostname, port, transport: "tcp" });\n',
      replace: '  return Deno.listen({ hostname, port, transport: "tcp" });\n' +
        '  try {\n    return Deno.listen({ hostname, port, transport: "tcp" });\n',
    }],
    caughtBy: "the bare OS message",
  },
  {
    id: "addr-in-use-as-plain-error",
    summary: "listenOn throws a plain Error with a good message, losing the AddrInUse kind",
    file: "rebind.ts",
    edits: [{ find: "      throw new Deno.errors.AddrInUse(", replace: "      throw new Error(" }],
    caughtBy: "keep the error's kind",
  },
  {
    id: "every-error-is-addr-in-use",
    summary: "listenOn reports every error, a permission error too, as `already in use`",
    file: "rebind.ts",
    edits: [{
      find: "    if (error instanceof Deno.errors.AddrInUse) {",
      replace: "    if (error instanceof Error) {",
    }],
    caughtBy: "only Deno.errors.AddrInUse means the address is in use",
  },
  {
    id: "close-leaves-listener-open",
    summary: "the greeter's close() sets a flag but never closes the listener",
    file: "rebind.ts",
    edits: [{
      find: "      closing = true;\n      listener.close();",
      replace: "      closing = true;",
    }],
    caughtBy: "close() must close the listener",
  },
  {
    id: "ignores-hostname",
    summary: "the greeter always listens on 127.0.0.1, whatever hostname it is given",
    file: "rebind.ts",
    edits: [{
      find: 'listenOn(options.hostname ?? "127.0.0.1", options.port ?? 0)',
      replace: 'listenOn("127.0.0.1", options.port ?? 0)',
    }],
    caughtBy: "ignored the hostname",
  },
  {
    id: "binds-every-interface",
    summary: "the greeter listens on 0.0.0.0, every interface, instead of the address asked",
    file: "rebind.ts",
    edits: [{
      find: 'listenOn(options.hostname ?? "127.0.0.1", options.port ?? 0)',
      replace: 'listenOn("0.0.0.0", options.port ?? 0)',
    }],
    caughtBy: "bound to 0.0.0.0",
  },
  {
    id: "greets-with-client-address",
    summary: "the greeting names the client's address (remoteAddr) instead of the server's",
    file: "rebind.ts",
    edits: [{
      find: "greetingFrom(conn.localAddr as Deno.NetAddr)",
      replace: "greetingFrom(conn.remoteAddr as Deno.NetAddr)",
    }],
    caughtBy: "conn.localAddr, not the client's",
  },
  {
    id: "greets-with-listener-address",
    summary: "the greeting names the listener's address (listener.addr), not the connection's",
    file: "rebind.ts",
    edits: [{
      find: "greetingFrom(conn.localAddr as Deno.NetAddr)",
      replace: "greetingFrom(listener.addr)",
    }],
    caughtBy: "greeted with the listener's name (0.0.0.0)",
  },
  {
    id: "rethrows-accept-errors",
    summary: "the accept loop rethrows every accept() error that is not a shutdown, so one " +
      "client that resets before it is accepted (NotConnected) stops the server",
    file: "rebind.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;\n",
      replace: "        if (closing) return;\n        throw error;\n",
    }],
    caughtBy: "rethrows accept errors",
  },
  {
    id: "addr-in-use-without-cause",
    summary: "listenOn's clearer AddrInUse drops the original error",
    file: "rebind.ts",
    edits: [{ find: "        { cause: error },\n", replace: "" }],
    caughtBy: "keep the original error as cause",
  },
  {
    id: "port-zero-replaced",
    summary: "listenOn replaces port 0 with the book's 1060",
    file: "rebind.ts",
    edits: [{
      find: 'return Deno.listen({ hostname, port, transport: "tcp" });',
      replace: 'return Deno.listen({ hostname, port: port || 1060, transport: "tcp" });',
    }],
    caughtBy: "do not replace it with a fixed port",
  },
  {
    id: "done-rejects-after-close",
    summary: "the accept loop rethrows the BadResource that close() causes, so done rejects",
    file: "rebind.ts",
    edits: [{
      find: "        if (closing || error instanceof Deno.errors.BadResource) return;",
      replace: "        if (error instanceof Deno.errors.BadResource) throw error;",
    }],
    caughtBy: "done rejected after close()",
  },
  {
    id: "log-addresses-swapped",
    summary: "the greeter logs `Accepted SERVER on CLIENT`",
    file: "rebind.ts",
    edits: [{
      find: "log(`Accepted ${formatAddr(conn.remoteAddr)} on ${formatAddr(conn.localAddr)}`);",
      replace: "log(`Accepted ${formatAddr(conn.localAddr)} on ${formatAddr(conn.remoteAddr)}`);",
    }],
    caughtBy: "two addresses swapped",
  },
  ...outOfFilesMistakes("rebind.ts"),
  {
    id: "closes-only-after-greeting",
    summary: "the greeter closes the connection only when the greeting was written",
    file: "rebind.ts",
    edits: [{
      find: "          sent += await conn.write(greeting.subarray(sent));\n        }\n" +
        "      } catch (error) {\n        log(`  Could not greet: ${(error as Error).message}`);\n" +
        "      } finally {\n        conn.close();\n      }",
      replace: "          sent += await conn.write(greeting.subarray(sent));\n        }\n" +
        "        conn.close();\n      } catch (error) {\n" +
        "        log(`  Could not greet: ${(error as Error).message}`);\n      }",
    }],
    caughtBy: "the connection was left open after its greeting's write() failed",
  },
  {
    id: "program-drops-log",
    summary: "the server program starts the greeter without options.log, so it prints no " +
      "connection",
    file: "rebind.ts",
    edits: [{
      find: "  const greeter = startGreeter(options);",
      replace:
        "  const greeter = startGreeter({ hostname: options.hostname, port: options.port });",
    }],
    caughtBy: "the server program printed no connection",
  },
];
