/**
 * Box fitting: the L-shape search of Zhang et al. 2017 ("Efficient L-shape fitting for vehicle
 * detection using laser scanners", closeness criterion) over headings 0–90°, and the completion
 * of a box to its class prior on the sides the sensor did not see, never on the sides it did.
 */
import type { Box3D } from "../types.js";
import { classify } from "./classify.js";
import { CLASS_PRIORS, type Proposal } from "./proposal.js";

export const ANGLE_STEPS = 45;
/**
 * Share of cells trimmed from each end when a cluster no road user fits is read again: a stray
 * cell (a mirror, a kerb stone, a branch touching it) widens a car past any car's width; its
 * extents as order statistics a few percent in from each end (a trimmed range) show the body.
 */
const TRIM = 0.04;
export const COS = new Float64Array(ANGLE_STEPS);
export const SIN = new Float64Array(ANGLE_STEPS);
for (let i = 0; i < ANGLE_STEPS; i++) {
  COS[i] = Math.cos(((Math.PI / 2) * i) / ANGLE_STEPS);
  SIN[i] = Math.sin(((Math.PI / 2) * i) / ANGLE_STEPS);
}


/**
 * Whether the sensor saw through a point (x, y in base_link) at body height: the nearest return on
 * its bearing lies beyond it (visibility.ts `seenThrough`).
 */
export type SeenThrough = (x: number, y: number) => boolean;

/** Step (m) of the completion's search outward from a visible edge. */
const GROW_STEP = 0.25;
/**
 * Share of a line across the extension seen through that contradicts growing the box past it: an
 * end the sensor saw past is where the object ends (most of a line, not one bin: a beam can slip
 * between a dark car's returns).
 */
const SEEN_THROUGH_SHARE = 0.5;

/**
 * L-shape fit (closeness criterion, Zhang et al. 2017) over headings 0..90°, then extents, class,
 * and completion of the unseen sides from the class prior — only as far as `seen` says the sensor
 * did not see past them.
 */
export function fitCluster(xs: Float64Array, ys: Float64Array, n: number, height: number, cellSize: number, topOnly = false, seen?: SeenThrough): Proposal | null {
  let best = -Infinity, bestSpread = Infinity, bestI = 0;
  const d0 = Math.max(cellSize, 0.05);
  const c1 = new Float64Array(n), c2 = new Float64Array(n);
  for (let ai = 0; ai < ANGLE_STEPS; ai++) {
    const ca = COS[ai]!, sa = SIN[ai]!;
    let min1 = Infinity, max1 = -Infinity, min2 = Infinity, max2 = -Infinity;
    for (let k = 0; k < n; k++) {
      const u = ca * xs[k]! + sa * ys[k]!;
      const v = -sa * xs[k]! + ca * ys[k]!;
      c1[k] = u;
      c2[k] = v;
      if (u < min1) min1 = u;
      if (u > max1) max1 = u;
      if (v < min2) min2 = v;
      if (v > max2) max2 = v;
    }
    let score = 0, spread = 0;
    for (let k = 0; k < n; k++) {
      const e1 = Math.min(max1 - c1[k]!, c1[k]! - min1);
      const e2 = Math.min(max2 - c2[k]!, c2[k]! - min2);
      const e = Math.min(e1, e2);
      score += 1 / Math.max(e, d0);
      spread += e;
    }
    // A thin face (one side of a far vehicle) is within d0 of its box edge over a range of
    // headings: all score alike, so the one hugging the points closest decides (else the first,
    // axis-aligned heading wins and the face is read up to ~15° off).
    if (score > best * (1 + 1e-9) || (score >= best * (1 - 1e-9) && spread < bestSpread)) {
      best = score;
      bestSpread = spread;
      bestI = ai;
    }
  }
  let yaw = ((Math.PI / 2) * bestI) / ANGLE_STEPS;
  const extents = (t: number, trim = 0): Extents => {
    const u = { x: Math.cos(t), y: Math.sin(t) }, v = { x: -Math.sin(t), y: Math.cos(t) };
    let min1 = Infinity, max1 = -Infinity, min2 = Infinity, max2 = -Infinity;
    const cut = Math.floor(n * trim);
    if (cut === 0) {
      for (let k = 0; k < n; k++) {
        const p = u.x * xs[k]! + u.y * ys[k]!, q = v.x * xs[k]! + v.y * ys[k]!;
        if (p < min1) min1 = p;
        if (p > max1) max1 = p;
        if (q < min2) min2 = q;
        if (q > max2) max2 = q;
      }
    } else {
      // Trimmed: order statistics (only for the re-read of a cluster no road user fit).
      const ps = new Float64Array(n), qs = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        ps[k] = u.x * xs[k]! + u.y * ys[k]!;
        qs[k] = v.x * xs[k]! + v.y * ys[k]!;
      }
      ps.sort();
      qs.sort();
      [min1, max1, min2, max2] = [ps[cut]!, ps[n - 1 - cut]!, qs[cut]!, qs[n - 1 - cut]!];
    }
    // Cell centroids sit inside their cells; a quarter cell each side matches the true edges best on the sim drives.
    const h = cellSize / 4;
    return { u, v, along: [min1 - h, max1 + h], across: [min2 - h, max2 + h] };
  };
  let trim = 0;
  let ext = extents(yaw);
  let { category, confidence } = classify(Math.max(ext.along[1] - ext.along[0], ext.across[1] - ext.across[0]), Math.min(ext.along[1] - ext.along[0], ext.across[1] - ext.across[0]), height);
  if (category === "unknown" && n >= 20) {
    // Robust re-read: the trimmed extents, kept only if a road user fits them.
    const t = extents(yaw, TRIM);
    const a = t.along[1] - t.along[0], b = t.across[1] - t.across[0];
    const again = classify(Math.max(a, b), Math.min(a, b), height);
    if (again.category !== "unknown") {
      trim = TRIM;
      ext = t;
      ({ category, confidence } = again);
    }
  }
  // Length is the longer edge (the 90° ambiguity); the heading sign is left to the tracker.
  if (ext.across[1] - ext.across[0] > ext.along[1] - ext.along[0]) {
    yaw += Math.PI / 2;
    ext = extents(yaw, trim);
  }
  if (category === "car" || category === "truck") {
    // One face seen roughly square-on to the line of sight and no longer than the class's width
    // is a rear or front (the car ahead in the lane, a truck pulling away), not a side: the
    // length runs across that face, away from the sensor. Without this the box is completed
    // sideways (BEV IoU ~0.1 for every vehicle seen from behind).
    const face = ext.along[1] - ext.along[0], depth = ext.across[1] - ext.across[0];
    const mid = ((ext.along[0] + ext.along[1]) / 2), midV = (ext.across[0] + ext.across[1]) / 2;
    const cx = ext.u.x * mid + ext.v.x * midV, cy = ext.u.y * mid + ext.v.y * midV;
    const squareOn = Math.abs(Math.cos(yaw - Math.atan2(cy, cx))) < 0.6;
    if (squareOn && depth < face && face <= CLASS_PRIORS[category].width * 1.35) {
      yaw += Math.PI / 2;
      ext = extents(yaw, trim);
    }
  }
  let a0 = ext.along[0], a1 = ext.along[1], b0 = ext.across[0], b1 = ext.across[1];
  if (category !== "unknown") {
    // Only a vehicle's completion is checked against the free space: a person's or a rider's box
    // is smaller than the map (0.25° bins, 0.25 m steps) can tell.
    const vehicle = category === "car" || category === "truck";
    [a0, a1, b0, b1] = complete(ext, CLASS_PRIORS[category], topOnly, vehicle ? seen : undefined);
  }
  const axU = ext.u, axV = ext.v, along = ext.along, across = ext.across;
  const e1 = along[1] - along[0], e2 = across[1] - across[0];
  const mu = (a0 + a1) / 2, mv = (b0 + b1) / 2;
  const vu = (along[0]! + along[1]!) / 2, vv = (across[0]! + across[1]!) / 2;
  const visible: Box3D = { x: axU.x * vu + axV.x * vv, y: axU.y * vu + axV.y * vv, z: height / 2, yaw: normalizeAngle(yaw), length: e1, width: e2, height: Math.max(height, 0.2) };
  return {
    visible,
    box: {
      x: axU.x * mu + axV.x * mv,
      y: axU.y * mu + axV.y * mv,
      z: height / 2,
      yaw: normalizeAngle(yaw),
      length: a1 - a0,
      width: b1 - b0,
      height: Math.max(height, 0.2),
    },
    category,
    confidence,
    points: 0,
    ...(topOnly ? { topOnly: true } : {}),
    features: { points: 0, range: 0, top: height, bottom: 0, linearity: 0, planarity: 0, scattering: 0, verticality: 0, edgeResidual: bestSpread / Math.max(1, n) },
  };
}

interface Extents {
  u: { x: number; y: number };
  v: { x: number; y: number };
  along: [number, number];
  across: [number, number];
}

/**
 * The visible extents grown to `prior` (length along u) on the sides away from the sensor (at the
 * origin), around the returns when only the top was seen (in a nearer object's shadow, nothing is
 * seen past it). With `seen`, the growth stops at the first line across it that the sensor saw
 * through (Hu et al. 2020: free space contradicts an object there): a car whose far end was seen
 * keeps its own length, a wall's or a cab's piece is not stretched to a truck's 9 m over open road.
 */
function complete(ext: Extents, prior: { length: number; width: number }, topOnly: boolean, seen?: SeenThrough): [number, number, number, number] {
  const { u, v } = ext;
  const grow = (lo: number, hi: number, want: number, across: readonly [number, number], alongU: boolean): [number, number] => {
    const missing = want - (hi - lo);
    if (missing <= 0) return [lo, hi];
    if (topOnly) return [lo - missing / 2, hi + missing / 2];
    const dir = (lo + hi) / 2 >= 0 ? 1 : -1;
    if (seen === undefined) return dir > 0 ? [lo, hi + missing] : [lo - missing, hi];
    // How far (up to `most`) past `edge` in direction `d` the sensor did not see through.
    const samples = Math.max(1, Math.round((across[1] - across[0]) / GROW_STEP));
    const reach = (edge: number, d: number, most: number): number => {
      for (let li = 1; li <= Math.ceil(most / GROW_STEP); li++) {
        const at = edge + d * Math.min(li * GROW_STEP, most);
        let through = 0;
        for (let k = 0; k < samples; k++) {
          const w = across[0] + ((k + 0.5) * (across[1] - across[0])) / samples;
          const pu = alongU ? at : w, pv = alongU ? w : at;
          if (seen(u.x * pu + v.x * pv, u.y * pu + v.y * pv)) through++;
        }
        if (through > SEEN_THROUGH_SHARE * samples) return Math.min((li - 1) * GROW_STEP, most);
      }
      return most;
    };
    // Away from the sensor first; what the free space leaves over goes to the other end, where a
    // nearer object (the car in front in a parked row) may hide it.
    const away = reach(dir > 0 ? hi : lo, dir, missing);
    const back = away < missing ? reach(dir > 0 ? lo : hi, -dir, missing - away) : 0;
    return dir > 0 ? [lo - back, hi + away] : [lo - away, hi + back];
  };
  const [a0, a1] = grow(ext.along[0], ext.along[1], prior.length, ext.across, true);
  const [b0, b1] = grow(ext.across[0], ext.across[1], prior.width, [a0, a1], false);
  return [a0, a1, b0, b1];
}

/**
 * Completes a visible box to `prior` in its own axes (length along yaw) by the same rule as the
 * proposer's own boxes (`complete`): each missing extent is added on the side away from the sensor
 * at (sx, sy), since only the sides facing it were seen, and with `seen` (tracking frame) it stops
 * where the sensor saw through; evenly around the returns when only the top was seen. The tracker
 * uses it to complete a moving track's partial view along its heading.
 */
export function growBox(visible: Box3D, prior: { length: number; width: number }, sx: number, sy: number, topOnly = false, seen?: SeenThrough): Box3D {
  const u = { x: Math.cos(visible.yaw), y: Math.sin(visible.yaw) }, v = { x: -u.y, y: u.x };
  // `complete` works in axes through the sensor.
  const cu = u.x * (visible.x - sx) + u.y * (visible.y - sy), cv = v.x * (visible.x - sx) + v.y * (visible.y - sy);
  const ext: Extents = { u, v, along: [cu - visible.length / 2, cu + visible.length / 2], across: [cv - visible.width / 2, cv + visible.width / 2] };
  const [a0, a1, b0, b1] = complete(ext, prior, topOnly, seen === undefined ? undefined : (x, y) => seen(x + sx, y + sy));
  const mu = (a0 + a1) / 2, mv = (b0 + b1) / 2;
  return { ...visible, x: sx + u.x * mu + v.x * mv, y: sy + u.y * mu + v.y * mv, length: a1 - a0, width: b1 - b0 };
}

export function normalizeAngle(a: number): number {
  return a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
}
