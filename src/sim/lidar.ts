/**
 * Spinning lidar: analytic ray casting against the ground (the street's plane, and beside it the
 * world's terrain, marched: terrain.ts) and oriented boxes (actors and structure), column by column through the sweep, with per-column sensor pose (motion distortion
 * as a real driver reports it: each point in the lidar frame at its firing time).
 *
 * PointCloud2 layout (little-endian, point_step 24, unorganized: height 1, no-return rays omitted):
 *   x, y, z, intensity: float32 at 0, 4, 8, 12
 *   t: uint32 at 16 — ns since the sweep start (= header.stamp time), as Ouster's driver does
 *   ring: uint16 at 20 — beam index, 0 = lowest elevation (Velodyne convention); 2 bytes padding
 * Points are in firing order: column by column, each column bottom beam first.
 *
 * Mount: a level lidar (roll = pitch = 0) is cast column by column (one horizontal slab test per
 * object and column, then per beam the elevation against the ground and the box's z range). A
 * tilted one (roll or pitch ≠ 0, base_link ← lidar R = Rz(yaw)·Ry(pitch)·Rx(roll), REP 103, the
 * rotation /tf_static carries) is cast ray by ray: each beam's world direction, a 3D slab test
 * against each box and the ground plane, the point written back along the beam in the lidar frame.
 *
 * Sweep geometry: the sweep starts at `startAzimuthDeg` (about +z of the lidar frame, 0 = forward,
 * +90° = left) and turns `rotation` (cw seen from above, like Ouster and Velodyne) at a constant
 * rate, one turn per 1/rateHz. `sweepTimeAtAzimuth` gives when the beam crosses a given azimuth.
 */
import type { LidarConfig } from "./rig.js";
import type { Box, World } from "./world.js";
import type { Prng } from "./prng.js";
import { rpyMatrix } from "./camera.js";

export const POINT_STEP = 24;
/** sensor_msgs/PointField datatypes. */
const FLOAT32 = 7;
const UINT16 = 4;
const UINT32 = 6;
export const POINT_FIELDS = [
  { name: "x", offset: 0, datatype: FLOAT32, count: 1 },
  { name: "y", offset: 4, datatype: FLOAT32, count: 1 },
  { name: "z", offset: 8, datatype: FLOAT32, count: 1 },
  { name: "intensity", offset: 12, datatype: FLOAT32, count: 1 },
  { name: "t", offset: 16, datatype: UINT32, count: 1 },
  { name: "ring", offset: 20, datatype: UINT16, count: 1 },
];

/** Azimuth (rad, lidar frame) of column c. */
export function columnAzimuth(lidar: Pick<LidarConfig, "startAzimuthDeg" | "rotation" | "columns">, column: number): number {
  const dir = lidar.rotation === "cw" ? -1 : 1;
  return (lidar.startAzimuthDeg * Math.PI) / 180 + (dir * 2 * Math.PI * column) / lidar.columns;
}

/**
 * Seconds after the sweep start (header.stamp) at which the beam points at `azimuthRad` (lidar
 * frame, 0 = forward, +π/2 = left). In [0, 1/rateHz). For the moment the sweep crosses a camera's
 * optical axis, pass the camera's yaw expressed in the lidar frame.
 */
export function sweepTimeAtAzimuth(lidar: Pick<LidarConfig, "startAzimuthDeg" | "rotation" | "rateHz">, azimuthRad: number): number {
  const start = (lidar.startAzimuthDeg * Math.PI) / 180;
  const turned = lidar.rotation === "cw" ? start - azimuthRad : azimuthRad - start;
  const frac = (((turned / (2 * Math.PI)) % 1) + 1) % 1;
  return frac / lidar.rateHz;
}

interface SectorObject {
  x: number;
  y: number;
  c: number;
  s: number;
  hl: number;
  hw: number;
  z0: number;
  z1: number;
  intensity: number;
  /** Foliage depth (m); 0 for solid boxes. */
  porosity: number;
  /** Elliptic footprint (see Box.round). */
  round: boolean;
}

/**
 * The boxes (structure near the sweep, then actors at tMid) that a ray leaving (sox, soy) within
 * halfSpan of the horizontal azimuth phiMid can reach within maxR (bounding circles).
 */
function cullSector(out: SectorObject[], near: readonly Box[], world: World, tMid: number, sox: number, soy: number, phiMid: number, halfSpan: number, maxR: number): void {
  out.length = 0;
  const consider = (b: Box): void => {
    const dx = b.x - sox;
    const dy = b.y - soy;
    const dist = Math.hypot(dx, dy);
    const radius = Math.hypot(b.hl, b.hw) + 0.5;
    if (dist - radius > maxR) return;
    if (dist > radius) {
      const ang = Math.atan2(dy, dx);
      let diff = ang - phiMid;
      diff -= 2 * Math.PI * Math.round(diff / (2 * Math.PI));
      if (Math.abs(diff) > halfSpan + Math.asin(Math.min(1, radius / dist))) return;
    }
    out.push({ x: b.x, y: b.y, c: Math.cos(b.yaw), s: Math.sin(b.yaw), hl: b.hl, hw: b.hw, z0: b.z0, z1: b.z1, intensity: b.intensity, porosity: b.porosity ?? 0, round: b.round === true });
  };
  for (const b of near) consider(b);
  for (const actor of world.actors) for (const part of world.actorParts(actor, tMid)) consider(part);
}

/** Tilted mount: precomputed ray directions and azimuth spans (see LidarModel.#tilt). */
interface TiltTables {
  dir: Float64Array;
  spanLo: Float64Array;
  spanHi: Float64Array;
  /** Per column: the largest |horizontal azimuth − column azimuth| over its beams (rad). */
  colHalf: Float64Array;
}

/** Entry and exit parameters written by `footprintSlab`. */
const SLAB = new Float64Array(2);

/**
 * The slab test of a ray against a box's footprint, in the box frame: origin (lx, ly), direction
 * (dxl, dyl), footprint ±hl × ±hw (or the ellipse inscribed in it when `round`). False when the
 * ray's line misses it; else its entry and exit parameters along the ray in SLAB (either may be
 * negative). Shared by the level and the tilted ray casts, so both hit the same boxes the same way.
 */
function footprintSlab(lx: number, ly: number, dxl: number, dyl: number, hl: number, hw: number, round = false): boolean {
  if (round) {
    // (lx + t·dxl)²/hl² + (ly + t·dyl)²/hw² = 1
    const ia = 1 / (hl * hl), ib = 1 / (hw * hw);
    const a = dxl * dxl * ia + dyl * dyl * ib, b = lx * dxl * ia + ly * dyl * ib, c = lx * lx * ia + ly * ly * ib - 1;
    const disc = b * b - a * c;
    if (a < 1e-24 || disc < 0) return false;
    const root = Math.sqrt(disc);
    SLAB[0] = (-b - root) / a;
    SLAB[1] = (-b + root) / a;
    return true;
  }
  let tin = -Infinity;
  let tout = Infinity;
  if (Math.abs(dxl) < 1e-12) {
    if (lx < -hl || lx > hl) return false;
  } else {
    let ta = (-hl - lx) / dxl;
    let tb = (hl - lx) / dxl;
    if (ta > tb) [ta, tb] = [tb, ta];
    tin = ta;
    tout = tb;
  }
  if (Math.abs(dyl) < 1e-12) {
    if (ly < -hw || ly > hw) return false;
  } else {
    let ta = (-hw - ly) / dyl;
    let tb = (hw - ly) / dyl;
    if (ta > tb) [ta, tb] = [tb, ta];
    if (ta > tin) tin = ta;
    if (tb < tout) tout = tb;
  }
  SLAB[0] = tin;
  SLAB[1] = tout;
  return true;
}

/** Share of rays that pass through foliage between its leaves. */
const FOLIAGE_PASS = 0.3;

export interface Sweep {
  /** POINT_STEP bytes per point. */
  data: Uint8Array;
  points: number;
}

export class LidarModel {
  readonly #cfg: LidarConfig;
  readonly #tan: Float64Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  #buffer: ArrayBuffer;
  readonly #sectorColumns: number;
  /**
   * Tilted mount only: per ray (column-major, beams per column) its direction in the mount's
   * yaw-free frame, Ry(pitch)·Rx(roll)·d_lidar; per sector and per column the spread of those
   * directions' horizontal azimuths, for culling by bounding circles.
   */
  readonly #tilt: TiltTables | null;

  constructor(cfg: LidarConfig) {
    this.#cfg = cfg;
    const [lo, hi] = cfg.verticalFovDeg;
    this.#tan = new Float64Array(cfg.beams);
    this.#cos = new Float64Array(cfg.beams);
    this.#sin = new Float64Array(cfg.beams);
    for (let b = 0; b < cfg.beams; b++) {
      const el = ((cfg.beams === 1 ? 0 : lo + ((hi - lo) * b) / (cfg.beams - 1)) * Math.PI) / 180;
      this.#tan[b] = Math.tan(el);
      this.#cos[b] = Math.cos(el);
      this.#sin[b] = Math.sin(el);
    }
    this.#buffer = new ArrayBuffer(cfg.beams * cfg.columns * POINT_STEP);
    this.#sectorColumns = Math.max(1, Math.floor(cfg.columns / 64));
    this.#tilt = cfg.extrinsics.roll === 0 && cfg.extrinsics.pitch === 0 ? null : this.#tiltTables();
  }

  #tiltTables(): TiltTables {
    const cfg = this.#cfg;
    const beams = cfg.beams;
    const [r00, r01, r02, r10, r11, r12, r20, r21, r22] = rpyMatrix(cfg.extrinsics.roll, cfg.extrinsics.pitch, 0) as [number, number, number, number, number, number, number, number, number];
    const dir = new Float64Array(cfg.columns * beams * 3);
    const sectors = Math.ceil(cfg.columns / this.#sectorColumns);
    const spanLo = new Float64Array(sectors).fill(Infinity);
    const spanHi = new Float64Array(sectors).fill(-Infinity);
    const colHalf = new Float64Array(cfg.columns);
    for (let c = 0; c < cfg.columns; c++) {
      const az = columnAzimuth(cfg, c);
      const caz = Math.cos(az);
      const saz = Math.sin(az);
      const sector = Math.floor(c / this.#sectorColumns);
      const c0 = sector * this.#sectorColumns;
      const c1 = Math.min(cfg.columns, c0 + this.#sectorColumns);
      const azMid = (columnAzimuth(cfg, c0) + columnAzimuth(cfg, c1)) / 2;
      for (let b = 0; b < beams; b++) {
        const sx = this.#cos[b]! * caz;
        const sy = this.#cos[b]! * saz;
        const sz = this.#sin[b]!;
        const dx = r00 * sx + r01 * sy + r02 * sz;
        const dy = r10 * sx + r11 * sy + r12 * sz;
        const i = (c * beams + b) * 3;
        dir[i] = dx;
        dir[i + 1] = dy;
        dir[i + 2] = r20 * sx + r21 * sy + r22 * sz;
        let diff = Math.atan2(dy, dx) - azMid;
        diff -= 2 * Math.PI * Math.round(diff / (2 * Math.PI));
        if (diff < spanLo[sector]!) spanLo[sector] = diff;
        if (diff > spanHi[sector]!) spanHi[sector] = diff;
        let own = Math.atan2(dy, dx) - az;
        own -= 2 * Math.PI * Math.round(own / (2 * Math.PI));
        if (Math.abs(own) > colHalf[c]!) colHalf[c] = Math.abs(own);
      }
    }
    return { dir, spanLo, spanHi, colHalf };
  }

  /** Casts one sweep starting at world time t0 (s). The returned data is only valid until the next call. */
  sweep(world: World, t0: number, structure: readonly Box[], rng: Prng): Sweep {
    if (this.#tilt !== null) return this.#sweepTilted(this.#tilt, world, t0, structure, rng);
    const cfg = this.#cfg;
    const period = 1 / cfg.rateHz;
    const f32 = new Float32Array(this.#buffer);
    const u32 = new Uint32Array(this.#buffer);
    const u16 = new Uint16Array(this.#buffer);
    const beams = cfg.beams;
    const oz = cfg.extrinsics.z;
    const maxR = cfg.maxRange;
    const minR = cfg.minRange;
    const noise = cfg.rangeNoiseStd;
    const tanB = this.#tan;
    const cosB = this.#cos;
    const sinB = this.#sin;
    // Objects near the sensor for this sweep (bounding circles), culled again per sector by azimuth.
    const e0 = world.egoPose(t0);
    const reach = maxR + 30;
    const near = structure.filter((b) => Math.abs(b.x - e0.x) < reach + b.hl && Math.abs(b.y - e0.y) < reach + b.hl);
    const ext = cfg.extrinsics;
    const hitRho = new Float64Array(64);
    const hitIdx = new Int32Array(64);
    const terrain = world.terrain;
    const groundRho = new Float64Array(beams);
    let n = 0;
    const sectorObjects: SectorObject[] = [];
    for (let c0 = 0; c0 < cfg.columns; c0 += this.#sectorColumns) {
      const c1 = Math.min(cfg.columns, c0 + this.#sectorColumns);
      const tMid = t0 + (((c0 + c1) / 2) * period) / cfg.columns;
      const em = world.egoPose(tMid);
      const sox = em.x + Math.cos(em.yaw) * ext.x - Math.sin(em.yaw) * ext.y;
      const soy = em.y + Math.sin(em.yaw) * ext.x + Math.cos(em.yaw) * ext.y;
      const phiA = em.yaw + ext.yaw + columnAzimuth(cfg, c0);
      const phiB = em.yaw + ext.yaw + columnAzimuth(cfg, c1);
      const phiMid = (phiA + phiB) / 2;
      const halfSpan = Math.abs(phiB - phiA) / 2 + 0.02;
      cullSector(sectorObjects, near, world, tMid, sox, soy, phiMid, halfSpan, maxR);
      const nObj = sectorObjects.length;

      for (let col = c0; col < c1; col++) {
        const dtCol = (col * period) / cfg.columns;
        const ep = world.egoPose(t0 + dtCol);
        const ce = Math.cos(ep.yaw);
        const se = Math.sin(ep.yaw);
        const ox = ep.x + ce * ext.x - se * ext.y;
        const oy = ep.y + se * ext.x + ce * ext.y;
        const az = columnAzimuth(cfg, col);
        const phi = ep.yaw + ext.yaw + az;
        const ch = Math.cos(phi);
        const sh = Math.sin(phi);
        const caz = Math.cos(az);
        const saz = Math.sin(az);
        const tNs = Math.round(dtCol * 1e9);
        // Sloped ground beside the street: every beam's ground distance from one shared profile.
        if (terrain !== null) terrain.columnHits(ox, oy, oz, ch, sh, tanB, maxR, groundRho);
        // Horizontal slab test per object: the same for every beam of the column.
        let nHits = 0;
        for (let k = 0; k < nObj; k++) {
          const o = sectorObjects[k]!;
          const dx = ox - o.x;
          const dy = oy - o.y;
          const lx = dx * o.c + dy * o.s;
          const ly = -dx * o.s + dy * o.c;
          const dxl = ch * o.c + sh * o.s;
          const dyl = -ch * o.s + sh * o.c;
          if (!footprintSlab(lx, ly, dxl, dyl, o.hl, o.hw, o.round)) continue;
          const tin = SLAB[0]!, tout = SLAB[1]!;
          // Behind, missed, or the sensor is inside the footprint: no return from this object.
          if (tin <= 0 || tout < tin || tin > maxR) continue;
          if (nHits < 32) {
            hitRho[nHits * 2] = tin;
            hitRho[nHits * 2 + 1] = tout;
            hitIdx[nHits] = k;
            nHits++;
          }
        }
        for (let b = 0; b < beams; b++) {
          const te = tanB[b]!;
          let best = terrain !== null ? groundRho[b]! : te < 0 ? -oz / te : Infinity;
          let inten = 8 + (best < 12 ? 6 : 0);
          for (let h = 0; h < nHits; h++) {
            const o = sectorObjects[hitIdx[h]!]!;
            const rin = hitRho[h * 2]!;
            if (rin >= best) continue;
            const zin = oz + rin * te;
            let rho = -1;
            if (zin >= o.z0 && zin <= o.z1) rho = rin;
            else if (zin > o.z1 && te < 0) {
              const rt = (o.z1 - oz) / te;
              if (rt <= hitRho[h * 2 + 1]!) rho = rt;
            } else if (zin < o.z0 && te > 0) {
              const rb = (o.z0 - oz) / te;
              if (rb <= hitRho[h * 2 + 1]!) rho = rb;
            }
            if (rho > 0 && o.porosity > 0) {
              // Leaves: some rays slip through, the rest return from somewhere inside the crown or hedge.
              if (rng.float() < FOLIAGE_PASS) continue;
              rho = Math.min(rho + rng.float() * o.porosity, hitRho[h * 2 + 1]!);
            }
            if (rho > 0 && rho < best) {
              best = rho;
              inten = o.intensity;
            }
          }
          if (best === Infinity) continue;
          let range = best / cosB[b]!;
          if (range > maxR || range < minR) continue;
          range += noise * rng.normal();
          const horiz = range * cosB[b]!;
          const fi = n * 6;
          f32[fi] = horiz * caz;
          f32[fi + 1] = horiz * saz;
          f32[fi + 2] = range * sinB[b]!;
          f32[fi + 3] = Math.max(0, inten + 3 * rng.normal());
          u32[fi + 4] = tNs;
          u16[n * 12 + 10] = b;
          u16[n * 12 + 11] = 0;
          n++;
        }
      }
    }
    return { data: new Uint8Array(this.#buffer, 0, n * POINT_STEP), points: n };
  }

  /**
   * The tilted mount, ray by ray: world direction = Rz(ego yaw + mount yaw) · Ry(pitch)·Rx(roll) ·
   * d_lidar; the nearest of the ground plane z = 0 and each box (3D slab test) is the return,
   * written at range · d_lidar in the lidar frame. Same noise, intensity and foliage as the level path.
   */
  #sweepTilted(tilt: TiltTables, world: World, t0: number, structure: readonly Box[], rng: Prng): Sweep {
    const cfg = this.#cfg;
    const period = 1 / cfg.rateHz;
    const f32 = new Float32Array(this.#buffer);
    const u32 = new Uint32Array(this.#buffer);
    const u16 = new Uint16Array(this.#buffer);
    const beams = cfg.beams;
    const ext = cfg.extrinsics;
    const oz = ext.z;
    const maxR = cfg.maxRange;
    const minR = cfg.minRange;
    const noise = cfg.rangeNoiseStd;
    const cosB = this.#cos;
    const sinB = this.#sin;
    const dir = tilt.dir;
    const e0 = world.egoPose(t0);
    const reach = maxR + 30;
    const near = structure.filter((b) => Math.abs(b.x - e0.x) < reach + b.hl && Math.abs(b.y - e0.y) < reach + b.hl);
    const sectorObjects: SectorObject[] = [];
    // Per object of the sector: the sensor origin in the box frame (updated per column).
    let lxs = new Float64Array(64);
    let lys = new Float64Array(64);
    // Per column: the sector objects whose bounding circle some beam of the column can reach.
    let cand = new Int32Array(64);
    const terrain = world.terrain;
    let n = 0;
    for (let c0 = 0, sector = 0; c0 < cfg.columns; c0 += this.#sectorColumns, sector++) {
      const c1 = Math.min(cfg.columns, c0 + this.#sectorColumns);
      const tMid = t0 + (((c0 + c1) / 2) * period) / cfg.columns;
      const em = world.egoPose(tMid);
      const sox = em.x + Math.cos(em.yaw) * ext.x - Math.sin(em.yaw) * ext.y;
      const soy = em.y + Math.sin(em.yaw) * ext.x + Math.cos(em.yaw) * ext.y;
      // The beams' horizontal azimuths spread about the column's with the tilt (more for steep beams).
      const azMid = (columnAzimuth(cfg, c0) + columnAzimuth(cfg, c1)) / 2;
      const lo = tilt.spanLo[sector]!;
      const hi = tilt.spanHi[sector]!;
      const phiMid = em.yaw + ext.yaw + azMid + (lo + hi) / 2;
      const halfSpan = (hi - lo) / 2 + 0.02;
      cullSector(sectorObjects, near, world, tMid, sox, soy, phiMid, halfSpan, maxR);
      const nObj = sectorObjects.length;
      if (nObj > lxs.length) {
        lxs = new Float64Array(nObj * 2);
        lys = new Float64Array(nObj * 2);
        cand = new Int32Array(nObj * 2);
      }

      for (let col = c0; col < c1; col++) {
        const dtCol = (col * period) / cfg.columns;
        const ep = world.egoPose(t0 + dtCol);
        const ce = Math.cos(ep.yaw);
        const se = Math.sin(ep.yaw);
        const ox = ep.x + ce * ext.x - se * ext.y;
        const oy = ep.y + se * ext.x + ce * ext.y;
        const phi = ep.yaw + ext.yaw;
        const ch = Math.cos(phi);
        const sh = Math.sin(phi);
        const az = columnAzimuth(cfg, col);
        const caz = Math.cos(az);
        const saz = Math.sin(az);
        const tNs = Math.round(dtCol * 1e9);
        const colPhi = phi + az;
        const colHalf = tilt.colHalf[col]! + 1e-3;
        let nCand = 0;
        for (let k = 0; k < nObj; k++) {
          const o = sectorObjects[k]!;
          const dx = ox - o.x;
          const dy = oy - o.y;
          const dist = Math.hypot(dx, dy);
          const radius = Math.hypot(o.hl, o.hw) + 0.5;
          if (dist > radius) {
            let diff = Math.atan2(-dy, -dx) - colPhi;
            diff -= 2 * Math.PI * Math.round(diff / (2 * Math.PI));
            if (Math.abs(diff) > colHalf + Math.asin(radius / dist)) continue;
          }
          lxs[k] = dx * o.c + dy * o.s;
          lys[k] = -dx * o.s + dy * o.c;
          cand[nCand++] = k;
        }
        for (let b = 0; b < beams; b++) {
          const i = (col * beams + b) * 3;
          const mx = dir[i]!;
          const my = dir[i + 1]!;
          const wz = dir[i + 2]!;
          const wx = ch * mx - sh * my;
          const wy = sh * mx + ch * my;
          let best = wz < 0 ? -oz / wz : Infinity;
          if (terrain !== null) {
            // Flat street where the ray meets z = 0 and halfway there: that hit stands; otherwise march.
            const wh = Math.sqrt(wx * wx + wy * wy);
            const onStreet = best !== Infinity && terrain.heightAt(ox + best * wx, oy + best * wy) === 0 && terrain.heightAt(ox + 0.5 * best * wx, oy + 0.5 * best * wy) === 0;
            if (!onStreet && wh > 1e-9) best = terrain.rayHit(ox, oy, oz, wx / wh, wy / wh, wz / wh, maxR * wh) / wh;
          }
          let inten = 8 + (best * Math.sqrt(Math.max(0, 1 - wz * wz)) < 12 ? 6 : 0);
          for (let j = 0; j < nCand; j++) {
            const k = cand[j]!;
            const o = sectorObjects[k]!;
            // Slabs in the box frame: x along its yaw, y across, z up.
            const dxl = wx * o.c + wy * o.s;
            const dyl = -wx * o.s + wy * o.c;
            const lx = lxs[k]!;
            const ly = lys[k]!;
            if (!footprintSlab(lx, ly, dxl, dyl, o.hl, o.hw, o.round)) continue;
            let tin = SLAB[0]!, tout = SLAB[1]!;
            if (Math.abs(wz) < 1e-12) {
              if (oz < o.z0 || oz > o.z1) continue;
            } else {
              let ta = (o.z0 - oz) / wz;
              let tb = (o.z1 - oz) / wz;
              if (ta > tb) [ta, tb] = [tb, ta];
              if (ta > tin) tin = ta;
              if (tb < tout) tout = tb;
            }
            // Behind, missed, beyond a nearer return, or the sensor is inside the box.
            if (tin <= 0 || tout < tin || tin >= best) continue;
            let rho = tin;
            if (o.porosity > 0) {
              if (rng.float() < FOLIAGE_PASS) continue;
              rho = Math.min(rho + rng.float() * o.porosity, tout);
            }
            if (rho < best) {
              best = rho;
              inten = o.intensity;
            }
          }
          if (best === Infinity) continue;
          let range = best;
          if (range > maxR || range < minR) continue;
          range += noise * rng.normal();
          const horiz = range * cosB[b]!;
          const fi = n * 6;
          f32[fi] = horiz * caz;
          f32[fi + 1] = horiz * saz;
          f32[fi + 2] = range * sinB[b]!;
          f32[fi + 3] = Math.max(0, inten + 3 * rng.normal());
          u32[fi + 4] = tNs;
          u16[n * 12 + 10] = b;
          u16[n * 12 + 11] = 0;
          n++;
        }
      }
    }
    return { data: new Uint8Array(this.#buffer, 0, n * POINT_STEP), points: n };
  }
}
