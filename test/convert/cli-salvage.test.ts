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
  let lastChunk: { offset: bigint; length: bigint; start: bigint; end: bigint };
  let plainDamaged: { offset: bigint; length: bigint; start: bigint; end: bigint };
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
    // The same data section without summary or indexes (a crashed writer's file), damaged the
    // same way and cut short inside its last chunk.
    await writeMcap(join(dir, "plain.mcap"), messages, { chunkSize: 8 * 1024, useChunkIndex: false, useMessageIndex: false, useSummaryOffsets: false, useStatistics: false, repeatSchemas: false, repeatChannels: false });
    const plain = new Uint8Array(await readFile(join(dir, "plain.mcap")));
    // Its chunks, by walking the records (opcode, u64 length; a chunk's body starts with its message start and end times).
    const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    const plainChunks: { offset: bigint; length: bigint; start: bigint; end: bigint }[] = [];
    for (let at = 8; at + 9 <= plain.byteLength; ) {
      const length = Number(view.getBigUint64(at + 1, true));
      if (plain[at] === 0x06) plainChunks.push({ offset: BigInt(at), length: BigInt(9 + length), start: view.getBigUint64(at + 9, true), end: view.getBigUint64(at + 17, true) });
      at += 9 + length;
    }
    assert.ok(plainChunks.length >= 4);
    plainDamaged = plainChunks[1]!;
    const plainMid = Number(plainDamaged.offset + plainDamaged.length / 2n);
    for (let i = 0; i < 32; i++) plain[plainMid + i]! ^= 0xa5;
    lastChunk = plainChunks.at(-1)!;
    await writeFile(join(dir, "plain-damaged.mcap"), plain.subarray(0, Number(lastChunk.offset + lastChunk.length / 2n)));
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

  it("MCAP without an index: the damaged chunk is skipped to the next chunk that parses; the chunks after it are kept", async () => {
    const summary = await runBatch({ inputs: [join(dir, "plain-damaged.mcap")], outDir: join(dir, "out-plain"), jobs: 1, converter: COPY_DOUBLE, inProcess: true, salvage: true }, { progress: null });
    const entry = summary.drives[0]!;
    assert.equal(entry.status, "converted", JSON.stringify(entry.error));
    const inDamaged = (m: { logTime: bigint }): boolean => m.logTime >= plainDamaged.start && m.logTime <= plainDamaged.end;
    const inCut = (m: { logTime: bigint }): boolean => m.logTime >= lastChunk.start && m.logTime <= lastChunk.end;
    assert.equal(entry.messageCount, messages.filter((m) => !inDamaged(m) && !inCut(m)).length, JSON.stringify({ salvaged: entry.salvaged, plainDamaged: String(plainDamaged.offset), last: String(lastChunk.offset), dmg: messages.filter(inDamaged).length, cut: messages.filter(inCut).length }));
    const note = entry.salvaged?.join("\n") ?? "";
    assert.match(note, new RegExp(`2 damaged regions skipped \\(bytes ${plainDamaged.offset}–\\d+ skipped \\(record at byte ${plainDamaged.offset} \\(opcode 0x6\\)`), note);
    assert.match(note, /\(the end\) skipped/);
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
