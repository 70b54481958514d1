import { assertEquals } from "@std/assert";
import { firstDifference } from "./bytes.ts";

/** The plain byte-by-byte answer the fast path must agree with. */
function slowFirstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

Deno.test("firstDifference: agrees byte for byte with a plain loop, at every alignment", () => {
  const base = Uint8Array.from({ length: 4099 }, (_, i) => (i * 7) % 251);
  for (const flip of [-1, 0, 1, 2, 3, 4, 5, 7, 8, 1000, 4094, 4095, 4096, 4097, 4098]) {
    const other = base.slice();
    if (flip >= 0) other[flip] ^= 0x80;
    for (const [offA, offB] of [[0, 0], [1, 1], [2, 2], [3, 3], [0, 1], [1, 2], [3, 0]]) {
      for (const trim of [0, 1, 2, 3]) {
        const a = base.subarray(offA, base.length - trim);
        const b = other.subarray(offB);
        assertEquals(
          firstDifference(a, b),
          slowFirstDifference(a, b),
          `flip ${flip}, offsets ${offA}/${offB}, trim ${trim}`,
        );
      }
    }
  }
});

Deno.test("firstDifference: equal, empty and prefix cases", () => {
  const e = new TextEncoder();
  assertEquals(firstDifference(e.encode("abc"), e.encode("abc")), -1);
  assertEquals(firstDifference(new Uint8Array(), new Uint8Array()), -1);
  assertEquals(firstDifference(e.encode("ab"), e.encode("abc")), 2);
  assertEquals(firstDifference(e.encode("abcdefgh"), e.encode("abcdefgX")), 7);
});
