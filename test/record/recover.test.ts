import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { McapWriter, TempBuffer } from "@mcap/core";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { defaultCodec } from "../../src/messages/codec.js";
import { inspectMcap, formatInspectReport, inspectReportJson } from "../../src/record/inspect.js";
import { McapRecorder } from "../../src/record/recorder.js";
import { recoverMcap } from "../../src/record/recover.js";
import { McapFileError, scanMcap, type ScannedChunk } from "../../src/record/scan.js";
import type { SchemaProvider } from "../../src/record/schemas.js";
import type { OutboundMessage } from "../../src/messages/outbound.js";
import { messageStream, readIndexed, sameMessages, tempDir, testSchemas } from "./helpers.js";

const run = promisify(execFile);

// SensorClockState gets its schema from the catalogue (testSchemas falls back to the default provider).
const clockSchemas: SchemaProvider = testSchemas;

function clockState(sensor: string, offset: number, sec: number, logTime = BigInt(sec) * 1_000_000_000n): OutboundMessage {
  const data = defaultCodec().encode("syncbag/SensorClockState", {
    header: { stamp: { sec, nanosec: 0 }, frame_id: "" },
    sensor,
    topic: `/${sensor}`,
    mode: "estimate",
    offset,
    drift: 2e-6,
    latency: 0.004,
    latency_source: "configured",
    latency_uncertainty: 0,
    confidence: 0.9,
    samples_used: 40,
    steps_detected: 0,
  });
  return { topic: "/syncbag/clock_state", schemaName: "syncbag/SensorClockState", encoding: "cdr", data, logTime, publishTime: logTime };
}

describe("record/recover and inspect", function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  let path: string;
  let messages: OutboundMessage[];
  let chunks: Array<ScannedChunk & { messages: number }>;

  before(async () => {
    ({ dir, cleanup } = tempDir());
    const recorder = new McapRecorder({
      config: { outputDir: dir, baseName: "src", chunkSize: 48 * 1024 },
      schemaFor: clockSchemas,
      metadata: { "syncbag.alignment": { reference: "lidar_top", window_ms: "50" }, rig: { name: "unit" } },
    });
    await recorder.start();
    messages = messageStream(240, 1_700_000_000_000_000_000n);
    // Clock states for two sensors, the later values must win in inspect.
    // Log times between their neighbours', so file order is log-time order.
    messages.splice(10, 0, clockState("lidar_top", 0.5, 1_700_000_000, messages[9]!.logTime + 1n));
    messages.splice(20, 0, clockState("camera_front", -0.25, 1_700_000_000, messages[19]!.logTime + 1n));
    messages.push(clockState("lidar_top", 0.75, 1_700_000_003));
    for (const m of messages) recorder.write(m);
    await recorder.close();
    path = join(dir, "src_0.mcap");
    chunks = [];
    await scanMcap(path, { chunk: (chunk, n) => void chunks.push({ ...chunk, messages: n }) });
  });
  after(() => cleanup());

  it("inspect: topics, counts, rates, duration, compression, metadata and the clock models' last values", async () => {
    const report = await inspectMcap(path);
    assert.equal(report.readVia, "summary");
    assert.deepEqual(report.warnings, []);
    assert.equal(report.messages, messages.length);
    assert.equal(report.profile, "ros2");
    const lidar = report.topics.find((t) => t.topic === "/lidar/top")!;
    assert.equal(lidar.messages, 80);
    assert.ok(Math.abs(lidar.rateHz! - 100 / 3) < 0.01, `lidar rate ${lidar.rateHz}`); // every 30 ms
    assert.equal(lidar.schemaName, "sensor_msgs/PointCloud2");
    assert.equal(report.compression.zstd?.chunks, chunks.length);
    assert.ok(Math.abs(report.durationS - 3) < 1e-9, `duration ${report.durationS}`);
    assert.deepEqual(report.alignment.metadata.map((m) => m.name), ["syncbag.alignment"]);
    assert.deepEqual(report.alignment.clocks.map((c) => [c.sensor, c.offsetS]), [["camera_front", -0.25], ["lidar_top", 0.75]]);
    assert.ok(Math.abs(report.alignment.clocks[0]!.driftPpm - 2) < 1e-9);
    const json = JSON.parse(inspectReportJson(report)) as { messages: number; startTime: string; alignment: { clocks: Array<{ stamp: string }> } };
    assert.equal(json.messages, messages.length);
    assert.equal(json.startTime, messages[0]!.logTime.toString());
    assert.equal(json.alignment.clocks[1]!.stamp, "1700000003000000000");
    const text = formatInspectReport(report);
    assert.match(text, /lidar_top +estimate +750\.000 /);
  });

  it("the clock-state channel carries the catalogue's full concatenated ros2msg definition", async () => {
    const { reader } = await readIndexed(path);
    const channel = [...reader.channelsById.values()].find((c) => c.topic === "/syncbag/clock_state")!;
    const schema = reader.schemasById.get(channel.schemaId)!;
    assert.equal(schema.encoding, "ros2msg");
    const text = new TextDecoder().decode(schema.data);
    assert.ok(text.startsWith(readFileSync(new URL("../../msg/SensorClockState.msg", import.meta.url), "utf8").split("\n")[0]!), text.slice(0, 80));
    assert.match(text, /\n={80}\nMSG: std_msgs\/Header\n/);
  });

  it("recover of a finalised file keeps everything", async () => {
    const out = join(dir, "whole.mcap");
    const report = await recoverMcap(path, out);
    assert.equal(report.inputComplete, true);
    assert.equal(report.messagesRecovered, messages.length);
    assert.equal(sameMessages((await readIndexed(out)).messages, messages), null);
  });

  it("truncated anywhere: recover keeps exactly the messages of complete chunks; inspect scans with a warning saying where", async () => {
    const bytes = readFileSync(path);
    const dataEnd = chunks.at(-1)!.offset + chunks.at(-1)!.length;
    // Inside a record header, inside a chunk, right at a chunk's end, in the summary.
    const sample = chunks.filter((_, i) => i % Math.ceil(chunks.length / 6) === 1);
    const cuts = [9, 40, ...sample.map((c) => c.offset + 5), ...sample.map((c) => c.offset + Math.floor(c.length / 2)), ...sample.map((c) => c.offset + c.length), Math.floor(dataEnd * 0.77), bytes.byteLength - 30];
    for (const cut of cuts) {
      const truncated = join(dir, `cut${cut}.mcap`);
      writeFileSync(truncated, bytes.subarray(0, cut));
      const expected = chunks.filter((c) => c.offset + c.length <= cut).reduce((n, c) => n + c.messages, 0);
      const report = await recoverMcap(truncated, join(dir, `cut${cut}.rec.mcap`));
      assert.equal(report.messagesRecovered, expected, `cut at ${cut}`);
      assert.deepEqual(report.damaged, []);
      const { messages: read } = await readIndexed(join(dir, `cut${cut}.rec.mcap`));
      assert.equal(sameMessages(read, messages.slice(0, expected)), null, `cut at ${cut}`);
      const inspected = await inspectMcap(truncated);
      assert.equal(inspected.readVia, "scan", `cut at ${cut}`);
      assert.match(inspected.warnings[0]!, /no usable summary/);
      if (cut < dataEnd) assert.ok(inspected.warnings.some((w) => /file incomplete: .*at byte \d+ of \d+/.test(w)), inspected.warnings.join(" | "));
      assert.equal(inspected.messages, expected);
    }
  });

  it("a bit flip inside a chunk: recover names the chunk and keeps every other one; inspect warns instead of failing", async () => {
    const victim = chunks[Math.floor(chunks.length / 2)]!;
    const bytes = Buffer.from(readFileSync(path));
    bytes[victim.offset + victim.length - 100]! ^= 0x10;
    const flipped = join(dir, "flip.mcap");
    writeFileSync(flipped, bytes);
    const report = await recoverMcap(flipped, join(dir, "flip.rec.mcap"));
    assert.equal(report.damaged.length, 1);
    assert.equal(report.damaged[0]!.offset, victim.offset);
    assert.match(report.damaged[0]!.what, /Chunk record: .*(CRC mismatch|does not decompress)/);
    assert.equal(report.messagesRecovered, messages.length - victim.messages);
    const before = chunks.slice(0, chunks.indexOf(victim)).reduce((n, c) => n + c.messages, 0);
    const expected = [...messages.slice(0, before), ...messages.slice(before + victim.messages)];
    assert.equal(sameMessages((await readIndexed(join(dir, "flip.rec.mcap"))).messages, expected), null);

    // Make the damaged chunk the first /lidar/top chunk so inspect must read it.
    const first = chunks[0]!;
    const early = Buffer.from(readFileSync(path));
    early[first.offset + first.length - 50]! ^= 0x01;
    writeFileSync(join(dir, "flip0.mcap"), early);
    const inspected = await inspectMcap(join(dir, "flip0.mcap"));
    assert.equal(inspected.readVia, "scan");
    assert.ok(inspected.warnings.some((w) => w.includes(`damaged: Chunk record`) && w.includes(`at byte ${first.offset}`)), inspected.warnings.join(" | "));
  });

  it("recovers messages written outside chunks (an unchunked writer's tail), cut mid-record", async () => {
    const buffer = new TempBuffer();
    const writer = new McapWriter({ writable: buffer, useChunks: false });
    await writer.start({ profile: "ros2", library: "other" });
    const schemaId = await writer.registerSchema({ name: "std_msgs/String", encoding: "ros2msg", data: new TextEncoder().encode("string data") });
    const channelId = await writer.registerChannel({ topic: "/chatter", schemaId, messageEncoding: "cdr", metadata: new Map() });
    for (let i = 0; i < 20; i++) await writer.addMessage({ channelId, sequence: i, logTime: BigInt(i), publishTime: BigInt(i), data: new Uint8Array([i, i, i]) });
    await writer.end();
    const bytes = buffer.get();
    // Cut inside the 20th message record: 19 complete messages remain.
    const cutAt = [...Array(bytes.byteLength).keys()].find((i) => bytes[i] === 0x05 && bytes[i + 1 + 8 + 2 + 4] === 19)! + 20;
    writeFileSync(join(dir, "flat.mcap"), bytes.subarray(0, cutAt));
    const report = await recoverMcap(join(dir, "flat.mcap"), join(dir, "flat.rec.mcap"));
    assert.equal(report.unchunkedMessages, 19);
    assert.equal(report.messagesRecovered, 19);
    const { messages: read, reader } = await readIndexed(join(dir, "flat.rec.mcap"));
    assert.deepEqual(read.map((m) => [...m.data]), Array.from({ length: 19 }, (_, i) => [i, i, i]));
    assert.equal([...reader.schemasById.values()][0]!.name, "std_msgs/String");
  });

  it("a corrupt record header stops the scan there, with the reason; bad magic is refused up front", async () => {
    const victim = chunks[2]!;
    const bytes = Buffer.from(readFileSync(path));
    bytes[victim.offset] = 0x7f; // not an opcode
    writeFileSync(join(dir, "opcode.mcap"), bytes);
    const report = await recoverMcap(join(dir, "opcode.mcap"), join(dir, "opcode.rec.mcap"));
    assert.equal(report.stoppedAt.offset, victim.offset);
    assert.match(report.stoppedAt.reason, /corrupt record header: unknown opcode 0x7f/);
    assert.equal(report.messagesRecovered, chunks[0]!.messages + chunks[1]!.messages);

    const garbage = Buffer.from(readFileSync(path));
    garbage[1] = 0x00;
    writeFileSync(join(dir, "magic.mcap"), garbage);
    await assert.rejects(recoverMcap(join(dir, "magic.mcap"), join(dir, "magic.rec.mcap")), (e: Error) => e instanceof McapFileError && /not an MCAP file \(bad magic\) \(at byte 0\)/.test(e.message));
    await assert.rejects(inspectMcap(join(dir, "magic.mcap")), /not an MCAP file/);
  });

  it("CLI: one clear line and exit code 1 for a broken file, never a stack trace; recover writes <name>.recovered.mcap", async () => {
    const cli = ["--import", "tsx", "src/cli/main.ts"];
    const cwd = new URL("../..", import.meta.url).pathname;
    writeFileSync(join(dir, "junk.mcap"), "not an mcap at all");
    const failed = await run(process.execPath, [...cli, "inspect", join(dir, "junk.mcap")], { cwd }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((failed as { code: number }).code, 1);
    assert.match((failed as { stderr: string }).stderr, /^syncbag inspect: .*junk\.mcap: not an MCAP file \(bad magic\) \(at byte 0\)\n$/);

    const truncated = join(dir, "cli_0.mcap");
    copyFileSync(path, truncated);
    writeFileSync(truncated, readFileSync(path).subarray(0, chunks[3]!.offset + 20));
    const { stdout } = await run(process.execPath, [...cli, "recover", truncated], { cwd });
    assert.match(stdout, /recovered \d+ messages in 3 chunks/);
    assert.match(stdout, /input stopped at byte \d+/);
    const recovered = await readIndexed(join(dir, "cli_0.recovered.mcap"));
    assert.equal(recovered.messages.length, chunks[0]!.messages + chunks[1]!.messages + chunks[2]!.messages);
  });
});
