/**
 * Uneven, sloped ground beside the street. The carriageway, the parking strip and the sidewalk
 * stay the plane z = 0 (the ego and every road user stand on it, so no pose changes); beyond the
 * sidewalk's back edge the land departs from it over 10 m (an embankment) to follow three long
 * waves (70–160 m) whose gradients add up to at most `slope` (rise over run: each side rises or
 * falls, and that drifts along the street), with bumps of up to `bumps` m (10–20 m by 8–14 m,
 * ramped in over the first 2 m), clamped to ±TERRAIN_LIMIT m and back to the plane 40–70 m out:
 * the lawns, forecourts and embankments a ground segmentation must follow instead of calling
 * them walls. The height depends on the position and on the distance from the nearest stretch of
 * road only, so it is continuous also where a winding road passes itself.
 *
 * Stored as a height grid (CELL m) over the drive's surroundings; `heightAt` is a bilinear
 * lookup, exactly 0 wherever all four cells lie on the street.
 */
import { Prng } from "./prng.js";

export const TERRAIN_LIMIT = 3;
const CELL = 1;
/** Cells per side of the tiles known to be flat street (heightAt's fast path). */
const TILE = 8;
/** How far beyond the sidewalk's back edge the ground is modelled (m): it returns to the plane from FADE m to REACH m. */
const REACH = 70;
const FADE = 40;
/** Over how many metres beyond the sidewalk the ground departs from the street's plane. */
const RISE = 10;

/** What the grid needs of the road: its extent and a point at (arc length, lateral offset). */
export interface RoadFrame {
  readonly sMin: number;
  readonly sMax: number;
  at(s: number, d: number): { x: number; y: number };
}

export class Terrain {
  readonly #x0: number;
  readonly #y0: number;
  readonly #nx: number;
  readonly #ny: number;
  readonly #h: Float32Array;
  /** Lowest and highest ground anywhere (m): a ray above the highest never meets the ground. */
  readonly minZ: number;
  readonly maxZ: number;

  constructor(road: RoadFrame, back: number, slope: number, bumps: number, seed: number) {
    const rng = Prng.stream(seed, "terrain");
    // The land: three long waves (70–160 m) whose gradients add up to at most `slope`, and bumps.
    const waves = [0, 1, 2].map(() => {
      const length = rng.uniform(70, 160), heading = rng.uniform(0, Math.PI);
      const k = (2 * Math.PI) / length;
      return { kx: k * Math.cos(heading), ky: k * Math.sin(heading), amplitude: slope / (3 * k), phase: rng.uniform(0, 2 * Math.PI) };
    });
    const bump = { kx: (2 * Math.PI) / rng.uniform(10, 20), ky: (2 * Math.PI) / rng.uniform(8, 14), px: rng.uniform(0, 2 * Math.PI), py: rng.uniform(0, 2 * Math.PI) };
    const smooth = (u: number): number => (u <= 0 ? 0 : u >= 1 ? 1 : u * u * (3 - 2 * u));
    /** Height at (x, y), e m beyond the sidewalk's back edge: a function of position and of e only, so continuous wherever e is. */
    const height = (x: number, y: number, e: number): number => {
      if (!(e > 0)) return 0;
      let land = 0;
      for (const w of waves) land += w.amplitude * Math.sin(w.kx * x + w.ky * y + w.phase);
      const b = bumps * Math.min(1, e / 2) * Math.sin(bump.kx * x + bump.px) * Math.sin(bump.ky * y + bump.py);
      // Away from the street over RISE m (an embankment), back to the plane from FADE to REACH m.
      const v = (smooth(e / RISE) * land + b) * (1 - smooth((e - FADE) / (REACH - FADE)));
      return Math.max(-TERRAIN_LIMIT, Math.min(TERRAIN_LIMIT, v));
    };
    const span = back + REACH;
    let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
    for (let s = road.sMin; s <= road.sMax; s += 5) {
      const p = road.at(s, 0);
      xMin = Math.min(xMin, p.x);
      xMax = Math.max(xMax, p.x);
      yMin = Math.min(yMin, p.y);
      yMax = Math.max(yMax, p.y);
    }
    this.#x0 = xMin - span - 5;
    this.#y0 = yMin - span - 5;
    this.#nx = Math.ceil((xMax + span + 5 - this.#x0) / CELL) + 1;
    this.#ny = Math.ceil((yMax + span + 5 - this.#y0) / CELL) + 1;
    // Distance from the nearest stretch of road's centre line (the smallest |d| that lands in a
    // cell): continuous, also where two stretches of a winding road meet.
    const nearest = new Float32Array(this.#nx * this.#ny).fill(Infinity);
    for (let s = road.sMin; s <= road.sMax; s += CELL / 2) {
      for (let d = -span; d <= span; d += CELL / 2) {
        const p = road.at(s, d);
        const ix = Math.round((p.x - this.#x0) / CELL), iy = Math.round((p.y - this.#y0) / CELL);
        if (ix < 0 || iy < 0 || ix >= this.#nx || iy >= this.#ny) continue;
        const i = iy * this.#nx + ix;
        if (Math.abs(d) < nearest[i]!) nearest[i] = Math.abs(d);
      }
    }
    // Sampled at half the cell along and across; on the outside of a tight bend the samples spread
    // further apart than a cell: those holes are filled from their neighbours.
    for (let pass = 0; pass < 4; pass++) {
      const holes: number[] = [];
      for (let iy = 1; iy < this.#ny - 1; iy++) {
        for (let ix = 1; ix < this.#nx - 1; ix++) {
          const i = iy * this.#nx + ix;
          if (nearest[i] !== Infinity) continue;
          let sum = 0, n = 0;
          const a = nearest[i - 1]!, b = nearest[i + 1]!, c = nearest[i - this.#nx]!, d = nearest[i + this.#nx]!;
          for (const v of [a, b, c, d]) {
            if (v === Infinity) continue;
            sum += v;
            n++;
          }
          if (n >= 2) holes.push(i, sum / n);
        }
      }
      for (let k = 0; k < holes.length; k += 2) nearest[holes[k]!] = holes[k + 1]!;
    }
    const h = new Float32Array(this.#nx * this.#ny);
    let lo = 0, hi = 0;
    for (let iy = 0; iy < this.#ny; iy++) {
      for (let ix = 0; ix < this.#nx; ix++) {
        const i = iy * this.#nx + ix;
        const v = (h[i] = height(this.#x0 + ix * CELL, this.#y0 + iy * CELL, nearest[i]! - back));
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    this.#h = h;
    this.minZ = lo;
    this.maxZ = hi;
    // Tiles of TILE×TILE cells where the ground (and every cell a bilinear lookup there reads) is
    // the street's plane: heightAt answers 0 there without interpolating, most lookups near the ego.
    this.#tx = Math.ceil(this.#nx / TILE);
    this.#flat = new Uint8Array(this.#tx * Math.ceil(this.#ny / TILE)).fill(1);
    this.#tileMax = new Float32Array(this.#flat.length);
    for (let iy = 0; iy < this.#ny; iy++) {
      for (let ix = 0; ix < this.#nx; ix++) {
        const v = h[iy * this.#nx + ix]!;
        if (v === 0) continue;
        // A cell is read by lookups in its own cell and the three before it.
        for (let k = 0; k < 4; k++) {
          const jx = ix - (k & 1), jy = iy - (k >> 1);
          if (jx < 0 || jy < 0) continue;
          const t = ((jy / TILE) | 0) * this.#tx + ((jx / TILE) | 0);
          this.#flat[t] = 0;
          if (v > this.#tileMax[t]!) this.#tileMax[t] = v;
        }
      }
    }
  }

  readonly #tx: number;
  readonly #flat: Uint8Array;
  /** A march's ground samples along its track, valid where `#sampledAt` equals `#march` (no refill per column). */
  #profile = new Float64Array(0);
  #sampledAt = new Uint32Array(0);
  #march = 0;
  readonly #oneSlope = new Float64Array(1);
  readonly #oneHit = new Float64Array(1);
  /** Per tile: the highest ground any lookup inside it can return (≥ 0). */
  readonly #tileMax: Float32Array;

  /**
   * If (x, y) lies in a tile whose ground stays below z all the way (`flatOnly`: a tile all
   * street): how far (m) along (ux, uy) until the tile is left; else 0.
   */
  #clearance(x: number, y: number, z: number, ux: number, uy: number, flatOnly = false): number {
    const fx = (x - this.#x0) / CELL, fy = (y - this.#y0) / CELL;
    if (fx < 0 || fy < 0 || fx >= this.#nx - 1 || fy >= this.#ny - 1) return 0;
    const tx = (fx / TILE) | 0, ty = (fy / TILE) | 0;
    if (flatOnly ? this.#flat[ty * this.#tx + tx] !== 1 : z <= this.#tileMax[ty * this.#tx + tx]!) return 0;
    const span = TILE * CELL;
    const ex = ux > 0 ? (this.#x0 + (tx + 1) * span - x) / ux : ux < 0 ? (this.#x0 + tx * span - x) / ux : Infinity;
    const ey = uy > 0 ? (this.#y0 + (ty + 1) * span - y) / uy : uy < 0 ? (this.#y0 + ty * span - y) / uy : Infinity;
    return Math.max(0, Math.min(ex, ey));
  }

  #tileMaxAt(x: number, y: number): number {
    const fx = (x - this.#x0) / CELL, fy = (y - this.#y0) / CELL;
    if (fx < 0 || fy < 0 || fx >= this.#nx - 1 || fy >= this.#ny - 1) return 0;
    return this.#tileMax[((fy / TILE) | 0) * this.#tx + ((fx / TILE) | 0)]!;
  }

  /** Ground height (m) at odom (x, y); 0 outside the modelled area. */
  heightAt(x: number, y: number): number {
    const fx = (x - this.#x0) / CELL, fy = (y - this.#y0) / CELL;
    const ix = Math.floor(fx), iy = Math.floor(fy);
    if (ix < 0 || iy < 0 || ix >= this.#nx - 1 || iy >= this.#ny - 1) return 0;
    if (this.#flat[((iy / TILE) | 0) * this.#tx + ((ix / TILE) | 0)] === 1) return 0;
    const wx = fx - ix, wy = fy - iy;
    const i = iy * this.#nx + ix;
    const h = this.#h;
    const a = h[i]!, b = h[i + 1]!, c = h[i + this.#nx]!, d = h[i + this.#nx + 1]!;
    return (a * (1 - wx) + b * wx) * (1 - wy) + (c * (1 - wx) + d * wx) * wy;
  }

  /**
   * Horizontal distance along one ray from (ox, oy, oz) with horizontal unit direction (ux, uy)
   * and slope `rise` (dz per m horizontal) to where it first meets the ground; Infinity if it does
   * not within `maxRho`. The one-beam case of `columnHits`.
   */
  rayHit(ox: number, oy: number, oz: number, ux: number, uy: number, rise: number, maxRho: number): number {
    this.#oneSlope[0] = rise;
    this.columnHits(ox, oy, oz, ux, uy, this.#oneSlope, maxRho, this.#oneHit);
    return this.#oneHit[0]!;
  }

  /**
   * Where each beam of one level column meets the ground: horizontal distances into `out`
   * (Infinity: no return within `maxRho`), for beams of ascending slopes `tans` from (ox, oy, oz)
   * along the horizontal unit direction (ux, uy). The column's ground profile is sampled once
   * (as far as a beam needs it) and shared by its beams, marched in half-cell steps (coarser
   * misses grazing rays' crossings over crests) and refined linearly; over the street a beam keeps
   * the exact plane intersection. A higher beam first meets the ground no nearer than a lower one,
   * so each search starts where the last one ended: O(samples + beams) per column.
   */
  columnHits(ox: number, oy: number, oz: number, ux: number, uy: number, tans: Float64Array, maxRho: number, out: Float64Array): void {
    const step = CELL / 2;
    const last = Math.floor(maxRho / step);
    if (this.#profile.length <= last) {
      this.#profile = new Float64Array(last + 1);
      this.#sampledAt = new Uint32Array(last + 1);
      this.#march = 0;
    }
    if (++this.#march === 0xffffffff) {
      this.#sampledAt.fill(0);
      this.#march = 1;
    }
    const profile = this.#profile, sampledAt = this.#sampledAt, march = this.#march;
    const h = (k: number): number => {
      if (sampledAt[k] === march) return profile[k]!;
      sampledAt[k] = march;
      return (profile[k] = this.heightAt(ox + k * step * ux, oy + k * step * uy));
    };
    // The street under the column's track, tile by tile where a tile is all street.
    let band = 1;
    while (band <= last) {
      const run = this.#clearance(ox + band * step * ux, oy + band * step * uy, 0, ux, uy, true);
      if (run >= step) {
        band += Math.floor(run / step);
        continue;
      }
      if (h(band) !== 0) break;
      band++;
    }
    const streetRho = (band - 1) * step;
    let k = band;
    let none = false;
    for (let b = 0; b < tans.length; b++) {
      const te = tans[b]!;
      const flat = te < 0 ? -oz / te : Infinity;
      if (flat <= streetRho || band > last) {
        out[b] = flat;
        continue;
      }
      if (none) {
        out[b] = Infinity;
        continue;
      }
      let prev = oz + (k - 1) * step * te - h(k - 1);
      let hit = Infinity;
      for (; k <= last; k++) {
        const z = oz + k * step * te;
        if (te >= 0 && z > this.maxZ) break;
        // Through a tile whose ground stays below the ray at both ends of the crossing: skip it
        // (the last sample inside becomes the one before the next).
        const clear = this.#clearance(ox + k * step * ux, oy + k * step * uy, z, ux, uy);
        if (clear > step) {
          const kj = Math.min(last, k + Math.floor(clear / step) - 1);
          const zj = oz + kj * step * te;
          if (kj > k && zj > h(kj) && zj > this.#tileMaxAt(ox + kj * step * ux, oy + kj * step * uy)) {
            prev = zj - h(kj);
            k = kj;
            continue;
          }
        }
        const f = z - h(k);
        if (f <= 0) {
          hit = (k - 1) * step + (step * prev) / (prev - f);
          k = Math.max(band, k - 1);
          break;
        }
        prev = f;
      }
      out[b] = hit;
      if (hit === Infinity) none = true; // every higher beam misses too
    }
  }

  /** A box standing on the ground: its base down to the lowest ground under its footprint, its top raised with the ground at its centre. */
  settle<T extends { x: number; y: number; yaw: number; hl: number; hw: number; z0: number; z1: number }>(b: T): T {
    const c = Math.cos(b.yaw), s = Math.sin(b.yaw);
    const centre = this.heightAt(b.x, b.y);
    let low = centre;
    for (const [u, v] of [[1, 1], [1, -1], [-1, 1], [-1, -1]] as const) low = Math.min(low, this.heightAt(b.x + c * u * b.hl - s * v * b.hw, b.y + s * u * b.hl + c * v * b.hw));
    if (centre === 0 && low === 0) return b;
    return { ...b, z0: b.z0 > 0 ? b.z0 + centre : low, z1: b.z1 + centre };
  }
}
