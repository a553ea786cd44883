import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { McapRecorder } from "../../src/record/recorder.js";
import { RecorderConfigError, parseRecorderConfig } from "../../src/record/config.js";
import { FileSink, type RecordSink } from "../../src/record/sink.js";
import { encodeSceneUpdate } from "../../src/messages/foxglove.js";
import { messageStream, readIndexed, readStream, sameMessages, tempDir, testSchemas, TEST_TYPES, waitFor } from "./helpers.js";
import type { OutboundMessage } from "../../src/messages/outbound.js";

describe("record/McapRecorder", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const variants = [
    { compression: "none", compressInWorker: true },
    { compression: "zstd", compressInWorker: true },
    { compression: "zstd", compressInWorker: false },
    { compression: "lz4", compressInWorker: true },
  ] as const;
  for (const { compression, compressInWorker } of variants) {
    it(`${compression}${compressInWorker ? "" : " (in thread)"}: indexed and stream readers get every message byte-identical, in order, with channels, schemas, metadata and attachments`, async () => {
      const recorder = new McapRecorder({
        config: { outputDir: dir, baseName: "drive", compression, compressInWorker, chunkSize: 64 * 1024 },
        schemaFor: testSchemas,
        metadata: { rig: { name: "test-rig", sensors: "lidar_top,camera_front" }, "syncbag.alignment": { reference: "lidar_top", window_ms: "50" } },
        channelMetadata: (topic) => (topic.startsWith("/lidar") ? { offered_qos_profiles: "- history: 1\n  depth: 5" } : undefined),
      });
      await recorder.start();
      const messages = messageStream(300);
      for (const m of messages.slice(0, 150)) assert.equal(recorder.write(m), true);
      await recorder.addAttachment({ name: "calibration.yaml", mediaType: "application/yaml", data: new TextEncoder().encode("fx: 1000\n"), logTime: 7n });
      for (const m of messages.slice(150)) assert.equal(recorder.write(m), true);
      await recorder.close();
      const path = join(dir, "drive_0.mcap");

      const indexed = await readIndexed(path);
      assert.equal(sameMessages(indexed.messages, messages), null);
      const stream = await readStream(path);
      assert.equal(sameMessages(stream.messages, messages), null);

      const { reader } = indexed;
      assert.equal(reader.header.profile, "ros2");
      assert.match(reader.header.library, /^syncbag /);
      const channels = [...reader.channelsById.values()];
      assert.deepEqual(channels.map((c) => c.topic).sort(), ["/camera/front/image/compressed", "/lidar/top", "/vehicle/telemetry"]);
      for (const channel of channels) {
        assert.equal(channel.messageEncoding, "cdr");
        const schema = reader.schemasById.get(channel.schemaId)!;
        assert.equal(schema.encoding, "ros2msg");
        assert.equal(new TextDecoder().decode(schema.data), TEST_TYPES[schema.name]);
      }
      assert.equal(channels.find((c) => c.topic === "/lidar/top")!.metadata.get("offered_qos_profiles"), "- history: 1\n  depth: 5");
      assert.equal(indexed.metadata.get("rig")?.get("name"), "test-rig");
      assert.equal(indexed.metadata.get("syncbag.alignment")?.get("reference"), "lidar_top");
      assert.equal(indexed.metadata.get("syncbag.recording")?.get("compression"), compression);
      assert.equal(reader.statistics?.messageCount, 300n);
      assert.equal(reader.statistics?.channelMessageCounts.get(channels.find((c) => c.topic === "/lidar/top")!.id), 100n);
      assert.ok(reader.chunkIndexes.length > 10, `chunks: ${reader.chunkIndexes.length}`);
      for (const chunk of reader.chunkIndexes) {
        assert.equal(chunk.compression, compression === "none" ? "" : compression);
        assert.ok(chunk.messageIndexOffsets.size > 0);
      }
      // Summary offsets let readers jump to each summary group without scanning.
      assert.ok(reader.footer.summaryOffsetStart > 0n);
      assert.ok(stream.records.some((r) => r.type === "SummaryOffset" && r.groupOpcode === 0x08));
      assert.deepEqual(reader.attachmentIndexes.map((a) => [a.name, a.mediaType, a.dataSize]), [["calibration.yaml", "application/yaml", 9n]]);
      assert.equal(recorder.stats().recorded, 300);
      assert.equal(recorder.stats().state, "closed");
    });
  }

  it("lz4 chunks of 4 MiB and more decode with @foxglove/wasm-lz4 (what Foxglove uses)", async function () {
    this.timeout(30_000);
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "big", compression: "lz4", chunkSize: 6 * 1024 * 1024 }, schemaFor: testSchemas });
    await recorder.start();
    const messages = messageStream(3).map((m, i) => ({ ...m, data: new Uint8Array(2_700_000).map((_, j) => (j * 31 + i) % 251 ^ (j >> 9)) }));
    for (const m of messages) recorder.write(m);
    await recorder.close();
    const indexed = await readIndexed(join(dir, "big_0.mcap"));
    assert.ok(indexed.reader.chunkIndexes.some((c) => c.uncompressedSize >= 4n * 1024n * 1024n && c.compression === "lz4"));
    assert.equal(sameMessages(indexed.messages, messages), null);
  });

  it("records the Foxglove overlays as CDR with their foxglove_msgs ros2msg schema", async () => {
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "fx" }, schemaFor: testSchemas });
    await recorder.start();
    const data = encodeSceneUpdate({ deletions: [], entities: [] });
    recorder.write({ topic: "/syncbag/boxes_3d", schemaName: "foxglove_msgs/SceneUpdate", encoding: "cdr", data, logTime: 5n, publishTime: 4n });
    await recorder.close();
    const { reader } = await readIndexed(join(dir, "fx_0.mcap"));
    const channel = [...reader.channelsById.values()][0]!;
    assert.equal(channel.messageEncoding, "cdr");
    assert.equal(reader.schemasById.get(channel.schemaId)!.encoding, "ros2msg");
  });

  it("selects topics by list and regex, exclude wins, and counts what it filtered", async () => {
    const recorder = new McapRecorder({
      config: { outputDir: dir, baseName: "sel", topics: ["/vehicle/telemetry"], topicRegex: "^/camera/", excludeRegex: "compressed$" },
      schemaFor: testSchemas,
    });
    await recorder.start();
    const messages = messageStream(30);
    const extra: OutboundMessage = { ...messages[0]!, topic: "/camera/rear/info", schemaName: "syncbag/VehicleTelemetry" };
    for (const m of [...messages, extra]) recorder.write(m);
    await recorder.close();
    const { messages: read } = await readIndexed(join(dir, "sel_0.mcap"));
    assert.deepEqual([...new Set(read.map((m) => m.topic))].sort(), ["/camera/rear/info", "/vehicle/telemetry"]);
    assert.equal(read.length, 11);
    assert.equal(recorder.stats().filtered, 20);
  });

  it("splits by size: consecutive names, every message exactly once, each file complete", async () => {
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "part", chunkSize: 32 * 1024, splitSizeBytes: 200_000 }, schemaFor: testSchemas, metadata: { rig: { name: "r" } } });
    const closed: string[] = [];
    recorder.on("fileClosed", (e) => closed.push(e.path));
    await recorder.start();
    const messages = messageStream(200);
    for (const m of messages) recorder.write(m);
    await recorder.close();
    const files = readdirSync(dir).filter((f) => f.endsWith(".mcap")).sort((a, b) => Number(a.match(/_(\d+)/)![1]) - Number(b.match(/_(\d+)/)![1]));
    assert.ok(files.length >= 3, `files: ${files.join(",")}`);
    assert.deepEqual(files, files.map((_, i) => `part_${i}.mcap`));
    assert.deepEqual(closed, files.map((f) => join(dir, f)));
    const all = [];
    for (const file of files) {
      const contents = await readIndexed(join(dir, file));
      assert.equal(contents.metadata.get("rig")?.get("name"), "r", `${file} repeats the start metadata`);
      assert.ok(statSync(join(dir, file)).size < 200_000 + 80_000, `${file} near the split size`);
      all.push(...contents.messages);
    }
    assert.equal(sameMessages(all, messages), null);
  });

  it("splits by duration of log time, and on request, losing and duplicating nothing", async () => {
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "dur", splitDurationS: 0.5 }, schemaFor: testSchemas });
    await recorder.start();
    const messages = messageStream(160); // 1.6 s of log time
    const tf: OutboundMessage = { ...messages[0]!, topic: "/tf_static", schemaName: "syncbag/VehicleTelemetry", data: new Uint8Array([9, 9, 9]) };
    recorder.write(tf); // latched: opens every split file again
    for (const m of messages.slice(0, 120)) recorder.write(m);
    await recorder.split();
    for (const m of messages.slice(120)) recorder.write(m);
    await recorder.close();
    const files = recorder.stats().files;
    assert.equal(files.length, 4); // 0–0.5, 0.5–1.0, 1.0–1.2 (manual split), 1.2–1.59 (< 0.5 s from its first message)
    const all = [];
    for (const file of files) {
      const { messages: all_ } = await readIndexed(file);
      assert.equal(all_[0]!.topic, "/tf_static", `${file} starts with the latched /tf_static`);
      assert.equal(all_.filter((m) => m.topic === "/tf_static").length, 1);
      const read = all_.filter((m) => m.topic !== "/tf_static");
      const span = read.length > 0 ? Number(read.at(-1)!.logTime - read[0]!.logTime) / 1e9 : 0;
      assert.ok(span < 0.5, `${file} spans ${span} s`);
      all.push(...read);
    }
    assert.equal(sameMessages(all, messages), null);
  });

  it("pause skips and counts; resume continues in the same file", async () => {
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "pause" }, schemaFor: testSchemas });
    await recorder.start();
    const messages = messageStream(30);
    messages.slice(0, 10).forEach((m) => recorder.write(m));
    recorder.pause();
    messages.slice(10, 20).forEach((m) => assert.equal(recorder.write(m), false));
    recorder.resume();
    messages.slice(20).forEach((m) => recorder.write(m));
    await recorder.close();
    const { messages: read } = await readIndexed(join(dir, "pause_0.mcap"));
    assert.equal(sameMessages(read, [...messages.slice(0, 10), ...messages.slice(20)]), null);
    assert.equal(recorder.stats().skippedPaused, 10);
  });

  it("snapshot writes the last N seconds of log time to its own file", async () => {
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "snap", snapshotSeconds: 0.3 }, schemaFor: testSchemas });
    await recorder.start();
    const messages = messageStream(100); // 10 ms apart: 0..0.99 s
    recorder.pause(); // the ring keeps filling while paused
    for (const m of messages) recorder.write(m);
    const snap = await recorder.snapshot();
    await recorder.close();
    assert.match(snap.path, /snap_snapshot_0\.mcap$/);
    const { messages: read } = await readIndexed(snap.path);
    const newest = messages.at(-1)!.logTime;
    const expected = messages.filter((m) => m.logTime >= newest - 300_000_000n);
    assert.equal(expected.length, 31);
    assert.equal(sameMessages(read, expected), null);
    assert.equal(snap.messages, 31);
  });

  it("never blocks on a slow disk: drops the newest past the queue bound and counts them per topic", async () => {
    let release: () => void = () => undefined;
    let stall = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowSink = async (path: string): Promise<RecordSink> => {
      const sink = await FileSink.create(path);
      return {
        position: () => sink.position(),
        write: async (buffers) => {
          if (stall) await gate; // once recording, the disk stalls
          await sink.write(buffers);
        },
        sync: () => sink.sync(),
        truncate: (p) => sink.truncate(p),
        close: () => sink.close(),
      };
    };
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "slow", queueMaxMessages: 50, chunkSize: 4096 }, schemaFor: testSchemas, openSink: slowSink });
    await recorder.start();
    stall = true;
    const messages = messageStream(300);
    // The disk is stalled: every write() still returns at once (a blocking one would hang here).
    const accepted = messages.filter((m) => recorder.write(m));
    const stats = recorder.stats();
    assert.ok(stats.droppedQueueFull > 0);
    assert.equal(stats.droppedQueueFull + accepted.length, 300);
    assert.equal(Object.values(stats.topics).reduce((n, t) => n + t.dropped, 0), stats.droppedQueueFull);
    release();
    await recorder.close();
    const { messages: read } = await readIndexed(join(dir, "slow_0.mcap"));
    assert.equal(sameMessages(read, accepted), null);
  });

  it("closes a chunk within the flush interval: an unfinalised file already holds recent messages", async () => {
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "live", flushIntervalMs: 100 }, schemaFor: testSchemas });
    await recorder.start();
    const messages = messageStream(5);
    for (const m of messages) recorder.write(m);
    await waitFor(() => recorder.stats().recorded === 5, 2000);
    const { recoverMcap } = await import("../../src/record/recover.js");
    const report = await recoverMcap(join(dir, "live_0.mcap"), join(dir, "live.recovered.mcap"));
    assert.equal(report.messagesRecovered, 5);
    assert.equal(report.inputComplete, false);
    await recorder.close();
  });

  it("a full disk stops recording with a finalised file and a clear failure event", async () => {
    const limit = 300_000;
    const fullDisk = async (path: string): Promise<RecordSink> => {
      const sink = await FileSink.create(path);
      return {
        position: () => sink.position(),
        write: async (buffers) => {
          const size = buffers.reduce((n, b) => n + b.byteLength, 0);
          // Small records (summary, footer) still fit after the cut-back: like a disk that frees a little.
          if (sink.position() + size > limit && size > 10_000) {
            await sink.write([buffers[0]!.subarray(0, 10)]); // a partial write before the error
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          }
          await sink.write(buffers);
        },
        sync: () => sink.sync(),
        truncate: (p) => sink.truncate(p),
        close: () => sink.close(),
      };
    };
    const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "full", chunkSize: 32 * 1024 }, schemaFor: testSchemas, openSink: fullDisk });
    const failures: string[] = [];
    recorder.on("failure", (f) => failures.push(`${f.message} finalised=${f.finalised}`));
    await recorder.start();
    const messages = messageStream(200);
    for (const m of messages) recorder.write(m);
    await waitFor(() => recorder.state === "failed");
    await waitFor(() => failures.length === 1);
    assert.match(failures[0]!, /no space left on device \(ENOSPC\).*full_0\.mcap.*finalised=true/);
    assert.equal(recorder.write(messages[0]!), false);
    const stats = recorder.stats();
    assert.equal(stats.recorded + stats.lostOnFailure, 200);
    const { messages: read } = await readIndexed(join(dir, "full_0.mcap"));
    assert.equal(read.length, stats.recorded);
    assert.equal(sameMessages(read, messages.slice(0, read.length)), null);
    await recorder.close();
  });

  it("refuses bad options naming the key, the value and what was expected, and never overwrites", async () => {
    assert.throws(() => parseRecorderConfig({ compression: "gzip" }), (e: Error) => e instanceof RecorderConfigError && /recorder\.compression.*"gzip"/.test(e.message));
    assert.throws(() => parseRecorderConfig({ flushIntervalMs: 5000 }), /recorder\.flushIntervalMs.*5000/);
    assert.throws(() => parseRecorderConfig({ excludeRegex: "(" }), /recorder\.excludeRegex.*regular expression/);
    const first = new McapRecorder({ config: { outputDir: dir, baseName: "same" }, schemaFor: testSchemas });
    await first.start();
    await first.close();
    const second = new McapRecorder({ config: { outputDir: dir, baseName: "same" }, schemaFor: testSchemas });
    await assert.rejects(second.start(), /already exists/);
  });
});
