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
import { PacketProblems, PointBuffer, ReturnType, StoragePool, type DecodedCloud } from "./cloud.js";
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
  /** The ROS driver's full model (rawdata.cc; used by VLP-32C): offsets, two-point distance correction, intensity focus. */
  horizOffset: number;
  vertOffset: number;
  twoPt: boolean;
  distCorrectionX: number;
  distCorrectionY: number;
  minIntensity: number;
  maxIntensity: number;
  focalDistance: number;
  focalSlope: number;
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
    if (!Number.isInteger(laserId) || laserId < 0 || laserId >= numLasers) throw new LidarConfigError(`${source}: lasers[${i}].laser_id is ${laserId}, outside 0..${numLasers - 1}`);
    lasers[laserId] = {
      laserId,
      rotCorrection: fr(num(l["rot_correction"], `lasers[${i}].rot_correction`, source)),
      vertCorrection: vert,
      distCorrection: fr(num(l["dist_correction"] ?? 0, `lasers[${i}].dist_correction`, source)),
      cosVert: cosf(vert),
      sinVert: sinf(vert),
      ring: 0,
      horizOffset: fr(num(l["horiz_offset_correction"] ?? 0, `lasers[${i}].horiz_offset_correction`, source)),
      vertOffset: fr(num(l["vert_offset_correction"] ?? 0, `lasers[${i}].vert_offset_correction`, source)),
      twoPt: l["two_pt_correction_available"] === true || l["two_pt_correction_available"] === "true",
      distCorrectionX: fr(num(l["dist_correction_x"] ?? 0, `lasers[${i}].dist_correction_x`, source)),
      distCorrectionY: fr(num(l["dist_correction_y"] ?? 0, `lasers[${i}].dist_correction_y`, source)),
      // nebula floors the intensity limits (defaults 0 and 255).
      minIntensity: Math.floor(fr(num(l["min_intensity"] ?? 0, `lasers[${i}].min_intensity`, source))),
      maxIntensity: Math.floor(fr(num(l["max_intensity"] ?? 255, `lasers[${i}].max_intensity`, source))),
      focalDistance: fr(num(l["focal_distance"] ?? 0, `lasers[${i}].focal_distance`, source)),
      focalSlope: fr(num(l["focal_slope"] ?? 0, `lasers[${i}].focal_slope`, source)),
    };
  }
  for (let i = 0; i < numLasers; i++) if (lasers[i] === undefined) throw new LidarConfigError(`${source}: laser_id ${i} is missing`);
  // Ring = rank of the vertical angle, lowest first (as the ROS driver numbers rings).
  const order = lasers.map((l, i) => i).sort((a, b) => lasers[a]!.vertCorrection - lasers[b]!.vertCorrection);
  order.forEach((laser, ring) => (lasers[laser]!.ring = ring));
  return { numLasers, distanceResolution, lasers };
}

/** VLP32 is nebula's name for the VLP-32C. */
export type VelodyneModel = "VLP16" | "VLP32C" | "VLP32" | "VLS128";

/** Per model: lasers, the factory byte 1205 (product id, each manual's §9 "factory bytes"), name in messages. */
export const VELODYNE_SPECS: Record<VelodyneModel, { lasers: number; productId: number; name: string }> = {
  VLP16: { lasers: 16, productId: 0x22, name: "VLP-16" },
  VLP32C: { lasers: 32, productId: 0x28, name: "VLP-32C" },
  VLP32: { lasers: 32, productId: 0x28, name: "VLP-32C" },
  VLS128: { lasers: 128, productId: 0xa1, name: "VLS-128" },
};
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
const VLS128_BANKS: Record<number, number> = { 0xeeff: 0, 0xddff: 32, 0xccff: 64, 0xbbff: 96 };
const VLP32_CHANNEL_DURATION = fr(2.304);
const VLP32_SEQ_DURATION = fr(55.296);
const VLS128_CHANNEL_DURATION = fr(2.665);
const VLS128_SEQ_DURATION = fr(53.3);
const VLS128_DISTANCE_RESOLUTION = fr(0.004);
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

/**
 * The same tables interleaved as [cos, sin, rad, 0] per 0.01° (VLS-128): a point's three lookups
 * share one cache line instead of touching three 144 kB tables.
 */
let vlsTrigTable: Float32Array | undefined;
function vlsTrig(): Float32Array {
  if (vlsTrigTable !== undefined) return vlsTrigTable;
  const { rad, cos, sin } = tables();
  const t = new Float32Array(4 * 36000);
  for (let i = 0; i < 36000; i++) {
    t[4 * i] = cos[i]!;
    t[4 * i + 1] = sin[i]!;
    t[4 * i + 2] = rad[i]!;
  }
  vlsTrigTable = t;
  return t;
}

interface LaserTable {
  distCorrection: Float32Array;
  /** rot_correction in 0.01° as nebula subtracts it (double: rad × 180 / π × 100). */
  rotHundredths: Float64Array;
  cosVert: Float32Array;
  sinVert: Float32Array;
  vert: Float32Array;
  ring: Uint16Array;
  /** ring << 16: the channel half of a point's word at bytes 12..15. */
  ringWord: Uint32Array;
}

export class VelodyneDecoder {
  readonly problems = new PacketProblems();
  readonly #cfg: Required<Omit<VelodyneConfig, "calibration">> & { calibration: VelodyneCalibration };
  /** Sweep storage handed back by the consumer (recycle()). */
  readonly storage = new StoragePool();
  readonly #scan = new PointBuffer(32768, this.storage);
  readonly #overflow = new PointBuffer(8192);
  readonly #timing: Float64Array | Float32Array;
  readonly #phase: number;
  #scanTimestamp = -1;
  #lastBlockTimestamp = 0;
  #processed = 0;
  #prevFirstPhased = 0;
  #hasScanned = false;
  #lastPacketSeconds = -Infinity;

  readonly #spec: { lasers: number; productId: number; name: string };
  readonly #model: "VLP16" | "VLP32C" | "VLS128";

  constructor(config: VelodyneConfig) {
    const spec = Object.hasOwn(VELODYNE_SPECS, config.model) ? VELODYNE_SPECS[config.model] : undefined;
    if (spec === undefined) throw new LidarConfigError(`unknown Velodyne model '${String(config.model)}' (supported: ${Object.keys(VELODYNE_SPECS).join(", ")})`);
    this.#spec = spec;
    this.#model = config.model === "VLP32" ? "VLP32C" : config.model;
    if (config.calibration.numLasers !== spec.lasers) {
      throw new LidarConfigError(`calibration has ${config.calibration.numLasers} lasers but a ${spec.name} has ${spec.lasers} (calibration for another model?)`);
    }
    this.#cfg = { scanPhase: 0, minRange: 0.3, maxRange: 300, cloudMinAngle: 0, cloudMaxAngle: 360, ...config };
    const dual = this.#cfg.returnMode === "Dual";
    if (this.#model === "VLP16") {
      // Firing time of each (block, firing*16+dsr) after the packet time, VLP-16 manual §9.5.
      this.#timing = new Float64Array(BLOCKS * 32);
      for (let x = 0; x < BLOCKS; x++) {
        for (let y = 0; y < 32; y++) {
          const blockIndex = dual ? x - (x % 2) + Math.floor(y / 16) : x * 2 + Math.floor(y / 16);
          this.#timing[x * 32 + y] = 55.296e-6 * blockIndex + 2.304e-6 * (y % 16);
        }
      }
    } else if (this.#model === "VLP32C") {
      // VLP-32C manual §9.5: lasers fire in pairs (channel j in group j/2), 2.304 µs per group,
      // one 55.296 µs sequence per block (per block pair in dual mode). float32 as nebula stores it.
      this.#timing = new Float32Array(BLOCKS * 32);
      for (let x = 0; x < BLOCKS; x++) {
        for (let y = 0; y < 32; y++) this.#timing[x * 32 + y] = 55.296e-6 * (dual ? Math.floor(x / 2) : x) + 2.304e-6 * Math.floor(y / 2);
      }
    } else {
      // VLS-128 manual (timing, p. 64): 8 lasers per firing group, 2.665 µs per group, 53.3 µs per
      // sequence of 16 groups plus one maintenance slot after group 8, packet time 8.7 µs after
      // the first firing (top of the hour aligned with the fourth group). [sequence][group slot].
      this.#timing = new Float32Array(3 * 17);
      for (let x = 0; x < 3; x++) for (let y = 0; y < 17; y++) this.#timing[x * 17 + y] = 53.3e-6 * x + 2.665e-6 * y - 8.7e-6;
      for (let i = 0; i < 16; i++) this.#vlsAzimuthCache[i] = fr(fr(VLS128_CHANNEL_DURATION / VLS128_SEQ_DURATION) * (i + Math.floor(i / 8)));
    }
    this.#phase = Math.round(this.#cfg.scanPhase * 100) & 0xffff;
    tables();
  }

  readonly #vlsAzimuthCache = new Float32Array(16);

  /**
   * Decodes one packet; returns the sweep it completes, if any. `packetSeconds` is the packet's
   * stamp in seconds. A packet that is not a data packet of the configured model is counted and skipped.
   */
  decode(packet: Uint8Array, packetSeconds: number): DecodedCloud | undefined {
    const name = this.#spec.name;
    if (packet.length < PACKET_BYTES) {
      this.problems.add("truncated", `velodyne packet of ${packet.length} bytes (a ${name} data packet has ${PACKET_BYTES}): skipped`);
      return undefined;
    }
    const mode = packet[RETURN_MODE_INDEX]!;
    if (mode !== MODE_STRONGEST && mode !== MODE_LAST && mode !== MODE_DUAL) {
      this.problems.add("return-mode", `velodyne packet with return-mode byte ${mode} (not 55/56/57: not a ${name} data packet): skipped`);
      return undefined;
    }
    const expected = this.#cfg.returnMode === "Dual" ? MODE_DUAL : this.#cfg.returnMode === "Last" ? MODE_LAST : MODE_STRONGEST;
    if (mode !== expected) {
      // Points follow the packet's mode. VLP-16/VLP-32C firing times use the configured mode (as
      // nebula's tables do); the VLS-128's timing table has no mode, so nothing follows the setting
      // (nebula's own VLS-128 reference is a Strongest recording decoded with Dual configured).
      const times = this.#model === "VLS128" ? "its point times do not depend on the mode" : `point times assume ${this.#cfg.returnMode}`;
      this.problems.add("return-mode-mismatch", `velodyne packet in return mode ${mode}, configured ${this.#cfg.returnMode} (${expected}): decoded as the packet says, ${times}`);
    }
    if (packet[1205] !== this.#spec.productId) {
      // Factory byte 1205 names the product; another model's packets would decode to a wrong cloud.
      this.problems.add("model", `velodyne packet from product id 0x${packet[1205]!.toString(16)} (a ${name} sends 0x${this.#spec.productId.toString(16)}): skipped`);
      return undefined;
    }
    if (packetSeconds < this.#lastPacketSeconds) {
      this.problems.add("out-of-order", `velodyne packet stamped ${packetSeconds.toFixed(6)} s after one stamped ${this.#lastPacketSeconds.toFixed(6)} s (out of order): decoded where it arrived`);
    }
    this.#lastPacketSeconds = packetSeconds;
    this.#checkScanComplete(packet, packetSeconds);
    if (this.#model === "VLP16") this.#unpack(packet, packetSeconds, mode);
    else if (this.#model === "VLP32C") this.#unpackVlp32(packet, packetSeconds, mode);
    else this.#unpackVls128(packet, packetSeconds, mode);
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
    // The sweep's last quarter turn before the cut phase goes to the next sweep (nebula get_pointcloud).
    // nebula's VLP-32 decoder compares 2π + azimuth − phase with π/2 without wrapping, so it only
    // moves points when scan_phase > 270°; kept as nebula does it.
    const moves = this.#model === "VLP32C"
      ? (az: number): boolean => 2 * Math.PI + az - phase < Math.PI / 2
      : (az: number): boolean => Math.trunc(((2 * Math.PI + az - phase) * 180) / Math.PI) % 360 < 90;
    while (scan.size > 0 && moves(scan.azimuth(scan.size - 1))) {
      overflow.pushFrom(scan, scan.size - 1);
      scan.pop();
    }
    return { stampNs: BigInt(Math.round(this.#scanTimestamp * 1e9)), frameId: this.#cfg.frameId, points: scan.size, data: scan.bytes() };
  }

  /** Azimuth of block `block` and the rotation it spans (nebula's per-block rule, quirks kept: see README). */
  #blockAzimuths(p: Uint8Array, dual: number, lastDiffBlock: number): { az: Uint16Array; diff: Float32Array } {
    const az = this.#azScratch, diff = this.#diffScratch;
    const rotation = (block: number): number => p[block * BLOCK_BYTES + 2]! | (p[block * BLOCK_BYTES + 3]! << 8);
    let lastAzimuthDiff = 0, azimuthNext = 0;
    for (let block = 0; block < BLOCKS; block++) {
      az[block] = block === 0 ? rotation(0) : azimuthNext;
      if (block < BLOCKS - (1 + dual)) {
        azimuthNext = rotation(block + 1 + dual);
        diff[block] = (36000 + azimuthNext - az[block]!) % 36000;
        lastAzimuthDiff = diff[block]!;
      } else diff[block] = block === lastDiffBlock ? 0 : lastAzimuthDiff;
    }
    return { az, diff };
  }

  readonly #azScratch = new Uint16Array(BLOCKS);
  readonly #diffScratch = new Float32Array(BLOCKS);

  #inAngle(a: number): boolean {
    const minA = this.#cfg.cloudMinAngle, maxA = this.#cfg.cloudMaxAngle;
    return (a >= minA * 100 && a <= maxA * 100 && minA < maxA) || (minA > maxA && (a <= maxA * 100 || a >= minA * 100));
  }

  #returnType(mode: number, p: Uint8Array, cur: number, other: number, intensity: number, oo: number): number {
    if (mode !== MODE_DUAL) return mode === MODE_STRONGEST ? ReturnType.STRONGEST : mode === MODE_LAST ? ReturnType.LAST : ReturnType.UNKNOWN;
    if (other === 0 || other === cur) return ReturnType.IDENTICAL;
    const otherIntensity = p[oo + 2]!;
    const first = other >= cur;
    const strongest = otherIntensity === intensity ? !first : otherIntensity < intensity;
    return first ? (strongest ? ReturnType.FIRST_STRONGEST : ReturnType.FIRST_WEAK) : strongest ? ReturnType.LAST_STRONGEST : ReturnType.LAST_WEAK;
  }

  /**
   * VLP-32C (nebula vlp32_decoder.cpp, the ROS driver's rawdata.cc model): all 12 blocks carry the
   * 32 lasers (0xEEFF); azimuth interpolated per firing group within the block; per-laser vertical
   * and horizontal offsets, two-point distance correction and the intensity focal correction.
   */
  #unpackVlp32(p: Uint8Array, packetSeconds: number, mode: number): void {
    const { rad, cos, sin } = tables();
    const cal = this.#cfg.calibration;
    const res = cal.distanceResolution;
    const minR = this.#cfg.minRange, maxR = this.#cfg.maxRange;
    const dual = mode === MODE_DUAL ? 1 : 0;
    const { az, diff } = this.#blockAzimuths(p, dual, BLOCKS - 4 * dual - 1);
    for (let block = 0; block < BLOCKS; block++) {
      const base = block * BLOCK_BYTES;
      const header = p[base]! | (p[base + 1]! << 8);
      if (header !== UPPER_BANK) {
        this.problems.add("bad-block", `${this.#spec.name} packet block ${block} has header 0x${header.toString(16)} (expected 0xeeff): rest of packet skipped`);
        return;
      }
      const blockRotation = p[base + 2]! | (p[base + 3]! << 8);
      if (blockRotation >= 36000) {
        this.problems.add("azimuth", `${this.#spec.name} packet block ${block} has azimuth ${blockRotation / 100}° (beyond 360°): block skipped`);
        continue;
      }
      const azimuth = az[block]!, azimuthDiff = diff[block]!;
      const otherBase = block % 2 ? base - BLOCK_BYTES : base + BLOCK_BYTES;
      for (let j = 0; j < 32; j++) {
        const o = base + 4 + j * 3;
        const cur = p[o]! | (p[o + 1]! << 8);
        const oo = otherBase + 4 + j * 3;
        const other = dual ? p[oo]! | (p[oo + 1]! << 8) : 0;
        if (this.#scanTimestamp < 0) this.#scanTimestamp = packetSeconds;
        if (cur === 0 || (dual && block % 2 && other === cur)) continue;
        const laser = cal.lasers[j]!;
        let distance = fr(cur * res);
        if (distance > 1e-6) distance = fr(distance + laser.distCorrection);
        if (!(distance > minR && distance < maxR)) continue;
        if (!this.#inAngle(blockRotation)) continue;
        const cv = laser.cosVert, sv = laser.sinVert;
        let azf = fr(azimuth + fr(fr(fr(azimuthDiff * VLP32_CHANNEL_DURATION) / VLP32_SEQ_DURATION) * j));
        azf = fr(azf - ((laser.rotCorrection * 180.0) / Math.PI) * 100);
        if (azf < 0) azf = fr(azf + 36000);
        const azc = (Math.round(azf) & 0xffff) % 36000;
        const cr = cos[azc]!, sr = sin[azc]!;
        const ho = laser.horizOffset, vo = laser.vertOffset;
        let xy = fr(fr(distance * cv) - fr(vo * sv));
        let xx = fr(fr(xy * sr) - fr(ho * cr));
        let yy = fr(fr(xy * cr) + fr(ho * sr));
        if (xx < 0) xx = -xx;
        if (yy < 0) yy = -yy;
        let corrX = 0, corrY = 0;
        if (laser.twoPt) {
          const dc = laser.distCorrection;
          corrX = fr(fr(((fr(dc - laser.distCorrectionX) * (xx - 2.4)) / (25.04 - 2.4)) + laser.distCorrectionX) - dc);
          corrY = fr(fr(((fr(dc - laser.distCorrectionY) * (yy - 1.93)) / (25.04 - 1.93)) + laser.distCorrectionY) - dc);
        }
        const dx = fr(distance + corrX);
        xy = fr(fr(dx * cv) - fr(vo * sv));
        const x = fr(fr(xy * sr) - fr(ho * cr));
        const dy = fr(distance + corrY);
        xy = fr(fr(dy * cv) - fr(vo * sv));
        const y = fr(fr(xy * cr) + fr(ho * sr));
        const z = fr(fr(dy * sv) + fr(vo * cv));
        // Intensity: the raw byte plus the focal correction, stored back into a uint8 as nebula does.
        const raw = p[o + 2]!;
        const fd = fr(1 - fr(laser.focalDistance / 13100));
        const focalOffset = fr(fr(256 * fd) * fd);
        const q = fr(1 - fr(cur / 65535));
        const sqr = fr(q * q);
        let intensity = Math.trunc(fr(raw + fr(laser.focalSlope * Math.abs(fr(focalOffset - fr(256 * sqr)))))) & 0xff;
        if (intensity < laser.minIntensity) intensity = laser.minIntensity;
        if (intensity > laser.maxIntensity) intensity = laser.maxIntensity;
        this.#lastBlockTimestamp = packetSeconds;
        // nebula compares the other return's raw intensity with this one's corrected intensity.
        const returnType = this.#returnType(mode, p, cur, other, intensity, oo);
        let ts = packetSeconds - this.#scanTimestamp + this.#timing[block * 32 + j]!;
        if (ts < 0) ts = 0;
        // ROS frame: x = the driver's y, y = −x.
        this.#scan.push(y, -x, z, intensity, returnType, laser.ring, rad[blockRotation]!, laser.vertCorrection, distance, toU32(ts * 1e9));
      }
    }
  }

  /**
   * VLS-128 (nebula vls128_decoder.cpp = the ROS driver's unpack_vls128): blocks name their bank of
   * 32 lasers (0xEEFF, 0xDDFF, 0xCCFF, 0xBBFF); 8 lasers fire together; distance unit 4 mm; in dual
   * mode only the first 8 blocks hold data.
   */
  #unpackVls128(p: Uint8Array, packetSeconds: number, mode: number): void {
    const trig = vlsTrig();
    const L = this.#laserTable();
    const minR = this.#cfg.minRange, maxR = this.#cfg.maxRange;
    const minA = this.#cfg.cloudMinAngle, maxA = this.#cfg.cloudMaxAngle;
    const minA100 = minA * 100, maxA100 = maxA * 100, wraps = minA > maxA, plain = minA < maxA;
    const dual = mode === MODE_DUAL ? 1 : 0;
    const single = mode === MODE_STRONGEST ? ReturnType.STRONGEST : mode === MODE_LAST ? ReturnType.LAST : ReturnType.UNKNOWN;
    const cache = this.#vlsAzimuthCache, timing = this.#timing, scan = this.#scan;
    const groupAz = this.#groupAz, groupNs = this.#groupNs;
    const { az, diff } = this.#blockAzimuths(p, dual, BLOCKS - 4 * dual - 1);
    // The packet's points are written straight into the sweep's storage (layout of PointBuffer.push).
    scan.reserve(BLOCKS * 32);
    const f = scan.f32, u = scan.u32;
    let w = scan.size * 8;
    const first = w;
    for (let block = 0; block < BLOCKS - 4 * dual; block++) {
      const base = block * BLOCK_BYTES;
      const header = p[base]! | (p[base + 1]! << 8);
      const bankOrigin = VLS128_BANKS[header];
      if (bankOrigin === undefined) {
        this.problems.add("bad-block", `${this.#spec.name} packet block ${block} has header 0x${header.toString(16)} (not a bank 0xeeff/0xddff/0xccff/0xbbff): rest of packet skipped`);
        break;
      }
      const azimuth = az[block]!, azimuthDiff = diff[block]!;
      if (azimuth >= 36000) {
        this.problems.add("azimuth", `${this.#spec.name} packet block ${block} has azimuth ${azimuth / 100}° (beyond 360°): block skipped`);
        continue;
      }
      if (!((plain && azimuth >= minA100 && azimuth <= maxA100) || wraps)) continue;
      // nebula sets the sweep's time at the first unit of a block it reads, before any filter.
      if (this.#scanTimestamp < 0) this.#scanTimestamp = packetSeconds;
      const otherBase = block % 2 ? base - BLOCK_BYTES : base + BLOCK_BYTES;
      // Per firing group of this block (laser >> 3; 4 groups of 8 lasers), what nebula computes per
      // point with the same operands: the group's azimuth (float32) and its firing time after the
      // sweep's stamp (ns). Group slot: firing group, plus one after group 8 for the maintenance
      // slot (lasers 64–127).
      const group0 = bankOrigin >> 3, slot0 = Math.floor(block / 4) * 17 + group0 + (bankOrigin >> 6);
      const since = packetSeconds - this.#scanTimestamp;
      for (let g = 0; g < 4; g++) {
        groupAz[g] = fr(azimuth + fr(azimuthDiff * cache[group0 + g]!));
        let ts = since + timing[slot0 + g]!;
        if (ts < 0) ts = 0;
        groupNs[g] = toU32(ts * 1e9);
      }
      for (let j = 0; j < 32; j++) {
        const o = base + 4 + j * 3;
        const cur = p[o]! | (p[o + 1]! << 8);
        if (cur === 0) continue;
        const oo = otherBase + 4 + j * 3;
        const other = dual ? p[oo]! | (p[oo + 1]! << 8) : 0;
        if (dual && block % 2 && other === cur) continue;
        const laser = j + bankOrigin;
        let distance = fr(cur * VLS128_DISTANCE_RESOLUTION);
        if (distance > 1e-6) distance = fr(distance + L.distCorrection[laser]!);
        if (!(distance > minR && distance < maxR)) continue;
        let azf = fr(groupAz[j >> 3]! - L.rotHundredths[laser]!);
        if (azf < 0) azf = fr(azf + 36000.0);
        const azc = (Math.round(azf) & 0xffff) % 36000;
        if (!((azc >= minA100 && azc <= maxA100 && plain) || (wraps && (azc <= maxA100 || azc >= minA100)))) continue;
        const xy = fr(distance * L.cosVert[laser]!);
        const intensity = p[o + 2]!;
        const returnType = dual ? this.#returnType(mode, p, cur, other, intensity, oo) : single;
        const t = azc * 4;
        f[w] = xy * trig[t]!;
        f[w + 1] = -fr(xy * trig[t + 1]!);
        f[w + 2] = distance * L.sinVert[laser]!;
        u[w + 3] = intensity | (returnType << 8) | L.ringWord[laser]!;
        f[w + 4] = trig[t + 2]!;
        f[w + 5] = L.vert[laser]!;
        f[w + 6] = distance;
        u[w + 7] = groupNs[j >> 3]!;
        w += 8;
      }
    }
    scan.size = w >> 3;
    if (w !== first) this.#lastBlockTimestamp = packetSeconds;
  }

  readonly #groupAz = new Float64Array(4);
  readonly #groupNs = new Uint32Array(4);

  #lasers: LaserTable | undefined;
  /** The calibration as flat arrays by laser number (the hot loop reads these, not the objects). */
  #laserTable(): LaserTable {
    if (this.#lasers !== undefined) return this.#lasers;
    const lasers = this.#cfg.calibration.lasers, n = lasers.length;
    const t = { distCorrection: new Float32Array(n), rotHundredths: new Float64Array(n), cosVert: new Float32Array(n), sinVert: new Float32Array(n), vert: new Float32Array(n), ring: new Uint16Array(n), ringWord: new Uint32Array(n) };
    lasers.forEach((l, i) => {
      t.distCorrection[i] = l.distCorrection;
      t.rotHundredths[i] = ((l.rotCorrection * 180.0) / Math.PI) * 100;
      t.cosVert[i] = l.cosVert;
      t.sinVert[i] = l.sinVert;
      t.vert[i] = l.vertCorrection;
      t.ring[i] = l.ring;
      t.ringWord[i] = (l.ring & 0xffff) << 16;
    });
    this.#lasers = t;
    return t;
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
