/**
 * Ground: a polar grid (range bins × azimuth sectors) of each cell's lowest and highest return,
 * followed outward per sector from the ego's wheels with a slope limit and a capped rise across
 * gaps — the sector-wise line-fit ground of Himmelsbach et al. 2010 ("Fast segmentation of 3D
 * point clouds for ground vehicles"). Slopes and a mount tilt of a few degrees are followed;
 * curbs, cars and walls are not taken as ground.
 *
 * The radial follower cannot pick the ground up again behind a hedge, wall or parked row when it
 * has risen or fallen meanwhile (its allowance across a gap is capped so that a far car's lowest
 * beam is not taken for ground). `reclaimGround` then takes region-wise evidence instead, as
 * Patchwork++ (Lee et al. 2022, "Patchwork++: Fast and robust ground segmentation solving partial
 * under-segmentation using 3D point cloud") judges each patch on its own: rejected cells whose
 * returns lie flat (no vertical face) and join their neighbours smoothly form regions, and a
 * region wider than any vehicle's top is ground (a lawn, a forecourt, an embankment).
 *
 * Real sensors also return from below the road: a beam mirrored by glass, a car body or wet asphalt
 * comes back late, as if from metres underground. Patchwork++ removes such "reflected noise"
 * before fitting; here a lowest return deeper than the road could descend to its range is not
 * taken as ground (see `followGround`).
 */

/** A ground cell whose returns spread higher than this (m) holds a vertical face. */
const VERTICAL_FACE = 0.4;

export interface GroundGrid {
  /** Per cell (range bin · sectors + sector): lowest and highest return (m, base_link z); ±Infinity where empty. */
  groundMin: Float32Array;
  groundMax: Float32Array;
  /** Written: the ground height per cell. */
  ground: Float32Array;
  /** Written: per sector, the range (m) of the nearest cell whose lowest return was taken as ground; Infinity when none. */
  firstGround: Float32Array;
  sectors: number;
  ranges: number;
  groundBin: number;
  maxGroundSlope: number;
  maxGroundRise: number;
  /** Deepest step (m) the ground takes beyond its slope limit from the wheels (a kerb); a lowest return deeper is a reflection. */
  belowGroundStep: number;
}

/** Follows the ground outward in every sector (ground at the wheels: z = 0 in base_link). */
export function followGround(o: GroundGrid): void {
  const { groundMin, groundMax, ground, firstGround, sectors } = o;
  const slope = o.maxGroundSlope * o.groundBin;
  firstGround.fill(Infinity);
  for (let s = 0; s < sectors; s++) {
    // grad: the sector's recent ground gradient (per bin), so a rejected cell (curb, car) gets
    // the ground continued along the slope rather than held level (a held level would put a
    // curb on a rising road one bin's rise higher, above the obstacle height).
    let prev = 0, prevG = 0, grad = 0;
    for (let g = 0; g < o.ranges; g++) {
      const cell = g * sectors + s;
      const m = groundMin[cell]!;
      // A cell's lowest point is ground if it continues the slope from the last ground cell (the
      // allowed rise grows over empty or masked cells); if it is lower, the ground dips.
      // The rise allowed beyond the sector's gradient is capped (maxGroundRise): across a gap
      // with no ground returns (occluded by the vehicle itself) an uncapped slope allowance
      // would take a far vehicle's lowest beam on its rear face for ground.
      // Before the first ground return (under and just ahead of the ego) the ground is followed
      // from the wheels at the full slope, unless the cell holds a vertical face (returns spread
      // over more than VERTICAL_FACE m): the bottom of a vehicle's face just ahead is not ground.
      const gap = g - prevG;
      const vertical = groundMax[cell]! - m > VERTICAL_FACE;
      const rise = vertical ? 0 : prevG === 0 ? slope * gap : Math.min(slope * gap, o.maxGroundRise);
      // A lowest return deeper than any road could descend from the wheels to its range (the
      // slope limit, plus a kerb's step) is a reflection, not ground (Patchwork++'s reflected
      // noise: beams mirrored by glass, car bodies or wet asphalt, returning from "below" the
      // road; on the real sweeps 2–10 m below it). Taken as ground, it sank the sector's ground
      // by metres, every return beyond it then seemed metres high: a car became structure.
      const reflected = m < -o.maxGroundSlope * g * o.groundBin - o.belowGroundStep;
      if (!reflected && m <= prev + grad * gap + rise + 0.05) {
        if (g > prevG && prevG > 0) {
          const d = (m - prev) / (g - prevG);
          grad = 0.5 * grad + 0.5 * Math.max(-slope, Math.min(slope, d));
        }
        prev = m;
        prevG = g;
        ground[cell] = m;
        if (firstGround[s] === Infinity && m !== Infinity) firstGround[s] = g * o.groundBin;
      } else {
        ground[cell] = prev + Math.max(0, grad) * (g - prevG);
      }
    }
  }
}

/** Sector index from a pseudo-angle (monotonic in the true angle, no trigonometry). */
export function sectorOf(x: number, y: number, sectors: number): number {
  // Diamond angle in [0, 4).
  let d: number;
  if (y >= 0) d = x >= 0 ? y / (x + y || 1) : 1 - x / (-x + y);
  else d = x < 0 ? 2 - y / (-x - y) : 3 + x / (x - y);
  const s = ((d * sectors) / 4) | 0;
  return s >= sectors ? sectors - 1 : s;
}

/** Returns within one cell spread at most this much (m) on a lawn or a forecourt seen from afar. */
const FLAT_SPREAD = 0.3;
/** Smallest reclaimed region (m²) and its least extent (m): more than a vehicle's top can show. */
const REGION_AREA = 30;
const REGION_EXTENT = 8;
/** A long region no wider than a ring is ground within this (m, mean) above the follower's ground. */
const NEAR_GROUND = 0.6;
/** Widest radial gap (m) between two returns of one ground region (rings far out). */
const RING_GAP = 6;

/**
 * Region-wise second pass (see the header): cells the follower refused whose lowest returns form a
 * smooth surface over more than REGION_AREA m² and REGION_EXTENT m become ground, and obstacle
 * cells amid such a region get its height around them instead of the follower's extrapolation.
 * Returns the number of cells reclaimed.
 */
export function reclaimGround(o: GroundGrid, scratch: { label: Int32Array; queue: Int32Array }): number {
  const { groundMin, groundMax, ground, sectors, ranges } = o;
  const cells = sectors * ranges;
  const label = scratch.label, queue = scratch.queue;
  label.fill(0, 0, cells);
  const dTheta = (2 * Math.PI) / sectors;
  const candidate = (c: number): boolean => groundMin[c]! !== Infinity && ground[c]! !== groundMin[c]! && groundMax[c]! - groundMin[c]! <= FLAT_SPREAD;
  let next = 0, reclaimed = 0;
  for (let start = 0; start < cells; start++) {
    if (label[start] !== 0 || !candidate(start)) continue;
    const id = ++next;
    label[start] = id;
    let head = 0, tail = 0;
    queue[tail++] = start;
    let area = 0, gMin = ranges, gMax = 0, above = 0;
    let sMin = sectors, sMax = -1;
    while (head < tail) {
      const c = queue[head++]!;
      const g = (c / sectors) | 0, s = c - g * sectors;
      const r = (g + 0.5) * o.groundBin;
      area += o.groundBin * r * dTheta;
      if (g < gMin) gMin = g;
      if (g > gMax) gMax = g;
      if (s < sMin) sMin = s;
      if (s > sMax) sMax = s;
      const m = groundMin[c]!;
      above += m - ground[c]!;
      for (let k = 0; k < 8; k++) {
        // Radially the next cell with returns, up to RING_GAP m away: far out a sweep's rings
        // cross the ground metres apart, with empty cells between them. Across, the next sector
        // one bin in, level or out: a ring crossing a slope drifts from bin to bin.
        let ng = g, ns = s;
        if (k < 2) {
          const dir = k === 0 ? -1 : 1;
          ng = g + dir;
          while (ng >= 0 && ng < ranges && groundMin[ng * sectors + s]! === Infinity && Math.abs(ng - g) * o.groundBin < RING_GAP) ng += dir;
        } else {
          ns = k < 5 ? (s + sectors - 1) % sectors : (s + 1) % sectors;
          ng = g + ((k - 2) % 3) - 1;
        }
        if (ng < 0 || ng >= ranges) continue;
        const n = ng * sectors + ns;
        if (label[n] !== 0 || !candidate(n)) continue;
        const dist = k < 2 ? Math.abs(ng - g) * o.groundBin : Math.hypot(r * dTheta, (ng - g) * o.groundBin);
        if (Math.abs(groundMin[n]! - m) > o.maxGroundSlope * dist + 0.1) continue;
        label[n] = id;
        queue[tail++] = n;
      }
    }
    const radial = (gMax - gMin + 1) * o.groundBin;
    const across = (sMax - sMin + 1) * dTheta * ((gMin + gMax + 1) / 2) * o.groundBin;
    // Wide enough for no vehicle top, or long and close above the ground the follower extrapolated
    // (one ring grazing a far rise is a thin arc; a car's top is shorter, a wall's higher).
    const long = Math.max(radial, across) >= REGION_EXTENT;
    if (!long || (area < REGION_AREA && above / tail > NEAR_GROUND)) {
      for (let i = 0; i < tail; i++) label[queue[i]!] = -1;
      continue;
    }
    for (let i = 0; i < tail; i++) ground[queue[i]!] = groundMin[queue[i]!]!;
    reclaimed += tail;
  }
  if (reclaimed === 0) return 0;
  // Obstacle cells amid reclaimed ground (a car parked on a sloped lot): the mean of the
  // reclaimed cells within two bins and two sectors, where that is above the follower's guess.
  for (let c = 0; c < cells; c++) {
    if (label[c]! > 0 || groundMin[c]! === Infinity || ground[c]! === groundMin[c]!) continue;
    const g = (c / sectors) | 0, s = c - g * sectors;
    let sum = 0, n = 0;
    for (let dg = -2; dg <= 2; dg++) {
      const ng = g + dg;
      if (ng < 0 || ng >= ranges) continue;
      for (let ds = -2; ds <= 2; ds++) {
        const nc = ng * sectors + ((s + ds + sectors) % sectors);
        if (label[nc]! > 0) {
          sum += ground[nc]!;
          n++;
        }
      }
    }
    if (n >= 3) ground[c] = sum / n;
  }
  return reclaimed;
}
