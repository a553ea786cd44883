/**
 * One second of synthetic VLS-128 (600 rpm, 3 sequences per packet) and PandarAT128 (200 rpm, 2
 * blocks per packet) packets with their calibration files: the input of bench/packets.bench.ts
 * (neither sensor has a recording here) and of the golden-hash test that pins the decoders' output
 * on it (synthetic-hash.test.ts). `plain`: the bench's packets (Strongest, every return at 10 m);
 * `varied`: dual return, distances and intensities that vary by packet, block and channel, so
 * that return types, the dual-return rules and range filters are pinned too.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DecodedCloud } from "../../src/lidar-packets/cloud.js";
import { createPacketDecoder, type LidarPacketConfig, type PacketCloudDecoder } from "../../src/lidar-packets/index.js";

export type SyntheticVariant = "plain" | "varied";

export interface SyntheticCase {
  model: "VLS128" | "PandarAT128";
  type: string;
  packetsPerS: number;
  /** Packet-scan messages (CDR) holding the second's packets. */
  messages: Uint8Array[];
  /** A fresh decoder for these packets (calibration written to a temporary folder). */
  decoder(): Promise<PacketCloudDecoder>;
}

/** A message holding `packets` (CDR, little-endian): VelodyneScan (uint8[1206]) or NebulaPackets (uint8[]). */
export function scanMessage(type: string, packets: { sec: number; nanosec: number; data: Uint8Array }[]): Uint8Array {
  const fixed = type.startsWith("velodyne");
  const size = 4 + 8 + 4 + 4 + 4 + packets.reduce((n, p) => n + 8 + (fixed ? 0 : 4) + p.data.length + 4, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[1] = 1;
  let o = 4 + 8;
  v.setUint32(o, 1, true); // frame_id "" (just the NUL)
  o += 4 + 4;
  v.setUint32(o, packets.length, true);
  o += 4;
  for (const p of packets) {
    o = 4 + ((o - 4 + 3) & ~3);
    v.setInt32(o, p.sec, true);
    v.setUint32(o + 4, p.nanosec, true);
    o += 8;
    if (!fixed) {
      v.setUint32(o, p.data.length, true);
      o += 4;
    }
    out.set(p.data, o);
    o += p.data.length;
  }
  return out.subarray(0, o);
}

/** Deterministic 0..1 from integers (no state: any packet can be built alone). */
function hash01(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(c + 0x165667b1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32;
}

/** Raw distance and intensity of (packet, block, channel) in the varied variant: 0 (no return), near and far, equal pairs. */
function varied(i: number, b: number, c: number, unitM: number): { raw: number; intensity: number } {
  const u = hash01(i, b >> 1, c);
  if (u < 0.05) return { raw: 0, intensity: 0 };
  // Dual pairs: the second block of a pair repeats the first a third of the time (identical returns).
  const second = (b & 1) === 1 && hash01(i, b, c + 1000) < 0.66;
  const metres = 0.2 + 250 * hash01(i, second ? b : b & ~1, c + 2000) ** 2;
  return { raw: Math.min(65535, Math.round(metres / unitM)), intensity: Math.floor(256 * hash01(i, second ? b : b & ~1, c + 3000)) };
}

export function syntheticSecond(variant: SyntheticVariant = "plain"): SyntheticCase[] {
  const dir = mkdtempSync(join(tmpdir(), "syncbag-packets-synthetic-"));
  writeFileSync(
    join(dir, "VLS128.yaml"),
    `lasers:\n${Array.from({ length: 128 }, (_, i) => `  - {laser_id: ${i}, rot_correction: ${variant === "plain" ? 0 : ((i % 7) - 3) * 0.01}, vert_correction: ${((-25 + (40 * i) / 127) * Math.PI) / 180}, dist_correction: ${variant === "plain" ? 0 : (i % 5) * 0.003}}`).join("\n")}\nnum_lasers: 128\ndistance_resolution: 0.004\n`,
  );
  const dat: number[] = [0xee, 0xff, 1, 5, 128, 3, 3, 1, 2, 4, 0, 0, 0, 0, 0, 1];
  const u32 = (x: number): void => void dat.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
  [0, 120, 240, 120, 240, 0].forEach((a) => u32(a * 25600));
  for (let c = 0; c < 128; c++) u32(Math.round((60 + 0.05 * (c % 4)) * 25600));
  for (let c = 0; c < 128; c++) u32(Math.round((-12.5 + (25.4 * c) / 127) * 25600) >>> 0);
  // 2° adjustment tables: zero for the bench's file; small offsets (int8, × resolution 1) for the varied one.
  for (let k = 0; k < 2 * 128 * 180; k++) dat.push(variant === "plain" ? 0 : (Math.floor(hash01(k, 7, 7) * 21) - 10) & 0xff);
  for (let k = 0; k < 32; k++) dat.push(0);
  writeFileSync(join(dir, "AT128.dat"), Uint8Array.from(dat));
  const dual = variant === "varied";
  const specs = [
    {
      model: "VLS128" as const, calibration: "VLS128.yaml", type: "velodyne_msgs/msg/VelodyneScan", packetsPerS: 6253, perMessage: 625,
      config: { return_mode: dual ? "Dual" : "Strongest" },
      packet(i: number): Uint8Array {
        const p = new Uint8Array(1206);
        const v = new DataView(p.buffer);
        for (let b = 0; b < 12; b++) {
          v.setUint16(b * 100, [0xeeff, 0xddff, 0xccff, 0xbbff][dual ? (b >> 1) % 4 : b % 4]!, true);
          // Dual: a block pair shares its bank and azimuth; 4 sequences' worth of pairs in the first 8 blocks.
          v.setUint16(b * 100 + 2, ((i * 3 + (dual ? b >> 3 : b >> 2)) * 19) % 36000, true);
          for (let k = 0; k < 32; k++) {
            if (!dual) {
              v.setUint16(b * 100 + 4 + k * 3, 2500, true);
              continue;
            }
            const r = varied(i, b, k, 0.004);
            v.setUint16(b * 100 + 4 + k * 3, r.raw, true);
            p[b * 100 + 6 + k * 3] = r.intensity;
          }
        }
        p[1204] = dual ? 57 : 55;
        p[1205] = 0xa1;
        return p;
      },
    },
    {
      model: "PandarAT128" as const, calibration: "AT128.dat", type: "nebula_msgs/msg/NebulaPackets", packetsPerS: 12000, perMessage: 1200,
      config: { return_mode: dual ? "Dual" : "Strongest", cloud_min_angle: 30, cloud_max_angle: 150, cut_angle: 150 },
      packet(i: number): Uint8Array {
        const p = new Uint8Array(1078);
        const v = new DataView(p.buffer);
        p.set([0xee, 0xff, 1, 4, 0, 0, 128, 2, 0, 4], 0);
        for (let b = 0; b < 2; b++) {
          // Dual: both blocks of a packet are the two returns at one azimuth.
          const az = ((dual ? i : i * 2 + b) * 1280) % (360 * 25600);
          v.setUint16(12 + b * 515, Math.floor(az / 256), true);
          p[12 + b * 515 + 2] = az % 256;
          for (let c = 0; c < 128; c++) {
            if (!dual) {
              v.setUint16(12 + b * 515 + 3 + c * 4, 2500, true);
              continue;
            }
            const r = varied(i, b, c, 0.004);
            v.setUint16(12 + b * 515 + 3 + c * 4, r.raw, true);
            p[12 + b * 515 + 3 + c * 4 + 2] = r.intensity;
          }
        }
        p[1070] = dual ? 0x39 : 0x37;
        v.setUint32(1066, Math.round(i * 83.333) % 1e6, true);
        v.setUint32(1074, 1_700_000_000 + Math.floor((i * 83.333) / 1e6), false);
        return p;
      },
    },
  ];
  return specs.map((c) => {
    const messages: Uint8Array[] = [];
    for (let m = 0; m * c.perMessage < c.packetsPerS; m++) {
      const group = [];
      for (let i = m * c.perMessage; i < Math.min(c.packetsPerS, (m + 1) * c.perMessage); i++) group.push({ sec: 100 + Math.floor(i / c.packetsPerS), nanosec: Math.round(((i % c.packetsPerS) * 1e9) / c.packetsPerS), data: c.packet(i) });
      messages.push(scanMessage(c.type, group));
    }
    const config: LidarPacketConfig = { sensor_model: c.model, calibration_file: c.calibration, ...c.config };
    return { model: c.model, type: c.type, packetsPerS: c.packetsPerS, messages, decoder: () => createPacketDecoder(config, { baseDir: dir }) };
  });
}

/**
 * sha256 over every sweep a fresh decoder gives for `passes` replays of the case's messages
 * (a replay is decoded where it arrives, as the bench does): stamp, frame, point count, bytes.
 * `recycle`: each sweep's storage handed back once hashed, as the conversion does (later sweeps
 * are written over old ones: any byte a point leaves unwritten would show).
 */
export async function sweepsHash(c: SyntheticCase, passes = 2, recycle = false): Promise<{ sha256: string; sweeps: number; points: number; problems: string[] }> {
  const decoder = await c.decoder();
  const h = createHash("sha256");
  let sweeps = 0, points = 0;
  const add = (s: DecodedCloud): void => {
    h.update(`${s.stampNs} ${s.frameId} ${s.points}\n`);
    h.update(s.data);
    sweeps++;
    points += s.points;
  };
  for (let pass = 0; pass < passes; pass++) {
    for (const m of c.messages) {
      for (const s of decoder.decodeMessage(c.type, m)) {
        add(s);
        if (recycle) decoder.recycle(s);
      }
    }
  }
  return { sha256: h.digest("hex"), sweeps, points, problems: decoder.problems.lines() };
}
