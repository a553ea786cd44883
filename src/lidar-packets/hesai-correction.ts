/**
 * Hesai's binary angle correction file (PandarAT128 `.dat`, version 1.5), and the angles it gives
 * each channel at each encoder azimuth — the AT128 sweeps its 128 lasers with a rotating mirror
 * of three faces, so a channel's azimuth depends on which face ("frame") is in view and both its
 * azimuth and elevation get an adjustment interpolated every 2° of encoder angle.
 *
 * Layout and arithmetic follow tier4/nebula (nebula_hesai_common/hesai_common.hpp HesaiCorrection,
 * nebula_hesai_decoders/angle_corrector_correction_based.hpp at 606ac41), float32 where nebula uses
 * float, including its quirks (offsets stored back into int8 after scaling by the resolution; the
 * interpolation of a channel's last 2° step reading the next channel's first entry), so that the
 * angles are nebula's. Angles are integers in 1/25600° ("exact" units, 0.01° / 256).
 */
import { cosf, sinf } from "./libm-f32.js";
import { LidarConfigError } from "./velodyne.js";

const fr = Math.fround;
const UNIT = 25600;
const MAX = 360 * UNIT;
const STEP3 = 200 * 256;
const PI_F = fr(Math.PI);

export interface HesaiCorrection {
  kind: "correction";
  channels: number;
  frames: number;
  startFrame: Int32Array;
  endFrame: Int32Array;
  azimuth: Int32Array;
  elevation: Int32Array;
  azimuthOffset: Int8Array;
  elevationOffset: Int8Array;
}

/** Parses a v1.5 correction file (0xEEFF delimiter, little-endian fields, values × resolution). */
export function parseHesaiCorrection(buf: Uint8Array, source: string): HesaiCorrection {
  let i = 0;
  while (i < buf.length - 1 && !(buf[i] === 0xee && buf[i + 1] === 0xff)) i++;
  if (i >= buf.length - 1) throw new LidarConfigError(`${source}: no 0xEEFF delimiter (not a Hesai angle correction file)`);
  const major = buf[i + 2], minor = buf[i + 3], channels = buf[i + 4]!, mirrors = buf[i + 5]!, frames = buf[i + 6]!;
  if (minor !== 5) throw new LidarConfigError(`${source}: correction file version ${major}.${minor} (only 1.5, the AT128's, is read)`);
  let o = i + 7 + 8;
  const resolution = buf[o++]!;
  const need = o + 4 * (2 * mirrors + 2 * channels) + 2 * channels * 180;
  if (buf.length < need || channels === 0 || mirrors === 0 || frames === 0 || frames > 8) {
    throw new LidarConfigError(`${source}: correction file of ${buf.length} bytes for ${channels} channels, ${mirrors} mirror faces, ${frames} frames is truncated or inconsistent`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (n: number): Int32Array => {
    const a = new Int32Array(n);
    for (let k = 0; k < n; k++, o += 4) a[k] = (view.getUint32(o, true) * resolution) | 0;
    return a;
  };
  const startFrame = new Int32Array(8), endFrame = new Int32Array(8);
  startFrame.set(u32(mirrors).subarray(0, 8));
  endFrame.set(u32(mirrors).subarray(0, 8));
  const azimuth = new Int32Array(channels), elevation = new Int32Array(channels);
  for (let k = 0; k < channels; k++, o += 4) azimuth[k] = Math.imul(view.getInt32(o, true), resolution);
  for (let k = 0; k < channels; k++, o += 4) elevation[k] = Math.imul(view.getInt32(o, true), resolution);
  // nebula keeps 36000 entries per table; entries past channels × 180 stay 0. Scaled values are
  // stored back into int8 (they wrap, as in nebula).
  const azimuthOffset = new Int8Array(36000), elevationOffset = new Int8Array(36000);
  for (let k = 0; k < channels * 180; k++) azimuthOffset[k] = ((buf[o++]! << 24) >> 24) * resolution;
  for (let k = 0; k < channels * 180; k++) elevationOffset[k] = ((buf[o++]! << 24) >> 24) * resolution;
  return { kind: "correction", channels, frames: Math.min(frames, mirrors), startFrame, endFrame, azimuth, elevation, azimuthOffset, elevationOffset };
}

/**
 * A channel azimuth in exact units (an integer, 0 ≤ a < 360 × 25600) in rad as float32:
 * fr((a / 25600) · (π / 180)), the decoder's rule, computed as one product with π / 180 / 25600
 * = 6.81769239060285e-7. The two agree on every integer of that range (all 9 216 000 checked,
 * test/lidar-packets/hesai-models.test.ts); the division was a sizeable part of each block's 128
 * azimuths. The factor is a literal: read from a computed module constant it made that loop 2.5×
 * slower in V8 here.
 */
export const exactToRad = (a: number): number => fr(a * 6.81769239060285e-7);

function angleIsBetween(start: number, end: number, angle: number): boolean {
  if (start === end) return true;
  if (end < start) return angle <= end || start <= angle;
  return start <= angle && angle <= end;
}
const normalize = (a: number): number => a - Math.floor(a / MAX) * MAX;
/** nebula's trig table entry i: cosf/sinf of (2.f · i · π_f / MAX) in float32. */
const tableRad = (i: number): number => fr(fr(fr(2 * i) * PI_F) / MAX);
/** std::round on a float: half away from zero. */
const roundAway = (v: number): number => (v < 0 ? -Math.round(-v) : Math.round(v));

/**
 * nebula's 9.2 M-entry cos/sin tables, filled on first use of each entry (an AT128 touches its
 * 120° field of view and a few elevations: ~3 M entries): computing 4 sinf/cosf per point made
 * decoding 6× slower than real time. Module-wide: the tables do not depend on the calibration.
 */
// Interleaved [cos i, sin i]: one cache line per lookup (the 9.2 M-entry tables are far larger
// than any cache, and a block's channels each land on another entry). An entry not filled yet
// has cos 0, which cosf never gives on these arguments (no float32 is a multiple of π/2 but 0,
// whose cos is 1); were it to, the entry would merely be recomputed, to the same values.
let trigTable: Float32Array | undefined;
function trigTableFilled(i: number): Float32Array {
  trigTable ??= new Float32Array(2 * MAX);
  if (trigTable[2 * i] === 0) {
    const r = tableRad(i);
    trigTable[2 * i] = cosf(r);
    trigTable[2 * i + 1] = sinf(r);
  }
  return trigTable;
}

/** Step and weight of encoder azimuth `azi` in the 2° adjustment tables (the same for every channel). */
function adjustAt(azi: number): { i: number; k: number } {
  const i = Math.floor(fr(fr(azi) / STEP3));
  const l = azi - i * STEP3;
  return { i, k: fr(fr(l) / STEP3) };
}
/** nebula get_azimuth/elevation_adjust_v3: the channel's table interpolated at (i, k), rounded into an int8 (0.01°). */
function adjust(offsets: Int8Array, ch: number, i: number, k: number): number {
  const a = offsets[ch * 180 + i]!, b = offsets[ch * 180 + i + 1] ?? 0;
  if (a === 0 && b === 0) return 0;
  return interpolate(a, b, k);
}
/** Entries a, b at weight k, float32 as nebula, rounded half away from zero into an int8. */
function interpolate(a: number, b: number, k: number): number {
  const v = fr(fr(fr(1 - k) * a) + fr(k * b));
  return (roundAway(v) << 24) >> 24;
}

/**
 * Angles of every channel at one encoder azimuth, written into a row of 6 × channels float32:
 * [cos az, sin az, az (rad), cos el, sin el, el (rad)] — the layout the Hesai decoder reads.
 * Filled in three steps so that a block outside the field of view costs only its azimuths (the
 * scan cutter needs those): azimuths(), then for a block with points in view trig() and
 * elevations(). Each step gives the values nebula's per-point rule gives.
 */
export class CorrectionAngles {
  readonly #c: HesaiCorrection;

  /** Per channel, the elevation (exact units) whose values the row holds; NaN: none yet. */
  readonly #lastElevation: Float64Array;
  /** Per channel, the azimuth (exact units, 0 ≤ a < MAX) of the last azimuths() call: trig() looks it up. */
  readonly #exact: Int32Array;
  /** Channels with the smallest and largest azimuth at the last azimuths() call (the first such channel). */
  minChannel = 0;
  maxChannel = 0;

  constructor(correction: HesaiCorrection) {
    this.#c = correction;
    this.#lastElevation = new Float64Array(correction.channels).fill(NaN);
    this.#exact = new Int32Array(correction.channels);
  }

  /** The frame (mirror face) whose azimuth range holds `raw`, or −1. */
  field(raw: number): number {
    const c = this.#c;
    for (let i = 0; i < c.frames; i++) if (angleIsBetween(c.startFrame[i]!, c.endFrame[i]!, raw)) return i;
    return -1;
  }

  /**
   * Fills the azimuths (rad, float32) of `row` (its third part, [2n, 3n)) for encoder azimuth
   * `raw` (1/25600°) and sets minChannel/maxChannel; false when no frame covers it.
   */
  azimuths(raw: number, row: Float32Array): boolean {
    const c = this.#c, n = c.channels;
    const field = this.field(raw);
    if (field < 0) return false;
    // adjustAt(raw), inline: no object per block.
    const i = Math.floor(fr(fr(raw) / STEP3));
    const k = fr(fr(raw - i * STEP3) / STEP3);
    const base = ((raw - c.startFrame[field]!) * 2) | 0;
    const azimuth = c.azimuth, offsets = c.azimuthOffset, exact = this.#exact;
    let minI = 0, maxI = 0, minV = Infinity, maxV = -Infinity;
    for (let ch = 0; ch < n; ch++) {
      let a = base - azimuth[ch]!;
      const o = ch * 180 + i;
      const o0 = offsets[o]!, o1 = offsets[o + 1] ?? 0;
      if (o0 !== 0 || o1 !== 0) a += interpolate(o0, o1, k) * (UNIT / 100);
      a = a < 0 ? (a >= -MAX ? a + MAX : normalize(a)) : a >= MAX ? normalize(a) : a;
      exact[ch] = a;
      const rad = fr(a * 6.81769239060285e-7); // exactToRad(a), inline
      row[2 * n + ch] = rad;
      if (rad < minV) {
        minV = rad;
        minI = ch;
      }
      if (rad > maxV) {
        maxV = rad;
        maxI = ch;
      }
    }
    this.minChannel = minI;
    this.maxChannel = maxI;
    return true;
  }

  /** Fills cos/sin of the azimuths of the last azimuths() call (row parts [0, n) and [n, 2n)) from nebula's tables. */
  trig(row: Float32Array): void {
    const n = this.#c.channels, exact = this.#exact;
    let table = trigTableFilled(0);
    for (let ch = 0; ch < n; ch++) {
      const a = 2 * exact[ch]!;
      if (table[a] === 0) table = trigTableFilled(a / 2);
      row[ch] = table[a]!;
      row[n + ch] = table[a + 1]!;
    }
  }

  /** Fills the azimuth part of `row` ([cos az, sin az, az (rad)] per channel) for encoder azimuth `raw`; false when no frame covers it. */
  fill(raw: number, row: Float32Array): boolean {
    if (!this.azimuths(raw, row)) return false;
    this.trig(row);
    return true;
  }

  /** Fills the elevation part of `row` ([cos el, sin el, el (rad)] per channel, after the azimuths) for encoder azimuth `raw`. */
  elevations(raw: number, row: Float32Array): void {
    const c = this.#c, n = c.channels;
    const { i, k } = adjustAt(raw);
    const last = this.#lastElevation;
    for (let ch = 0; ch < n; ch++) {
      const e = c.elevation[ch]! + adjust(c.elevationOffset, ch, i, k) * (UNIT / 100);
      // The row still holds this channel's values when its elevation has not changed (the usual case).
      if (last[ch] === e) continue;
      last[ch] = e;
      row[5 * n + ch] = fr((fr(2 * e) * Math.PI) / MAX);
      const en = normalize(e);
      const table = trigTableFilled(en);
      row[3 * n + ch] = table[2 * en]!;
      row[4 * n + ch] = table[2 * en + 1]!;
    }
  }
}
