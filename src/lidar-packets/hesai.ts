/**
 * Hesai Pandar40P, Pandar64 and PandarQT128 (C2X) raw packets into sweeps.
 *
 * Packet layouts and firing times from the Hesai user manuals (Pandar40P §3.1 and Appendix B
 * "absolute time of point cloud data"; Pandar64 §3.1 and Appendix B; PandarQT128 §3.1.2 and
 * Appendix C, firing loops 1/2), and, for everything the manuals leave to the driver, tier4/nebula's
 * nebula_hesai_decoders (hesai_decoder.hpp, hesai_sensor.hpp, pandar_40/64/qt128.hpp,
 * angle_corrector_calibration_based.hpp, nebula_core_decoders/scan_cutter.hpp at 606ac41):
 * angle correction file (CSV: laser id, elevation °, azimuth offset °), float32 arithmetic in the
 * same order and glibc sinf/cosf tables, so that x, y, z equal nebula's exactly; return groups of
 * n_returns blocks, identical returns kept once (the last), returns closer than
 * dual_return_distance_threshold to another of the group dropped (the last kept); per-channel
 * scan cutting at cut_angle (each channel's point joins the sweep on its side of the cut, so a
 * block straddling the cut is split), FoV cloud_min_angle..cloud_max_angle, min/max range.
 *
 * Stamp: header.stamp = the time of the earliest firing in the block group that started the sweep
 * (packet time + the smallest firing offset, nebula's scan_timestamp_ns, kept in ns);
 * time_stamp = ns after it.
 */
import { PacketProblems, PointBuffer, ReturnType, StoragePool, type DecodedCloud } from "./cloud.js";
import { cosf, sinf } from "./libm-f32.js";
import { CorrectionAngles, type HesaiCorrection } from "./hesai-correction.js";
import { LidarConfigError } from "./velodyne.js";

const fr = Math.fround;
const TWO_PI_F = fr(2 * fr(Math.PI));

export interface HesaiCalibration {
  kind?: "csv";
  /** Per channel, float32 degrees as the CSV gives them. */
  elevationDeg: Float32Array;
  azimuthOffsetDeg: Float32Array;
}

/** The angle correction CSV ("Laser id,Elevation,Azimuth"); lines that are not three numbers are skipped, as the driver does. */
export function parseHesaiCalibration(text: string, source: string): HesaiCalibration {
  const rows = new Map<number, [number, number]>();
  for (const line of text.split(/\r?\n/)) {
    const cols = line.split(",").filter((c) => c !== "");
    if (cols.length !== 3) continue;
    const id = Number.parseInt(cols[0]!, 10), el = Number(cols[1]), az = Number(cols[2]);
    if (!Number.isInteger(id) || !Number.isFinite(el) || !Number.isFinite(az) || cols[0]!.trim() === "") continue;
    if (id < 1) throw new LidarConfigError(`${source}: laser id ${id} (ids start at 1)`);
    rows.set(id - 1, [fr(el), fr(az)]);
  }
  const n = rows.size;
  if (n === 0) throw new LidarConfigError(`${source}: no 'laser id,elevation,azimuth' rows (not a Hesai angle correction CSV)`);
  const elevationDeg = new Float32Array(n), azimuthOffsetDeg = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows.get(i);
    if (r === undefined) throw new LidarConfigError(`${source}: laser id ${i + 1} is missing (ids must run 1..${n})`);
    elevationDeg[i] = r[0];
    azimuthOffsetDeg[i] = r[1];
  }
  return { elevationDeg, azimuthOffsetDeg };
}

/** What differs between Hesai models: packet layout, range limits, firing times. */
interface HesaiModelSpec {
  name: HesaiModel;
  channels: number;
  blocks: number;
  /** Bytes nebula's packet struct takes (the packet may be longer: optional fields). */
  packetBytes: number;
  firstBlock: number;
  blockBytes: number;
  /** Offset of the azimuth in a block; units follow it. */
  azimuthAt: number;
  unitBytes: number;
  /** Fixed distance unit (m) or the header byte holding it in mm. */
  disUnit: number | { at: number };
  /** Header bytes that must hold the model's laser and block counts (none for 40P, which has no header). */
  laserNumAt?: number;
  blockNumAt?: number;
  returnModeAt: number;
  timestampAt: number;
  dateTimeAt: number;
  yearOffset: number;
  modeFlagAt?: number;
  /** AT128: azimuth is uint16 + a fine byte, in 1/25600° (nebula FineAzimuthBlock). */
  fineAzimuth?: boolean;
  /** AT128: date as a zero byte and 5 big-endian bytes of seconds since the epoch (nebula SecondsSinceEpoch). */
  epochSeconds?: boolean;
  /** XT32 sends the dual first/last pair last-first (nebula pandar_xt32.hpp flips the types). */
  flipFirstLast?: boolean;
  /** Angle correction: a CSV (per channel elevation/azimuth) or a binary correction file (.dat, AT128). */
  angles: "csv" | "correction";
  minRange: number;
  maxRange: number;
  /** Firing time of (block, channel) relative to the packet time (ns). */
  firingOffsetNs(block: number, channel: number, nReturns: number, modeFlag: number): number;
}

export type HesaiModel = "Pandar40P" | "Pandar64" | "PandarQT128" | "PandarXT32" | "PandarQT64" | "PandarAT128";

const P40_FIRING = [
  -42220, -28470, -16040, -3620, -45490, -31740, -47460, -54670, -20620, -33710, -40910, -8190, -20620, -27160, -50730, -8190, -14740, -36980, -45490, -52700,
  -23890, -31740, -38950, -11470, -18650, -25190, -48760, -6230, -12770, -35010, -21920, -9500, -43520, -29770, -17350, -4920, -42220, -28470, -16040, -3620,
];
const P64_FIRING = [
  -23180, -21876, -20572, -19268, -17964, -16660, -11444, -46796, -7532, -36956, -50732, -54668, -40892, -44828, -31052, -34988, -48764, -52700, -38924, -42860,
  -29084, -33020, -46796, -25148, -36956, -50732, -27116, -40892, -44828, -31052, -34988, -48764, -25148, -38924, -42860, -29084, -33020, -52700, -6228, -54668,
  -15356, -27116, -10140, -23180, -4924, -21876, -14052, -17964, -8836, -19268, -3620, -20572, -12748, -16660, -7532, -11444, -6228, -15356, -10140, -4924,
  -3620, -14052, -8836, -12748,
];
// PandarQT128 manual Appendix C: firing time of each channel in loop 1 and loop 2 (ns).
const QT_LOOP1 = [
  ...new Array<number>(32).fill(0),
  27656, 53000, 2312, 78344, 81512, 5480, 56168, 30824, 33992, 59336, 8648, 84680, 87848, 11816, 62504, 37160, 40328, 65672, 14984, 91016, 94184, 18152, 68840, 43496,
  46664, 72008, 21320, 97352, 100520, 24488, 75176, 49832, 1456, 77488, 26800, 52144, 55312, 29968, 80656, 4624, 7792, 83824, 33136, 58480, 61648, 36304, 86992, 10960,
  14128, 90160, 39472, 64816, 67984, 42640, 93328, 17296, 20464, 96496, 45808, 71152, 74320, 48976, 99664, 23632, 25944, 51288, 600, 76632, 79800, 3768, 54456, 29112,
  32280, 57624, 6936, 82968, 86136, 10104, 60792, 35448, 38616, 63960, 13272, 89304, 92472, 16440, 67128, 41784, 44952, 70296, 19608, 95640, 98808, 22776, 73464, 48120,
];
const QT_LOOP2 = [
  2312, 78344, 27656, 53000, 56168, 30824, 81512, 5480, 8648, 84680, 33992, 59336, 62504, 37160, 87848, 11816, 14984, 91016, 40328, 65672, 68840, 43496, 94184, 18152,
  21320, 97352, 46664, 72008, 75176, 49832, 100520, 24488, ...new Array<number>(32).fill(0),
  600, 76632, 25944, 51288, 54456, 29112, 79800, 3768, 6936, 82968, 32280, 57624, 60792, 35448, 86136, 10104, 13272, 89304, 38616, 63960, 67128, 41784, 92472, 16440,
  19608, 95640, 44952, 70296, 73464, 48120, 98808, 22776, 26800, 52144, 1456, 77488, 80656, 4624, 55312, 29968, 33136, 58480, 7792, 83824, 86992, 10960, 61648, 36304,
  39472, 64816, 14128, 90160, 93328, 17296, 67984, 42640, 45808, 71152, 20464, 96496, 99664, 23632, 74320, 48976,
];

// PandarQT64 manual, firing time of each channel (ns) within a block. nebula's table has 12960 for
// channel 56, a dropped digit: the manual's 129.60 µs keeps the table rising by ~2.06 µs per channel.
const QT64_FIRING = [
  12310, 14370, 16430, 18490, 20540, 22600, 24660, 26710, 29160, 31220, 33280, 35340, 37390, 39450, 41500, 43560, 46610, 48670, 50730, 52780, 54840, 56900,
  58950, 61010, 63450, 65520, 67580, 69630, 71690, 73740, 75800, 77860, 80900, 82970, 85020, 87080, 89140, 91190, 93250, 95300, 97750, 99820, 101870, 103930,
  105980, 108040, 110100, 112150, 115200, 117260, 119320, 121380, 123430, 125490, 127540, 129600, 132050, 134110, 136170, 138220, 140280, 142340, 144390, 146450,
];
// PandarAT128 manual (firing time offsets per channel, ns), as nebula's pandar_at128.hpp.
const AT128_FIRING = [
  0, 0, 8240, 4112, 4144, 8240, 0, 0, 12424, 4144, 4112, 8264, 12376, 12376, 8264, 12424, 0, 0, 4112, 8240, 4144, 0, 0, 4144, 12424, 8264,
  4112, 12376, 12376, 12424, 8264, 848, 2504, 4976, 6616, 6616, 9112, 2504, 848, 10768, 13280, 13280, 4976, 9112, 14928, 14928, 10768, 2504, 848, 6616, 4976, 9112,
  6616, 848, 2504, 13280, 10768, 4976, 13280, 14928, 9112, 10768, 14928, 13280, 848, 9112, 13280, 2504, 4976, 848, 2504, 14928, 10768, 10768, 14928, 4976, 6616, 6616,
  9112, 848, 13280, 13280, 9112, 4976, 2504, 2504, 848, 10768, 14928, 14928, 10768, 6616, 4976, 9112, 6616, 4112, 12424, 0, 4144, 0, 0, 12424, 0, 8264,
  4112, 4144, 8240, 8240, 8264, 12376, 12376, 12424, 4112, 4144, 0, 0, 0, 0, 0, 12424, 8264, 8240, 4144, 8264, 8240, 12376, 12376, 8264,
];

export const HESAI_MODELS: Record<HesaiModel, HesaiModelSpec> = {
  Pandar40P: {
    name: "Pandar40P", channels: 40, blocks: 10, packetBytes: 1262, firstBlock: 0, blockBytes: 124, azimuthAt: 2, unitBytes: 3, disUnit: 0.004,
    returnModeAt: 1254, timestampAt: 1250, dateTimeAt: 1256, yearOffset: 2000, angles: "csv", minRange: fr(0.3), maxRange: 200,
    firingOffsetNs: (block, channel, nReturns) => -28580 - 55560 * Math.trunc((10 - block - 1) / nReturns) + P40_FIRING[channel]!,
  },
  Pandar64: {
    name: "Pandar64", channels: 64, blocks: 6, packetBytes: 1194, firstBlock: 8, blockBytes: 194, azimuthAt: 0, unitBytes: 3, disUnit: { at: 5 },
    laserNumAt: 2, blockNumAt: 3, returnModeAt: 1186, timestampAt: 1182, dateTimeAt: 1188, yearOffset: 2000, angles: "csv", minRange: fr(0.3), maxRange: 200,
    firingOffsetNs: (block, channel, nReturns) => -42580 - 55560 * Math.trunc((6 - block - 1) / nReturns) + P64_FIRING[channel]!,
  },
  PandarQT128: {
    name: "PandarQT128", channels: 128, blocks: 2, packetBytes: 1095, firstBlock: 12, blockBytes: 514, azimuthAt: 0, unitBytes: 4, disUnit: { at: 9 },
    laserNumAt: 6, blockNumAt: 7, returnModeAt: 1073, timestampAt: 1082, dateTimeAt: 1076, yearOffset: 1900, modeFlagAt: 1066, angles: "csv", minRange: fr(0.05), maxRange: 50,
    firingOffsetNs: (block, channel, nReturns, modeFlag) =>
      9000 + Math.trunc((111110 * (2 - block - 1)) / nReturns) + (nReturns === 1 ? (block % 2 === 0 ? QT_LOOP1 : QT_LOOP2) : modeFlag & 1 ? QT_LOOP1 : QT_LOOP2)[channel]!,
  },
  // PandarXT32 manual §3.1 (Header12B, 8 blocks of 32 × 4-byte units, tail) and its firing-time
  // appendix: block offset 5.632 µs − 50 µs per later block group, channel 0.368 µs + 1.512 µs × channel.
  PandarXT32: {
    name: "PandarXT32", channels: 32, blocks: 8, packetBytes: 1080, firstBlock: 12, blockBytes: 130, azimuthAt: 0, unitBytes: 4, disUnit: { at: 9 },
    laserNumAt: 6, blockNumAt: 7, returnModeAt: 1062, timestampAt: 1071, dateTimeAt: 1065, yearOffset: 1900, flipFirstLast: true, angles: "csv", minRange: fr(0.05), maxRange: 120,
    firingOffsetNs: (block, channel, nReturns) => 5632 - 50000 * Math.trunc((8 - block - 1) / nReturns) + 368 + 1512 * channel,
  },
  // PandarQT64 manual §3.1 (Header12B, 4 blocks of 64 × 4-byte units) and its firing-time table:
  // 25.71 µs + 166.67 µs per block group.
  PandarQT64: {
    name: "PandarQT64", channels: 64, blocks: 4, packetBytes: 1072, firstBlock: 12, blockBytes: 258, azimuthAt: 0, unitBytes: 4, disUnit: { at: 9 },
    laserNumAt: 6, blockNumAt: 7, returnModeAt: 1060, timestampAt: 1056, dateTimeAt: 1062, yearOffset: 1900, angles: "csv", minRange: fr(0.1), maxRange: 60,
    firingOffsetNs: (block, channel, nReturns) => 25710 + Math.trunc((500000 * Math.trunc(block / nReturns)) / 3) + QT64_FIRING[channel]!,
  },
  // PandarAT128 (E2X) manual: Header12B, 2 blocks of (azimuth, fine azimuth, 128 × 4-byte units),
  // CRC, tail with seconds since the epoch; angles from the binary correction file with per-frame
  // (mirror) start azimuths. Block offset −9.249 µs − 41.666 µs per later block (single return).
  PandarAT128: {
    name: "PandarAT128", channels: 128, blocks: 2, packetBytes: 1078, firstBlock: 12, blockBytes: 515, azimuthAt: 0, unitBytes: 4, disUnit: { at: 9 },
    laserNumAt: 6, blockNumAt: 7, returnModeAt: 1070, timestampAt: 1066, dateTimeAt: 1072, yearOffset: 0, fineAzimuth: true, epochSeconds: true, angles: "correction",
    minRange: 1, maxRange: 180,
    firingOffsetNs: (block, channel, nReturns) => (nReturns === 1 ? -9249 - 41666 * (2 - block) : -9249 - 41666) + AT128_FIRING[channel]!,
  },
};

/** Returns per block group for each return-mode byte (hesai_packet.hpp). */
const RETURNS: Record<number, number> = { 0x33: 1, 0x34: 1, 0x37: 1, 0x38: 1, 0x39: 2, 0x3a: 2, 0x3b: 2, 0x3c: 2, 0x3e: 2, 0x3d: 3 };
const RETURN_MODE_NAMES: Record<string, number[]> = {
  Dual: [0x39, 0x3a, 0x3b, 0x3c, 0x3e],
  LastStrongest: [0x39],
  Strongest: [0x37],
  Last: [0x38],
  First: [0x33],
  DualFirstLast: [0x3b],
  DualFirstStrongest: [0x3c],
  DualFirstSecond: [0x3a],
};

export interface HesaiConfig {
  model: HesaiModel;
  /** Expected return mode (packets in another mode are counted): Dual, LastStrongest, Strongest, Last, First, … */
  returnMode: string;
  frameId: string;
  /** The angle CSV, or for the AT128 its binary correction file. */
  calibration: HesaiCalibration | HesaiCorrection;
  /** Degrees; defaults as nebula's: cut 0, FoV 0..360, range 0.3..300 (clipped to the model's), threshold 0.1 m. */
  cutAngle?: number;
  cloudMinAngle?: number;
  cloudMaxAngle?: number;
  minRange?: number;
  maxRange?: number;
  dualReturnDistanceThreshold?: number;
}

function angleIsBetween(start: number, end: number, angle: number, startInclusive = true, endInclusive = true): boolean {
  if (start === end && start === angle) return startInclusive || endInclusive;
  if (start === end) return true;
  if (!startInclusive && angle === start) return false;
  if (!endInclusive && angle === end) return false;
  if (end < start) return angle <= end || start <= angle;
  return start <= angle && angle <= end;
}
/** nebula normalize_angle with float32 result. */
function normalizeF(angle: number, max: number): number {
  return fr(angle - Math.floor(angle / max) * max);
}

/** Times as whole seconds + ns (both exact in a double; ns since the epoch would not be). */
interface Frame {
  points: PointBuffer;
  sec: number;
  nsec: number;
}

export class HesaiDecoder {
  readonly problems = new PacketProblems();
  readonly spec: HesaiModelSpec;
  readonly #frameId: string;
  readonly #elevRad: Float32Array;
  readonly #cosEl: Float32Array;
  readonly #sinEl: Float32Array;
  readonly #azOffRad: Float32Array;
  readonly #blockAzRad = new Float32Array(36000);
  /** cos/sin of the spatial azimuth per block azimuth: a row [cos × channels, sin × channels], filled on first use. */
  readonly #trigRows: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(36000);
  #minCorr: number;
  #maxCorr: number;
  /** AT128: angles per encoder azimuth from the correction file, and the row they are written to. */
  readonly #correction: CorrectionAngles | undefined;
  readonly #angleRow: Float32Array;
  /** Views of #angleRow as #convert takes them: [cos, sin, az], cos el, sin el, el. */
  readonly #angleViews: [Float32Array, Float32Array, Float32Array, Float32Array];
  readonly #minRange: number;
  readonly #maxRange: number;
  readonly #threshold: number;
  readonly #allowedModes: Set<number>;
  readonly #returnMode: string;
  // scan cutter (nebula ScanCutter with FsmCutInFov / FsmCutAtFovEnd)
  readonly #cut: number;
  readonly #fovStart: number;
  readonly #fovEnd: number;
  #initialized = false;
  #currentBuffer = 0;
  readonly #lastAz: Float32Array;
  readonly #inFov: Uint8Array;
  readonly #bufferOf: Uint8Array;
  #bufferState = 0; // 0 or 1 = all in that buffer, 2 = different
  #fovState = 0; // 0 = all out, 1 = all in, 2 = different
  /** Sweep storage handed back by the consumer (recycle()), shared by the two sweeps in progress. */
  readonly storage = new StoragePool();
  readonly #frames: [Frame, Frame] = [{ points: new PointBuffer(65536, this.storage), sec: 0, nsec: 0 }, { points: new PointBuffer(65536, this.storage), sec: 0, nsec: 0 }];
  readonly #az: Float32Array;
  #completed: DecodedCloud[] = [];
  /** Firing offsets (ns) by [block * channels + channel], per (returns, mode-flag bit 0). */
  readonly #offsets = new Map<number, Int32Array>();
  readonly #dist = new Float64Array(3);
  readonly #raw = new Uint16Array(3);
  readonly #refl = [0, 0, 0];
  #lastSec = -Infinity;
  #lastNsec = 0;
  #packetSec = 0;
  #packetNsec = 0;

  constructor(config: HesaiConfig) {
    const spec = HESAI_MODELS[config.model];
    if (spec === undefined) throw new LidarConfigError(`unknown Hesai model '${String(config.model)}' (supported: ${Object.keys(HESAI_MODELS).join(", ")})`);
    this.spec = spec;
    const n = spec.channels;
    const cal = config.calibration;
    if (cal.kind === "correction") {
      if (spec.angles !== "correction") throw new LidarConfigError(`a ${spec.name} takes an angle correction CSV, not a binary correction file (calibration for another model?)`);
      if (cal.channels !== n) throw new LidarConfigError(`correction file has ${cal.channels} channels but a ${spec.name} has ${n} (calibration for another model?)`);
    } else {
      if (spec.angles === "correction") throw new LidarConfigError(`a ${spec.name} needs its binary angle correction file (.dat), not an angle CSV`);
      if (cal.elevationDeg.length !== n) throw new LidarConfigError(`calibration has ${cal.elevationDeg.length} lasers but a ${spec.name} has ${n} (calibration for another model?)`);
    }
    this.#correction = cal.kind === "correction" ? new CorrectionAngles(cal) : undefined;
    this.#angleRow = new Float32Array(6 * n);
    const r = this.#angleRow;
    this.#angleViews = [r.subarray(0, 3 * n), r.subarray(3 * n, 4 * n), r.subarray(4 * n, 5 * n), r.subarray(5 * n)];
    const modes = RETURN_MODE_NAMES[config.returnMode];
    if (modes === undefined) throw new LidarConfigError(`unknown return mode '${config.returnMode}' (known: ${Object.keys(RETURN_MODE_NAMES).join(", ")})`);
    this.#allowedModes = new Set(modes);
    this.#returnMode = config.returnMode;
    this.#frameId = config.frameId;
    this.#minRange = config.minRange ?? 0.3;
    this.#maxRange = config.maxRange ?? 300;
    this.#threshold = config.dualReturnDistanceThreshold ?? 0.1;
    const deg2radF = fr(Math.PI / 180.0);
    this.#elevRad = new Float32Array(n);
    this.#azOffRad = new Float32Array(n);
    this.#cosEl = new Float32Array(n);
    this.#sinEl = new Float32Array(n);
    if (cal.kind !== "correction") {
      for (let c = 0; c < n; c++) {
        this.#elevRad[c] = fr(cal.elevationDeg[c]! * deg2radF);
        this.#azOffRad[c] = fr(cal.azimuthOffsetDeg[c]! * deg2radF);
        this.#cosEl[c] = cosf(this.#elevRad[c]!);
        this.#sinEl[c] = sinf(this.#elevRad[c]!);
      }
    }
    for (let a = 0; a < 36000; a++) this.#blockAzRad[a] = (a / 100) * (Math.PI / 180.0);
    let minI = 0, maxI = 0;
    for (let c = 1; c < n; c++) {
      if (this.#azOffRad[c]! < this.#azOffRad[minI]!) minI = c;
      if (this.#azOffRad[c]! > this.#azOffRad[maxI]!) maxI = c;
    }
    this.#minCorr = minI;
    this.#maxCorr = maxI;
    const rad = (deg: number): number => fr(deg * (Math.PI / 180.0));
    this.#cut = normalizeF(rad(config.cutAngle ?? 0), TWO_PI_F);
    this.#fovStart = normalizeF(rad(config.cloudMinAngle ?? 0), TWO_PI_F);
    this.#fovEnd = normalizeF(rad(config.cloudMaxAngle ?? 360), TWO_PI_F);
    const has360 = this.#fovStart === this.#fovEnd;
    if (!has360 && !angleIsBetween(this.#fovStart, this.#fovEnd, this.#cut)) throw new LidarConfigError(`cut_angle ${config.cutAngle ?? 0}° is outside the FoV ${config.cloudMinAngle ?? 0}°..${config.cloudMaxAngle ?? 360}°`);
    if (!has360 && this.#cut === this.#fovStart) throw new LidarConfigError(`cut_angle ${config.cutAngle ?? 0}° cannot be the FoV start`);
    this.#lastAz = new Float32Array(n);
    this.#inFov = new Uint8Array(n);
    this.#bufferOf = new Uint8Array(n);
    // AT128: the azimuth part of the angle row, which CorrectionAngles.azimuths() fills in place.
    this.#az = this.#correction !== undefined ? r.subarray(2 * n, 3 * n) : new Float32Array(n);
  }

  /** Row for a block azimuth: [cos × n, sin × n, normalized spatial azimuth × n], filled on first use. */
  #trigRow(azimuth: number): Float32Array {
    let row = this.#trigRows[azimuth];
    if (row === undefined) {
      const n = this.spec.channels;
      row = new Float32Array(3 * n);
      for (let c = 0; c < n; c++) {
        // nebula's table: float32 sum of block azimuth and offset, then glibc cosf/sinf.
        const spatial = fr(this.#blockAzRad[azimuth]! + this.#azOffRad[c]!);
        row[c] = cosf(spatial);
        row[n + c] = sinf(spatial);
        row[2 * n + c] = normalizeF(spatial, TWO_PI_F);
      }
      this.#trigRows[azimuth] = row;
    }
    return row;
  }

  /** Decodes one packet (`size` bytes valid); returns the sweeps it completes (usually none or one). */
  decode(p: Uint8Array): DecodedCloud[] {
    const spec = this.spec;
    if (p.length < spec.packetBytes) {
      this.problems.add("truncated", `${spec.name} packet of ${p.length} bytes (at least ${spec.packetBytes} expected): skipped`);
      return [];
    }
    if (spec.laserNumAt !== undefined && (p[spec.laserNumAt] !== spec.channels || p[spec.blockNumAt!] !== spec.blocks)) {
      this.problems.add("model", `packet header says ${p[spec.laserNumAt]} lasers × ${p[spec.blockNumAt!]} blocks, a ${spec.name} sends ${spec.channels} × ${spec.blocks} (packets of another model?): skipped`);
      return [];
    }
    if (spec.firstBlock === 0 && (p[0] !== 0xff || p[1] !== 0xee)) {
      this.problems.add("model", `${spec.name} packet does not start with a 0xFFEE block (packets of another model?): skipped`);
      return [];
    }
    const mode = p[spec.returnModeAt]!;
    const nReturns = RETURNS[mode];
    if (nReturns === undefined) {
      this.problems.add("return-mode", `${spec.name} packet with unknown return mode 0x${mode.toString(16)}: skipped`);
      return [];
    }
    if (!this.#allowedModes.has(mode)) {
      this.problems.add("return-mode-mismatch", `${spec.name} packet in return mode 0x${mode.toString(16)}, configured ${this.#returnMode}: decoded as the packet says`);
    }
    for (let b = 0; b < spec.blocks; b++) {
      const az = this.#rawAzimuth(p, b);
      if (az >= (spec.fineAzimuth ? 360 * 25600 : 36000)) {
        this.problems.add("azimuth", `${spec.name} packet block ${b} has azimuth ${spec.fineAzimuth ? az / 25600 : az / 100}° (beyond 360°): packet skipped`);
        return [];
      }
    }
    const dt = spec.dateTimeAt;
    const seconds = spec.epochSeconds
      ? p[dt + 1]! * 2 ** 32 + (((p[dt + 2]! << 24) | (p[dt + 3]! << 16) | (p[dt + 4]! << 8) | p[dt + 5]!) >>> 0)
      : Date.UTC(p[dt]! + spec.yearOffset, p[dt + 1]! - 1, p[dt + 2]!, p[dt + 3]!, p[dt + 4]!, p[dt + 5]!) / 1000;
    const ta = spec.timestampAt;
    const nsec = ((p[ta]! | (p[ta + 1]! << 8) | (p[ta + 2]! << 16) | (p[ta + 3]! << 24)) >>> 0) * 1000;
    if (seconds < this.#lastSec || (seconds === this.#lastSec && nsec < this.#lastNsec)) {
      const ns = (sec: number, n: number): string => (BigInt(sec) * 1_000_000_000n + BigInt(n)).toString();
      this.problems.add("out-of-order", `${spec.name} packet time ${ns(seconds, nsec)} ns is before the previous packet's ${ns(this.#lastSec, this.#lastNsec)} ns (out of order): decoded where it arrived`);
    }
    this.#lastSec = seconds;
    this.#lastNsec = nsec;
    this.#packetSec = seconds;
    this.#packetNsec = nsec;
    const disUnit = typeof spec.disUnit === "number" ? spec.disUnit : p[spec.disUnit.at]! / 1000;
    const modeFlag = spec.modeFlagAt !== undefined ? p[spec.modeFlagAt]! : 0;
    this.#completed = [];
    const n = spec.channels;
    for (let block = 0; block < spec.blocks; block += nReturns) {
      const blockAz = this.#rawAzimuth(p, block);
      if (this.#correction !== undefined) {
        // AT128: each channel's azimuth from the correction file's frame (mirror face) for this encoder angle.
        // The azimuths land in #az (a view of the row); cos/sin and elevations only for a block with points in view.
        const row = this.#angleRow, corr = this.#correction;
        if (!corr.azimuths(blockAz, row)) {
          this.problems.add("azimuth", `${spec.name} block at encoder azimuth ${(blockAz / 25600).toFixed(3)}° lies in no frame of the correction file (correction for another unit?): block skipped`);
          continue;
        }
        this.#minCorr = corr.minChannel;
        this.#maxCorr = corr.maxChannel;
        this.#step(block, nReturns, modeFlag);
        if (this.#fovState !== 0) {
          corr.trig(row);
          corr.elevations(blockAz, row);
          const [trig, cosEl, sinEl, el] = this.#angleViews;
          this.#convert(p, block, nReturns, trig, cosEl, sinEl, el, disUnit, modeFlag);
        }
        continue;
      }
      const base = this.#blockAzRad[blockAz]!;
      for (let c = 0; c < n; c++) this.#az[c] = normalizeF(fr(base + this.#azOffRad[c]!), TWO_PI_F);
      this.#step(block, nReturns, modeFlag);
      if (this.#fovState !== 0) this.#convert(p, block, nReturns, this.#trigRow(blockAz), this.#cosEl, this.#sinEl, this.#elevRad, disUnit, modeFlag);
    }
    return this.#completed;
  }

  /** A block's encoder azimuth: 0.01° units, or 1/25600° (azimuth × 256 + fine byte) on the AT128. */
  #rawAzimuth(p: Uint8Array, block: number): number {
    const at = this.spec.firstBlock + block * this.spec.blockBytes + this.spec.azimuthAt;
    // Little-endian uint16 read from the bytes: no DataView per packet.
    const coarse = p[at]! | (p[at + 1]! << 8);
    return this.spec.fineAzimuth ? coarse * 256 + p[at + 2]! : coarse;
  }

  #offsetTable(nReturns: number, modeFlag: number): Int32Array {
    const key = nReturns * 2 + (modeFlag & 1);
    let t = this.#offsets.get(key);
    if (t === undefined) {
      const { blocks, channels } = this.spec;
      t = new Int32Array(blocks * channels);
      for (let b = 0; b < blocks; b++) for (let c = 0; c < channels; c++) t[b * channels + c] = this.spec.firingOffsetNs(b, c, nReturns, modeFlag);
      this.#offsets.set(key, t);
    }
    return t;
  }

  #earliestOffset(start: number, nReturns: number, modeFlag: number): number {
    const t = this.#offsetTable(nReturns, modeFlag), n = this.spec.channels;
    let min = 0x7fffffff;
    for (let i = start * n; i < (start + nReturns) * n && i < t.length; i++) min = Math.min(min, t[i]!);
    return min;
  }

  #setTimestamp(buffer: number, block: number, nReturns: number, modeFlag: number): void {
    const f = this.#frames[buffer]!;
    f.sec = this.#packetSec;
    f.nsec = this.#packetNsec + this.#earliestOffset(block, nReturns, modeFlag);
  }

  #emit(buffer: number): void {
    const f = this.#frames[buffer]!;
    this.#completed.push({ stampNs: BigInt(f.sec) * 1_000_000_000n + BigInt(f.nsec), frameId: this.#frameId, points: f.points.size, data: f.points.bytes() });
    f.points.clear();
  }

  #insideFov(a: number): boolean {
    return this.#fovStart === this.#fovEnd || angleIsBetween(this.#fovStart, this.#fovEnd, a);
  }

  #afterCut(a: number): boolean {
    return angleIsBetween(this.#cut, normalizeF(this.#cut + TWO_PI_F / 2, TWO_PI_F), a, false, true);
  }

  #step(block: number, nReturns: number, modeFlag: number): void {
    const az = this.#az, n = this.spec.channels;
    const minAz = az[this.#minCorr]!, maxAz = az[this.#maxCorr]!;
    if (!this.#initialized) {
      this.#initialized = true;
      this.#currentBuffer = 0;
      this.#lastAz.set(az);
      for (let c = 0; c < n; c++) this.#inFov[c] = this.#insideFov(az[c]!) ? 1 : 0;
      const regionStart = normalizeF(this.#cut - TWO_PI_F / 4, TWO_PI_F), regionEnd = normalizeF(this.#cut + TWO_PI_F / 4, TWO_PI_F);
      let intersectsCut = false;
      if (angleIsBetween(regionStart, regionEnd, minAz) && angleIsBetween(regionStart, regionEnd, maxAz)) {
        const beyond = (this.#afterCut(minAz) ? 1 : 0) + (this.#afterCut(maxAz) ? 1 : 0);
        intersectsCut = beyond === 1;
      }
      if (!intersectsCut) {
        this.#bufferOf.fill(0);
        if (this.#insideFov(minAz) || this.#insideFov(maxAz)) this.#setTimestamp(0, block, nReturns, modeFlag);
      } else {
        let fov0 = false, fov1 = false;
        for (let c = 0; c < n; c++) {
          this.#bufferOf[c] = this.#afterCut(az[c]!) ? 1 : 0;
          if (this.#inFov[c]) {
            if (this.#bufferOf[c] === 0) fov0 = true;
            else fov1 = true;
          }
        }
        if (fov0) this.#setTimestamp(0, block, nReturns, modeFlag);
        if (fov1) this.#setTimestamp(1, block, nReturns, modeFlag);
      }
      const b0 = this.#bufferOf[0]!;
      this.#bufferState = this.#bufferOf.every((b) => b === b0) ? b0 : 2;
      const f0 = this.#inFov[0]!;
      this.#fovState = this.#inFov.every((f) => f === f0) ? f0 : 2;
      return;
    }
    const fovStart = this.#fovStart, fovEnd = this.#fovEnd, cut = this.#cut;
    const has360 = fovStart === fovEnd;
    const cutsAtFovEnd = cut === fovEnd && !has360;
    const bufferBefore = this.#bufferState, fovBefore = this.#fovState;
    const inFov = this.#inFov, lastAz = this.#lastAz, bufferOf = this.#bufferOf;
    if (has360) inFov.fill(1);
    // angleIsBetween inlined for the two tests per channel (same comparisons, same order of cases).
    const fovWraps = fovEnd < fovStart;
    for (let c = 0; c < n; c++) {
      const a = az[c]!;
      // insideFov: fovStart..fovEnd, both ends included (start ≠ end here).
      if (!has360) inFov[c] = (fovWraps ? a <= fovEnd || fovStart <= a : fovStart <= a && a <= fovEnd) ? 1 : 0;
      // Crossed the cut: last <= cut < current (the cut itself belongs to the previous sweep);
      // angleIsBetween(last, a, cut, true, false), which holds whenever last === a.
      const l = lastAz[c]!;
      if (l === a || (a !== cut && (a < l ? cut <= a || l <= cut : l <= cut && cut <= a))) bufferOf[c] ^= 1;
      lastAz[c] = a;
    }
    const bMin = this.#bufferOf[this.#minCorr]!, bMax = this.#bufferOf[this.#maxCorr]!;
    this.#bufferState = bMin === bMax ? bMin : 2;
    const fMin = this.#inFov[this.#minCorr]!, fMax = this.#inFov[this.#maxCorr]!;
    this.#fovState = fMin === fMax ? fMin : 2;
    const actions = cutsAtFovEnd
      ? fsmCutAtFovEnd(stateAtFovEnd(bufferBefore, fovBefore, this.#currentBuffer), stateAtFovEnd(this.#bufferState, this.#fovState, this.#currentBuffer))
      : fsmCutInFov(stateInFov(bufferBefore, this.#currentBuffer), stateInFov(this.#bufferState, this.#currentBuffer));
    if (actions === "invalid") {
      this.problems.add("cut", `${this.spec.name}: the sweep cut went backwards (packets out of order or azimuth jumping): cut state reset`);
      this.#initialized = false;
      return;
    }
    if (actions.ts !== undefined) this.#setTimestamp(actions.ts, block, nReturns, modeFlag);
    if (actions.emit !== undefined) {
      this.#emit(actions.emit);
      this.#currentBuffer = (this.#currentBuffer + 1) % 2;
    }
  }

  /** Points of one block group; `trig` = [cos az × n, sin az × n, az × n], elevation per channel. */
  #convert(p: Uint8Array, start: number, nReturns: number, trig: Float32Array, cosEl: Float32Array, sinEl: Float32Array, elevRad: Float32Array, disUnit: number, modeFlag: number): void {
    const spec = this.spec;
    const minR = this.#minRange, maxR = this.#maxRange, thr = this.#threshold;
    const specMin = spec.minRange, specMax = spec.maxRange, unitBytes = spec.unitBytes, blockBytes = spec.blockBytes;
    const units = spec.firstBlock + start * blockBytes + spec.azimuthAt + (spec.fineAzimuth ? 3 : 2);
    const dist = this.#dist, raw = this.#raw, refl = this.#refl;
    const mode = p[spec.returnModeAt]!;
    const offsets = this.#offsetTable(nReturns, modeFlag), nch = spec.channels;
    const frames = this.#frames, inFov = this.#inFov, bufferOf = this.#bufferOf;
    // Packet time after each sweep's stamp (ns), once per block group rather than per point.
    const ps = this.#packetSec, pn = this.#packetNsec;
    const since0 = (ps - frames[0].sec) * 1e9 + (pn - frames[0].nsec), since1 = (ps - frames[1].sec) * 1e9 + (pn - frames[1].nsec);
    const last = nReturns - 1;
    const flip = spec.flipFirstLast === true && mode === 0x3b;
    if (nReturns <= 2) {
      // Single and dual return write their points straight into the sweeps' storage (the layout of
      // PointBuffer.push), with room made beforehand in both sweeps (the buffer state only looks at
      // two channels; every channel picks its own sweep).
      const pb0 = frames[0].points, pb1 = frames[1].points;
      pb0.reserve(nch * nReturns);
      pb1.reserve(nch * nReturns);
      const f0 = pb0.f32, u0 = pb0.u32, f1 = pb1.f32, u1 = pb1.u32;
      let w0 = pb0.size * 8, w1 = pb1.size * 8;
      if (nReturns === 1) {
        // Single return: no duplicates, no threshold; one return type for the whole packet.
        refl[0] = 0;
        const typeWord = flipFirstLast(returnType(mode, 0, refl, 1), flip) << 8;
        const offset0 = start * nch;
        for (let c = 0; c < nch; c++) {
          if (!inFov[c]) continue;
          const a = units + c * unitBytes;
          const raw0 = p[a]! | (p[a + 1]! << 8);
          if (raw0 === 0) continue;
          const d0 = fr(raw0 * disUnit);
          if (d0 < specMin || specMax < d0 || d0 < minR || maxR < d0) continue;
          const second = bufferOf[c] !== 0;
          const f = second ? f1 : f0, u = second ? u1 : u0, w = second ? w1 : w0;
          const xy = fr(d0 * cosEl[c]!);
          f[w] = xy * trig[nch + c]!;
          f[w + 1] = xy * trig[c]!;
          f[w + 2] = d0 * sinEl[c]!;
          u[w + 3] = p[a + 2]! | typeWord | (c << 16);
          f[w + 4] = trig[2 * nch + c]!;
          f[w + 5] = elevRad[c]!;
          f[w + 6] = d0;
          u[w + 7] = (second ? since1 : since0) + offsets[offset0 + c]!;
          if (second) w1 += 8;
          else w0 += 8;
        }
      } else {
        // The common dual-return case with the group in scalars (same rules as the general loop below).
        const o0 = units, o1 = units + blockBytes;
        for (let c = 0; c < nch; c++) {
          if (!inFov[c]) continue;
          const a = o0 + c * unitBytes, b = o1 + c * unitBytes;
          const raw0 = p[a]! | (p[a + 1]! << 8), raw1 = p[b]! | (p[b + 1]! << 8);
          const refl0 = p[a + 2]!, refl1 = p[b + 2]!;
          const d0 = fr(raw0 * disUnit), d1 = fr(raw1 * disUnit);
          const identical = raw0 === raw1 && refl0 === refl1;
          const second = bufferOf[c] !== 0;
          const since = second ? since1 : since0;
          const f = second ? f1 : f0, u = second ? u1 : u0;
          let w = second ? w1 : w0;
          // Return 0 (kept unless a duplicate of, or within the threshold of, return 1).
          if (raw0 !== 0 && !(d0 < specMin || specMax < d0 || d0 < minR || maxR < d0) && !identical && !(Math.abs(fr(d1 - d0)) < thr)) {
            const xy = fr(d0 * cosEl[c]!);
            refl[0] = refl0;
            refl[1] = refl1;
            f[w] = xy * trig[nch + c]!;
            f[w + 1] = xy * trig[c]!;
            f[w + 2] = d0 * sinEl[c]!;
            u[w + 3] = refl0 | (flipFirstLast(returnType(mode, 0, refl, 2), flip) << 8) | (c << 16);
            f[w + 4] = trig[2 * nch + c]!;
            f[w + 5] = elevRad[c]!;
            f[w + 6] = d0;
            u[w + 7] = since + offsets[start * nch + c]!;
            w += 8;
          }
          if (raw1 !== 0 && !(d1 < specMin || specMax < d1 || d1 < minR || maxR < d1)) {
            const xy = fr(d1 * cosEl[c]!);
            refl[0] = refl0;
            refl[1] = refl1;
            f[w] = xy * trig[nch + c]!;
            f[w + 1] = xy * trig[c]!;
            f[w + 2] = d1 * sinEl[c]!;
            u[w + 3] = refl1 | ((identical ? ReturnType.IDENTICAL : flipFirstLast(returnType(mode, 1, refl, 2), flip)) << 8) | (c << 16);
            f[w + 4] = trig[2 * nch + c]!;
            f[w + 5] = elevRad[c]!;
            f[w + 6] = d1;
            u[w + 7] = since + offsets[(start + 1) * nch + c]!;
            w += 8;
          }
          if (second) w1 = w;
          else w0 = w;
        }
      }
      pb0.size = w0 >> 3;
      pb1.size = w1 >> 3;
      return;
    }
    for (let c = 0; c < nch; c++) {
      if (!inFov[c]) continue;
      for (let r = 0; r < nReturns; r++) {
        const o = units + r * blockBytes + c * unitBytes;
        raw[r] = p[o]! | (p[o + 1]! << 8);
        refl[r] = p[o + 2]!;
        dist[r] = fr(raw[r]! * disUnit);
      }
      for (let r = 0; r < nReturns; r++) {
        const distance = dist[r]!;
        if (raw[r] === 0) continue;
        if (distance < specMin || specMax < distance || distance < minR || maxR < distance) continue;
        let identical = false;
        if (last > 0) {
          for (let q = 0; q < nReturns; q++) if (q !== r && raw[q] === raw[r] && refl[q] === refl[r]) identical = true;
          if (r !== last) {
            if (identical) continue;
            let close = false;
            for (let q = 0; q < nReturns; q++) if (q !== r && Math.abs(fr(dist[q]! - distance)) < thr) close = true;
            if (close) continue;
          }
        }
        const buffer = bufferOf[c]!;
        const xy = fr(distance * cosEl[c]!);
        const x = fr(xy * trig[nch + c]!);
        const y = fr(xy * trig[c]!);
        const z = fr(distance * sinEl[c]!);
        const timeNs = ((buffer === 0 ? since0 : since1) + offsets[(start + r) * nch + c]!) >>> 0;
        frames[buffer]!.points.push(x, y, z, refl[r]!, identical ? ReturnType.IDENTICAL : flipFirstLast(returnType(mode, r, refl, nReturns), flip), c, trig[2 * nch + c]!, elevRad[c]!, distance, timeNs);
      }
    }
  }
}

/** XT32's dual first/last blocks come last-first: nebula swaps the two types. */
function flipFirstLast(type: number, flip: boolean): number {
  if (!flip) return type;
  return type === ReturnType.FIRST ? ReturnType.LAST : type === ReturnType.LAST ? ReturnType.FIRST : type;
}

function returnType(mode: number, r: number, refl: number[], n: number): number {
  let strongest = true;
  for (let i = 0; i < n; i++) if (i !== r && refl[r]! < refl[i]!) strongest = false;
  switch (mode) {
    case 0x33: return ReturnType.FIRST;
    case 0x34: return ReturnType.SECOND;
    case 0x37: return ReturnType.STRONGEST;
    case 0x38: return ReturnType.LAST;
    case 0x39: return strongest ? (r === 0 ? ReturnType.LAST_STRONGEST : ReturnType.STRONGEST) : r === 0 ? ReturnType.LAST : ReturnType.SECONDSTRONGEST;
    case 0x3a: return r === 0 ? ReturnType.FIRST : ReturnType.SECOND;
    case 0x3b: return r === 0 ? ReturnType.FIRST : ReturnType.LAST;
    case 0x3c: return strongest ? (r === 0 ? ReturnType.FIRST_STRONGEST : ReturnType.STRONGEST) : r === 0 ? ReturnType.FIRST : ReturnType.SECONDSTRONGEST;
    case 0x3e: return r === 0 ? ReturnType.STRONGEST : ReturnType.SECONDSTRONGEST;
    case 0x3d: return r === 0 ? ReturnType.FIRST : r === 1 ? ReturnType.LAST : ReturnType.STRONGEST;
    default: return ReturnType.UNKNOWN;
  }
}

// ---- scan-cut state machines (nebula scan_cutter/fsm_cut_in_fov.hpp, fsm_cut_at_fov_end.hpp) ----
type Actions = { ts?: number; emit?: number } | "invalid";
// Shared, never mutated: no object per block.
const NONE: Actions = {};
const TS1: Actions = { ts: 1 };
const TS1_EMIT0: Actions = { ts: 1, emit: 0 };
const EMIT0: Actions = { emit: 0 };
const TS0: Actions = { ts: 0 };
const TS0_EMIT1: Actions = { ts: 0, emit: 1 };
const EMIT1: Actions = { emit: 1 };

/** In-FoV cut: F0 = 0, C0_1 = 1, F1 = 2, C1_0 = 3. */
function stateInFov(buffer: number, current: number): number {
  if (buffer !== 2) return buffer === 0 ? 0 : 2;
  return current === 0 ? 1 : 3;
}
function fsmCutInFov(before: number, after: number): Actions {
  if (before === after) return NONE;
  switch (before) {
    case 0: return after === 1 ? TS1 : after === 2 ? TS1_EMIT0 : NONE;
    case 1: return after === 2 ? EMIT0 : after === 3 ? "invalid" : NONE;
    case 2: return after === 3 ? TS0 : after === 0 ? TS0_EMIT1 : NONE;
    default: return after === 0 ? EMIT1 : after === 1 ? "invalid" : NONE;
  }
}
/** Cut at the FoV end: O0 = 0, F0 = 1, C0_1 = 2, O1 = 3, F1 = 4, C1_0 = 5. */
function stateAtFovEnd(buffer: number, fov: number, current: number): number {
  if (buffer === 2) return current === 0 ? 2 : 5;
  const any = fov !== 0;
  return buffer === 0 ? (any ? 1 : 0) : any ? 4 : 3;
}
function fsmCutAtFovEnd(before: number, after: number): Actions {
  if (before === after) return NONE;
  switch (before) {
    case 0: return after === 1 || after === 2 ? TS0 : after === 3 ? TS1_EMIT0 : NONE;
    case 1: return after === 3 ? EMIT0 : after === 4 ? TS1_EMIT0 : NONE;
    case 2: return after === 3 ? EMIT0 : after === 4 ? TS1_EMIT0 : after === 5 ? "invalid" : NONE;
    case 3: return after === 4 || after === 5 ? TS1 : after === 0 ? TS0_EMIT1 : NONE;
    case 4: return after === 0 ? EMIT1 : after === 1 ? TS0_EMIT1 : NONE;
    default: return after === 0 ? EMIT1 : after === 1 ? TS0_EMIT1 : after === 2 ? "invalid" : NONE;
  }
}
