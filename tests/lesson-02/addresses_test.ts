/**
 * Lesson 02 — Addresses and port numbers: host:port text, dotted quads, the
 * three port tiers, /etc/services, and ports the OS picks.
 *
 * @module
 */

import {
  formatHostPort,
  type HostPort,
  isIPv4,
  listenOnAnyPort,
  lookupService,
  parseHostPort,
  portTier,
} from "../../exercises/lesson-02/addresses.ts";
import { within } from "../harness/deadline.ts";
import { expectEqual, expectRejects, expectThat, isNotImplemented } from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";

const section = sectionsOf("lesson-02");

/** Calls `action`; a value or the error it threw (a stub's "not implemented" passes through). */
function attempt<T>(action: () => T): { value?: T; error?: Error } {
  try {
    return { value: action() };
  } catch (error) {
    if (isNotImplemented(error)) throw error;
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }
}

/** Replays an attempt: throws its error again, or returns its value. */
function replay<T>(result: { value?: T; error?: Error }): T | undefined {
  if (result.error) throw result.error;
  return result.value;
}

/** What an attempt produced, for a failure message. */
function shown(result: { value?: unknown; error?: Error }): string {
  return result.error
    ? `${result.error.name}: ${result.error.message}`
    : `returned ${JSON.stringify(result.value)}`;
}

/** Asserts parseHostPort(text, defaultPort) gives `expected`. */
function expectParsed(
  text: string,
  defaultPort: number | undefined,
  expected: HostPort,
  heading: string,
  mistake?: string,
): void {
  const result = attempt(() => parseHostPort(text, defaultPort));
  const call = `parseHostPort(${JSON.stringify(text)}${
    defaultPort === undefined ? "" : `, ${defaultPort}`
  })`;
  if (result.error) {
    fail({
      summary: `${call} threw`,
      section: section(heading),
      expected: JSON.stringify(expected),
      got: shown(result),
      mistake,
    });
  }
  expectEqual(result.value, expected, { what: call, section: section(heading), mistake });
}

/** An /etc/services excerpt, written here: the tests never read the machine's own file. */
const SERVICES = `# Network services, Internet style
#
# Updated from https://www.iana.org/assignments/service-names-port-numbers/ .

echo		7/tcp
echo		7/udp
daytime		13/tcp
ssh		22/tcp				# SSH Remote Login Protocol
domain		53/tcp				# Domain Name Server
domain		53/udp
bootps		67/udp
bootpc		68/udp
http		80/tcp		www		# WorldWideWeb HTTP
kerberos	88/tcp		kerberos5 krb5 kerberos-sec	# Kerberos v5
kerberos	88/udp		kerberos5 krb5 kerberos-sec	# Kerberos v5
ntp		123/udp				# Network Time Protocol
#gopher		70/tcp		(commented out: not listed)
http-alt	8080/tcp	webcache	# WWW caching service
`;

Deno.test("parseHostPort: the port follows the last colon", () => {
  const h = "The port follows a colon";
  expectParsed("127.0.0.1:1060", undefined, { hostname: "127.0.0.1", port: 1060 }, h);
  expectParsed("localhost:80", undefined, { hostname: "localhost", port: 80 }, h);
  expectParsed("127.0.113.254:65535", undefined, { hostname: "127.0.113.254", port: 65535 }, h);
  expectParsed("127.0.0.1:0", undefined, { hostname: "127.0.0.1", port: 0 }, h);
});

Deno.test("parseHostPort: an IPv6 address comes in brackets, `[::1]:1060`", () => {
  const mistake = "split the text at the first colon: an IPv6 address is full of colons, " +
    "so take the host from inside [ ] and the port after the ]";
  const h = "The port follows a colon";
  expectParsed("[::1]:1060", undefined, { hostname: "::1", port: 1060 }, h, mistake);
  expectParsed("[fe80::1:2]:80", undefined, { hostname: "fe80::1:2", port: 80 }, h, mistake);
  expectParsed("[::1]", 1060, { hostname: "::1", port: 1060 }, h, mistake);
});

Deno.test("parseHostPort: the default port is used only when none is given", () => {
  const h = "The port follows a colon";
  expectParsed("localhost", 1060, { hostname: "localhost", port: 1060 }, h);
  expectParsed("127.0.0.1", 1060, { hostname: "127.0.0.1", port: 1060 }, h);
  expectParsed(
    "127.0.0.1:80",
    1060,
    { hostname: "127.0.0.1", port: 80 },
    h,
    "a port given in the text wins over the default",
  );
});

Deno.test("parseHostPort: a default port of 0 is a port too", () => {
  const mistake = "treated a default port of 0 as no default: 0 is a port (let the OS choose); " +
    "a default is missing only when it is undefined";
  const h = "The port follows a colon";
  expectParsed("localhost", 0, { hostname: "localhost", port: 0 }, h, mistake);
  expectParsed("[::1]", 0, { hostname: "::1", port: 0 }, h, mistake);
});

Deno.test("parseHostPort: an empty port is an error, even with a default", async () => {
  const cases: [string, string][] = [
    [
      "127.0.0.1:",
      'used the default port for the empty port after the colon: a default stands in for a missing port (no ":" at all), an empty one is an error',
    ],
    [
      "[::1]:",
      'used the default port for the empty port after "]:": a ":" after the "]" says a port follows; only "[::1]", with nothing after the "]", takes the default',
    ],
  ];
  for (const [text, mistake] of cases) {
    const result = attempt(() => parseHostPort(text, 1060));
    await expectRejects(() => replay(result), {
      kind: TypeError,
      pattern: /port/i,
      what: `parseHostPort(${JSON.stringify(text)}, 1060), an empty port`,
      section: section("The port follows a colon"),
      mistake: result.value ? mistake : undefined,
    });
  }
});

Deno.test("parseHostPort: a port above 65535 is a RangeError", async () => {
  for (const text of ["127.0.0.1:65536", "127.0.0.1:70000", "[::1]:99999"]) {
    const result = attempt(() => parseHostPort(text));
    const returned = result.value;
    await expectRejects(() => replay(result), {
      kind: RangeError,
      pattern: /65535/,
      what: `parseHostPort(${JSON.stringify(text)})`,
      section: section("Port numbers are 16 bits"),
      mistake: returned
        ? `accepted port ${returned.port}: there is no such port, a port is 16 bits, 0 to 65535`
        : undefined,
    });
  }
});

Deno.test("parseHostPort: a port is judged by its number, not by how many digits it has", async () => {
  const mistake = "counted the port's digits (a pattern like /^[0-9]{1,5}$/): the text is " +
    "decimal digits either way; convert it and let checkPort judge the number, so 0000080 is " +
    "port 80 and 100000 is a RangeError naming 65535";
  const h = "Port numbers are 16 bits";
  for (const text of ["127.0.0.1:100000", "127.0.0.1:0065536", "[::1]:99999999999"]) {
    const result = attempt(() => parseHostPort(text));
    await expectRejects(() => replay(result), {
      kind: RangeError,
      pattern: /65535/,
      what: `parseHostPort(${JSON.stringify(text)})`,
      section: section(h),
      mistake: result.value
        ? `accepted port ${result.value.port}: there is no such port, a port is 16 bits, 0 to 65535`
        : result.error instanceof TypeError
        ? mistake
        : undefined,
    });
  }
  expectParsed("127.0.0.1:0000080", undefined, { hostname: "127.0.0.1", port: 80 }, h, mistake);
  expectParsed("[::1]:00065535", undefined, { hostname: "::1", port: 65535 }, h, mistake);
});

Deno.test("parseHostPort: a default port above 65535 is a RangeError too", async () => {
  for (const defaultPort of [65536, -1, 1060.5]) {
    const result = attempt(() => parseHostPort("localhost", defaultPort));
    const returned = result.value;
    await expectRejects(() => replay(result), {
      kind: RangeError,
      pattern: /65535/,
      what: `parseHostPort("localhost", ${defaultPort})`,
      section: section("Port numbers are 16 bits"),
      mistake: returned
        ? `returned the default port ${returned.port} unchecked: a default is a port ` +
          "too, check it like one read from the text"
        : undefined,
    });
  }
});

Deno.test("parseHostPort: malformed text is a TypeError that says what is wrong", async () => {
  const cases: [string, string, RegExp][] = [
    [":1060", "an empty host", /host/i],
    ["127.0.0.1:", "an empty port", /port/i],
    ["127.0.0.1:http", "a port that is a name", /port/i],
    ["127.0.0.1:80abc", "a port with junk after the digits", /port/i],
    ["127.0.0.1: 80", "a port with a space", /port/i],
    ["127.0.0.1:-1", "a negative port", /port/i],
    ["::1:1060", "IPv6 without brackets", /bracket/i],
    ["[::1", "a [ without ]", /\]/],
    ["[::1]1060", "no colon after ]", /:/],
    ["localhost", "no port and no default", /port/i],
    ["127.0.0.1:1e3", "a port in exponent notation (Number gives 1000)", /port/i],
    ["127.0.0.1:0x10", "a port in hex (Number and parseInt give 16)", /port/i],
    ["127.0.0.1:+5", "a port with a plus sign", /port/i],
    ["127.0.0.1:80\n", "a port with a newline after it", /port/i],
    ["127.0.0.1:١٠٦٠", "a port in Arabic-Indic digits, not 0-9", /port/i],
    ["[]:1060", "an empty host in brackets", /host/i],
  ];
  for (const [text, why, pattern] of cases) {
    const result = attempt(() => parseHostPort(text));
    const returned = result.value;
    await expectRejects(() => replay(result), {
      kind: TypeError,
      pattern,
      what: `parseHostPort(${JSON.stringify(text)}), ${why}`,
      section: section("The port follows a colon"),
      mistake: text.endsWith("80abc") && returned?.port === 80
        ? 'parseInt stops at the first non-digit and returns 80 for "80abc": ' +
          "check the port is digits only (/^[0-9]+$/) before converting it"
        : result.error instanceof RangeError && /port/i.test(pattern.source)
        ? "converted text that is not digits 0-9 and range-checked the number: " +
          "refuse the text itself as not a decimal number (/^[0-9]+$/)"
        : undefined,
    });
  }
});

Deno.test("formatHostPort: `host:port`, with brackets around an IPv6 address", () => {
  const cases: [HostPort, string][] = [
    [{ hostname: "127.0.0.1", port: 1060 }, "127.0.0.1:1060"],
    [{ hostname: "localhost", port: 80 }, "localhost:80"],
    [{ hostname: "::1", port: 1060 }, "[::1]:1060"],
    [{ hostname: "fe80::1:2", port: 0 }, "[fe80::1:2]:0"],
    [{ hostname: "fe80:0:0:0:0:0:0:1", port: 65535 }, "[fe80:0:0:0:0:0:0:1]:65535"],
  ];
  for (const [addr, text] of cases) {
    const got = formatHostPort(addr);
    expectEqual(got, text, {
      what: `formatHostPort(${JSON.stringify(addr)})`,
      section: section("The port follows a colon"),
      mistake: got === `${addr.hostname}:${addr.port}`
        ? `"${got}" cannot be read back: which colon starts the port? Put an IPv6 address in brackets`
        : undefined,
    });
  }
});

Deno.test("isIPv4: four decimal numbers 0 to 255, separated by dots", () => {
  // Loopback addresses and the wildcard only: 0 and 255 in each position between them.
  for (
    const text of ["127.0.0.1", "0.0.0.0", "127.255.255.255", "127.51.100.10", "127.0.113.254"]
  ) {
    expectEqual(isIPv4(text), true, {
      what: `isIPv4(${JSON.stringify(text)})`,
      section: section("IPv4: four numbers and three dots"),
    });
  }
});

Deno.test("isIPv4: refuses numbers over 255, the wrong count, empty parts and other text", () => {
  const cases: [string, string][] = [
    ["256.0.0.1", "a number over 255: one byte holds 0 to 255"],
    ["127.0.0.300", "a number over 255: one byte holds 0 to 255"],
    ["127.0.1", "only three numbers"],
    ["127.0.0.0.1", "five numbers"],
    ["127..0.1", 'an empty part (Number("") is 0, so check the digits)'],
    ["127.0.0.", "an empty last part"],
    ["127.0.0.01", "a leading zero (some parsers read 010 as octal 8)"],
    ["127.0.0.-1", "a sign"],
    ["127.0.0.1 ", "a trailing space"],
    ["127.0.0.x", "a letter"],
    ["localhost", "a host name, not an address"],
    ["::1", "an IPv6 address"],
    ["", "nothing at all"],
    ["0x7f.0.0.1", 'a number in hex (Number("0x7f") is 127)'],
    ["1e2.0.0.1", 'a number in exponent notation (Number("1e2") is 100)'],
    ["127.0.0.+1", "a plus sign"],
    ["127.0.0.1\n", "a trailing newline"],
    ["١٢٧.0.0.1", "digits other than 0-9 (Arabic-Indic)"],
  ];
  for (const [text, why] of cases) {
    expectEqual(isIPv4(text), false, {
      what: `isIPv4(${JSON.stringify(text)})`,
      section: section("IPv4: four numbers and three dots"),
      mistake: `accepted ${why}`,
    });
  }
});

Deno.test("portTier: 0-1023 well-known, 1024-49151 registered, 49152-65535 dynamic", () => {
  const cases: [number, string][] = [
    [0, "well-known"],
    [22, "well-known"],
    [1023, "well-known"],
    [1024, "registered"],
    [1060, "registered"],
    [49151, "registered"],
    [49152, "dynamic"],
    [65535, "dynamic"],
  ];
  for (const [port, tier] of cases) {
    const got = portTier(port);
    expectEqual(got, tier, {
      what: `portTier(${port})`,
      section: section("Three tiers of ports"),
      mistake: port === 1024 || port === 1023 || port === 49151 || port === 49152
        ? `off by one at a tier boundary: well-known ends at 1023 (1024 is the first registered port), registered ends at 49151`
        : undefined,
    });
  }
});

Deno.test("portTier: a number that is not a port is a RangeError", async () => {
  for (const port of [-1, 65536, 70000, 80.5, Number.NaN]) {
    const result = attempt(() => portTier(port));
    const returned = result.value;
    await expectRejects(() => replay(result), {
      kind: RangeError,
      what: `portTier(${port})`,
      section: section("Port numbers are 16 bits"),
      mistake: returned !== undefined
        ? `gave ${port} the tier "${returned}": there is no such port, a port is 16 bits, 0 to 65535`
        : undefined,
    });
  }
});

/** What a lookup of an entry's second or third alias most likely missed. */
const ALIASES = "matched only the first alias: an entry may have several (kerberos5 krb5 " +
  "kerberos-sec), and every field after port/protocol is one; compare the name with each";

Deno.test("lookupService: finds a port by name or alias, for the protocol asked", () => {
  const cases: [string, "tcp" | "udp", number | undefined, string | undefined][] = [
    ["ssh", "tcp", 22, undefined],
    ["http", "tcp", 80, undefined],
    ["www", "tcp", 80, "an alias is the third field onwards: www is another name for http"],
    ["webcache", "tcp", 8080, "an alias is the third field onwards"],
    ["kerberos5", "tcp", 88, "an alias is the third field onwards"],
    ["krb5", "tcp", 88, ALIASES],
    ["kerberos-sec", "udp", 88, ALIASES],
    ["domain", "udp", 53, undefined],
    ["ntp", "udp", 123, undefined],
    ["bootps", "tcp", undefined, "ignored the protocol: bootps is listed for udp only, not tcp"],
    ["ntp", "tcp", undefined, "ignored the protocol: ntp is listed for udp only, not tcp"],
    [
      "WorldWideWeb",
      "tcp",
      undefined,
      "matched a word inside a # comment: drop everything after # first",
    ],
    ["gopher", "tcp", undefined, "matched a commented-out line"],
    ["htt", "tcp", undefined, "matched part of a name: compare whole names"],
    ["nonesuch", "udp", undefined, undefined],
  ];
  for (const [name, protocol, port, mistake] of cases) {
    expectEqual(lookupService(SERVICES, name, protocol), port, {
      what: `lookupService(SERVICES, ${JSON.stringify(name)}, "${protocol}")`,
      section: section("Ports that are spoken for: /etc/services"),
      mistake,
    });
  }
});

Deno.test("lookupService: fields are separated by spaces as well as tabs", () => {
  // Lines aligned with spaces, as in the README's excerpt of a real /etc/services.
  const spaced = "ssh             22/tcp                          # SSH Remote Login Protocol\n" +
    "domain          53/udp\n" +
    "http            80/tcp          www             # WorldWideWeb HTTP\n" +
    "ntp 123/udp\n" +
    "http-alt\t 8080/tcp \t webcache\n";
  const cases: [string, "tcp" | "udp", number][] = [
    ["ssh", "tcp", 22],
    ["domain", "udp", 53],
    ["www", "tcp", 80],
    ["ntp", "udp", 123],
    ["webcache", "tcp", 8080],
  ];
  for (const [name, protocol, port] of cases) {
    expectEqual(lookupService(spaced, name, protocol), port, {
      what: `lookupService(a file aligned with spaces, ${JSON.stringify(name)}, "${protocol}")`,
      section: section("Ports that are spoken for: /etc/services"),
      mistake: "split the fields on tabs only: /etc/services lines are aligned with spaces too, " +
        "so split on any run of whitespace (/\\s+/)",
    });
  }
});

Deno.test("listenOnAnyPort: port 0 becomes a real, free, connectable port, different each time", async () => {
  const where = section("Port 0: let the OS choose");
  const opened = [attempt(() => listenOnAnyPort("127.0.0.1"))];
  try {
    opened.push(attempt(() => listenOnAnyPort("127.0.0.1")));
    for (const result of opened) {
      if (result.error) {
        fail({
          summary:
            `listenOnAnyPort("127.0.0.1") threw ${result.error.name}: ${result.error.message}`,
          section: where,
          mistake: result.error instanceof Deno.errors.AddrInUse
            ? "bound a fixed port, which only one listener can hold: ask for port 0 and let the OS choose"
            : undefined,
        });
      }
    }
    const [a, b] = opened.map((result) => result.value!.addr);
    for (const addr of [a, b]) {
      expectThat(
        addr.hostname === "127.0.0.1" && addr.port > 1023,
        `${addr.hostname}:${addr.port}`,
        {
          what: "the address listenOnAnyPort reports",
          expected: "127.0.0.1 and a port the OS chose (above 1023, never 0)",
          section: where,
          mistake: addr.port === 0
            ? "reported the port you asked for (0): the port the OS picked is in listener.addr"
            : undefined,
        },
      );
    }
    expectThat(a.port !== b.port, `both at port ${a.port}`, {
      what: "two listeners on port 0",
      expected: "two different ports",
      section: where,
    });
    for (const addr of [a, b]) {
      const conn = await within(Deno.connect({ hostname: "127.0.0.1", port: addr.port }), {
        awaiting: `a connection to the reported port ${addr.port}`,
        section: where,
      }).catch((error) => {
        if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
        return fail({
          summary: `nothing listens at the reported port ${addr.port}: the connection was refused`,
          section: where,
          mistake: "report listener.addr, the address actually bound",
        });
      });
      conn.close();
    }
  } finally {
    for (const result of opened) result.value?.close();
  }
});

Deno.test("round trip: the listener's address, written as text and read back, reaches it", async () => {
  const where = section("Port 0: let the OS choose");
  const listener = listenOnAnyPort("127.0.0.1");
  try {
    const text = formatHostPort(listener.addr);
    expectEqual(text, `127.0.0.1:${listener.addr.port}`, {
      what: "formatHostPort(the listener's address)",
      section: section("The port follows a colon"),
    });
    const back = parseHostPort(text);
    expectEqual(back, { hostname: "127.0.0.1", port: listener.addr.port }, {
      what: `parseHostPort(${JSON.stringify(text)})`,
      section: section("The port follows a colon"),
    });
    const conn = await within(Deno.connect(back), {
      awaiting: `a connection to ${text}`,
      section: where,
    });
    expectThat(conn.localAddr.port > 1023, `the client's own port is ${conn.localAddr.port}`, {
      what: "the port the OS gave the connecting client",
      expected: "an ephemeral port, above 1023",
      section: where,
    });
    conn.close();
  } finally {
    listener.close();
  }
});

Deno.test("listenOnAnyPort: without a hostname, 127.0.0.1", () => {
  const mistake = "the default hostname is 127.0.0.1 (loopback only), not every interface";
  let listener: ReturnType<typeof listenOnAnyPort>;
  try {
    listener = listenOnAnyPort();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    fail({
      summary: "listenOnAnyPort() with no argument asked for more than loopback",
      section: section("Port 0: let the OS choose"),
      got: `${error.name}: ${error.message}`,
      mistake,
    });
  }
  try {
    expectEqual(listener.addr.hostname, "127.0.0.1", {
      what: "the hostname listenOnAnyPort() bound with no argument",
      section: section("Port 0: let the OS choose"),
      mistake,
    });
  } finally {
    listener.close();
  }
});
