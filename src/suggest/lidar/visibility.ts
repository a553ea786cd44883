/**
 * What the sensor could and could not see (visibility reasoning after Hu et al. 2020, "What You
 * See Is What You Get: Exploiting Visibility for 3D Object Detection"): an occlusion map of the
 * nearest return per azimuth bin, and the tests built on it.
 */
import type { LidarMount } from "./cloud.js";
import { sectorOf } from "./ground.js";
import type { Proposal } from "./proposal.js";

/** Azimuth bins of the occlusion map (0.25°). */
export const AZ_BINS = 1440;
/** Returns up to this height (m above the local ground) hide the body of a road user behind them. */
export const BODY_TOP = 2.0;
/**
 * A view thinner than this (m) shows no second face of a vehicle whole (every car is wider): one
 * side or one end, with what foliage or a kerb adds in depth. Its length is only what the
 * shadows left of it.
 */
const FACE_THICKNESS = 1.3;
/** A nearer return this much (m) in front of a face's end, just beyond it, hides where the face ends. */
const OCCLUDER_MARGIN = 0.6;
/** Bins looked at beyond each end of a face. */
const END_BINS = 3;

export function azBin(dx: number, dy: number): number {
  const a = Math.atan2(dy, dx);
  return Math.min(AZ_BINS - 1, Math.floor(((a + Math.PI) / (2 * Math.PI)) * AZ_BINS));
}

/**
 * A single face (a side, a rear, a wall) whose end lies in a nearer object's shadow: how long it
 * really is was not seen, so its length cannot tell a car's side from a stretch of wall, fence
 * or hedge between two parked cars. Visibility reasoning after Hu et al. 2020 ("What You See Is
 * What You Get: Exploiting Visibility for 3D Object Detection"): per azimuth bin the nearest
 * body-height return says how far the sensor saw; an end with a nearer return just beyond it is
 * occluded, an end with nothing nearer beyond it is where the object really ends.
 */
export function truncatedFace(p: Proposal, xs: Float64Array, ys: Float64Array, n: number, mount: LidarMount, nearAz: Float32Array): boolean {
  if (Math.min(p.visible.length, p.visible.width) > FACE_THICKNESS || n === 0) return false;
  // Bearings relative to the face's centre bearing (no wrap at ±π).
  const c0 = Math.atan2(p.visible.y - mount.y, p.visible.x - mount.x);
  let lo = Infinity, hi = -Infinity, rLo = 0, rHi = 0;
  for (let k = 0; k < n; k++) {
    const dx = xs[k]! - mount.x, dy = ys[k]! - mount.y;
    let a = Math.atan2(dy, dx) - c0;
    a -= 2 * Math.PI * Math.round(a / (2 * Math.PI));
    if (a < lo) {
      lo = a;
      rLo = Math.hypot(dx, dy);
    }
    if (a > hi) {
      hi = a;
      rHi = Math.hypot(dx, dy);
    }
  }
  const hidden = (edge: number, r: number, dir: number): boolean => {
    const step = (2 * Math.PI) / AZ_BINS;
    for (let k = 1; k <= END_BINS; k++) {
      const a = c0 + edge + dir * k * step;
      if (nearAz[azBin(Math.cos(a), Math.sin(a))]! < r - OCCLUDER_MARGIN) return true;
    }
    return false;
  };
  return hidden(lo, rLo, -1) || hidden(hi, rHi, 1);
}

/** Share of an object's bearings with a return that must show a nearer one for the object to be hidden. */
const HIDDEN_SHARE = 0.7;

/**
 * Is an object of radius `reach` (m) centred at (x, y) hidden behind something nearer? Most of
 * the bearings it spans that hold a body-height return show that return in front of it, more
 * than `reach` nearer than its centre. Bearings with no return say nothing (see seenThrough);
 * nothing returned at all is not hidden. A track of an object in another's shadow is not seen
 * and not gone (tracker.ts).
 */
export function hiddenBehind(x: number, y: number, reach: number, mount: LidarMount, nearAz: Float32Array): boolean {
  const dx = x - mount.x, dy = y - mount.y, r = Math.hypot(dx, dy);
  if (r <= reach) return false;
  const c0 = Math.atan2(dy, dx), half = Math.asin(Math.min(1, reach / r)), step = (2 * Math.PI) / AZ_BINS;
  let seen = 0, nearer = 0;
  for (let a = -half; a <= half; a += step) {
    const near = nearAz[azBin(Math.cos(c0 + a), Math.sin(c0 + a))]!;
    if (near === Infinity) continue;
    seen++;
    if (near < r - reach) nearer++;
  }
  return seen > 0 && nearer >= HIDDEN_SHARE * seen;
}

/** A point this far (m) in front of the nearest body-height return on its bearing was seen through. */
const SEEN_THROUGH_MARGIN = 0.3;

/**
 * Whether the sensor saw through (x, y) at body height: the nearest return between the obstacle
 * height and BODY_TOP on its bearing lies beyond it. Free space, in which no object stands (Hu et
 * al. 2020). A bearing with no such return says nothing: a sensor firing every 0.35° (a
 * 1024-column Ouster, the default simulated rig) leaves a third of the 0.25° bins empty.
 */
export function seenThrough(x: number, y: number, mount: LidarMount, nearAz: Float32Array): boolean {
  const dx = x - mount.x, dy = y - mount.y, near = nearAz[azBin(dx, dy)]!;
  return near !== Infinity && near > Math.sqrt(dx * dx + dy * dy) + SEEN_THROUGH_MARGIN;
}

/** A façade is a band of structure cells at least this long (m)… */
const FACADE_MIN_LENGTH = 6;
/** …and at most this thick (m): a wall and the cells its returns scatter into, thinner than a row of tree crowns. */
const FACADE_MAX_THICKNESS = 1.5;
/** A return this far (m) beyond the nearest façade on its bearing is behind it, not against it. */
const FACADE_MARGIN = 1.0;
/** Share of a proposal's returns that must lie behind a façade for it to be inside the building. */
const FACADE_SHARE = 0.9;

/**
 * Does a cluster's nearest part stand where no ground was seen in front of it on its bearing?
 * Under a spinning lidar's lowest beam the ground is blind out to h / tan(θ_min) (about 4 m for a
 * roof-mounted Pandar64 or VLP-32C), and a car in the next lane shows no return below its doors:
 * the ground-contact test cannot be made there (vetClass waives it), as it cannot for a roof seen
 * over a nearer car (topOnly). What the sensor could not see is unknown, not free.
 * `firstGround`: per ground sector the range (m) of its nearest ground cell (ground.ts).
 */
export function bottomHidden(xs: Float64Array, ys: Float64Array, n: number, firstGround: Float32Array, groundBin: number): boolean {
  if (n === 0) return false;
  let near = Infinity, nx = 0, ny = 0;
  for (let k = 0; k < n; k++) {
    const r = Math.hypot(xs[k]!, ys[k]!);
    if (r < near) {
      near = r;
      nx = xs[k]!;
      ny = ys[k]!;
    }
  }
  const sectors = firstGround.length, s = sectorOf(nx, ny, sectors);
  let seen = Infinity;
  for (let d = -1; d <= 1; d++) seen = Math.min(seen, firstGround[(s + d + sectors) % sectors]!);
  return seen > near - groundBin;
}

export interface FacadeSearch {
  /** Per run: 0 for a structure run (see the proposer's structure pass), and the run's BEV cell. */
  nAlive: Uint8Array;
  nCell: Int32Array;
  nodes: number;
  /** The BEV grid: N × N cells of `cellSize` m centred on base_link. */
  gridN: number;
  cellSize: number;
  /** Per-cell scratch stamps, and this sweep's stamp. */
  wall: Uint32Array;
  seen: Uint32Array;
  stamp: number;
  mount: LidarMount;
  /** Written: the nearest façade cell per azimuth bin (m), Infinity where none. */
  facadeAz: Float32Array;
}

/**
 * Building façades among the structure runs: each group of structure cells connected in the
 * bird's-eye grid whose footprint is a long thin band (principal extents, √12·σ, at least
 * FACADE_MIN_LENGTH long and at most FACADE_MAX_THICKNESS thick) is a wall. Rows of street trees
 * are bands as wide as their crowns, and poles are short, so neither counts. Per azimuth bin the
 * nearest façade cell is kept: what lies beyond it on the same bearing was seen through the glass
 * of a shop front or under an arcade or a parking deck, inside the building.
 */
export function findFacades(o: FacadeSearch): void {
  const N = o.gridN, half = (N / 2) | 0, { wall, seen, stamp, facadeAz, nAlive, nCell, cellSize, mount } = o;
  facadeAz.fill(Infinity);
  const cells: number[] = [];
  for (let v = 0; v < o.nodes; v++) {
    if (nAlive[v] !== 0 || wall[nCell[v]!] === stamp) continue;
    wall[nCell[v]!] = stamp;
    cells.push(nCell[v]!);
  }
  const group: number[] = [];
  const step = (2 * Math.PI) / AZ_BINS;
  for (const first of cells) {
    if (seen[first] === stamp) continue;
    seen[first] = stamp;
    group.length = 0;
    group.push(first);
    let sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (let q = 0; q < group.length; q++) {
      const cell = group[q]!;
      const x = (((cell / N) | 0) - half + 0.5) * cellSize, y = ((cell % N) - half + 0.5) * cellSize;
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
      syy += y * y;
      for (let di = -1; di <= 1; di++) {
        for (let dj = -1; dj <= 1; dj++) {
          const nb = cell + di * N + dj;
          if (nb >= 0 && nb < wall.length && wall[nb] === stamp && seen[nb] !== stamp) {
            seen[nb] = stamp;
            group.push(nb);
          }
        }
      }
    }
    const n = group.length, mx = sx / n, my = sy / n;
    const a = sxx / n - mx * mx, b = sxy / n - mx * my, d = syy / n - my * my;
    const mid = (a + d) / 2, disc = Math.sqrt(Math.max(0, ((a - d) / 2) ** 2 + b * b));
    const length = Math.sqrt(12 * (mid + disc)), thickness = Math.sqrt(12 * Math.max(0, mid - disc));
    if (length < FACADE_MIN_LENGTH || thickness > FACADE_MAX_THICKNESS) continue;
    for (const cell of group) {
      const x = (((cell / N) | 0) - half + 0.5) * cellSize - mount.x, y = ((cell % N) - half + 0.5) * cellSize - mount.y;
      const r = Math.hypot(x, y), az = Math.atan2(y, x), w = Math.atan2(0.75 * cellSize, r);
      for (let t = az - w; t <= az + w; t += step) {
        const bin = azBin(Math.cos(t), Math.sin(t));
        if (r < facadeAz[bin]!) facadeAz[bin] = r;
      }
    }
  }
}

/** Do most of a cluster's returns lie more than FACADE_MARGIN beyond a façade on their bearing (`facadeAz` from findFacades)? */
export function behindFacade(xs: Float64Array, ys: Float64Array, n: number, mount: LidarMount, facadeAz: Float32Array): boolean {
  let behind = 0;
  for (let k = 0; k < n; k++) {
    const x = xs[k]! - mount.x, y = ys[k]! - mount.y;
    if (facadeAz[azBin(x, y)]! < Math.sqrt(x * x + y * y) - FACADE_MARGIN) behind++;
  }
  return n > 0 && behind >= FACADE_SHARE * n;
}
