/**
 * Ouster OS sensors (FW 2.x), lidar packets of the RNG15_RFL8_NIR8 ("low data rate") profile into
 * sweeps, with geometry from the sensor metadata JSON.
 *
 * Follows the Ouster Sensor Data documentation (FW 2.3: "Lidar data packet format", packet header
 * 32 B, per column a 12 B header — timestamp u64 ns, measurement id u16, status u16 with bit 0 =
 * valid — then 4 B per pixel, packet footer 32 B; the RNG15_RFL8_NIR8 pixel: range 15 bits in
 * units of 8 mm, reflectivity u8, near-IR u8) and ouster-sdk (packet_format.cpp field table,
 * lidar_scan.cpp make_xyz_lut: encoder angle 2π·(1 − m/w), beam azimuth and altitude from
 * beam_intrinsics, beam-origin offset from beam_to_lidar_transform, then lidar_to_sensor_transform;
 * xyz = direction · range + offset, in metres).
 *
 * A sweep is one frame (the packet header's frame_id), emitted when the last column of the column
 * window arrives (or when the frame id changes, for a frame that lost its end). Points with range 0
 * (no return) are left out. Frame: the sensor frame (`os_sensor`, lidar_to_sensor applied), as
 * ouster-ros publishes. Stamp: the first valid column's timestamp (the sensor's clock, as
 * ouster-ros with timestamp_mode TIME_FROM_INTERNAL_OSC/PTP); time_stamp = ns after it.
 * `channel` is the beam index (0 = the highest beam, Ouster's order).
 */
import { PacketProblems, PointBuffer, ReturnType, StoragePool, type DecodedCloud } from "./cloud.js";
import { LidarConfigError } from "./velodyne.js";

export interface OusterMetadata {
  prodLine: string;
  initId: number;
  profile: string;
  columnsPerFrame: number;
  columnsPerPacket: number;
  pixelsPerColumn: number;
  columnWindow: [number, number];
  altitudeDeg: number[];
  azimuthDeg: number[];
  beamToLidar: number[];
  lidarToSensor: number[];
}

function field<T>(obj: unknown, path: string[], source: string, check: (v: unknown) => v is T): T {
  let v: unknown = obj;
  for (const k of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  if (!check(v)) throw new LidarConfigError(`${source}: ${path.join(".")} is missing or malformed (not an Ouster sensor metadata JSON?)`);
  return v;
}
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNums = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);

/** The sensor metadata JSON (FW 2.x layout, as ouster-ros stores it on ~/metadata). */
export function parseOusterMetadata(text: string, source: string): OusterMetadata {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new LidarConfigError(`${source}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const m: OusterMetadata = {
    prodLine: field(doc, ["sensor_info", "prod_line"], source, isStr),
    initId: field(doc, ["sensor_info", "initialization_id"], source, isNum),
    profile: field(doc, ["lidar_data_format", "udp_profile_lidar"], source, isStr),
    columnsPerFrame: field(doc, ["lidar_data_format", "columns_per_frame"], source, isNum),
    columnsPerPacket: field(doc, ["lidar_data_format", "columns_per_packet"], source, isNum),
    pixelsPerColumn: field(doc, ["lidar_data_format", "pixels_per_column"], source, isNum),
    columnWindow: field(doc, ["lidar_data_format", "column_window"], source, isNums) as [number, number],
    altitudeDeg: field(doc, ["beam_intrinsics", "beam_altitude_angles"], source, isNums),
    azimuthDeg: field(doc, ["beam_intrinsics", "beam_azimuth_angles"], source, isNums),
    beamToLidar: field(doc, ["beam_intrinsics", "beam_to_lidar_transform"], source, isNums),
    lidarToSensor: field(doc, ["lidar_intrinsics", "lidar_to_sensor_transform"], source, isNums),
  };
  const h = m.pixelsPerColumn;
  if (m.altitudeDeg.length !== h || m.azimuthDeg.length !== h) throw new LidarConfigError(`${source}: ${m.altitudeDeg.length} beam angles for ${h} pixels per column`);
  if (m.beamToLidar.length !== 16 || m.lidarToSensor.length !== 16) throw new LidarConfigError(`${source}: transforms must be 4×4 (16 numbers)`);
  if (m.profile !== "RNG15_RFL8_NIR8") throw new LidarConfigError(`${source}: lidar profile ${m.profile} (supported: RNG15_RFL8_NIR8)`);
  return m;
}

const HEADER = 32;
const FOOTER = 32;
const COLUMN_HEADER = 12;
const PIXEL = 4;

export class OusterDecoder {
  readonly problems = new PacketProblems();
  readonly #m: OusterMetadata;
  readonly #frameId: string;
  readonly #packetBytes: number;
  /** Per (column, beam): direction (3) and offset (3), metres per mm of range and metres. */
  readonly #dir: Float64Array;
  readonly #off: Float64Array;
  readonly #azimuth: Float32Array;
  readonly #elevation: Float32Array;
  /** Sweep storage handed back by the consumer (recycle()). */
  readonly storage = new StoragePool();
  readonly #points = new PointBuffer(65536, this.storage);
  #frame = -1;
  #stampNs = -1n;
  #lastColumn = -1;
  #emitted = false;

  constructor(metadata: OusterMetadata, frameId = "os_sensor") {
    this.#m = metadata;
    this.#frameId = frameId;
    const { columnsPerFrame: w, pixelsPerColumn: h } = metadata;
    this.#packetBytes = HEADER + metadata.columnsPerPacket * (COLUMN_HEADER + h * PIXEL) + FOOTER;
    this.#dir = new Float64Array(w * h * 3);
    this.#off = new Float64Array(w * h * 3);
    this.#azimuth = new Float32Array(w * h);
    this.#elevation = new Float32Array(h);
    const n = metadata.beamToLidar[3]!, bz = metadata.beamToLidar[11]!;
    const T = metadata.lidarToSensor;
    for (let u = 0; u < h; u++) this.#elevation[u] = (metadata.altitudeDeg[u]! * Math.PI) / 180;
    for (let v = 0; v < w; v++) {
      const enc = 2 * Math.PI - (v * 2 * Math.PI) / w;
      for (let u = 0; u < h; u++) {
        const az = (-metadata.azimuthDeg[u]! * Math.PI) / 180;
        const alt = this.#elevation[u]!;
        const d = [Math.cos(enc + az) * Math.cos(alt), Math.sin(enc + az) * Math.cos(alt), Math.sin(alt)];
        const o = [Math.cos(enc) * n - d[0]! * n, Math.sin(enc) * n - d[1]! * n, -d[2]! * n + bz];
        const i = (v * h + u) * 3;
        for (let r = 0; r < 3; r++) {
          // Row r of the rotation of lidar_to_sensor; the translation is in mm, like the offset.
          this.#dir[i + r] = (T[r * 4]! * d[0]! + T[r * 4 + 1]! * d[1]! + T[r * 4 + 2]! * d[2]!) * 0.001;
          this.#off[i + r] = (T[r * 4]! * o[0]! + T[r * 4 + 1]! * o[1]! + T[r * 4 + 2]! * o[2]! + T[r * 4 + 3]!) * 0.001;
        }
        this.#azimuth[v * h + u] = Math.atan2(this.#dir[i + 1]!, this.#dir[i]!);
      }
    }
  }

  /** Decodes one lidar packet (the UDP payload); returns the sweep it completes, if any. */
  decode(p: Uint8Array): DecodedCloud[] {
    const m = this.#m, h = m.pixelsPerColumn;
    if (p.length !== this.#packetBytes) {
      this.problems.add("truncated", `Ouster lidar packet of ${p.length} bytes (${m.prodLine} ${m.columnsPerFrame}×${h}, ${m.profile}: ${this.#packetBytes} expected): skipped`);
      return [];
    }
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const initId = p[4]! | (p[5]! << 8) | (p[6]! << 16);
    if (initId !== m.initId) {
      this.problems.add("model", `Ouster packet from sensor init id ${initId}, the metadata is for ${m.initId} (metadata of another sensor or session?): skipped`);
      return [];
    }
    const frame = view.getUint16(2, true);
    const out: DecodedCloud[] = [];
    if (frame !== this.#frame) {
      if (this.#frame >= 0 && !this.#emitted && this.#points.size > 0) {
        this.problems.add("partial-frame", `Ouster frame ${this.#frame} ended at column ${this.#lastColumn} of ${m.columnWindow[1]} (packets lost): emitted as it is`);
        out.push(this.#emit());
      }
      if (this.#frame >= 0 && ((frame - this.#frame) & 0xffff) > 0x8000) {
        this.problems.add("out-of-order", `Ouster packet of frame ${frame} after frame ${this.#frame} (out of order): a new sweep is started`);
      }
      this.#frame = frame;
      this.#points.clear();
      this.#stampNs = -1n;
      this.#lastColumn = -1;
      this.#emitted = false;
    }
    const colBytes = COLUMN_HEADER + h * PIXEL;
    for (let c = 0; c < m.columnsPerPacket; c++) {
      const base = HEADER + c * colBytes;
      const mid = view.getUint16(base + 8, true);
      const status = view.getUint16(base + 10, true);
      if ((status & 1) === 0) continue;
      if (mid >= m.columnsPerFrame) {
        this.problems.add("column", `Ouster column with measurement id ${mid} (a ${m.columnsPerFrame}-column frame): skipped`);
        continue;
      }
      if (mid <= this.#lastColumn) {
        this.problems.add("out-of-order", `Ouster column ${mid} after column ${this.#lastColumn} of frame ${frame} (out of order): skipped`);
        continue;
      }
      this.#lastColumn = mid;
      const ts = view.getBigUint64(base, true);
      if (this.#stampNs < 0n) this.#stampNs = ts;
      const t = Number(ts - this.#stampNs) >>> 0;
      for (let u = 0; u < h; u++) {
        const o = base + COLUMN_HEADER + u * PIXEL;
        const rangeMm = (view.getUint16(o, true) & 0x7fff) << 3;
        if (rangeMm === 0) continue;
        const i = (mid * h + u) * 3;
        const d = this.#dir, f = this.#off;
        this.#points.push(d[i]! * rangeMm + f[i]!, d[i + 1]! * rangeMm + f[i + 1]!, d[i + 2]! * rangeMm + f[i + 2]!, p[o + 2]!, ReturnType.STRONGEST, u, this.#azimuth[mid * h + u]!, this.#elevation[u]!, rangeMm / 1000, t);
      }
      if (mid === m.columnWindow[1]) {
        this.#emitted = true;
        out.push(this.#emit());
      }
    }
    return out;
  }

  #emit(): DecodedCloud {
    const cloud = { stampNs: this.#stampNs < 0n ? 0n : this.#stampNs, frameId: this.#frameId, points: this.#points.size, data: this.#points.bytes() };
    this.#points.clear();
    return cloud;
  }
}
