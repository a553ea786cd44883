/**
 * rosbag2 sqlite3 with bounded memory: a 256 MB .db3 (640 messages of 400 KB, written in reverse
 * time order so the read must sort) is read through in a child process, whose resident memory
 * must grow by less than half the file (loading the file, as sql.js did, grows it by more than the
 * whole file).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { existsSync } from "node:fs";
import { convertPeakRss, createRosbag2Db3, loadBetterSqlite, writeImageDb3Bag, writeMetadataYaml } from "./fixtures.js";

const REPO = resolve(import.meta.dirname, "..", "..");
const COUNT = 640;
const SIZE = 400_000;
const BASE = 1_700_000_000_000_000_000n;

describe("convert/readers: rosbag2 sqlite3 read with bounded memory (needs better-sqlite3 built)", function () {
  this.timeout(240_000);
  let dir = "";
  after(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it(`reads a ${(COUNT * SIZE) / 1e6} MB .db3 in time order with resident memory growing by less than half the file`, async function () {
    if (loadBetterSqlite() === null) {
      console.log("    (skipped: better-sqlite3's native binding is not built; npm install with its install script allowed)");
      this.skip();
    }
    dir = await mkdtemp(join(tmpdir(), "syncbag-db3-"));
    const bag = join(dir, "big");
    await writeMetadataYaml(bag, ["big_0.db3"], "sqlite3", [{ name: "/blob", type: "acme_msgs/msg/Blob", count: COUNT }]);
    const { db, insert } = createRosbag2Db3(join(bag, "big_0.db3"), "/blob", "acme_msgs/msg/Blob")!;
    const payload = Buffer.alloc(SIZE);
    db.transaction(() => {
      for (let i = COUNT - 1; i >= 0; i--) {
        payload.writeUInt32LE(i, 0);
        insert.run(BASE + BigInt(i) * 10_000_000n, payload);
      }
    })();
    db.close();

    const script = join(dir, "read.mjs");
    await writeFile(
      script,
      `const { openRecording } = await import(${JSON.stringify(pathToFileURL(join(REPO, "src", "convert", "readers", "open.ts")).href)});
const before = process.memoryUsage().rss;
let peak = before, n = 0, ordered = true, last = -1n, tags = 0;
const source = await openRecording(${JSON.stringify(bag)});
for await (const m of source.messages()) {
  if (m.logTime < last) ordered = false;
  last = m.logTime;
  if (new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true) === n) tags++;
  n++;
  if (n % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
}
await source.close();
process.stdout.write(JSON.stringify({ n, ordered, tags, growth: Math.max(peak, process.memoryUsage().rss) - before, format: source.metadata.format }));
`,
    );
    const out = await new Promise<string>((done, fail) =>
      execFile(process.execPath, ["--import", "tsx", script], { cwd: REPO, maxBuffer: 1 << 20 }, (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout))),
    );
    const r = JSON.parse(out) as { n: number; ordered: boolean; tags: number; growth: number; format: string };
    assert.equal(r.n, COUNT);
    assert.ok(r.ordered, "messages in time order");
    assert.equal(r.tags, COUNT, "each message's payload is its own (the i-th in time carries i)");
    assert.ok(r.growth < (COUNT * SIZE) / 2, `resident memory grew by ${(r.growth / 1e6).toFixed(0)} MB reading a ${(COUNT * SIZE) / 1e6} MB file`);
    console.log(`      peak RSS growth ${(r.growth / 1e6).toFixed(0)} MB for a ${(COUNT * SIZE) / 1e6} MB .db3`);
  });

  it("converts a bag of 1 MiB images with memory that does not grow with the bag (the converter waits for its writer)", async function () {
    if (loadBetterSqlite() === null || !existsSync("/proc/self/status")) {
      console.log("    (skipped: needs better-sqlite3's native binding and Linux /proc for the peak resident memory)");
      this.skip();
    }
    // Peak RSS of `syncbag convert` on 64 and 384 MiB bags of the same camera: a converter that
    // reads faster than it writes and looks at its write queue too seldom holds the difference.
    dir = await mkdtemp(join(tmpdir(), "syncbag-db3-"));
    const cli = ["--import", "tsx", join(REPO, "src", "cli", "main.ts")];
    const peak: number[] = [];
    for (const mib of [64, 384]) {
      assert.ok(await writeImageDb3Bag(join(dir, `bag${mib}`), mib));
      peak.push(await convertPeakRss(cli, join(dir, `bag${mib}`), join(dir, `out${mib}`)));
      await rm(join(dir, `bag${mib}`), { recursive: true, force: true });
    }
    const growth = peak[1]! - peak[0]!, more = (384 - 64) * 1.048576e6;
    console.log(`      peak RSS ${(peak[0]! / 1e6).toFixed(0)} MB (64 MiB bag), ${(peak[1]! / 1e6).toFixed(0)} MB (384 MiB bag)`);
    assert.ok(growth < more / 2, `peak memory grew by ${(growth / 1e6).toFixed(0)} MB for ${(more / 1e6).toFixed(0)} MB more input`);
  });
});
