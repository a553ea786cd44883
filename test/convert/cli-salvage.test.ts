/**
 * Issue 17 item 9: `convert --salvage` skips only the damaged chunk of an MCAP with an intact
 * index and keeps every intact chunk after it, naming the chunk's byte offset; the salvage is
 * said on the terminal; nothing intact at all fails with one line; plain convert of a damaged
 * file points to --salvage and recover.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { runBatch, summaryTable } from "../../src/convert/batch.js";
import { fixtureMessages, writeMcap } from "./fixtures.js";

const COPY_DOUBLE = { module: new URL("../../src/convert/copy-converter.js", import.meta.url).href, exportName: "copyOnlyConverter" };

async function chunksOf(bytes: Uint8Array): Promise<{ offset: bigint; length: bigint; start: bigint; end: bigint }[]> {
  const reader = await McapIndexedReader.Initialize({ readable: { size: async () => BigInt(bytes.byteLength), read: async (o, l) => bytes.subarray(Number(o), Number(o + l)) } });
  return [...reader.chunkIndexes].map((c) => ({ offset: c.chunkStartOffset, length: c.chunkLength, start: c.messageStartTime, end: c.messageEndTime })).sort((a, b) => Number(a.offset - b.offset));
}

describe("convert/cli-salvage: salvage keeps every intact chunk", function () {
  this.timeout(60_000);
  let dir: string;
  const messages = fixtureMessages(4);
  let damagedChunk: { offset: bigint; start: bigint; end: bigint };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-salvage-"));
    const whole = join(dir, "whole.mcap");
    await writeMcap(whole, messages, { chunkSize: 8 * 1024 });
    const bytes = new Uint8Array(await readFile(whole));
    const chunks = await chunksOf(bytes);
    assert.ok(chunks.length >= 4, `fixture has ${chunks.length} chunks`);
    damagedChunk = chunks[1]!;
    const bad = bytes.slice();
    const mid = Number(damagedChunk.offset + chunks[1]!.length / 2n);
    for (let i = 0; i < 32; i++) bad[mid + i]! ^= 0xa5;
    await writeFile(join(dir, "damaged.mcap"), bad);
    // One chunk only, damaged: nothing to keep.
    await writeMcap(join(dir, "one.mcap"), fixtureMessages(1), { chunkSize: 1 << 24 });
    const one = new Uint8Array(await readFile(join(dir, "one.mcap")));
    const [only] = await chunksOf(one);
    const at = Number(only!.offset + only!.length / 2n);
    for (let i = 0; i < 32; i++) one[at + i]! ^= 0xa5;
    await writeFile(join(dir, "all-damaged.mcap"), one);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("MCAP with its index: only the damaged chunk's messages are lost, the chunks after it are kept", async () => {
    const summary = await runBatch({ inputs: [join(dir, "damaged.mcap")], outDir: join(dir, "out"), jobs: 1, converter: COPY_DOUBLE, inProcess: true, salvage: true }, { progress: null });
    const entry = summary.drives[0]!;
    assert.equal(entry.status, "converted", JSON.stringify(entry.error));
    const lost = messages.filter((m) => m.logTime >= damagedChunk.start && m.logTime <= damagedChunk.end).length;
    assert.ok(lost > 0 && lost < messages.length / 3);
    assert.equal(entry.messageCount, messages.length - lost);
    assert.ok(entry.salvaged?.some((s) => s.includes(`chunk at byte ${damagedChunk.offset} `)), JSON.stringify(entry.salvaged));
    // Said on the terminal, under the table.
    assert.match(summaryTable(summary), new RegExp(`^warning: damaged: salvaged: .*1 of \\d+ chunks damaged and skipped \\(chunk at byte ${damagedChunk.offset} `, "m"));
  });

  it("nothing intact: fails with one line, not a report with nonsense times", async () => {
    const summary = await runBatch({ inputs: [join(dir, "all-damaged.mcap")], outDir: join(dir, "out2"), jobs: 1, converter: COPY_DOUBLE, inProcess: true, salvage: true }, { progress: null });
    const entry = summary.drives[0]!;
    assert.equal(entry.status, "failed");
    assert.match(entry.error!.reason, /^nothing intact to salvage \(.*chunk at byte \d+/);
    assert.doesNotMatch(entry.error!.reason, /durationS|\n/);
  });

  it("without --salvage a damaged file fails naming the chunk's offset, pointing to --salvage and recover", async () => {
    const summary = await runBatch({ inputs: [join(dir, "damaged.mcap")], outDir: join(dir, "out3"), jobs: 1, converter: COPY_DOUBLE, inProcess: true }, { progress: null });
    const entry = summary.drives[0]!;
    assert.equal(entry.status, "failed");
    assert.match(entry.error!.reason, /`convert --salvage` keeps every intact part, `syncbag recover` rebuilds an MCAP$/);
    // Item 10: the corruption is located, by the chunk's byte offset.
    assert.match(entry.error!.reason, new RegExp(`^chunk at byte ${damagedChunk.offset} \\(\\d+ bytes\\): `));
  });
});
