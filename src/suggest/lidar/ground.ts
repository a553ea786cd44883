/**
 * Ground: a polar grid (range bins × azimuth sectors) of each cell's lowest and highest return,
 * followed outward per sector from the ego's wheels with a slope limit and a capped rise across
 * gaps — the sector-wise line-fit ground of Himmelsbach et al. 2010 ("Fast segmentation of 3D
 * point clouds for ground vehicles"). Slopes and a mount tilt of a few degrees are followed;
 * curbs, cars and walls are not taken as ground.
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
      if (m <= prev + grad * gap + rise + 0.05) {
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
