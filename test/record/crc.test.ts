import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32, fastCrcPath } from "../../src/record/crc.js";

describe("record/crc", () => {
  it("gives node:zlib's CRC-32 on views, chained pieces and empty input", () => {
    const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
    assert.equal(crc32(data), zlibCrc32(data));
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926); // the CRC-32 check value
    for (const [from, to] of [[1, 2], [13, 4099], [70001, data.byteLength - 5]] as const) {
      const view = data.subarray(from, to);
      assert.equal(crc32(view), zlibCrc32(view), `view ${from}..${to}`);
    }
    // Pieces chained as the MCAP writer does for an uncompressed chunk.
    let chained = 0;
    for (let at = 0; at < data.byteLength; at += 65537) chained = crc32(data.subarray(at, at + 65537), chained);
    assert.equal(chained, zlibCrc32(data));
  });

  it("uses the native @node-rs/crc32 where it ships a binary (linux x64 here)", function () {
    if (!(process.platform === "linux" && process.arch === "x64")) this.skip();
    assert.match(fastCrcPath ?? "", /@node-rs[\\/]crc32/);
  });
});
