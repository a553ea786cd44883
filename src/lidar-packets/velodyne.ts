/**
 * Velodyne VLP-16 raw packets (velodyne_msgs/VelodynePacket, 1206 bytes) into sweeps.
 *
 * Follows the VLP-16 User Manual (63-9243 Rev. E: packet format §9, firing timing §9.5: 2.304 µs
 * per firing, 55.296 µs per firing sequence, dual-return block pairs, return-mode byte 1204) and,
 * for everything the manual leaves to the driver, tier4/nebula's nebula_velodyne_decoders
 * (vlp16_decoder.cpp, velodyne_scan_decoder.hpp at 606ac41): calibration YAML as the ROS velodyne
 * driver reads it (per-laser vert/rot/dist correction, ring = rank of vertical angle), azimuth
 * interpolation within a block, the cut when a packet's azimuth wraps past scan_phase with the
 * last quarter turn carried into the next sweep, cloud_min/max_angle, min/max range, the
 * dual-return rule (second return dropped when identical to the first) and float32 arithmetic in
 * the same order, so that x, y, z equal nebula's as float32.
 *
 * Stamp: header.stamp = the packet time of the sweep's first packet (nebula's scan_timestamp);
 * time_stamp = ns after it.
 */
import { parse as parseYaml } from "yaml";
import { PacketProblems, PointBuffer, ReturnType, type DecodedCloud } from "./cloud.js";
import { cosf, sinf } from "./libm-f32.js";

const fr = Math.fround;

export interface VelodyneLaser {
  laserId: number;
  rotCorrection: number;
  vertCorrection: number;
  distCorrection: number;
  cosVert: number;
  sinVert: number;
  ring: number;
}
export interface VelodyneCalibration {
  numLasers: number;
  distanceResolution: number;
  lasers: VelodyneLaser[];
}

/** Why a calibration or configuration cannot be used (one line, names the file or parameter). */
export class LidarConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LidarConfigError";
  }
}

function num(v: unknown, what: string, source: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new LidarConfigError(`${source}: ${what} is missing or not a number`);
  return n;
}

/** The ROS velodyne driver's calibration YAML (num_lasers, distance_resolution, lasers[]); values as float32. */
export function parseVelodyneCalibration(text: string, source: string): VelodyneCalibration {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new LidarConfigError(`${source}: not YAML (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as { lasers?: unknown }).lasers)) {
    throw new LidarConfigError(`${source}: not a Velodyne calibration (no 'lasers' list)`);
  }
  const d = doc as { num_lasers?: unknown; distance_resolution?: unknown; lasers: unknown[] };
  const numLasers = num(d.num_lasers, "num_lasers", source);
  const distanceResolution = fr(d.distance_resolution === undefined ? 0.002 : num(d.distance_resolution, "distance_resolution", source));
  if (d.lasers.length < numLasers) throw new LidarConfigError(`${source}: num_lasers is ${numLasers} but ${d.lasers.length} lasers are listed`);
  const lasers: VelodyneLaser[] = [];
  for (let i = 0; i < numLasers; i++) {
    const l = d.lasers[i] as Record<string, unknown>;
    const laserId = num(l["laser_id"], `lasers[${i}].laser_id`, source);
    const vert = fr(num(l["vert_correction"], `lasers[${i}].vert_correction`, source));
    lasers[laserId] = {
      laserId,
      rotCorrection: fr(num(l["rot_correction"], `lasers[${i}].rot_correction`, source)),
      vertCorrection: vert,
      distCorrection: fr(num(l["dist_correction"] ?? 0, `lasers[${i}].dist_correction`, source)),
      cosVert: cosf(vert),
      sinVert: sinf(vert),
      ring: 0,
    };
  }
  for (let i = 0; i < numLasers; i++) if (lasers[i] === undefined) throw new LidarConfigError(`${source}: laser_id ${i} is missing`);
  // Ring = rank of the vertical angle, lowest first (as the ROS driver numbers rings).
  const order = lasers.map((l, i) => i).sort((a, b) => lasers[a]!.vertCorrection - lasers[b]!.vertCorrection);
  order.forEach((laser, ring) => (lasers[laser]!.ring = ring));
  return { numLasers, distanceResolution, lasers };
}

export type VelodyneModel = "VLP16";
export type ReturnModeSetting = "Strongest" | "Last" | "Dual";

export interface VelodyneConfig {
  model: VelodyneModel;
  returnMode: ReturnModeSetting;
  frameId: string;
  calibration: VelodyneCalibration;
  /** Where the sweep is cut (deg, as nebula's scan_phase). Default 0. */
  scanPhase?: number;
  minRange?: number;
  maxRange?: number;
  /** Integer degrees, as nebula's cloud_min_angle / cloud_max_angle. Defaults 0 / 360. */
  cloudMinAngle?: number;
  cloudMaxAngle?: number;
}

const PACKET_BYTES = 1206;
const BLOCKS = 12;
const BLOCK_BYTES = 100;
const UPPER_BANK = 0xeeff;
const RETURN_MODE_INDEX = 1204;
const MODE_STRONGEST = 55;
const MODE_LAST = 56;
const MODE_DUAL = 57;
const DSR_TOFFSET = fr(2.304);
const FIRING_TOFFSET = fr(55.296);
const BLOCK_DURATION = fr(110.592);

/** cos/sin of every azimuth in 0.01° steps, float32 as nebula's tables (glibc cosf/sinf). */
let rotTables: { rad: Float32Array; cos: Float32Array; sin: Float32Array } | undefined;
function tables(): { rad: Float32Array; cos: Float32Array; sin: Float32Array } {
  if (rotTables !== undefined) return rotTables;
  const rad = new Float32Array(36000), cos = new Float32Array(36000), sin = new Float32Array(36000);
  for (let i = 0; i < 36000; i++) {
    const r = fr(((0.01 * i) * Math.PI) / 180.0);
    rad[i] = r;
    cos[i] = cosf(r);
    sin[i] = sinf(r);
  }
  rotTables = { rad, cos, sin };
  return rotTables;
}

export class VelodyneDecoder {
  readonly problems = new PacketProblems();
  readonly #cfg: Required<Omit<VelodyneConfig, "calibration">> & { calibration: VelodyneCalibration };
  readonly #scan = new PointBuffer(32768);
  readonly #overflow = new PointBuffer(8192);
  readonly #timing: Float64Array;
  readonly #phase: number;
  #scanTimestamp = -1;
  #lastBlockTimestamp = 0;
  #processed = 0;
  #prevFirstPhased = 0;
  #hasScanned = false;
  #lastPacketSeconds = -Infinity;

  constructor(config: VelodyneConfig) {
    if (config.model !== "VLP16") throw new LidarConfigError(`unknown Velodyne model '${String(config.model)}' (supported: VLP16)`);
    if (config.calibration.numLasers !== 16) {
      throw new LidarConfigError(`calibration has ${config.calibration.numLasers} lasers but a ${config.model} has 16 (calibration for another model?)`);
    }
    this.#cfg = { scanPhase: 0, minRange: 0.3, maxRange: 300, cloudMinAngle: 0, cloudMaxAngle: 360, ...config };
    // Firing time of each (block, firing*16+dsr) after the packet time, VLP-16 manual §9.5.
    const dual = this.#cfg.returnMode === "Dual";
    this.#timing = new Float64Array(BLOCKS * 32);
    for (let x = 0; x < BLOCKS; x++) {
      for (let y = 0; y < 32; y++) {
        const blockIndex = dual ? x - (x % 2) + Math.floor(y / 16) : x * 2 + Math.floor(y / 16);
        this.#timing[x * 32 + y] = 55.296e-6 * blockIndex + 2.304e-6 * (y % 16);
      }
    }
    this.#phase = Math.round(this.#cfg.scanPhase * 100) & 0xffff;
    tables();
  }

  /**
   * Decodes one packet; returns the sweep it completes, if any. `packetSeconds` is the packet's
   * stamp in seconds. A packet that is not a VLP-16 data packet is counted and skipped.
   */
  decode(packet: Uint8Array, packetSeconds: number): DecodedCloud | undefined {
    if (packet.length < PACKET_BYTES) {
      this.problems.add("truncated", `velodyne packet of ${packet.length} bytes (a VLP-16 data packet has ${PACKET_BYTES}): skipped`);
      return undefined;
    }
    const mode = packet[RETURN_MODE_INDEX]!;
    if (mode !== MODE_STRONGEST && mode !== MODE_LAST && mode !== MODE_DUAL) {
      this.problems.add("return-mode", `velodyne packet with return-mode byte ${mode} (not 55/56/57: not a VLP-16 data packet): skipped`);
      return undefined;
    }
    const expected = this.#cfg.returnMode === "Dual" ? MODE_DUAL : this.#cfg.returnMode === "Last" ? MODE_LAST : MODE_STRONGEST;
    if (mode !== expected) {
      // Points follow the packet's mode; only the per-point firing times use the configured one.
      this.problems.add("return-mode-mismatch", `velodyne packet in return mode ${mode}, configured ${this.#cfg.returnMode} (${expected}): decoded as the packet says, point times assume ${this.#cfg.returnMode}`);
    }
    if (packet[1205] !== 0x22) {
      // Factory byte 1205 names the product (0x22 = VLP-16); another model's packets would decode to a wrong cloud.
      this.problems.add("model", `velodyne packet from product id 0x${packet[1205]!.toString(16)} (a VLP-16 sends 0x22): skipped`);
      return undefined;
    }
    if (packetSeconds < this.#lastPacketSeconds) {
      this.problems.add("out-of-order", `velodyne packet stamped ${packetSeconds.toFixed(6)} s after one stamped ${this.#lastPacketSeconds.toFixed(6)} s (out of order): decoded where it arrived`);
    }
    this.#lastPacketSeconds = packetSeconds;
    this.#checkScanComplete(packet, packetSeconds);
    this.#unpack(packet, packetSeconds, mode);
    return this.#hasScanned ? this.#cloud() : undefined;
  }

  #checkScanComplete(packet: Uint8Array, packetSeconds: number): void {
    if (this.#hasScanned) {
      this.#processed = 0;
      this.#scan.clear();
      this.#resetOverflow(packetSeconds);
    }
    this.#hasScanned = false;
    this.#processed++;
    const first = packet[2]! | (packet[3]! << 8);
    const last = packet[1102]! | (packet[1103]! << 8);
    const firstPhased = (36000 + first - this.#phase) % 36000;
    const lastPhased = (36000 + last - this.#phase) % 36000;
    this.#hasScanned = this.#processed > 1 && (lastPhased < firstPhased || firstPhased < this.#prevFirstPhased);
    this.#prevFirstPhased = firstPhased;
  }

  #resetOverflow(timeStamp: number): void {
    const overflow = this.#overflow, scan = this.#scan;
    if (overflow.size === 0) {
      this.#scanTimestamp = -1;
      return;
    }
    const lastOverflow = this.#scanTimestamp + 1e-9 * overflow.timeNs(overflow.size - 1);
    // A gap over 50 ms means packets were lost: the carried-over points would not join the sweep.
    if (timeStamp - lastOverflow > 0.05) {
      this.#scanTimestamp = -1;
      overflow.clear();
      return;
    }
    for (let i = overflow.size - 1; i >= 0; i--) {
      scan.pushFrom(overflow, i);
      const t = this.#scanTimestamp + 1e-9 * overflow.timeNs(i) - this.#lastBlockTimestamp;
      scan.setTimeNs(scan.size - 1, t < 0 ? 0 : toU32(1e9 * t));
    }
    this.#scanTimestamp = this.#lastBlockTimestamp;
    overflow.clear();
  }

  #cloud(): DecodedCloud {
    const scan = this.#scan, overflow = this.#overflow;
    const phase = (this.#cfg.scanPhase * Math.PI) / 180;
    const phaseDiff = (az: number): number => Math.trunc(((2 * Math.PI + az - phase) * 180) / Math.PI) % 360;
    // The sweep's last quarter turn before the cut phase goes to the next sweep (nebula get_pointcloud).
    while (scan.size > 0 && phaseDiff(scan.azimuth(scan.size - 1)) < 90) {
      overflow.pushFrom(scan, scan.size - 1);
      scan.pop();
    }
    return { stampNs: BigInt(Math.round(this.#scanTimestamp * 1e9)), frameId: this.#cfg.frameId, points: scan.size, data: scan.bytes() };
  }

  #unpack(p: Uint8Array, packetSeconds: number, mode: number): void {
    const { rad, cos, sin } = tables();
    const cal = this.#cfg.calibration;
    const res = cal.distanceResolution;
    const minA = this.#cfg.cloudMinAngle, maxA = this.#cfg.cloudMaxAngle;
    const minR = this.#cfg.minRange, maxR = this.#cfg.maxRange;
    const dual = mode === MODE_DUAL ? 1 : 0;
    let lastAzimuthDiff = 0;
    let azimuthNext = 0;
    const rotation = (block: number): number => p[block * BLOCK_BYTES + 2]! | (p[block * BLOCK_BYTES + 3]! << 8);
    for (let block = 0; block < BLOCKS; block++) {
      const base = block * BLOCK_BYTES;
      if ((p[base]! | (p[base + 1]! << 8)) !== UPPER_BANK) {
        this.problems.add("bad-block", `velodyne packet block ${block} has header 0x${(p[base]! | (p[base + 1]! << 8)).toString(16)} (expected 0xeeff): rest of packet skipped`);
        return;
      }
      let azimuthDiff: number;
      const azimuth = block === 0 ? rotation(0) : azimuthNext;
      if (block < BLOCKS - (1 + dual)) {
        azimuthNext = rotation(block + 1 + dual);
        azimuthDiff = (36000 + azimuthNext - azimuth) % 36000;
        lastAzimuthDiff = azimuthDiff;
      } else {
        azimuthDiff = block === BLOCKS - dual - 1 ? 0 : lastAzimuthDiff;
      }
      if (azimuth >= 36000) {
        this.problems.add("azimuth", `velodyne packet block ${block} has azimuth ${azimuth / 100}° (beyond 360°): block skipped`);
        continue;
      }
      if (!((minA < maxA && azimuth >= minA * 100 && azimuth <= maxA * 100) || minA > maxA)) continue;
      const otherBase = block % 2 ? base - BLOCK_BYTES : base + BLOCK_BYTES;
      for (let firing = 0, k = 0; firing < 2; firing++) {
        for (let dsr = 0; dsr < 16; dsr++, k += 3) {
          const o = base + 4 + k;
          const cur = p[o]! | (p[o + 1]! << 8);
          const oo = otherBase + 4 + k;
          const other = dual ? p[oo]! | (p[oo + 1]! << 8) : 0;
          if (this.#scanTimestamp < 0) this.#scanTimestamp = packetSeconds;
          if (cur === 0 || (dual && block % 2 && other === cur)) continue;
          const laser = cal.lasers[dsr]!;
          let distance = fr(cur * res);
          if (distance > 1e-6) distance = fr(distance + laser.distCorrection);
          if (!(distance > minR && distance < maxR)) continue;
          let azf = fr(azimuth + fr(fr(azimuthDiff * fr(fr(dsr * DSR_TOFFSET) + fr(firing * FIRING_TOFFSET))) / BLOCK_DURATION));
          azf = fr(azf - ((laser.rotCorrection * 180.0) / Math.PI) * 100);
          if (azf < 0) azf = fr(azf + 36000.0);
          const azc = (Math.round(azf) & 0xffff) % 36000;
          const inside = (azc >= minA * 100 && azc <= maxA * 100 && minA < maxA) || (minA > maxA && (azc <= maxA * 100 || azc >= minA * 100));
          if (!inside) continue;
          const xy = fr(distance * laser.cosVert);
          const x = fr(xy * cos[azc]!);
          const y = -fr(xy * sin[azc]!);
          const z = fr(distance * laser.sinVert);
          const intensity = p[o + 2]!;
          this.#lastBlockTimestamp = packetSeconds;
          let returnType: number;
          if (mode === MODE_DUAL) {
            if (other === 0 || other === cur) returnType = ReturnType.IDENTICAL;
            else {
              const otherIntensity = p[oo + 2]!;
              const first = cur > other;
              const strongest = otherIntensity === intensity ? !first : intensity > otherIntensity;
              returnType = first ? (strongest ? ReturnType.FIRST_STRONGEST : ReturnType.FIRST_WEAK) : strongest ? ReturnType.LAST_STRONGEST : ReturnType.LAST_WEAK;
            }
          } else returnType = mode === MODE_STRONGEST ? ReturnType.STRONGEST : ReturnType.LAST;
          let ts = packetSeconds - this.#scanTimestamp + this.#timing[block * 32 + firing * 16 + dsr]!;
          if (ts < 0) ts = 0;
          this.#scan.push(x, y, z, intensity, returnType, laser.ring, rad[azc]!, laser.vertCorrection, distance, toU32(ts * 1e9));
        }
      }
    }
  }
}

function toU32(v: number): number {
  return v >= 4294967295 ? 4294967295 : Math.trunc(v);
}
