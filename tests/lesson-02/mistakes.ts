/**
 * Lesson 02's known mistakes: edits to the reference solution that the suite
 * must reject, each by a failure message that names it.
 *
 * @module
 */

import type { Mistake } from "../../tools/mistakes.ts";

/** The bugs learners write in addresses.ts. */
export const mistakes: Mistake[] = [
  {
    id: "tier-off-by-one",
    summary: "counts 1024 as a well-known port (`port <= 1024`)",
    file: "addresses.ts",
    edits: [{ find: "if (port <= 1023) return", replace: "if (port <= 1024) return" }],
    caughtBy: "off by one at a tier boundary",
  },
  {
    id: "split-first-colon",
    summary: "splits host:port at the first colon, which breaks `[::1]:1060`",
    file: "addresses.ts",
    edits: [{
      find: "function splitHostPort(text: string): [string, string | undefined] {\n",
      replace: "function splitHostPort(text: string): [string, string | undefined] {\n" +
        '  const first = text.indexOf(":");\n' +
        "  if (first >= 0) return [text.slice(0, first), text.slice(first + 1)];\n",
    }],
    caughtBy: "split the text at the first colon",
  },
  {
    id: "no-port-range-check",
    summary: "accepts any number as a port, 70000 included",
    file: "addresses.ts",
    edits: [{
      find: "if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {",
      replace: "if (Number.isNaN(port)) {",
    }],
    caughtBy: "there is no such port",
  },
  {
    id: "parseint-port",
    summary: "converts the port with parseInt, which accepts `80abc` as 80",
    file: "addresses.ts",
    edits: [
      {
        find: "if (!/^[0-9]+$/.test(portText)) {",
        replace: "if (Number.isNaN(parseInt(portText, 10))) {",
      },
      { find: "const port = Number(portText);", replace: "const port = parseInt(portText, 10);" },
    ],
    caughtBy: "parseInt stops at the first non-digit",
  },
  {
    id: "port-digit-count",
    summary: "refuses a port text of more than 5 digits as malformed (/^[0-9]{1,5}$/), so " +
      "100000 is a TypeError and 0000080 is refused",
    file: "addresses.ts",
    edits: [{
      find: "if (!/^[0-9]+$/.test(portText)) {",
      replace: "if (!/^[0-9]{1,5}$/.test(portText)) {",
    }],
    caughtBy: "counted the port's digits",
  },
  {
    id: "format-without-brackets",
    summary: "formats an IPv6 address without brackets (`::1:1060`)",
    file: "addresses.ts",
    edits: [{
      find:
        'return addr.hostname.includes(":")\n    ? `[${addr.hostname}]:${addr.port}`\n    : `${addr.hostname}:${addr.port}`;',
      replace: "return `${addr.hostname}:${addr.port}`;",
    }],
    caughtBy: "Put an IPv6 address in brackets",
  },
  {
    id: "ipv4-no-range",
    summary: "accepts any decimal number as a quad, 256 and 300 included",
    file: "addresses.ts",
    edits: [{ find: " && Number(quad) <= 255", replace: "" }],
    caughtBy: "a number over 255",
  },
  {
    id: "services-any-protocol",
    summary: "looks a service up without comparing the protocol",
    file: "addresses.ts",
    edits: [{ find: "    if (m[2] !== protocol) continue;\n", replace: "" }],
    caughtBy: "ignored the protocol",
  },
  {
    id: "services-reads-comments",
    summary: "does not strip `# …` comments, so words in them match as aliases",
    file: "addresses.ts",
    edits: [{ find: 'line.replace(/#.*/, "").trim()', replace: "line.trim()" }],
    caughtBy: "inside a # comment",
  },
  {
    id: "services-first-alias-only",
    summary: "lookupService compares the name with the first alias only (`aliases[0] === name`)",
    file: "addresses.ts",
    edits: [{
      find: "if (service === name || aliases.includes(name))",
      replace: "if (service === name || aliases[0] === name)",
    }],
    caughtBy: "matched only the first alias",
  },
  {
    id: "services-one-alias-field",
    summary: "lookupService destructures one alias field (`[service, portAndProtocol, alias]`)",
    file: "addresses.ts",
    edits: [
      {
        find: "const [service, portAndProtocol, ...aliases] = fields;",
        replace: "const [service, portAndProtocol, alias] = fields;",
      },
      {
        find: "if (service === name || aliases.includes(name))",
        replace: "if (service === name || alias === name)",
      },
    ],
    caughtBy: "matched only the first alias",
  },
  {
    id: "fixed-port",
    summary: "listens on the fixed port 1060 instead of port 0",
    file: "addresses.ts",
    edits: [{
      find: 'Deno.listen({ hostname, port: 0, transport: "tcp" })',
      replace: 'Deno.listen({ hostname, port: 1060, transport: "tcp" })',
    }],
    caughtBy: "bound a fixed port",
  },
  {
    id: "reports-port-zero",
    summary: "reports the port it asked for (0) instead of the one the OS picked",
    file: "addresses.ts",
    edits: [{
      find: "    addr: listener.addr,\n",
      replace: "    addr: { ...listener.addr, port: 0 },\n",
    }],
    caughtBy: "reported the port you asked for (0)",
  },
  {
    id: "default-port-unchecked",
    summary: "parseHostPort returns the default port without checking it is 0 to 65535",
    file: "addresses.ts",
    edits: [{ find: "    checkPort(defaultPort);\n", replace: "" }],
    caughtBy: "returned the default port",
  },
  {
    id: "ipv4-number-coercion",
    summary: "isIPv4 checks each part with Number(), which reads 0x7f and 1e2 as numbers",
    file: "addresses.ts",
    edits: [{
      find: "/^(0|[1-9][0-9]{0,2})$/.test(quad) && Number(quad) <= 255",
      replace: 'quad.trim() === quad && quad !== "" && !/^0[0-9]/.test(quad) && ' +
        "Number.isInteger(Number(quad)) && Number(quad) >= 0 && Number(quad) <= 255",
    }],
    caughtBy: "accepted a number in hex",
  },
  {
    id: "brackets-only-for-double-colon",
    summary: "formatHostPort brackets a hostname only when it contains ::",
    file: "addresses.ts",
    edits: [{
      find: 'return addr.hostname.includes(":")\n',
      replace: 'return addr.hostname.includes("::")\n',
    }],
    caughtBy: "cannot be read back",
  },
  {
    id: "port-unicode-digits",
    summary: "parseHostPort accepts any Unicode digit (\\p{Nd}) as a port digit",
    file: "addresses.ts",
    edits: [{
      find: "if (!/^[0-9]+$/.test(portText)) {",
      replace: "if (!/^\\p{Nd}+$/u.test(portText)) {",
    }],
    caughtBy: "refuse the text itself as not a decimal number",
  },
  {
    id: "empty-bracketed-host",
    summary: "parseHostPort accepts [] as a host",
    file: "addresses.ts",
    edits: [{
      find: 'if (hostname === "") throw',
      replace: 'if (hostname === "" && !text.startsWith("[")) throw',
    }],
    caughtBy: "an empty host in brackets",
  },
  {
    id: "any-port-on-every-interface",
    summary: "listenOnAnyPort binds every interface (0.0.0.0) when no hostname is given",
    file: "addresses.ts",
    edits: [{
      find: 'export function listenOnAnyPort(hostname = "127.0.0.1")',
      replace: 'export function listenOnAnyPort(hostname = "0.0.0.0")',
    }],
    caughtBy: "the default hostname is 127.0.0.1",
  },
  {
    id: "empty-port-takes-default",
    summary:
      "parseHostPort uses the default port for an empty port (`127.0.0.1:`), testing `!portText`",
    file: "addresses.ts",
    edits: [{ find: "if (portText === undefined) {", replace: "if (!portText) {" }],
    caughtBy: "used the default port for the empty port after the colon",
  },
  {
    id: "default-port-zero-refused",
    summary: "parseHostPort treats a default port of 0 as no default, testing `!defaultPort`",
    file: "addresses.ts",
    edits: [{ find: "if (defaultPort === undefined) {", replace: "if (!defaultPort) {" }],
    caughtBy: "treated a default port of 0 as no default",
  },
  {
    id: "empty-bracketed-port-takes-default",
    summary: "parseHostPort reads `[::1]:` as `[::1]` and uses the default port",
    file: "addresses.ts",
    edits: [{
      find: 'rest === "" ? undefined : rest.slice(1)',
      replace: "rest.slice(1) || undefined",
    }],
    caughtBy: 'used the default port for the empty port after "]:"',
  },
  {
    id: "services-split-on-tabs",
    summary: "lookupService splits /etc/services lines on tabs only, not on spaces",
    file: "addresses.ts",
    edits: [{ find: ".split(/\\s+/)", replace: ".split(/\\t+/)" }],
    caughtBy: "split the fields on tabs only",
  },
];
