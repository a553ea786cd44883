/**
 * Golden hashes of the VLS-128 and PandarAT128 decoders' output on the synthetic second the
 * packets bench decodes (neither has a real recording with a reference cloud here): pins the
 * decoders' output while optimising; regenerate only with a verified change (a decoder change
 * checked against nebula, said in the commit), never to make a speed change pass.
 * Each hash covers two passes of one decoder over the second (the replay is decoded where it
 * arrives, as in the bench): every sweep's stamp, frame, point count and bytes.
 */
import assert from "node:assert/strict";
import { PointBuffer, StoragePool } from "../../src/lidar-packets/cloud.js";
import type { PacketCloudDecoder } from "../../src/lidar-packets/index.js";
import { syntheticSecond, sweepsHash, type SyntheticVariant } from "./synthetic-second.js";

const GOLDEN: Record<SyntheticVariant, Record<string, { sha256: string; sweeps: number; points: number }>> = {
  plain: {
    VLS128: { sha256: "713d1c55a09a5c592f62b40e96475843d142a861f1f4165d9a4e219fdcd08f6f", sweeps: 19, points: 4583904 },
    PandarAT128: { sha256: "5ab6a29e8ece64eeaf84fc8b0d34e27e1ad0d423b3e3b9991e1176975878aaf1", sweeps: 20, points: 3073280 },
  },
  varied: {
    VLS128: { sha256: "032b9b9e026f6e250f9cd900cba9230fdb52d1121e146972cf74a37b126723ff", sweeps: 19, points: 2364684 },
    PandarAT128: { sha256: "9f0c8d781195b8d177b2067eed63d0564a079738c619a9cf872fbde14b734308", sweeps: 10, points: 1916740 },
  },
};

describe("lidar-packets: VLS-128 and AT128 output pinned on the bench's synthetic second (golden sha256)", function () {
  for (const variant of ["plain", "varied"] as const) {
    for (const c of syntheticSecond(variant)) {
      const what = variant === "plain" ? "the bench's packets (Strongest, 10 m)" : "dual return, varied distances and intensities";
      it(`${c.model}, ${what}: sweeps byte for byte as before`, async function () {
        const got = await sweepsHash(c);
        const want = GOLDEN[variant][c.model]!;
        assert.deepEqual({ sha256: got.sha256, sweeps: got.sweeps, points: got.points }, want);
      });
      // Handed-back storage holds the sweeps before: a point that left a byte unwritten would show.
      it(`${c.model}, ${what}, each sweep's storage handed back (recycle) as the conversion does: the same bytes`, async function () {
        const got = await sweepsHash(c, 2, true);
        assert.deepEqual({ sha256: got.sha256, sweeps: got.sweeps, points: got.points }, GOLDEN[variant][c.model]!);
      });
    }
  }
});

describe("lidar-packets: recycle() hands a sweep's storage back to its decoder", function () {
  it("the next sweeps are written into handed-back storage (a few take turns); without recycle() every sweep gets fresh storage", async function () {
    const [c] = syntheticSecond("plain");
    const a = await c!.decoder(), b = await c!.decoder();
    const sweeps = (d: PacketCloudDecoder, recycle: boolean): ArrayBufferLike[] => {
      const out: ArrayBufferLike[] = [];
      for (const m of c!.messages) {
        for (const s of d.decodeMessage(c!.type, m)) {
          out.push(s.data.buffer);
          if (recycle) d.recycle(s);
        }
      }
      return out;
    };
    const kept = sweeps(a, false);
    assert.equal(new Set(kept).size, kept.length, "without recycle: fresh storage per sweep");
    const reused = sweeps(b, true);
    assert.ok(new Set(reused).size <= 3, `with recycle the sweeps take turns in a few storages (${new Set(reused).size} for ${reused.length} sweeps)`);
    assert.ok(reused.every((x) => !kept.includes(x)));
  });

  it("the pool takes back only storage it handed out, once (a second hand-back would let two sweeps share it)", function () {
    const pool = new StoragePool(), other = new StoragePool();
    const buffer = new PointBuffer(4, pool);
    buffer.push(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    const sweep = buffer.bytes();
    assert.equal(other.give(sweep), false, "another pool's sweep");
    assert.equal(pool.give(new Uint8Array(128)), false, "storage never handed out");
    assert.equal(pool.give(sweep), true);
    assert.equal(pool.give(sweep), false, "the same sweep again");
    assert.equal(pool.take(128).buffer, sweep.buffer, "handed-back storage is reused");
    assert.notEqual(pool.take(128).buffer, sweep.buffer, "and only once");
  });
});
