/**
 * Lidar object proposals from one sweep, on typed arrays only (no per-point objects). This file is
 * the pipeline and its segmentation; each other stage is a file of ./lidar/ with its reference
 * (methods and figures in src/suggest/README.md, "Methods"):
 *
 * 1. transform to base_link (the mount's full rotation + translation, lidar/cloud.ts), optional
 *    ego-motion deskew from the per-point time, ego-box mask, range limit;
 * 2. ground (lidar/ground.ts): polar grid of lowest returns followed outward per sector with a
 *    slope limit (sector-wise line fit, Himmelsbach et al. 2010); a point is an obstacle
 *    `obstacleHeight` above it;
 * 3. 2.5D segmentation (here): BEV cells, each cell's column split into vertical runs at gaps wider
 *    than the beam spacing (lidar/sensor.ts; Douillard et al. 2011); structure (runs above
 *    maxHeight) removed; runs linked by union–find across neighbouring cells where their heights meet;
 * 4. a cluster no road user could fill is re-segmented on its cores, low runs grown from them
 *    (marker watershed, Beucher & Meyer 1993); a cluster that reaches into structure, or a compact
 *    "truck" that may be a car under a crown, is read again below the canopy (Douillard et al. 2011);
 * 5. floating parts (roofs over sparse beams), top-only views and the sweep's seam, as the sensor leaves them;
 * 6. per cluster an oriented box by L-shape fit (lidar/fit.ts, closeness criterion, Zhang et al.
 *    2017), completed to the class prior only on the sides not seen and, for a vehicle, only as
 *    far as the sensor did not see past them (free space, Hu et al. 2020);
 * 7. visibility (lidar/visibility.ts, after Hu et al. 2020): faces whose end is hidden, ground not
 *    seen under the lowest beam, what lies behind a building's façade;
 * 8. class from the priors, then `vetClass` over per-cluster features (lidar/classify.ts: ground
 *    contact, heights, covariance eigenvalue features, Weinmann et al. 2015): walls, hedges,
 *    crowns, poles → unknown.
 */
import { z } from "zod";
import { eigen3, TRUCK_MIN_LENGTH, vetClass } from "./lidar/classify.js";
import { mountRotation, timeReader, type EgoMotion, type LidarMount, type PointCloudView } from "./lidar/cloud.js";
import { ANGLE_STEPS, COS, fitCluster, SIN } from "./lidar/fit.js";
import { followGround, reclaimGround, sectorOf } from "./lidar/ground.js";
import type { Proposal } from "./lidar/proposal.js";
import { VGAP_MIN, VGAP_SLOPE } from "./lidar/sensor.js";
import { AZ_BINS, azBin, behindFacade, BODY_TOP, bottomHidden, findFacades, hiddenBehind, seenThrough, truncatedFace } from "./lidar/visibility.js";
import type { ObjectClass } from "./types.js";

export { classify, classifyOriented, vetClass } from "./lidar/classify.js";
export { mountFromTransform, mountRotation, pointCloudView, type EgoMotion, type LidarMount, type PointCloudView } from "./lidar/cloud.js";
export { fitCluster, growBox, normalizeAngle } from "./lidar/fit.js";
export { CLASS_PRIORS, type ClusterFeatures, type Proposal } from "./lidar/proposal.js";

export const LidarProposalConfigSchema = z.strictObject({
  egoBox: z
    .strictObject({
      xMin: z.number().describe("Ego box rear edge (m, base_link x)."),
      xMax: z.number().describe("Ego box front edge (m, base_link x)."),
      yMin: z.number().describe("Ego box right edge (m, base_link y)."),
      yMax: z.number().describe("Ego box left edge (m, base_link y)."),
    })
    .default({ xMin: -1.2, xMax: 4.0, yMin: -1.1, yMax: 1.1 })
    .describe("Box in base_link (m) whose returns are the ego vehicle's own and are masked."),
  maxRange: z.number().positive().default(70).describe("Points farther than this (m, horizontal) are ignored."),
  groundBin: z.number().positive().default(1).describe("Range bin of the polar ground grid (m)."),
  groundSectors: z.number().int().min(8).max(2048).default(256).describe("Azimuth sectors of the polar ground grid."),
  maxGroundSlope: z.number().positive().default(0.15).describe("Largest ground slope followed from one range bin to the next (rise/run)."),
  maxGroundRise: z.number().positive().default(0.15).describe("Largest rise above the extrapolated ground slope accepted as ground across a gap (m)."),
  belowGroundStep: z.number().positive().default(0.3).describe("Deepest step (m) the ground takes below the slope limit from the wheels (a kerb); a lowest return deeper is a reflection, not ground."),
  groundRegions: z.boolean().default(true).describe("Region-wise second ground pass: wide smooth surfaces the radial follower lost behind an occluder are ground (lidar/ground.ts reclaimGround)."),
  obstacleHeight: z.number().positive().default(0.25).describe("Height above the local ground from which a point is an obstacle (m); above a 15 cm curb."),
  maxHeight: z.number().positive().default(5).describe("Returns higher than this above ground (m) mark structure (buildings, trees, poles), never a road user."),
  cellSize: z.number().positive().default(0.25).describe("Bird's-eye clustering cell (m)."),
  minPoints: z.number().int().min(1).default(4).describe("Fewest returns a cluster needs to become a proposal."),
  floatingAbove: z.number().positive().default(0.9).describe("A cluster with nothing below this height (m) is the upper part of a nearer cluster's object."),
  floatingKeepBelow: z.number().positive().default(1.3).describe("A floating cluster with nothing to join is kept (if vehicle-wide: at least 5 cells) when its lowest return is below this (m)."),
  occludedKeepBelow: z.number().positive().default(2.2).describe("A floating cluster whose lower part lies in a nearer object's shadow (a car's roof seen over the car in front) is kept up to this lowest return (m): taller than vans, below road signs' 2.2 m clearance."),
  mergeDistance: z.number().positive().default(6).describe("Farthest a floating cluster is joined to the nearer cluster below its bearing (m)."),
  carMaxTop: z.number().positive().default(2.05).describe("Tallest car or van (m above the local ground, highest return): taller car-sized clusters are hedges, walls or shelters (`unknown`). Set from the class prior and checked leave-one-dataset-out on the real sweeps (src/suggest/README.md)."),
  deskew: z.boolean().default(true).describe("Deskew each point to the sweep start from ego speed and yaw rate (needs the t field)."),
});
export type LidarProposalConfig = z.infer<typeof LidarProposalConfigSchema>;

/**
 * A car read under a canopy (see belowCanopy) shows a small car's length (m) and some depth across
 * it (m: a corner or a roof, two faces): a single straight line is a wall's or fence's foot.
 */
const UNDER_CANOPY_MIN_LENGTH = 3.0;
const UNDER_CANOPY_MIN_DEPTH = 0.5;
/** A cell next to structure this high (m) is structure too: higher than people and cars. */
const STRUCTURE_NEIGHBOUR_HEIGHT = 2.5;

/** Height slice (m) of a cell's column of returns; 32 slices cover the obstacle band. */
const SLICE = 0.2;
/** Runs reaching this high (m) are the cores of an oversize cluster's re-segmentation: cabins and bodies, not bumpers or bonnets. */
const CORE_HEIGHT = 1.2;
/**
 * A cluster longer than a car (m) or wider than any road user is re-segmented on its cores; a
 * truck's body is one core and stays whole.
 */
const OVERSIZE_LENGTH = 6.5;
const OVERSIZE_WIDTH = 3.0;

/** Bits set in a 32-bit word. */
function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Principal-axis extents of a set of nodes' centroids: can one road user fill them? */
function oversize(list: readonly number[], sx: Float64Array, sy: Float64Array, n: Int32Array): boolean {
  let mx = 0, my = 0;
  for (const v of list) {
    mx += sx[v]! / n[v]!;
    my += sy[v]! / n[v]!;
  }
  mx /= list.length;
  my /= list.length;
  let cxx = 0, cxy = 0, cyy = 0;
  for (const v of list) {
    const dx = sx[v]! / n[v]! - mx, dy = sy[v]! / n[v]! - my;
    cxx += dx * dx;
    cxy += dx * dy;
    cyy += dy * dy;
  }
  const t = 0.5 * Math.atan2(2 * cxy, cxx - cyy), ca = Math.cos(t), sa = Math.sin(t);
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (const v of list) {
    const x = sx[v]! / n[v]!, y = sy[v]! / n[v]!;
    const u = ca * x + sa * y, w = -sa * x + ca * y;
    if (u < u0) u0 = u;
    if (u > u1) u1 = u;
    if (w < v0) v0 = w;
    if (w > v1) v1 = w;
  }
  const long = Math.max(u1 - u0, v1 - v0), short = Math.min(u1 - u0, v1 - v0);
  return long > OVERSIZE_LENGTH || short > OVERSIZE_WIDTH;
}

/** Bins (m) along a cluster's heading, and the band (m) under its top, of `topShare`. */
const TOP_BIN = 0.25;
const TOP_BAND = 0.35;
/** A run less than this (m) below a structure run of its cell belongs to the structure. */
const STRUCTURE_CLEARANCE = 1.0;


/** A floating cluster this close (m) to a lower one belongs to it, whatever its bearing. */
const FLOATING_TOUCH = 1.0;
/** Range (m) beyond which clustering links cells two apart (sparser returns). */
const FAR_LINK_RANGE = 25;
/** Cells this many apart along the line of sight (within asin(RADIAL_LINK_SIN) of it) are linked. */
const RADIAL_LINK = 3;
const RADIAL_LINK_SIN = 0.34;
/** A cluster touches the sweep's seam if a cell lies this close (m) to the seam's ray. */
const SEAM_TOUCH = 1.0;
/** Cells this close (m) to the seam's ray give a seam part's nearest range. */
const SEAM_NEAR = 2.0;
/** Fastest object (m/s over ground) whose two seam parts are joined. */
const SEAM_MAX_SPEED = 40;
/** Seam parts this close (m) after the shift touch (adjacent cells, diagonal included). */
const SEAM_JOIN = 0.4;
/** Step (m) of the search for the least touching shift. */
const SEAM_STEP = 0.05;
/** The same-face shift is taken if within this (m) of the least touching one. */
const SEAM_SAME_FACE = 0.5;
/** A sweep's clusters: their runs (order, from start[i] to start[i + 1]), heights, centroids and returns. */
interface ClusterGroups {
  clusters: number;
  start: Int32Array;
  order: Int32Array;
  liveN: number;
  top: Float32Array;
  bottom: Float32Array;
  mx: Float64Array;
  my: Float64Array;
  pts: Int32Array;
}

/** Reusable buffers sized for the largest sweep seen, so a frame allocates (almost) nothing. */
export class LidarProposer {
  readonly #cfg: LidarProposalConfig;
  #px = new Float32Array(0);
  #py = new Float32Array(0);
  #pz = new Float32Array(0);
  #pt = new Float32Array(0);
  #pcell = new Int32Array(0);
  readonly #gridN: number;
  readonly #groundRanges: number;
  readonly #groundMin: Float32Array;
  /** Region labels and the flood queue of the ground's region-wise pass (reclaimGround). */
  readonly #regionScratch: { label: Int32Array; queue: Int32Array };
  readonly #groundMax: Float32Array;
  readonly #ground: Float32Array;
  /** Per ground sector: range (m) of the nearest cell whose lowest return was taken as ground; Infinity when none. */
  readonly #firstGround: Float32Array;
  readonly #cellStamp: Uint32Array;
  /** Per cell: bit s set when a return lies in height slice s (SLICE m each). */
  readonly #cellMask: Uint32Array;
  /** Per cell: bit s set where a vertical run (node) starts. */
  readonly #runStarts: Uint32Array;
  /** Per cell: index of its first node. */
  readonly #cellNode0: Int32Array;
  /** Per cell: its number of nodes. */
  readonly #cellNodes: Uint8Array;
  /** Per cell: the frame stamp when it holds a structure run, and when the façade search has visited it. */
  readonly #cellWall: Uint32Array;
  readonly #cellSeen: Uint32Array;
  /** Nearest façade cell per azimuth bin around the sensor (m); Infinity where none (see visibility.ts `findFacades`). */
  readonly #facadeAz = new Float32Array(AZ_BINS);
  #obsPoint = new Int32Array(0);
  #obsCell = new Int32Array(0);
  // Per node (a vertical run of one cell): returns, sums for centroid and covariance, heights, time.
  #nN = new Int32Array(0);
  #acc = new Float64Array(0);
  #nSx = new Float64Array(0);
  #nSy = new Float64Array(0);
  #nSz = new Float64Array(0);
  #nSxx = new Float64Array(0);
  #nSxy = new Float64Array(0);
  #nSyy = new Float64Array(0);
  #nSxz = new Float64Array(0);
  #nSyz = new Float64Array(0);
  #nSzz = new Float64Array(0);
  #nZmin = new Float32Array(0);
  #nZmax = new Float32Array(0);
  /** Sum of firing times (s after the sweep start) per node. */
  #nSt = new Float64Array(0);
  #nCell = new Int32Array(0);
  /** 1 live, 0 removed (structure), 2 structure while marking. */
  #nAlive = new Uint8Array(0);
  #nParent = new Int32Array(0);
  #nMark = new Uint8Array(0);
  /** 1 for a run that touches structure (see the flood fill). */
  #nStruct = new Uint8Array(0);
  // Per root node: the axis-aligned extent of its cluster's runs.
  #bx0 = new Float32Array(0);
  #bx1 = new Float32Array(0);
  #by0 = new Float32Array(0);
  #by1 = new Float32Array(0);
  /** Per node: the vertical gap (m) that still links it to a neighbour's run. */
  #nGap = new Float32Array(0);
  #occupied = new Int32Array(1024);
  /** A cluster's runs, and the low ones of a cluster read below the canopy (grown with the sweep's live runs). */
  #runBuf = new Int32Array(0);
  #subRuns = new Int32Array(0);
  #frame = 0;
  /** This sweep's frame stamp (cells stamped with it are occupied), and its obstacle returns. */
  #stamp = 0;
  /** Offsets of a grid cell's 8 neighbours. */
  readonly #nb8: readonly number[];
  #obsN = 0;
  /** This sweep's seam: whether it has per-point times, its first and last, and where its first returns point. */
  #seam = { hasT: false, tFirst: 0, tLast: 0, x: 0, y: 0 };
  /** Nearest obstacle return in the body band per azimuth bin around the sensor (m): what hides what (see `truncatedFace`). */
  readonly #nearAz = new Float32Array(AZ_BINS);

  constructor(config: Partial<LidarProposalConfig> = {}) {
    this.#cfg = LidarProposalConfigSchema.parse(config);
    const c = this.#cfg;
    this.#groundRanges = Math.ceil(c.maxRange / c.groundBin) + 1;
    this.#groundMin = new Float32Array(this.#groundRanges * c.groundSectors);
    this.#regionScratch = { label: new Int32Array(this.#groundRanges * c.groundSectors), queue: new Int32Array(this.#groundRanges * c.groundSectors) };
    this.#groundMax = new Float32Array(this.#groundRanges * c.groundSectors);
    this.#ground = new Float32Array(this.#groundRanges * c.groundSectors);
    this.#firstGround = new Float32Array(c.groundSectors);
    this.#gridN = Math.ceil((2 * c.maxRange) / c.cellSize) + 2;
    const N = this.#gridN;
    this.#nb8 = [-N - 1, -N, -N + 1, -1, 1, N - 1, N, N + 1];
    const cells = this.#gridN * this.#gridN;
    this.#cellStamp = new Uint32Array(cells);
    this.#cellMask = new Uint32Array(cells);
    this.#runStarts = new Uint32Array(cells);
    this.#cellNode0 = new Int32Array(cells);
    this.#cellNodes = new Uint8Array(cells);
    this.#cellWall = new Uint32Array(cells);
    this.#cellSeen = new Uint32Array(cells);
  }

  get config(): LidarProposalConfig {
    return this.#cfg;
  }

  #ensureNodes(n: number): void {
    if (this.#nN.length >= n) return;
    const size = Math.max(n, 2 * this.#nN.length);
    this.#nN = new Int32Array(size);
    this.#nSx = new Float64Array(size);
    this.#nSy = new Float64Array(size);
    this.#nSz = new Float64Array(size);
    this.#nSxx = new Float64Array(size);
    this.#nSxy = new Float64Array(size);
    this.#nSyy = new Float64Array(size);
    this.#nSxz = new Float64Array(size);
    this.#nSyz = new Float64Array(size);
    this.#nSzz = new Float64Array(size);
    this.#nZmin = new Float32Array(size);
    this.#nZmax = new Float32Array(size);
    this.#nSt = new Float64Array(size);
    this.#nCell = new Int32Array(size);
    this.#nAlive = new Uint8Array(size);
    this.#nParent = new Int32Array(size);
    this.#nMark = new Uint8Array(size);
    this.#nStruct = new Uint8Array(size);
    this.#nGap = new Float32Array(size);
    this.#bx0 = new Float32Array(size);
    this.#bx1 = new Float32Array(size);
    this.#by0 = new Float32Array(size);
    this.#by1 = new Float32Array(size);
  }

  /**
   * After `propose`: is an object of radius `reach` (m) at (x, y) in base_link hidden behind
   * something nearer in that sweep (visibility.ts `hiddenBehind`)?
   */
  hidden(x: number, y: number, reach: number, mount: LidarMount): boolean {
    return hiddenBehind(x, y, reach, mount, this.#nearAz);
  }

  /** After `propose`: did that sweep see through (x, y) in base_link at body height (visibility.ts `seenThrough`)? */
  seen(x: number, y: number, mount: LidarMount): boolean {
    return seenThrough(x, y, mount, this.#nearAz);
  }

  propose(cloud: PointCloudView, mount: LidarMount, motion: EgoMotion = { speed: 0, yawRate: 0 }): Proposal[] {
    // Each stage is its own method: V8 optimises (and, on a branch first taken late, deoptimises
    // and optimises again) per function, and one 600-line function cost ~370 ms per compile,
    // recompiled a dozen times per drive (2.7 s of a 7 s conversion on V8's compiler threads).
    const c = this.#cfg;
    const kept = this.#transform(cloud, mount, motion);
    // Ground per sector, followed outward from the ego (ground.ts).
    const ground = this.#ground, firstGround = this.#firstGround;
    const grid = { groundMin: this.#groundMin, groundMax: this.#groundMax, ground, firstGround, sectors: c.groundSectors, ranges: this.#groundRanges, groundBin: c.groundBin, maxGroundSlope: c.maxGroundSlope, maxGroundRise: c.maxGroundRise, belowGroundStep: c.belowGroundStep };
    followGround(grid);
    if (c.groundRegions) reclaimGround(grid, this.#regionScratch);
    const occN = this.#binObstacles(kept, mount);
    const nodes = this.#buildRuns(occN);
    this.#markStructure(nodes);
    findFacades({ nAlive: this.#nAlive, nCell: this.#nCell, nodes, gridN: this.#gridN, cellSize: c.cellSize, wall: this.#cellWall, seen: this.#cellSeen, stamp: this.#stamp, mount, facadeAz: this.#facadeAz });
    this.#link(nodes, occN);
    this.#resegment(nodes);
    const groups = this.#groupClusters(nodes);
    const { owner, topOnly } = this.#attachFloating(groups, mount);
    const seam = this.#seam;
    const shift = seam.hasT && seam.tLast > 0 ? this.#seamMerge(owner, groups.clusters, groups.order, groups.start, seam.x, seam.y, seam.tLast - seam.tFirst) : null;
    return this.#emit(groups, owner, topOnly, shift, mount);
  }

  /** Pass 1: transform (and deskew) into base_link, mask the ego, polar ground bins; returns the points kept. */
  #transform(cloud: PointCloudView, mount: LidarMount, motion: EgoMotion): number {
    const c = this.#cfg;
    const n = cloud.count;
    if (this.#px.length < n) {
      this.#px = new Float32Array(n);
      this.#py = new Float32Array(n);
      this.#pz = new Float32Array(n);
      this.#pt = new Float32Array(n);
      this.#pcell = new Int32Array(n);
    }
    const px = this.#px, py = this.#py, pz = this.#pz, pt = this.#pt, pcell = this.#pcell;
    const hasT = cloud.offsetT !== undefined;
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    const le = cloud.littleEndian;
    const step = cloud.pointStep;
    // The full mount rotation: a pitched or rolled lidar's returns are levelled before the ground is sought.
    const [r00, r01, r02, r10, r11, r12, r20, r21, r22] = mountRotation(mount) as [number, number, number, number, number, number, number, number, number];
    const ego = c.egoBox;
    const maxR2 = c.maxRange * c.maxRange;
    const sectors = c.groundSectors;
    const gBin = 1 / c.groundBin;
    const groundMin = this.#groundMin;
    groundMin.fill(Infinity);
    const groundMax = this.#groundMax;
    groundMax.fill(-Infinity);
    const deskew = c.deskew && cloud.offsetT !== undefined && (motion.speed !== 0 || motion.yawRate !== 0);
    const offT = cloud.offsetT ?? 0;
    const readT = hasT ? timeReader(view, cloud, n) : null;
    // Pass 1: transform, mask, polar ground bins. pcell holds the ground cell (or −1: dropped).
    let kept = 0;
    // The sweep's seam: where its first returns point, and its span (s) — see the seam merge.
    let tFirst = Infinity, tLast = 0, seamX = 0, seamY = 0;
    let rotT = NaN, rotC = 1, rotS = 0;
    for (let i = 0, o = 0; i < n; i++, o += step) {
      const lx = view.getFloat32(o + cloud.offsetX, le);
      const ly = view.getFloat32(o + cloud.offsetY, le);
      const lz = view.getFloat32(o + cloud.offsetZ, le);
      if (lx !== lx || ly !== ly || lz !== lz) continue;
      let x = mount.x + r00 * lx + r01 * ly + r02 * lz;
      let y = mount.y + r10 * lx + r11 * ly + r12 * lz;
      const t = readT !== null ? readT(o + offT) : 0;
      if (deskew) {
        // The point was measured at t after the sweep start; express it in base_link at the start.
        // A firing's returns share one time, so its rotation is computed once (the same values).
        if (t !== rotT) {
          rotT = t;
          rotC = Math.cos(motion.yawRate * t);
          rotS = Math.sin(motion.yawRate * t);
        }
        const ca = rotC, sa = rotS;
        const dx = motion.speed * t;
        const nx = ca * x - sa * y + dx;
        y = sa * x + ca * y;
        x = nx;
      }
      if (x > ego.xMin && x < ego.xMax && y > ego.yMin && y < ego.yMax) continue;
      const r2 = x * x + y * y;
      if (r2 >= maxR2) continue;
      const zz = mount.z + r20 * lx + r21 * ly + r22 * lz;
      const r = Math.sqrt(r2);
      const g = (r * gBin) | 0;
      const cell = g * sectors + sectorOf(x, y, sectors);
      px[kept] = x;
      py[kept] = y;
      pz[kept] = zz;
      pt[kept] = t;
      pcell[kept] = cell;
      if (t < tFirst) {
        tFirst = t;
        seamX = x;
        seamY = y;
      }
      if (t > tLast) tLast = t;
      if (zz < groundMin[cell]!) groundMin[cell] = zz;
      if (zz > groundMax[cell]!) groundMax[cell] = zz;
      kept++;
    }
    this.#seam = { hasT, tFirst, tLast, x: seamX, y: seamY };
    return kept;
  }

  /** Pass 2: obstacle returns into BEV cells and height slices; returns the occupied cells' count. */
  #binObstacles(kept: number, mount: LidarMount): number {
    const c = this.#cfg, px = this.#px, py = this.#py, pz = this.#pz, pcell = this.#pcell, ground = this.#ground;
    // Pass 2: obstacle points into BEV cells; each cell's column of returns is split into vertical
    // runs wherever it has a gap wider than the sensor's beam spacing can leave on one surface
    // (2.5D segmentation, as in the elevation-map segmentation of Douillard et al. 2011): a car
    // under a tree crown, a person under a sign or awning are separate runs of one cell.
    const N = this.#gridN;
    const inv = 1 / c.cellSize;
    const half = (N / 2) | 0;
    const stamp = ++this.#frame;
    this.#stamp = stamp;
    const cellStamp = this.#cellStamp, cellMask = this.#cellMask;
    if (this.#obsPoint.length < kept) {
      this.#obsPoint = new Int32Array(kept);
      this.#obsCell = new Int32Array(kept);
    }
    const obsPoint = this.#obsPoint, obsCell = this.#obsCell;
    let occ = this.#occupied;
    let occN = 0, obsN = 0;
    const nearAz = this.#nearAz;
    nearAz.fill(Infinity);
    for (let i = 0; i < kept; i++) {
      const h = pz[i]! - ground[pcell[i]!]!;
      if (h < c.obstacleHeight || h > c.maxHeight + 1) continue;
      const x = px[i]!, y = py[i]!;
      if (h <= BODY_TOP) {
        const dx = x - mount.x, dy = y - mount.y, b = azBin(dx, dy), r = Math.sqrt(dx * dx + dy * dy);
        if (r < nearAz[b]!) nearAz[b] = r;
      }
      const cell = (((x * inv + half) | 0) * N + ((y * inv + half) | 0)) | 0;
      if (cellStamp[cell] !== stamp) {
        cellStamp[cell] = stamp;
        cellMask[cell] = 0;
        if (occN === occ.length) {
          const grown = new Int32Array(occ.length * 2);
          grown.set(occ);
          occ = grown;
          this.#occupied = occ;
        }
        occ[occN++] = cell;
      }
      cellMask[cell] = cellMask[cell]! | (1 << Math.min(31, (h / SLICE) | 0));
      obsPoint[obsN] = i;
      obsCell[obsN++] = cell;
    }
    this.#obsN = obsN;
    return occN;
  }

  /** Runs → nodes, and each node's sums (returns, centroid, covariance, heights, time); returns the node count. */
  #buildRuns(occN: number): number {
    const c = this.#cfg, N = this.#gridN, half = (N / 2) | 0;
    const cellMask = this.#cellMask, runStarts = this.#runStarts, cellNode0 = this.#cellNode0, occ = this.#occupied;
    const obsPoint = this.#obsPoint, obsCell = this.#obsCell, obsN = this.#obsN;
    const px = this.#px, py = this.#py, pz = this.#pz, pt = this.#pt, pcell = this.#pcell, ground = this.#ground;
    // Runs → nodes (the units clustered from here on). A gap is a break when wider than
    // max(VGAP_MIN, VGAP_SLOPE · range): ~2° of elevation, the widest beam spacing of common
    // sensors in the band that sees road users (HDL-64 0.4°, VLP-32C up to ~2.5°, Pandar64 1–6°).
    let nodes = 0;
    for (let k = 0; k < occN; k++) {
      const cell = occ[k]!;
      const m = cellMask[cell]!;
      const cx = ((cell / N) | 0) - half + 0.5, cy = (cell % N) - half + 0.5;
      const gapSlices = Math.ceil(Math.max(VGAP_MIN, VGAP_SLOPE * Math.sqrt(cx * cx + cy * cy) * c.cellSize) / SLICE);
      let starts = 0, last = -100;
      cellNode0[cell] = nodes;
      for (let s = 0; s < 32; s++) {
        if (((m >>> s) & 1) === 0) continue;
        if (s - last > gapSlices) {
          starts |= 1 << s;
          nodes++;
        }
        last = s;
      }
      runStarts[cell] = starts;
    }
    this.#ensureNodes(nodes);
    const nN = this.#nN;
    nN.fill(0, 0, nodes);
    const nSx = this.#nSx, nSy = this.#nSy, nSz = this.#nSz, nSxx = this.#nSxx, nSxy = this.#nSxy, nSyy = this.#nSyy, nSxz = this.#nSxz, nSyz = this.#nSyz, nSzz = this.#nSzz;
    const nZmin = this.#nZmin, nZmax = this.#nZmax, nSt = this.#nSt, nCell = this.#nCell;
    // Accumulated interleaved (one cache line per run, not thirteen arrays), then spread out per run.
    const ACC = 12;
    if (this.#acc.length < nodes * ACC) this.#acc = new Float64Array(Math.max(nodes * ACC, 2 * this.#acc.length));
    const acc = this.#acc;
    acc.fill(0, 0, nodes * ACC);
    for (let v = 0; v < nodes; v++) {
      acc[v * ACC + 10] = Infinity;
      acc[v * ACC + 11] = -Infinity;
    }
    for (let k = 0; k < obsN; k++) {
      const i = obsPoint[k]!, cell = obsCell[k]!;
      const h = pz[i]! - ground[pcell[i]!]!;
      const s = Math.min(31, (h / SLICE) | 0);
      const starts = runStarts[cell]!;
      const below = s === 31 ? starts : starts & ((1 << (s + 1)) - 1);
      const node = cellNode0[cell]! + popcount(below) - 1;
      const x = px[i]!, y = py[i]!, o = node * ACC;
      nCell[node] = cell;
      acc[o] += x;
      acc[o + 1] += y;
      acc[o + 2] += h;
      acc[o + 3] += x * x;
      acc[o + 4] += x * y;
      acc[o + 5] += y * y;
      acc[o + 6] += x * h;
      acc[o + 7] += y * h;
      acc[o + 8] += h * h;
      acc[o + 9] += pt[i]!;
      if (h < acc[o + 10]!) acc[o + 10] = h;
      if (h > acc[o + 11]!) acc[o + 11] = h;
      nN[node] = (nN[node]! + 1) | 0;
    }
    for (let v = 0; v < nodes; v++) {
      const o = v * ACC;
      nSx[v] = acc[o]!;
      nSy[v] = acc[o + 1]!;
      nSz[v] = acc[o + 2]!;
      nSxx[v] = acc[o + 3]!;
      nSxy[v] = acc[o + 4]!;
      nSyy[v] = acc[o + 5]!;
      nSxz[v] = acc[o + 6]!;
      nSyz[v] = acc[o + 7]!;
      nSzz[v] = acc[o + 8]!;
      nSt[v] = acc[o + 9]!;
      nZmin[v] = acc[o + 10]!;
      nZmax[v] = acc[o + 11]!;
    }
    const cellNodes = this.#cellNodes, nGap = this.#nGap;
    for (let k = 0; k < occN; k++) cellNodes[occ[k]!] = popcount(runStarts[occ[k]!]!);
    for (let v = 0; v < nodes; v++) {
      const mx = nSx[v]! / nN[v]!, my = nSy[v]! / nN[v]!;
      nGap[v] = Math.max(VGAP_MIN, VGAP_SLOPE * Math.sqrt(mx * mx + my * my));
    }
    return nodes;
  }

  /** First node of a cell and one past its last (an empty range for an empty cell). */
  #first(cell: number): number {
    return cell >= 0 && this.#cellStamp[cell] === this.#stamp ? this.#cellNode0[cell]! : 0;
  }

  #past(cell: number): number {
    return cell >= 0 && this.#cellStamp[cell] === this.#stamp ? this.#cellNode0[cell]! + this.#cellNodes[cell]! : 0;
  }

  /** Two runs of neighbouring cells are one surface when their height ranges overlap (within the beam gap). */
  #touch(a: number, b: number): boolean {
    const g = this.#nGap[a]!;
    return this.#nZmin[a]! - g <= this.#nZmax[b]! && this.#nZmin[b]! - g <= this.#nZmax[a]!;
  }

  #find(a: number): number {
    const parent = this.#nParent;
    while (parent[a] !== a) {
      const p = parent[a]!;
      parent[a] = parent[p]!;
      a = p;
    }
    return a;
  }

  #union(a: number, b: number): void {
    const ra = this.#find(a), rb = this.#find(b);
    if (ra !== rb) this.#nParent[ra < rb ? rb : ra] = ra < rb ? ra : rb;
  }

  /** Structure: runs above maxHeight, their feet, and what touches them (see the comments). */
  #markStructure(nodes: number): void {
    const c = this.#cfg, nAlive = this.#nAlive, nZmax = this.#nZmax, nZmin = this.#nZmin, nCell = this.#nCell;
    // Runs reaching above maxHeight are structure (poles, walls, trees): none of our classes is
    // that tall. They go before clustering, so a pedestrian passing a pole or a car in front of
    // one stays its own cluster; a run next to one and itself higher than any road user but a
    // truck, and touching it, goes with it (a wall straddling a cell boundary).
    for (let v = 0; v < nodes; v++) nAlive[v] = nZmax[v]! > c.maxHeight ? 2 : 1;
    // A run under a structure run of its own cell, less than STRUCTURE_CLEARANCE below it, is that
    // structure's foot (a trunk under its crown, a post under its sign); a car parked under a crown
    // has more clearance.
    for (let v = 0; v < nodes; v++) {
      if (nAlive[v] !== 2) continue;
      for (let b = this.#first(nCell[v]!); b < v; b++) if (nAlive[b] === 1 && nZmin[v]! - nZmax[b]! < STRUCTURE_CLEARANCE) nAlive[b] = 2;
    }
    // Flood fill from the structure runs over touching runs higher than any road user but a
    // truck: a crown or a building's lower parts go with it, not only the runs that reach maxHeight.
    {
      const queue: number[] = [];
      for (let v = 0; v < nodes; v++) if (nAlive[v] === 2) queue.push(v);
      const direct = queue.length;
      for (let q = 0; q < queue.length; q++) {
        const v = queue[q]!;
        for (const d of this.#nb8) {
          const nb = nCell[v]! + d, b1 = this.#past(nb);
          for (let b = this.#first(nb); b < b1; b++) {
            if (nAlive[b] !== 1 || nZmax[b]! <= STRUCTURE_NEIGHBOUR_HEIGHT || !this.#touch(v, b)) continue;
            // The first ring goes (a wall straddling a cell boundary); farther runs stay, marked,
            // so what they touch is kept together and named `unknown`, not left as road-user-sized scraps.
            nAlive[b] = q < direct ? 2 : 3;
            queue.push(b);
          }
        }
      }
    }
    const nStruct = this.#nStruct;
    for (let v = 0; v < nodes; v++) {
      nStruct[v] = nAlive[v] === 3 ? 1 : 0;
      if (nAlive[v] === 2) nAlive[v] = 0;
      else if (nAlive[v] === 3) nAlive[v] = 1;
    }
  }

  /** Union–find over all live runs (linkAll mode 0). */
  #link(nodes: number, occN: number): void {
    // Union–find over runs: 8-connected cells (the 4 "earlier" neighbours suffice), runs touching in height.
    const parent = this.#nParent;
    for (let v = 0; v < nodes; v++) parent[v] = v;
    this.#linkAll(this.#occupied, occN, 0);
  }

  /**
   * Links the runs of `cellsToVisit` with their neighbours' (union–find). Runs taking part: mode 0
   * every live run; in a re-segmentation, mode 2 one cluster's cores, mode 1 its low runs.
   */
  #linkAll(cellsToVisit: Int32Array, count: number, mode: number): void {
    const c = this.#cfg, N = this.#gridN, half = (N / 2) | 0;
    const farR2 = FAR_LINK_RANGE * FAR_LINK_RANGE;
    for (let k = 0; k < count; k++) {
      const cell = cellsToVisit[k]!;
      for (const nb of [cell - N - 1, cell - N, cell - N + 1, cell - 1]) this.#linkCells(cell, nb, mode);
      // Far away a surface seen obliquely leaves its returns more than a cell apart (a vehicle's
      // side under one ring): there, cells two apart are linked too. A surface almost along the
      // line of sight (a side passed at a shallow angle) leaves its returns up to three cells
      // apart at any range, spread along the ray: cells that far apart along the ray (within
      // 20°) are linked too.
      const cxm = ((cell / N) | 0) - half + 0.5, cym = (cell % N) - half + 0.5;
      const r2 = (cxm * cxm + cym * cym) * c.cellSize * c.cellSize;
      const rinv = 1 / Math.sqrt(Math.max(cxm * cxm + cym * cym, 1e-9)), rx = cxm * rinv, ry = cym * rinv;
      for (let di = -RADIAL_LINK; di <= 0; di++) {
        for (let dj = -RADIAL_LINK; dj <= RADIAL_LINK; dj++) {
          if (di === 0 && dj >= 0) break;
          if (di >= -1 && dj >= -1 && dj <= 1) continue; // the 8-neighbourhood, done above
          const far = r2 >= farR2 && di >= -2 && dj >= -2 && dj <= 2;
          if (!far && Math.abs(di * ry - dj * rx) > RADIAL_LINK_SIN * Math.hypot(di, dj)) continue;
          this.#linkCells(cell, cell + di * N + dj, mode);
        }
      }
    }
  }

  #linkCells(cell: number, nb: number, mode: number): void {
    if (nb < 0 || this.#cellStamp[nb] !== this.#stamp) return;
    const nAlive = this.#nAlive, mark = this.#nMark;
    const a1 = this.#past(cell), b0 = this.#first(nb), b1 = this.#past(nb);
    for (let a = this.#first(cell); a < a1; a++) {
      if (mode === 0 ? nAlive[a] !== 1 : mark[a] !== mode) continue;
      for (let b = b0; b < b1; b++) if ((mode === 0 ? nAlive[b] === 1 : mark[b] === mode) && this.#touch(a, b)) this.#union(a, b);
    }
  }

  #resegment(nodes: number): void {
    const nAlive = this.#nAlive, nSx = this.#nSx, nSy = this.#nSy, nN = this.#nN, nZmax = this.#nZmax, nCell = this.#nCell, parent = this.#nParent, mark = this.#nMark;
    // A cluster no road user could fill (longer than a car and wider than any vehicle, or longer
    // than a truck) is several objects that touch: a parked row bumper to bumper, a car against a
    // hedge. It is re-segmented on its cores (runs reaching CORE_HEIGHT: cabins, bodies, people;
    // bumpers, bonnets and boots are lower), linked as before; the low runs are then grown out
    // from the cores they touch (a marker-based watershed on the height map, Beucher & Meyer 1993).
    // Candidates first by the axis-aligned extent of their runs (a rectangle longer than
    // OVERSIZE_LENGTH or wider than OVERSIZE_WIDTH has a diagonal longer than 3√2 m), then by
    // their principal axes.
    const bx0 = this.#bx0, bx1 = this.#bx1, by0 = this.#by0, by1 = this.#by1;
    for (let v = 0; v < nodes; v++) {
      if (nAlive[v] !== 1) continue;
      const r = this.#find(v), x = nSx[v]! / nN[v]!, y = nSy[v]! / nN[v]!;
      // A root is its cluster's smallest index (union keeps the smaller), so it comes first.
      if (r === v) {
        bx0[r] = bx1[r] = x;
        by0[r] = by1[r] = y;
        continue;
      }
      if (x < bx0[r]!) bx0[r] = x;
      if (x > bx1[r]!) bx1[r] = x;
      if (y < by0[r]!) by0[r] = y;
      if (y > by1[r]!) by1[r] = y;
    }
    const members = new Map<number, number[]>();
    for (let v = 0; v < nodes; v++) {
      if (nAlive[v] !== 1) continue;
      const r = this.#find(v);
      if ((bx1[r]! - bx0[r]!) ** 2 + (by1[r]! - by0[r]!) ** 2 < 18) continue;
      let list = members.get(r);
      if (list === undefined) members.set(r, (list = []));
      list.push(v);
    }
    for (const list of members.values()) {
      if (list.length < 8 || !oversize(list, nSx, nSy, nN)) continue;
      for (const v of list) {
        parent[v] = v;
        mark[v] = nZmax[v]! >= CORE_HEIGHT ? 2 : 1;
      }
      const cells = Int32Array.from(new Set(list.map((v) => nCell[v]!)));
      this.#linkAll(cells, cells.length, 2);
      // Grow the cores over the low runs they touch, breadth first (each low run joins the core that reaches it first).
      const queue = list.filter((v) => mark[v] === 2);
      for (let q = 0; q < queue.length; q++) {
        const v = queue[q]!;
        for (const d of this.#nb8) {
          const nb = nCell[v]! + d, b1 = this.#past(nb);
          for (let b = this.#first(nb); b < b1; b++) {
            if (mark[b] !== 1 || !this.#touch(v, b)) continue;
            this.#union(v, b);
            mark[b] = 3;
            queue.push(b);
          }
        }
      }
      // Low runs no core reaches stay together as they were linked.
      this.#linkAll(cells, cells.length, 1);
      for (const v of list) mark[v] = 0;
    }
  }

  /** Runs grouped by cluster (counting sort), and each cluster's heights, centroid and returns. */
  #groupClusters(nodes: number): ClusterGroups {
    const nAlive = this.#nAlive, nSx = this.#nSx, nSy = this.#nSy, nN = this.#nN, nZmax = this.#nZmax, nZmin = this.#nZmin;
    // Group runs by root (counting sort over cluster index).
    const rootIndex = new Map<number, number>();
    const live = new Int32Array(nodes);
    let liveN = 0;
    for (let v = 0; v < nodes; v++) if (nAlive[v] === 1) live[liveN++] = v;
    const clusterOf = new Int32Array(liveN);
    for (let k = 0; k < liveN; k++) {
      const root = this.#find(live[k]!);
      let idx = rootIndex.get(root);
      if (idx === undefined) {
        idx = rootIndex.size;
        rootIndex.set(root, idx);
      }
      clusterOf[k] = idx;
    }
    const clusters = rootIndex.size;
    const start = new Int32Array(clusters + 1);
    for (let k = 0; k < liveN; k++) start[clusterOf[k]! + 1]!++;
    for (let i = 0; i < clusters; i++) start[i + 1] = start[i + 1]! + start[i]!;
    const fill = start.slice(0, clusters);
    const order = new Int32Array(liveN);
    for (let k = 0; k < liveN; k++) order[fill[clusterOf[k]!]!++] = live[k]!;
    const sx = nSx, syy = nSy, cn = nN, zmax = nZmax, zmin = nZmin;
    // Cluster statistics; a "floating" cluster (nothing below floatingAbove m) is the roof or
    // upper part of an object whose lower returns formed a nearer cluster (sparse beams leave a
    // gap between a vehicle's rear face and its roof): it joins that cluster.
    const top = new Float32Array(clusters), bottom = new Float32Array(clusters).fill(Infinity);
    const mx = new Float64Array(clusters), my = new Float64Array(clusters), pts = new Int32Array(clusters);
    for (let ci = 0; ci < clusters; ci++) {
      let sxx = 0, syy2 = 0, m = 0;
      for (let k = start[ci]!; k < start[ci + 1]!; k++) {
        const cell = order[k]!;
        if (zmax[cell]! > top[ci]!) top[ci] = zmax[cell]!;
        if (zmin[cell]! < bottom[ci]!) bottom[ci] = zmin[cell]!;
        sxx += sx[cell]!;
        syy2 += syy[cell]!;
        m += cn[cell]!;
      }
      mx[ci] = sxx / m;
      my[ci] = syy2 / m;
      pts[ci] = m;
    }
    return { clusters, start, order, liveN, top, bottom, mx, my, pts };
  }

  /**
   * A "floating" cluster (nothing below floatingAbove m) is the roof or upper part of an object
   * whose lower returns formed a nearer cluster: it joins that cluster (its owner), stays on its
   * own, or is dropped (owner −1).
   */
  #attachFloating(g: ClusterGroups, mount: LidarMount): { owner: Int32Array; topOnly: Uint8Array } {
    const c = this.#cfg, { clusters, start, order, top, bottom, mx, my, pts } = g;
    const sx = this.#nSx, syy = this.#nSy, cn = this.#nN;
    const owner = new Int32Array(clusters);
    const topOnly = new Uint8Array(clusters);
    for (let ci = 0; ci < clusters; ci++) owner[ci] = ci;
    for (let ci = 0; ci < clusters; ci++) {
      if (bottom[ci]! < c.floatingAbove) continue;
      const r = Math.hypot(mx[ci]!, my[ci]!);
      let best = -1, bestGap = Infinity, shadowed = false;
      for (let cj = 0; cj < clusters; cj++) {
        if (cj === ci || bottom[cj]! >= c.floatingAbove) continue;
        const rj = Math.hypot(mx[cj]!, my[cj]!);
        // A stray return (fewer than minPoints) is no anchor: it would be dropped, and the roof with it.
        if (rj >= r || pts[cj]! < c.minPoints) continue;
        const cross = Math.abs(mx[ci]! * my[cj]! - my[ci]! * mx[cj]!) / Math.max(r, 1e-6);
        // Its missing lower part is hidden by this nearer object on its bearing when the line from
        // the sensor over that object's top passes within a metre (a beam gap or two at range) of
        // its lowest return: nothing below it could be seen.
        if (cross < 1.5 && mount.z + ((top[cj]! - mount.z) * r) / rj >= bottom[ci]! - 1) shadowed = true;
        const d = Math.hypot(mx[ci]! - mx[cj]!, my[ci]! - my[cj]!);
        if (d >= c.mergeDistance) continue;
        // Same bearing (within ~1.5 m laterally) and close behind it, or right next to it: of two
        // vehicles side by side, the far one's upper side (its lower beams hidden by the near one)
        // belongs to the one whose cells it touches, not to the one on its bearing.
        // On its bearing but not touching, it must make one vehicle with it: the roof of a car
        // hidden behind a nearer one in the next lane is on the near car's bearing too.
        // Above it by more than a beam gap (a crown over a parked car), it is not that object's top.
        if (bottom[ci]! - top[cj]! > Math.max(VGAP_MIN, VGAP_SLOPE * r)) continue;
        const gap = cellGap(order, start[ci]!, start[ci + 1]!, start[cj]!, start[cj + 1]!, sx, syy, cn);
        if (gap >= bestGap) continue;
        if (gap < FLOATING_TOUCH || (cross < 1.5 && oneVehicle(order, start[ci]!, start[ci + 1]!, start[cj]!, start[cj + 1]!, sx, syy, cn))) {
          best = cj;
          bestGap = gap;
        }
      }
      // Nothing nearer below it: a far vehicle that only the upper beams reached (the lower
      // ring's returns were taken as ground) stays on its own; only high floating returns
      // (sign gantries, tree crowns) with nothing to join are dropped.
      const wide = start[ci + 1]! - start[ci]! >= 5;
      if (best >= 0) owner[ci] = best;
      else if (wide && bottom[ci]! < c.floatingKeepBelow) owner[ci] = ci;
      // A roof seen by the beam grazing it is a thin band (a crown or a sign is not).
      else if (wide && bottom[ci]! < c.occludedKeepBelow && shadowed && top[ci]! - bottom[ci]! < 0.6) {
        owner[ci] = ci;
        topOnly[ci] = 1;
      } else owner[ci] = -1;
    }
    return { owner, topOnly };
  }

  /** Each owner's parts fitted, classified and judged; unknown clusters under crowns read again below them. */
  #emit(g: ClusterGroups, owner: Int32Array, topOnly: Uint8Array, shift: SeamShift | null, mount: LidarMount): Proposal[] {
    const c = this.#cfg, { clusters, start, order, liveN, top, bottom, pts } = g;
    const nN = this.#nN, nSx = this.#nSx, nSy = this.#nSy, nSt = this.#nSt, nZmax = this.#nZmax, nZmin = this.#nZmin, nCell = this.#nCell, parent = this.#nParent, mark = this.#nMark;
    const sx = nSx, syy = nSy, cn = nN, st = nSt;
    const nearAz = this.#nearAz;
    const seen = (x: number, y: number): boolean => seenThrough(x, y, mount, nearAz);
    const out: Proposal[] = [];
    const cxs = new Float64Array(liveN), cys = new Float64Array(liveN);
    if (this.#runBuf.length < liveN) {
      this.#runBuf = new Int32Array(liveN);
      this.#subRuns = new Int32Array(liveN);
    }
    const runBuf = this.#runBuf, subRuns = this.#subRuns;
    // A cluster that is unknown because it reaches into a tree crown, a wall or a pole, or touches
    // one, may hold road users standing under or against it: a car parked under a street tree or
    // beside its trunk, a person by a wall. Its runs that stay below STRUCTURE_NEIGHBOUR_HEIGHT are
    // linked again on their own, without the tall runs that bridged them (trunks, walls, crowns
    // reaching down to a roof), and each part is read as a cluster: the lower layer of the
    // elevation map segmented by itself, as Douillard et al. 2011 do for objects under overhangs.
    // What comes out a car seen along a car's length and with some depth (UNDER_CANOPY_MIN_*)
    // replaces the unknown box. Only cars: a truck needs its full height, and on the real sweeps the person- and
    // cyclist-sized parts left under crowns were trunks, posts and shrubs (46 → 80 false
    // pedestrians, 34 → 53 false cyclists, for no person found); shorter car-sized parts were
    // mostly shrubs too (`npx tsx src/cli/main.ts eval-lidar ../shared/real-labelled-lidar --detail`).
    const belowCanopy = (runs: Int32Array, count: number): Proposal[] => {
      let lowN = 0;
      next: for (let k = 0; k < count; k++) {
        const v = runs[k]!;
        if (nZmax[v]! > STRUCTURE_NEIGHBOUR_HEIGHT) continue;
        // A low run under a tall one of its own cell, less than STRUCTURE_CLEARANCE below it, is
        // that structure's foot (a wall's lower beams, parted from its upper ones by the beam gap).
        for (let b = this.#first(nCell[v]!), b1 = this.#past(nCell[v]!); b < b1; b++) if (nZmax[b]! > STRUCTURE_NEIGHBOUR_HEIGHT && nZmin[b]! > nZmax[v]! && nZmin[b]! - nZmax[v]! < STRUCTURE_CLEARANCE) continue next;
        parent[v] = v;
        mark[v] = 2;
        subRuns[lowN++] = v;
      }
      if (lowN === 0) return [];
      const cells = Int32Array.from(new Set(Array.from(subRuns.subarray(0, lowN), (v) => nCell[v]!)));
      this.#linkAll(cells, cells.length, 2);
      const groups = new Map<number, number[]>();
      for (let k = 0; k < lowN; k++) {
        const v = subRuns[k]!, r = this.#find(v);
        mark[v] = 0;
        const g = groups.get(r);
        if (g === undefined) groups.set(r, [v]);
        else g.push(v);
      }
      const found: Proposal[] = [];
      for (const g of groups.values()) {
        let points = 0, hTop = 0, low = Infinity, tSum = 0;
        for (let k = 0; k < g.length; k++) {
          const v = g[k]!;
          points += nN[v]!;
          tSum += nSt[v]!;
          if (nZmax[v]! > hTop) hTop = nZmax[v]!;
          if (nZmin[v]! < low) low = nZmin[v]!;
          cxs[k] = nSx[v]! / nN[v]!;
          cys[k] = nSy[v]! / nN[v]!;
        }
        if (points < c.minPoints) continue;
        const p = fitCluster(cxs, cys, g.length, hTop, c.cellSize, false, seen);
        if (p === null || p.category !== "car") continue;
        p.points = points;
        p.dtS = tSum / points;
        this.#describe(p, Int32Array.from(g), g.length, points, low);
        this.#judgeVisibility(p, cxs, cys, g.length, mount);
        vetClass(p, c.carMaxTop);
        if ((p.category as ObjectClass) !== "car" || Math.max(p.visible.length, p.visible.width) < UNDER_CANOPY_MIN_LENGTH || Math.min(p.visible.length, p.visible.width) < UNDER_CANOPY_MIN_DEPTH) continue; // vetClass may have refused it
        if (truncatedFace(p, cxs, cys, g.length, mount, nearAz)) p.truncated = true;
        found.push(p);
      }
      return found;
    };
    // The parts each owner gathers, listed once (not a scan over all clusters per owner).
    const partStart = new Int32Array(clusters + 1), parts = new Int32Array(clusters);
    for (let cj = 0; cj < clusters; cj++) if (owner[cj]! >= 0) partStart[owner[cj]! + 1]!++;
    for (let i = 0; i < clusters; i++) partStart[i + 1] = partStart[i + 1]! + partStart[i]!;
    {
      const at = partStart.slice(0, clusters);
      for (let cj = 0; cj < clusters; cj++) if (owner[cj]! >= 0) parts[at[owner[cj]!]!++] = cj;
    }
    for (let ci = 0; ci < clusters; ci++) {
      if (owner[ci] !== ci) continue;
      let n2 = 0, points = 0, hTop = top[ci]!, tSum = 0, tPoints = 0, carried = false;
      for (let pj = partStart[ci]!; pj < partStart[ci + 1]!; pj++) {
        const cj = parts[pj]!;
        points += pts[cj]!;
        if (top[cj]! > hTop) hTop = top[cj]!;
        // A part carried across the seam is placed as at the other part's time, and timed by it.
        const moved = shift !== null && shift.carried[cj] === 1;
        if (moved) carried = true;
        const dx = moved ? shift.dx[cj]! : 0, dy = moved ? shift.dy[cj]! : 0;
        if (!moved) tPoints += pts[cj]!;
        for (let k = start[cj]!; k < start[cj + 1]!; k++) {
          const cell = order[k]!;
          if (!moved) tSum += st[cell]!;
          cxs[n2] = sx[cell]! / cn[cell]! + dx;
          cys[n2] = syy[cell]! / cn[cell]! + dy;
          n2++;
        }
      }
      if (points < c.minPoints) continue;
      const proposal = fitCluster(cxs, cys, n2, hTop, c.cellSize, topOnly[ci] === 1, seen);
      if (proposal === null) continue;
      // Returns above maxHeight, or joined to a structure: a building, tree or pole, never one of our classes.
      let structure = false;
      for (let pj = partStart[ci]!; pj < partStart[ci + 1]! && !structure; pj++) {
        const cj = parts[pj]!;
        for (let k = start[cj]!; k < start[cj + 1]!; k++) if (this.#nStruct[order[k]!] === 1) structure = true;
      }
      if (hTop > c.maxHeight || structure) {
        proposal.box = { ...proposal.visible };
        proposal.category = "unknown";
        proposal.confidence = 0.9;
      }
      proposal.points = points;
      proposal.dtS = tSum / Math.max(1, tPoints);
      // Covariance of the returns from the runs' sums (the carried seam part at its own place: close enough for shape).
      let runN = 0, low = Infinity;
      for (let pj = partStart[ci]!; pj < partStart[ci + 1]!; pj++) {
        const cj = parts[pj]!;
        if (bottom[cj]! < low) low = bottom[cj]!;
        for (let k = start[cj]!; k < start[cj + 1]!; k++) runBuf[runN++] = order[k]!;
      }
      this.#describe(proposal, runBuf, runN, points, low);
      this.#judgeVisibility(proposal, cxs, cys, n2, mount);
      vetClass(proposal, c.carMaxTop);
      // A roof seen over a nearer car (topOnly) is hidden by design and judged by its own rule; a
      // part carried across the seam was seen at another time, so the map does not describe it.
      if ((proposal.category === "car" || proposal.category === "truck") && proposal.topOnly !== true && !carried && truncatedFace(proposal, cxs, cys, n2, mount, nearAz)) proposal.truncated = true;
      // A compact "truck" (a cab's corner by its size) may be a car under a crown or a sign: its
      // lower layer read alone tells them apart — a cab's walls reach its top and leave no car below.
      const compactTruck = proposal.category === "truck" && Math.max(proposal.visible.length, proposal.visible.width) < TRUCK_MIN_LENGTH;
      if ((proposal.category === "unknown" || compactTruck) && topOnly[ci] !== 1 && !carried && (structure || hTop > STRUCTURE_NEIGHBOUR_HEIGHT)) {
        const below = belowCanopy(runBuf, runN);
        if (below.length > 0) {
          out.push(...below);
          continue;
        }
      }
      out.push(proposal);
    }
    return out;
  }

  /** The visibility tests' marks on a proposal's features (visibility.ts): ground not seen in front of it, behind a façade. */
  #judgeVisibility(p: Proposal, xs: Float64Array, ys: Float64Array, n: number, mount: LidarMount): void {
    if (p.features === undefined) return;
    if (bottomHidden(xs, ys, n, this.#firstGround, this.#cfg.groundBin)) p.features.bottomHidden = true;
    if (behindFacade(xs, ys, n, mount, this.#facadeAz)) p.features.behindFacade = true;
  }

  /**
   * Share of a cluster's length seen (TOP_BIN bins along `yaw`) whose highest return lies within
   * TOP_BAND of the cluster's highest: a level top (a hedge, a wall) covers all of it, a rider over
   * a bicycle or a car's cabin over its body only part.
   */
  #topShare(runs: Int32Array, count: number, yaw: number): number {
    const nN = this.#nN, nSx = this.#nSx, nSy = this.#nSy, nZmax = this.#nZmax;
    const c = Math.cos(yaw), s = Math.sin(yaw);
    let u0 = Infinity, u1 = -Infinity, top = 0;
    for (let k = 0; k < count; k++) {
      const v = runs[k]!, u = (c * nSx[v]! + s * nSy[v]!) / nN[v]!;
      if (u < u0) u0 = u;
      if (u > u1) u1 = u;
      if (nZmax[v]! > top) top = nZmax[v]!;
    }
    const bins = Math.floor((u1 - u0) / TOP_BIN) + 1;
    if (bins > 256) return 1;
    const seen = new Uint8Array(bins);
    for (let k = 0; k < count; k++) {
      const v = runs[k]!, b = Math.floor(((c * nSx[v]! + s * nSy[v]!) / nN[v]! - u0) / TOP_BIN);
      seen[b] = Math.max(seen[b]!, nZmax[v]! >= top - TOP_BAND ? 2 : 1);
    }
    let occupied = 0, high = 0;
    for (const b of seen) {
      if (b > 0) occupied++;
      if (b === 2) high++;
    }
    return high / occupied;
  }

  /** A proposal's shape features from its runs' sums: the eigenvalue features of the returns' 3D covariance (Weinmann et al. 2015). */
  #describe(p: Proposal, runs: Int32Array, count: number, points: number, low: number): void {
    const nN = this.#nN, nSx = this.#nSx, nSy = this.#nSy, nSz = this.#nSz;
    let n3 = 0, ax = 0, ay = 0, az = 0, axx = 0, axy = 0, ayy = 0, axz = 0, ayz = 0, azz = 0;
    for (let k = 0; k < count; k++) {
      const v = runs[k]!;
      n3 += nN[v]!;
      ax += nSx[v]!;
      ay += nSy[v]!;
      az += nSz[v]!;
      axx += this.#nSxx[v]!;
      axy += this.#nSxy[v]!;
      ayy += this.#nSyy[v]!;
      axz += this.#nSxz[v]!;
      ayz += this.#nSyz[v]!;
      azz += this.#nSzz[v]!;
    }
    const mx = ax / n3, my = ay / n3, mz = az / n3;
    const cxx = axx / n3 - mx * mx, cxy = axy / n3 - mx * my, cyy = ayy / n3 - my * my;
    const ev = eigen3(cxx, cyy, azz / n3 - mz * mz, cxy, axz / n3 - mx * mz, ayz / n3 - my * mz);
    const hMid = (cxx + cyy) / 2, hDisc = Math.sqrt(((cxx - cyy) / 2) ** 2 + cxy * cxy);
    const l1 = Math.max(ev.l1, 1e-9);
    p.features = {
      ...p.features!,
      points,
      range: Math.hypot(mx, my),
      bottom: low,
      linearity: (ev.l1 - ev.l2) / l1,
      planarity: (ev.l2 - ev.l3) / l1,
      scattering: Math.max(0, ev.l3) / l1,
      verticality: ev.vz,
      depth: Math.sqrt(Math.max(0, hMid - hDisc)),
      topShare: this.#topShare(runs, count, p.visible.yaw),
    };
  }

  /**
   * A sweep is deskewed for the ego's motion only, so an object that moves and straddles the
   * sweep's seam (where the first and last returns meet) is seen twice, one sweep period apart:
   * a car following behind comes out as two half-faces v·T apart, two proposals, neither a car.
   * Clusters seen only at the sweep's start and only at its end, all touching the seam's ray, are
   * one object if the late part, moved along the ray by at most SEAM_MAX_SPEED · span (the
   * object's own motion), comes to touch the early one. The late part (with its floating parts)
   * joins the early one, carried by that shift: the least one that makes them touch, or the
   * difference of their nearest ranges when that is close to it (both see the same face, and
   * that difference is the motion exactly). Returns the per-cluster shift, or null.
   */
  #seamMerge(owner: Int32Array, clusters: number, order: Int32Array, start: Int32Array, seamX: number, seamY: number, span: number): SeamShift | null {
    const sr = Math.hypot(seamX, seamY);
    if (sr < 1e-6) return null;
    const ux = seamX / sr, uy = seamY / sr;
    const sx = this.#nSx, sy = this.#nSy, cn = this.#nN, st = this.#nSt;
    const early: number[] = [], late: number[] = [];
    const nearest = new Float64Array(clusters);
    const near = new Map<number, number[]>();
    for (let ci = 0; ci < clusters; ci++) {
      if (owner[ci] !== ci) continue;
      let tS = 0, m = 0, touch = false, along0 = Infinity;
      const xs: number[] = [];
      for (let k = start[ci]!; k < start[ci + 1]!; k++) {
        const cell = order[k]!;
        const x = sx[cell]! / cn[cell]!, y = sy[cell]! / cn[cell]!;
        tS += st[cell]!;
        m += cn[cell]!;
        const along = x * ux + y * uy, across = Math.abs(x * uy - y * ux);
        if (along <= 0 || across > SEAM_NEAR) continue;
        if (across < SEAM_TOUCH) touch = true;
        if (along < along0) along0 = along;
        xs.push(x, y);
      }
      if (!touch) continue;
      nearest[ci] = along0;
      // Only the cells near the seam are compared (where the parts meet): bounded work.
      near.set(ci, xs);
      const mean = tS / m;
      if (mean < 0.25 * span) early.push(ci);
      else if (mean > 0.75 * span) late.push(ci);
    }
    if (early.length === 0 || late.length === 0) return null;
    const gapAt = (a: number, b: number, d: number): number => {
      const pa = near.get(a)!, pb = near.get(b)!;
      let g = Infinity;
      for (let i = 0; i < pa.length; i += 2) {
        const ax = pa[i]! - d * ux, ay = pa[i + 1]! - d * uy;
        for (let j = 0; j < pb.length; j += 2) g = Math.min(g, (pb[j]! - ax) ** 2 + (pb[j + 1]! - ay) ** 2);
      }
      return Math.sqrt(g);
    };
    // Late parts within FLOATING_TOUCH of one another are one object seen sparsely (a side at a
    // grazing angle leaves single returns a metre apart): they move together.
    const group = late.map((_, i) => i);
    const root = (i: number): number => (group[i] === i ? i : (group[i] = root(group[i]!)));
    for (let i = 0; i < late.length; i++) for (let j = i + 1; j < late.length; j++) if (gapAt(late[i]!, late[j]!, 0) < FLOATING_TOUCH) group[root(j)] = root(i);
    // Each late group goes to the early part it touches with the least shift (the object moved at
    // least that much).
    const partOf = new Map<number, { late: number[]; least: number }>();
    for (let g = 0; g < late.length; g++) {
      if (root(g) !== g) continue;
      const members = late.filter((_, i) => root(i) === g);
      let best = -1, bestLeast = Infinity;
      for (const a of early) {
        const touches = (d: number): boolean => members.some((b) => gapAt(a, b, d) <= SEAM_JOIN);
        for (let k = 0, limit = SEAM_MAX_SPEED * span; k * SEAM_STEP <= limit && k * SEAM_STEP < Math.abs(bestLeast); k++) {
          const d = touches(k * SEAM_STEP) ? k * SEAM_STEP : k > 0 && touches(-k * SEAM_STEP) ? -k * SEAM_STEP : NaN;
          if (d === d) {
            best = a;
            bestLeast = d;
            break;
          }
        }
      }
      if (best < 0) continue;
      const part = partOf.get(best) ?? { late: [], least: Infinity };
      part.late.push(...members);
      if (Math.abs(bestLeast) < Math.abs(part.least)) part.least = bestLeast;
      partOf.set(best, part);
    }
    if (partOf.size === 0) return null;
    const out: SeamShift = { dx: new Float64Array(clusters), dy: new Float64Array(clusters), carried: new Uint8Array(clusters) };
    for (const [a, part] of partOf) {
      // Both parts seeing the same face (a follower's front): their nearest ranges differ by the
      // motion exactly. Parts seeing different faces (a side early, the front late) do not: the
      // least touching shift is the better guess there.
      const same = nearest[a]! - Math.min(...part.late.map((b) => nearest[b]!));
      const d = Math.abs(same - part.least) <= SEAM_SAME_FACE && part.late.some((b) => gapAt(a, b, same) <= SEAM_JOIN) ? same : part.least;
      for (let cj = 0; cj < clusters; cj++) {
        if (!part.late.includes(owner[cj]!)) continue;
        owner[cj] = a;
        out.carried[cj] = 1;
        out.dx[cj] = d * ux;
        out.dy[cj] = d * uy;
      }
    }
    return out;
  }
}

/** Widest (m) and longest road user whose footprint a floating part and a lower cluster make together. */
const VEHICLE_MAX_WIDTH = 3.0;
const VEHICLE_MAX_LENGTH = 13;

/** Do the cells of two clusters fit in one vehicle's footprint (the minimum-area rectangle's sides)? */
function oneVehicle(order: Int32Array, a0: number, a1: number, b0: number, b1: number, sx: Float64Array, sy: Float64Array, n: Int32Array): boolean {
  let bestArea = Infinity, short = 0, long = 0;
  for (let k = 0; k < ANGLE_STEPS; k++) {
    const c = COS[k]!, s = SIN[k]!;
    let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
    for (const [from, to] of [[a0, a1], [b0, b1]] as const) {
      for (let i = from; i < to; i++) {
        const cell = order[i]!, x = sx[cell]! / n[cell]!, y = sy[cell]! / n[cell]!;
        const u = c * x + s * y, v = -s * x + c * y;
        if (u < u0) u0 = u;
        if (u > u1) u1 = u;
        if (v < v0) v0 = v;
        if (v > v1) v1 = v;
      }
    }
    const area = (u1 - u0) * (v1 - v0);
    if (area < bestArea) {
      bestArea = area;
      short = Math.min(u1 - u0, v1 - v0);
      long = Math.max(u1 - u0, v1 - v0);
    }
  }
  return short <= VEHICLE_MAX_WIDTH && long <= VEHICLE_MAX_LENGTH;
}

interface SeamShift {
  dx: Float64Array;
  dy: Float64Array;
  carried: Uint8Array;
}

/** Horizontal gap (m) between two clusters: the least distance between their cells' centroids. */
function cellGap(order: Int32Array, a0: number, a1: number, b0: number, b1: number, sx: Float64Array, sy: Float64Array, n: Int32Array): number {
  let best = Infinity;
  for (let i = a0; i < a1; i++) {
    const ca = order[i]!, ax = sx[ca]! / n[ca]!, ay = sy[ca]! / n[ca]!;
    for (let j = b0; j < b1; j++) {
      const cb = order[j]!;
      const d = (sx[cb]! / n[cb]! - ax) ** 2 + (sy[cb]! / n[cb]! - ay) ** 2;
      if (d < best) best = d;
    }
  }
  return Math.sqrt(best);
}

