/**
 * Lidar packet decoding speed (src/lidar-packets) on the recordings of ../shared/lidar-packets:
 * × real time per core (seconds of packets decoded per CPU second, packet times from the
 * packets themselves) for decoding the packets (already read into memory), against reading the
 * same packets alone (rosbag2 sqlite3 read + packet-scan CDR walk) in the same run. Target (issue #19): ≥ 10× real
 * time per core for a 128-channel sensor (PandarQT128, Ouster OS-0-128). For Hesai and Velodyne
 * one decoder decodes the recording over and over (its replays are counted as out-of-order
 * packets, which does not slow it): the warm-up runs fill its per-azimuth trigonometry rows, as
 * the first seconds of a long recording do; a 0.2 s recording alone would mostly measure filling
 * them. Ouster gets a fresh decoder per run (a replayed frame would be refused).
 *
 * VLS-128 and PandarAT128 have no recording: one second of packets built from their layouts
 * (as test/lidar-packets builds them, every return at 10 m) is decoded instead, against walking
 * the same messages' CDR alone; labelled "synthetic".
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openRecording } from "../src/convert/readers/open.js";
import { createPacketDecoder, type PacketCloudDecoder } from "../src/lidar-packets/index.js";
import { readOusterPacket, readPacketScan } from "../src/lidar-packets/scan-msgs.js";
import { syntheticSecond } from "../test/lidar-packets/synthetic-second.js";
import { report } from "./harness.js";

/**
 * Median CPU time (ms, user + system of this process) of `fn`: the machine is shared (load far
 * above its 2 cores while other work runs), and "per core" is what CPU time measures; wall time
 * would mostly measure the other processes.
 */
async function medianCpuMs(fn: () => unknown, runs: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const ROOT = process.env.SYNCBAG_LIDAR_PACKETS ?? join(import.meta.dirname, "../../shared/lidar-packets");

interface Sensor {
  folder: string;
  channels: number;
  model: string;
  returnMode?: string;
  calibration: string;
  recording: string;
  topic: string;
}
const SENSORS: Sensor[] = [
  { folder: "hesai_qt128", channels: 128, model: "PandarQT128", returnMode: "LastStrongest", calibration: "PandarQT128.csv", recording: "1730273789074637152", topic: "/pandar_packets" },
  { folder: "ouster_os0-128_512x10", channels: 128, model: "OS-0-128", calibration: "512x10_metadata.json", recording: "512x10_raw.bag", topic: "/os_node0/lidar_packets" },
  { folder: "hesai_pandar64", channels: 64, model: "Pandar64", returnMode: "Dual", calibration: "Pandar64.csv", recording: "1673403880599376836", topic: "/pandar_packets" },
  { folder: "velodyne_vlp16", channels: 16, model: "VLP16", returnMode: "Dual", calibration: "VLP16.yaml", recording: "1673400471837873222", topic: "/velodyne_packets" },
];

/** Packet times (s) of one recorded message: the packets' stamps, or for Ouster its columns' timestamps. */
function packetTimes(type: string, data: Uint8Array): number[] {
  if (type.includes("PacketMsg")) {
    const p = readOusterPacket(type, data);
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    return [Number(v.getBigUint64(32, true)) / 1e9];
  }
  return readPacketScan(type, data).packets.map((p) => p.seconds);
}

/** The synthetic second of VLS-128 and AT128 packets (test/lidar-packets/synthetic-second.ts, whose output the golden-hash test pins). */
async function synthetic(): Promise<void> {
  for (const c of syntheticSecond("plain")) {
    const { messages } = c;
    const decoder = await c.decoder();
    let sweeps = 0;
    // Each sweep handed back as the conversion does once it has encoded it (lidar-packets/source.ts).
    const decodeMs = await medianCpuMs(() => {
      for (const m of messages) {
        for (const sweep of decoder.decodeMessage(c.type, m)) {
          sweeps++;
          decoder.recycle(sweep);
        }
      }
    }, 5, 2);
    if (sweeps === 0) throw new Error(`${c.model}: no sweep decoded`);
    const readMs = await medianCpuMs(() => {
      for (const m of messages) readPacketScan(c.type, m);
    }, 7, 2);
    const decodeX = 1 / (decodeMs / 1000), readX = 1 / (readMs / 1000);
    report({
      name: `packets ${c.model} (128 ch, synthetic: ${c.packetsPerS} packets = 1 s, no recording exists) decode, one core`,
      value: decodeX,
      unit: "× real time",
      baseline: { name: "walk the same messages' CDR alone", value: readX, unit: "× real time" },
      ratio: decodeX / readX,
      target: { text: "≥ 10× real time", met: decodeX >= 10 },
    });
  }
}

export default async function (): Promise<void> {
  await synthetic();
  if (!existsSync(ROOT)) {
    console.log(`packets: ${ROOT} absent, nothing measured`);
    return;
  }
  for (const sensor of SENSORS) {
    const { folder, channels } = sensor;
    const bag = join(ROOT, folder, sensor.recording);
    // Span of the recording in sensor time, from the packet stamps.
    let first = Infinity, last = -Infinity, packets = 0;
    {
      const source = await openRecording(bag);
      for await (const m of source.messages()) {
        if (m.topic !== sensor.topic) continue;
        for (const t of packetTimes(m.type, m.data)) {
          first = Math.min(first, t);
          last = Math.max(last, t);
          packets++;
        }
      }
      await source.close();
    }
    const span = (last - first) * (packets / Math.max(1, packets - 1));
    const read = async (): Promise<{ type: string; data: Uint8Array }[]> => {
      const source = await openRecording(bag);
      const out: { type: string; data: Uint8Array }[] = [];
      for await (const m of source.messages()) {
        if (m.topic !== sensor.topic) continue;
        packetTimes(m.type, m.data);
        out.push({ type: m.type, data: m.data });
      }
      await source.close();
      return out;
    };
    const readMs = await medianCpuMs(() => read(), 7, 2);
    const messages = await read();
    const make = (): Promise<PacketCloudDecoder> => createPacketDecoder({ sensor_model: sensor.model, ...(sensor.returnMode ? { return_mode: sensor.returnMode } : {}), calibration_file: sensor.calibration }, { baseDir: join(ROOT, folder) });
    // Ouster: a replayed frame is refused as out of order, so each run gets a fresh decoder (its
    // tables are built in the constructor, outside the timing); Hesai/Velodyne: one warm decoder.
    const fresh = sensor.model.startsWith("OS-");
    const runs = 12;
    const decoders = fresh ? await Promise.all(Array.from({ length: runs }, make)) : Array.from({ length: runs }, () => undefined);
    const shared = fresh ? undefined : await make();
    let k = 0, sweeps = 0, emptyRuns = 0;
    const decodeMs = await medianCpuMs(() => {
      const decoder = decoders[k++] ?? shared!;
      let n = 0;
      for (const m of messages) {
        for (const sweep of decoder.decodeMessage(m.type, m.data)) {
          n++;
          decoder.recycle(sweep); // as the conversion does once it has encoded the sweep
        }
      }
      if (n === 0) emptyRuns++;
      sweeps += n;
    }, 7, 5);
    if (emptyRuns > 0) throw new Error(`${folder}: ${emptyRuns} runs decoded no sweep`);
    if (sweeps === 0) throw new Error(`${folder}: no sweep decoded`);
    const decodeX = span / (decodeMs / 1000);
    const readX = span / (readMs / 1000);
    report({
      name: `packets ${sensor.model} (${channels} ch, ${packets} packets, ${span.toFixed(3)} s) decode (packets in memory), one core`,
      value: decodeX,
      unit: "× real time",
      baseline: { name: "read packets alone", value: readX, unit: "× real time" },
      ratio: decodeX / readX,
      ...(channels === 128 ? { target: { text: "≥ 10× real time", met: decodeX >= 10 } } : {}),
    });
  }
}
