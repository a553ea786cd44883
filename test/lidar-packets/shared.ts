/** Reading ../shared/lidar-packets (see its README): each sensor's sensor.json, bag and reference PCD. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openRosbag2 } from "../../src/convert/readers/rosbag2.js";
import type { SourceMessage } from "../../src/convert/readers/source.js";

export const PACKETS_ROOT = process.env.SYNCBAG_LIDAR_PACKETS ?? join(import.meta.dirname, "../../../shared/lidar-packets");

export interface SensorJson {
  vendor: string;
  sensor_model: string;
  return_mode: string;
  calibration_file: string;
  frame_id: string;
  bag: { dir: string; topic: string; message_type: string; message_count: number };
  reference: { file: string; point_count: number };
  upstream_test_params: Record<string, unknown>;
}

export function sensorJson(folder: string): SensorJson {
  return JSON.parse(readFileSync(join(PACKETS_ROOT, folder, "sensor.json"), "utf8")) as SensorJson;
}

/** A binary PCD's x, y, z (fields mapped by name, as nebula's PcdReader does). */
export function readPcdXyz(path: string): { count: number; x: Float32Array; y: Float32Array; z: Float32Array } {
  const bytes = readFileSync(path);
  const end = bytes.indexOf("DATA binary\n");
  if (end < 0) throw new Error(`${path}: not a binary PCD`);
  const header = bytes.subarray(0, end).toString("latin1");
  const line = (key: string): string[] => (header.split("\n").find((l) => l.startsWith(`${key} `)) ?? "").split(" ").slice(1);
  const fields = line("FIELDS"), sizes = line("SIZE").map(Number);
  const count = Number(line("POINTS")[0]);
  const step = sizes.reduce((a, b) => a + b, 0);
  const offset = (name: string): number => {
    const i = fields.indexOf(name);
    if (i < 0) throw new Error(`${path}: no field ${name}`);
    return sizes.slice(0, i).reduce((a, b) => a + b, 0);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset + end + "DATA binary\n".length);
  const x = new Float32Array(count), y = new Float32Array(count), z = new Float32Array(count);
  const ox = offset("x"), oy = offset("y"), oz = offset("z");
  for (let i = 0; i < count; i++) {
    x[i] = view.getFloat32(i * step + ox, true);
    y[i] = view.getFloat32(i * step + oy, true);
    z[i] = view.getFloat32(i * step + oz, true);
  }
  return { count, x, y, z };
}

export async function* bagMessages(folder: string): AsyncGenerator<SourceMessage> {
  const json = sensorJson(folder);
  const source = await openRosbag2(join(PACKETS_ROOT, folder, json.bag.dir));
  try {
    for await (const m of source.messages()) if (m.topic === json.bag.topic) yield m;
  } finally {
    await source.close();
  }
}

export function referencePath(folder: string): string {
  const json = sensorJson(folder);
  return join(PACKETS_ROOT, folder, json.reference.file);
}

export function available(): boolean {
  return existsSync(PACKETS_ROOT) && readdirSync(PACKETS_ROOT).length > 0;
}

/** Distance in float32 units in the last place (for reporting how close two values are). */
export function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (v: number): number => (v < 0 ? -0x80000000 - v : v);
  return Math.abs(key(i[0]!) - key(i[1]!));
}
