/**
 * Recorder throughput: sustained raw passthrough (none / zstd / lz4) of a lidar+camera message
 * mix in MB/s, against @mcap/core's McapWriter fed the same messages directly (same chunk size,
 * same compressor) and against plain fs writes of the same bytes, all in the same run. Target:
 * our overhead ≤ 15% against McapWriter (ratio ≥ 0.87) — while we also close a chunk every
 * flush interval and fdatasync it, which McapWriter does not.
 * Then the CPU share of one core at the standard rig's data rate (262k points × 22 B × 10 Hz
 * lidar + 3 × 1080p JPEG @ 30 Hz), from process.cpuUsage over a paced run with default options.
 *
 * Files go to $SYNCBAG_BENCH_DIR or the OS temp folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { join } from "node:path";
import { McapWriter, type IWritable } from "@mcap/core";
import { compressFrameSync } from "lz4-napi";
import { Compressor } from "zstd-napi";
import type { OutboundMessage } from "../src/messages/outbound.js";
import { McapRecorder } from "../src/record/recorder.js";
import type { Compression } from "../src/record/config.js";
import { report } from "./harness.js";

const LIDAR_POINTS = 262_144;
const POINT_BYTES = 22;
const JPEG_BYTES = 250_000; // a 1080p JPEG at usual quality
const CHUNK_SIZE = 4 * 1024 * 1024;

/** 22-byte points (x, y, z, intensity float32; ring uint16; time offset float32) on a spinning pattern. */
function lidarCloud(seed: number): Uint8Array {
  const data = new Uint8Array(LIDAR_POINTS * POINT_BYTES);
  const view = new DataView(data.buffer);
  let x = seed * 2654435761;
  for (let i = 0; i < LIDAR_POINTS; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const ring = i % 128;
    const azimuth = ((i >> 7) / 2048) * 2 * Math.PI;
    const range = 2 + (x % 7800) / 100;
    const o = i * POINT_BYTES;
    view.setFloat32(o, range * Math.cos(azimuth), true);
    view.setFloat32(o + 4, range * Math.sin(azimuth), true);
    view.setFloat32(o + 8, (ring - 64) * 0.03 * range, true);
    view.setFloat32(o + 12, x % 256, true);
    view.setUint16(o + 16, ring, true);
    view.setFloat32(o + 18, (i >> 7) * 48.8e-6, true);
  }
  return data;
}

/** `length` incompressible bytes from a seed (an LCG), as image or cloud payloads are to zstd. */
function noise(length: number, seed: number): Uint8Array {
  const data = new Uint8Array(length);
  let x = seed + 1;
  for (let i = 0; i < data.length; i += 4) {
    x = (x * 1664525 + 1013904223) >>> 0;
    data[i] = x & 0xff;
    data[i + 1] = (x >> 8) & 0xff;
    data[i + 2] = (x >> 16) & 0xff;
    data[i + 3] = x >>> 24;
  }
  return data;
}

function jpeg(seed: number): Uint8Array {
  const data = noise(JPEG_BYTES, seed);
  data.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return data;
}

/** `seconds` of the standard rig's lidar + 3 cameras, in arrival order, from a small pool of payloads. */
function messageMix(seconds: number): OutboundMessage[] {
  const clouds = [lidarCloud(1), lidarCloud(2)];
  const images = Array.from({ length: 6 }, (_, i) => jpeg(i));
  const out: OutboundMessage[] = [];
  const t0 = 1_700_000_000_000_000_000n;
  for (let tick = 0; tick < seconds * 30; tick++) {
    const t = t0 + BigInt(tick) * 33_333_333n;
    if (tick % 3 === 0) out.push({ topic: "/lidar/top/points", schemaName: "sensor_msgs/PointCloud2", encoding: "cdr", data: clouds[tick % 2]!, logTime: t, publishTime: t - 5_000_000n });
    for (let cam = 0; cam < 3; cam++)
      out.push({ topic: `/camera/${cam}/image/compressed`, schemaName: "sensor_msgs/CompressedImage", encoding: "cdr", data: images[(tick + cam) % 6]!, logTime: t + BigInt(cam), publishTime: t });
  }
  return out;
}

const schemaFor = (name: string): { name: string; encoding: string; data: Uint8Array } => ({ name, encoding: "ros2msg", data: new TextEncoder().encode("uint8[] data\n") });

async function ours(dir: string, compression: Compression, messages: OutboundMessage[], run: number): Promise<number> {
  const recorder = new McapRecorder({
    config: { outputDir: dir, baseName: `ours-${compression}-${run}`, compression, chunkSize: CHUNK_SIZE, queueMaxBytes: 2 ** 31, queueMaxMessages: 1_000_000 },
    schemaFor,
  });
  await recorder.start();
  const start = performance.now();
  for (const m of messages) recorder.write(m);
  await recorder.close();
  const seconds = (performance.now() - start) / 1000;
  const stats = recorder.stats();
  if (stats.recorded !== messages.length) throw new Error(`recorder dropped messages: ${JSON.stringify(stats)}`);
  return seconds;
}

class FileWritable implements IWritable {
  #position = 0n;
  constructor(readonly handle: FileHandle) {}
  async write(buffer: Uint8Array): Promise<void> {
    await this.handle.write(buffer, 0, buffer.byteLength, Number(this.#position));
    this.#position += BigInt(buffer.byteLength);
  }
  position(): bigint {
    return this.#position;
  }
}

async function mcapWriter(dir: string, compression: Compression, messages: OutboundMessage[], run: number): Promise<number> {
  const handle = await open(join(dir, `core-${compression}-${run}.mcap`), "w");
  const zstd = new Compressor();
  zstd.setParameters({ compressionLevel: 1 });
  const compressChunk =
    compression === "zstd"
      ? (data: Uint8Array) => ({ compression: "zstd", compressedData: zstd.compress(data) })
      : compression === "lz4"
        ? (data: Uint8Array) => ({ compression: "lz4", compressedData: compressFrameSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength)) })
        : undefined;
  const writer = new McapWriter({ writable: new FileWritable(handle), chunkSize: CHUNK_SIZE, compressChunk });
  const start = performance.now();
  await writer.start({ profile: "ros2", library: "bench" });
  const channels = new Map<string, number>();
  const seq = new Map<number, number>();
  for (const m of messages) {
    let channelId = channels.get(m.topic);
    if (channelId === undefined) {
      const schemaId = await writer.registerSchema(schemaFor(m.schemaName));
      channelId = await writer.registerChannel({ topic: m.topic, schemaId, messageEncoding: "cdr", metadata: new Map() });
      channels.set(m.topic, channelId);
    }
    const sequence = (seq.get(channelId) ?? 0) + 1;
    seq.set(channelId, sequence);
    await writer.addMessage({ channelId, sequence, logTime: m.logTime, publishTime: m.publishTime, data: m.data });
  }
  await writer.end();
  await handle.datasync();
  await handle.close();
  return (performance.now() - start) / 1000;
}

async function plainWrites(dir: string, messages: OutboundMessage[], run: number): Promise<number> {
  const handle = await open(join(dir, `plain-${run}.bin`), "w");
  const start = performance.now();
  let position = 0;
  for (const m of messages) {
    await handle.write(m.data, 0, m.data.byteLength, position);
    position += m.data.byteLength;
  }
  await handle.datasync();
  await handle.close();
  return (performance.now() - start) / 1000;
}

async function best(runs: number, fn: (run: number) => Promise<number>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) fastest = Math.min(fastest, await fn(run));
  return fastest;
}

/**
 * CPU seconds per wall second (share of one core) while recording at the rig's real rate, and
 * the event loop's worst stalls meanwhile (what a transport callback, and its receive stamp, waits).
 */
async function pacedRun(dir: string, messages: OutboundMessage[], seconds: number, compressInWorker: boolean): Promise<{ share: number; p99Ms: number; maxMs: number }> {
  const recorder = new McapRecorder({ config: { outputDir: dir, baseName: `paced-${compressInWorker}`, chunkSize: CHUNK_SIZE, compressInWorker }, schemaFor });
  await recorder.start();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const startWall = performance.now();
  const startCpu = process.cpuUsage();
  const t0 = messages[0]!.logTime;
  let next = 0;
  while (next < messages.length) {
    const elapsedNs = BigInt(Math.round((performance.now() - startWall) * 1e6));
    while (next < messages.length && messages[next]!.logTime - t0 <= elapsedNs) recorder.write(messages[next++]!);
    if (elapsedNs > BigInt(seconds * 1e9)) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await recorder.close();
  const cpu = process.cpuUsage(startCpu);
  const wall = (performance.now() - startWall) / 1000;
  delay.disable();
  if (recorder.stats().droppedQueueFull > 0) throw new Error("paced run dropped messages");
  return { share: (cpu.user + cpu.system) / 1e6 / wall, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 };
}

/**
 * CPU seconds per GB recording 1 MiB clouds uncompressed at 200 MiB/s (the ROS 2 throughput
 * bench's top rate) for 5 s, with `directIo` on or off, default options otherwise (fdatasync
 * every 0.5 s). process.cpuUsage counts every thread, so the libuv threads' write(2) calls (the
 * kernel's copy into the page cache) are in it.
 */
async function cpuPerGb(dir: string, directIo: boolean): Promise<number> {
  const recorder = new McapRecorder({ config: { outputDir: dir, baseName: `rate-${directIo}`, compression: "none", directIo }, schemaFor });
  await recorder.start();
  const clouds = [noise(1 << 20, 101), noise(1 << 20, 102)];
  const seconds = 5, perSecond = 200;
  const startWall = performance.now();
  const startCpu = process.cpuUsage();
  let sent = 0;
  while (sent < seconds * perSecond) {
    const due = Math.min(seconds * perSecond, Math.floor(((performance.now() - startWall) / 1000) * perSecond));
    for (; sent < due; sent++) {
      const t = 1_700_000_000_000_000_000n + BigInt(sent) * 5_000_000n;
      recorder.write({ topic: "/points", schemaName: "sensor_msgs/PointCloud2", encoding: "cdr", data: clouds[sent % 2]!, logTime: t, publishTime: t });
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await recorder.close();
  const cpu = process.cpuUsage(startCpu);
  if (recorder.stats().recorded !== sent) throw new Error(`rate run recorded ${recorder.stats().recorded} of ${sent}`);
  return (cpu.user + cpu.system) / 1e6 / ((sent * (1 << 20)) / 1e9);
}

export default async function (): Promise<void> {
  const dir = mkdtempSync(join(process.env.SYNCBAG_BENCH_DIR ?? tmpdir(), "syncbag-record-bench-"));
  try {
    const messages = messageMix(2);
    const mb = messages.reduce((n, m) => n + m.data.byteLength, 0) / 1e6;
    const rateMBs = mb / 2;
    console.log(`message mix: ${messages.length} messages, ${mb.toFixed(0)} MB (${rateMBs.toFixed(1)} MB/s at the rig's rate)`);
    const runs = 3;
    const plain = mb / (await best(runs, (run) => plainWrites(dir, messages, run)));
    for (const compression of ["none", "zstd", "lz4"] as const) {
      const ourRate = mb / (await best(runs, (run) => ours(dir, compression, messages, run)));
      const coreRate = mb / (await best(runs, (run) => mcapWriter(dir, compression, messages, run)));
      const ratio = ourRate / coreRate;
      report({
        name: `record passthrough ${compression}, lidar+3 cameras, 4 MiB chunks`,
        value: ourRate,
        unit: "MB/s",
        baseline: { name: "@mcap/core McapWriter, same messages", value: coreRate, unit: "MB/s" },
        ratio,
        target: { text: "ratio ≥ 0.87 (overhead ≤ 15%)", met: ratio >= 0.87 },
      });
      report({
        name: `record passthrough ${compression} vs plain fs writes of the same bytes`,
        value: ourRate,
        unit: "MB/s",
        baseline: { name: "plain fs writes + fdatasync", value: plain, unit: "MB/s" },
        ratio: ourRate / plain,
      });
    }
    const buffered = await cpuPerGb(dir, false);
    const direct = await cpuPerGb(dir, true);
    report({
      name: "CPU per GB recording 1 MiB clouds at 200 MiB/s, uncompressed, O_DIRECT writes (record.directIo, the default)",
      value: direct,
      unit: "CPU-s/GB",
      baseline: { name: "buffered writes (record.directIo: false)", value: buffered, unit: "CPU-s/GB" },
      ratio: buffered / direct,
    });
    const seconds = 4;
    const paced = messageMix(seconds);
    const inThread = await pacedRun(dir, paced, seconds, false);
    const { share, p99Ms, maxMs } = await pacedRun(dir, paced, seconds, true);
    report({
      name: "event-loop stall p99 while recording the standard rig, zstd in a worker thread",
      value: p99Ms,
      unit: "ms",
      baseline: { name: "zstd on the main thread", value: inThread.p99Ms, unit: "ms" },
      ratio: inThread.p99Ms / p99Ms,
    });
    report({
      name: "event-loop stall max while recording the standard rig, zstd in a worker thread",
      value: maxMs,
      unit: "ms",
      baseline: { name: "zstd on the main thread", value: inThread.maxMs, unit: "ms" },
      ratio: inThread.maxMs / maxMs,
    });
    report({
      name: `CPU share of one core recording the standard rig in real time (${rateMBs.toFixed(0)} MB/s, zstd level 1, default options)`,
      value: share * 100,
      unit: "% of one core",
      baseline: { name: "one core", value: 100, unit: "%" },
      ratio: 1 / share,
      target: { text: "< 50% of one core", met: share < 0.5 },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
