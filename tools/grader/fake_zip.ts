/**
 * A small zip writer for the grader's tests (stored or deflated entries,
 * any mode bits, sizes that lie), so they need no zip tool and can build the
 * hostile archives a real tool would refuse to make.
 *
 * @module
 */

import { concat } from "@std/bytes/concat";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** One entry for {@linkcode makeZip}. */
export interface FakeEntry {
  /** Its path in the archive. */
  name: string;
  /** Its content. */
  data: string | Uint8Array;
  /** Unix mode bits (e.g. 0o120777 for a symlink). */
  mode?: number;
  /** Deflate it (else stored). */
  deflated?: boolean;
  /** The size the archive claims for it (default: the real one). */
  claimedSize?: number;
}

/**
 * Writes a zip archive, lying about sizes where asked.
 *
 * @example
 * ```ts
 * import { makeZip } from "./fake_zip.ts";
 * const bytes = await makeZip([{ name: "a/b.ts", data: "x" }]);
 * ```
 */
export async function makeZip(files: FakeEntry[]): Promise<Uint8Array> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const raw = typeof f.data === "string" ? new TextEncoder().encode(f.data) : f.data;
    const body = f.deflated ? await deflate(raw) : raw;
    const local = new Uint8Array(30 + name.length + body.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, f.deflated ? 8 : 0, true);
    lv.setUint32(14, crc32(raw), true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, f.claimedSize ?? raw.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(body, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, f.deflated ? 8 : 0, true);
    cv.setUint32(16, crc32(raw), true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, f.claimedSize ?? raw.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, ((f.mode ?? 0o100644) << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, ...centrals, end]);
}
