/**
 * Lidar packet decoding speed (src/lidar-packets) on the recordings of ../shared/lidar-packets:
 * × real time per core (seconds of packets decoded per CPU second, packet times from the
 * packets themselves) for decoding the packets (already read into memory), against reading the
 * same packets alone (rosbag2 sqlite3 read + packet-scan CDR walk) in the same run. Target (issue #19): ≥ 10× real
 * time per core for a 128-channel sensor (PandarQT128). One decoder decodes the recording over
 * and over (its replays are counted as out-of-order packets, which does not slow it): the warm-up
 * runs fill its per-azimuth trigonometry rows, as the first seconds of a long recording do; a
 * 0.2 s recording alone would mostly measure filling them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openRosbag2 } from "../src/convert/readers/rosbag2.js";
import { createPacketDecoder, type PacketCloudDecoder } from "../src/lidar-packets/index.js";
import { readPacketScan } from "../src/lidar-packets/scan-msgs.js";
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
}
const SENSORS: Sensor[] = [
  { folder: "hesai_qt128", channels: 128 },
  { folder: "hesai_pandar64", channels: 64 },
  { folder: "velodyne_vlp16", channels: 16 },
];

export default async function (): Promise<void> {
  if (!existsSync(ROOT)) {
    console.log(`packets: ${ROOT} absent, nothing measured`);
    return;
  }
  for (const { folder, channels } of SENSORS) {
    const json = JSON.parse(readFileSync(join(ROOT, folder, "sensor.json"), "utf8")) as { sensor_model: string; return_mode: string; calibration_file: string; bag: { dir: string } };
    const bag = join(ROOT, folder, json.bag.dir);
    // Span of the recording in sensor time, from the packet stamps.
    let first = Infinity, last = -Infinity, packets = 0;
    {
      const source = await openRosbag2(bag);
      for await (const m of source.messages()) {
        for (const p of readPacketScan(m.type, m.data).packets) {
          first = Math.min(first, p.seconds);
          last = Math.max(last, p.seconds);
          packets++;
        }
      }
      await source.close();
    }
    const span = (last - first) * (packets / Math.max(1, packets - 1));
    const read = async (): Promise<{ type: string; data: Uint8Array }[]> => {
      const source = await openRosbag2(bag);
      const out: { type: string; data: Uint8Array }[] = [];
      for await (const m of source.messages()) {
        readPacketScan(m.type, m.data);
        out.push({ type: m.type, data: m.data });
      }
      await source.close();
      return out;
    };
    const readMs = await medianCpuMs(() => read(), 7, 2);
    const messages = await read();
    const decoder: PacketCloudDecoder = await createPacketDecoder({ sensor_model: json.sensor_model, return_mode: json.return_mode, calibration_file: json.calibration_file }, { baseDir: join(ROOT, folder) });
    let sweeps = 0;
    const decodeMs = await medianCpuMs(() => {
      for (const m of messages) sweeps += decoder.decodeMessage(m.type, m.data).length;
    }, 7, 5);
    if (sweeps === 0) throw new Error(`${folder}: no sweep decoded`);
    const decodeX = span / (decodeMs / 1000);
    const readX = span / (readMs / 1000);
    report({
      name: `packets ${json.sensor_model} (${channels} ch, ${packets} packets, ${span.toFixed(3)} s) decode (packets in memory), one core`,
      value: decodeX,
      unit: "× real time",
      baseline: { name: "read packets alone", value: readX, unit: "× real time" },
      ratio: decodeX / readX,
      ...(channels === 128 ? { target: { text: "≥ 10× real time", met: decodeX >= 10 } } : {}),
    });
  }
}
