/**
 * Lidar proposals scored on real labelled sweeps (the folder layout of
 * ../shared/real-labelled-lidar: `index.json`, and per frame `<dataset>/<frame>/points.bin`
 * float32 x, y, z, intensity; `labels.json`; `meta.json`).
 *
 * Each sweep goes through `LidarProposer.propose` as src/suggest/stage.ts calls it: one sweep, no
 * per-point time, the mount from the data as a rig's /tf_static would give it (the sensor's height
 * above the ground: `sensor_height_m`, else minus `ground_z_estimate_in_lidar_frame`); the labels
 * are never shown to it. Scoring follows the KITTI/nuScenes conventions the issue names (#16):
 * - truth: road users (car; truck ← truck, bus, trailer; pedestrian; cyclist ← a rider on a bicycle
 *   or motorcycle; a bicycle or motorcycle without one is an ignore region, see CLASS_MAP) with
 *   ≥ 10 returns within 50 m (BEV) of the sensor;
 * - a prediction matches at BEV IoU ≥ 0.5 for vehicles, ≥ 0.25 for pedestrians and cyclists
 *   (greedy by IoU, one-to-one, any class; a true positive when the classes agree);
 * - a prediction on a box that is not counted (static_object, other, misc, or a road user with
 *   fewer returns or farther) is neither right nor wrong (IoU > 0.1, or over half its own area on
 *   it: the ignore-region rule of eval.ts);
 * - where the labels cover the camera's view only (KITTI), predictions outside ±45° are ignored.
 * The same run scores a grid-clustering baseline (`gridBaseline`) so every figure has a ratio.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { calibrated, CONFIDENCE_SCALE, fitConfidenceScale } from "./calibrate.js";
import { bevIntersection, bevIoU, IOU_MIN } from "./eval.js";
import { LidarProposer, mountRotation, type LidarMount, type PointCloudView, type Proposal } from "./lidar.js";
import type { Box3D } from "./types.js";

export const ROAD_CLASSES = ["car", "truck", "pedestrian", "cyclist"] as const;
export type RoadClass = (typeof ROAD_CLASSES)[number];

/**
 * Dataset class names → the four scored classes; null: an ignore region (neither a miss nor, where
 * a box lands on it, a false box). The issue scores "cyclist incl. bicycle/motorcycle with rider":
 * KITTI's Cyclist is a rider on a bicycle; Argoverse 2's BICYCLE/MOTORCYCLE are the vehicles alone
 * (its riders are BICYCLIST/MOTORCYCLIST, none in the shared sweeps) and PandaSet's carry no rider
 * flag, so those are ignore regions — as the issue's own counts have them (Argoverse 2: 42 road
 * users = 34 cars, 2 trucks, 6 pedestrians; PandaSet: 102 = 97 + 1 + 4).
 */
const CLASS_MAP: Record<string, RoadClass | null> = {
  car: "car", van: "car", truck: "truck", bus: "truck", trailer: "truck",
  pedestrian: "pedestrian", cyclist: "cyclist", bicycle: null, motorcycle: null,
  // Riders as Argoverse 2 names them (BICYCLIST, MOTORCYCLIST: none in the shared sweeps, a
  // converter may keep their names); KITTI's Person_sitting, Tram and DontCare are not scored there either.
  bicyclist: "cyclist", motorcyclist: "cyclist", person_sitting: null, tram: null, dontcare: null,
  static_object: null, other: null, misc: null,
};

/** Label classes this scorer does not know, with how many boxes: ignore regions, reported so a new set's names are not dropped unseen. */
export function unknownClasses(sweeps: readonly RealSweep[]): Record<string, number> {
  const out = new Map<string, number>();
  for (const s of sweeps) for (const l of s.labels) if (!Object.hasOwn(CLASS_MAP, l.sourceClass)) out.set(l.sourceClass, (out.get(l.sourceClass) ?? 0) + 1);
  return Object.fromEntries(out);
}

export interface RealLabel {
  category: RoadClass | null;
  sourceClass: string;
  /** In base_link (z from the ground). */
  box: Box3D;
  points: number;
}

export interface RealSweep {
  dataset: string;
  frame: string;
  view: PointCloudView;
  mount: LidarMount;
  labels: RealLabel[];
  /** Labels cover only the front camera's view (KITTI). */
  cameraFovOnly: boolean;
}

export interface Prediction {
  category: string;
  confidence: number;
  box: Box3D;
}

export interface SweepOptions {
  rangeM: number;
  minTruthPoints: number;
  /** Half-angle (rad) of the labelled camera view where the labels cover it only. */
  fovHalfAngle: number;
}

export const DEFAULT_SWEEP_OPTIONS: SweepOptions = { rangeM: 50, minTruthPoints: 10, fovHalfAngle: Math.PI / 4 };

export interface ClassTally {
  truth: number;
  matched: number;
  predicted: number;
  correct: number;
  iouSum: number;
  /** (confidence, true positive) per counted prediction, for the average precision. */
  ranked: [number, boolean][];
}

export interface SweepOutcome {
  dataset: string;
  frame: string;
  tally: Record<RoadClass, ClassTally>;
  misses: { category: RoadClass; box: Box3D; points: number; bestIoU: number }[];
  falses: { category: string; confidence: number; box: Box3D }[];
}

const emptyTally = (): Record<RoadClass, ClassTally> =>
  Object.fromEntries(ROAD_CLASSES.map((c) => [c, { truth: 0, matched: 0, predicted: 0, correct: 0, iouSum: 0, ranked: [] }])) as unknown as Record<RoadClass, ClassTally>;

function isRoadClass(c: string): c is RoadClass {
  return (ROAD_CLASSES as readonly string[]).includes(c);
}

/** The labels a sweep is scored on: a road-user class, enough returns, within range. */
function scoredLabels(sweep: RealSweep, options: SweepOptions): RealSweep["labels"] {
  return sweep.labels.filter((l) => l.category !== null && l.points >= options.minTruthPoints && Math.hypot(l.box.x, l.box.y) <= options.rangeM);
}

/** One sweep's predictions against its labels. */
export function scoreSweep(sweep: RealSweep, predictions: readonly Prediction[], options: SweepOptions = DEFAULT_SWEEP_OPTIONS): SweepOutcome {
  const tally = emptyTally();
  const inRange = (b: Box3D): boolean => Math.hypot(b.x, b.y) <= options.rangeM;
  const inView = (b: Box3D): boolean => !sweep.cameraFovOnly || Math.abs(Math.atan2(b.y, b.x)) <= options.fovHalfAngle;
  const counted = scoredLabels(sweep, options);
  const ignored = sweep.labels.filter((l) => !counted.includes(l));
  const preds = predictions.filter((p) => isRoadClass(p.category) && inRange(p.box) && inView(p.box));
  const pairs: [number, number, number][] = [];
  counted.forEach((t, ti) =>
    preds.forEach((p, pi) => {
      const iou = bevIoU(t.box, p.box);
      if (iou >= IOU_MIN[t.category!]!) pairs.push([iou, ti, pi]);
    }),
  );
  pairs.sort((a, b) => b[0] - a[0]);
  const truthOf = new Map<number, number>(), iouOf = new Map<number, number>();
  const usedT = new Set<number>();
  for (const [iou, ti, pi] of pairs) {
    if (usedT.has(ti) || truthOf.has(pi)) continue;
    usedT.add(ti);
    truthOf.set(pi, ti);
    iouOf.set(pi, iou);
  }
  const matchedTruth = new Set<number>();
  preds.forEach((p, pi) => {
    const ti = truthOf.get(pi);
    if (ti !== undefined && counted[ti]!.category === p.category) matchedTruth.add(ti);
  });
  counted.forEach((t, ti) => {
    const s = tally[t.category!];
    s.truth++;
    if (matchedTruth.has(ti)) s.matched++;
  });
  const outcome: SweepOutcome = { dataset: sweep.dataset, frame: sweep.frame, tally, misses: [], falses: [] };
  counted.forEach((t, ti) => {
    if (matchedTruth.has(ti)) return;
    const bestIoU = preds.reduce((m, p) => Math.max(m, bevIoU(t.box, p.box)), 0);
    outcome.misses.push({ category: t.category!, box: t.box, points: t.points, bestIoU });
  });
  preds.forEach((p, pi) => {
    const ti = truthOf.get(pi);
    if (ti === undefined && ignored.some((t) => bevIoU(t.box, p.box) > 0.1 || bevIntersection(t.box, p.box) > 0.5 * p.box.length * p.box.width)) return;
    const s = tally[p.category as RoadClass];
    s.predicted++;
    const tp = ti !== undefined && counted[ti]!.category === p.category;
    if (tp) {
      s.correct++;
      s.iouSum += iouOf.get(pi)!;
    } else outcome.falses.push({ category: p.category, confidence: p.confidence, box: p.box });
    s.ranked.push([p.confidence, tp]);
  });
  return outcome;
}

export interface Figures {
  carRecall: number;
  carPrecision: number;
  allRecall: number;
  allPrecision: number;
  vruRecall: number;
  /** Per class: recall, precision, mean BEV IoU of the true positives, average precision by confidence, and how well the confidence is calibrated. */
  classes: Record<RoadClass, { truth: number; matched: number; predicted: number; correct: number; recall: number; precision: number; meanIoU: number; ap: number; calibration: Calibration }>;
  /** The four classes' boxes pooled. */
  calibration: Calibration;
}

/** One confidence bin of a reliability diagram: boxes whose confidence lies in [lo, hi), how many were right, their mean confidence. */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  boxes: number;
  correct: number;
  meanConfidence: number;
}

/**
 * How far a box's confidence is from the share of such boxes that are right: the reliability
 * diagram's bins and the expected calibration error (ECE, the bins' |share right − mean
 * confidence| weighted by their boxes; Guo et al. 2017, "On Calibration of Modern Neural
 * Networks"). An annotation tool that keeps boxes above a threshold gets about that share right
 * when the ECE is small.
 */
export interface Calibration {
  bins: ReliabilityBin[];
  ece: number;
}

/** Bins of the reliability diagram (equal width over 0..1). */
const RELIABILITY_BINS = 5;

export function calibration(ranked: readonly [number, boolean][]): Calibration {
  const bins: ReliabilityBin[] = Array.from({ length: RELIABILITY_BINS }, (_, k) => ({ lo: k / RELIABILITY_BINS, hi: (k + 1) / RELIABILITY_BINS, boxes: 0, correct: 0, meanConfidence: 0 }));
  for (const [confidence, ok] of ranked) {
    const b = bins[Math.min(RELIABILITY_BINS - 1, Math.max(0, Math.floor(confidence * RELIABILITY_BINS)))]!;
    b.boxes++;
    if (ok) b.correct++;
    b.meanConfidence += confidence;
  }
  let ece = 0;
  for (const b of bins) {
    if (b.boxes === 0) continue;
    b.meanConfidence /= b.boxes;
    ece += (b.boxes / ranked.length) * Math.abs(b.correct / b.boxes - b.meanConfidence);
  }
  return { bins, ece: ranked.length > 0 ? ece : NaN };
}

/** Average precision (all-point interpolation, as PASCAL VOC 2010+) of predictions ranked by confidence. */
function averagePrecision(ranked: [number, boolean][], truth: number): number {
  if (truth === 0) return NaN;
  const sorted = [...ranked].sort((a, b) => b[0] - a[0]);
  const rec: number[] = [], prec: number[] = [];
  let tp = 0;
  sorted.forEach(([, ok], i) => {
    if (ok) tp++;
    rec.push(tp / truth);
    prec.push(tp / (i + 1));
  });
  for (let i = prec.length - 2; i >= 0; i--) prec[i] = Math.max(prec[i]!, prec[i + 1]!);
  let ap = 0, prev = 0;
  for (let i = 0; i < rec.length; i++) {
    ap += (rec[i]! - prev) * prec[i]!;
    prev = rec[i]!;
  }
  return ap;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : NaN);

export function summarise(outcomes: readonly SweepOutcome[]): Figures {
  const total = emptyTally();
  for (const o of outcomes) {
    for (const c of ROAD_CLASSES) {
      const t = total[c], s = o.tally[c];
      t.truth += s.truth;
      t.matched += s.matched;
      t.predicted += s.predicted;
      t.correct += s.correct;
      t.iouSum += s.iouSum;
      t.ranked.push(...s.ranked);
    }
  }
  const sum = (cs: readonly RoadClass[], k: "truth" | "matched" | "predicted" | "correct"): number => cs.reduce((a, c) => a + total[c][k], 0);
  const classes = Object.fromEntries(
    ROAD_CLASSES.map((c) => {
      const t = total[c];
      return [c, { truth: t.truth, matched: t.matched, predicted: t.predicted, correct: t.correct, recall: ratio(t.matched, t.truth), precision: ratio(t.correct, t.predicted), meanIoU: ratio(t.iouSum, t.correct), ap: averagePrecision(t.ranked, t.truth), calibration: calibration(t.ranked) }];
    }),
  ) as Figures["classes"];
  return {
    carRecall: ratio(total.car.matched, total.car.truth),
    carPrecision: ratio(total.car.correct, total.car.predicted),
    allRecall: ratio(sum(ROAD_CLASSES, "matched"), sum(ROAD_CLASSES, "truth")),
    allPrecision: ratio(sum(ROAD_CLASSES, "correct"), sum(ROAD_CLASSES, "predicted")),
    vruRecall: ratio(sum(["pedestrian", "cyclist"], "matched"), sum(["pedestrian", "cyclist"], "truth")),
    classes,
    calibration: calibration(ROAD_CLASSES.flatMap((c) => total[c].ranked)),
  };
}

interface IndexEntry {
  dataset: string;
  frame: string;
}

function fail(what: string, problem: string): never {
  throw new Error(`${what}: ${problem}`);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    fail(path, (error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (error as Error).message);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    fail(path, "not valid JSON");
  }
}

const num = (v: unknown, what: string): number => (typeof v === "number" && Number.isFinite(v) ? v : fail(what, `expected a number, got ${JSON.stringify(v)}`));

/** Every sweep listed in `<dir>/index.json`, read and checked (one clear error naming the file otherwise). */
export async function loadRealSweeps(dir: string): Promise<RealSweep[]> {
  const index = await readJson(join(dir, "index.json"));
  if (!Array.isArray(index)) fail(join(dir, "index.json"), "expected an array of { dataset, frame }");
  const sweeps: RealSweep[] = [];
  for (const [i, e] of (index as unknown[]).entries()) {
    const entry = e as Partial<IndexEntry> | null;
    if (entry === null || typeof entry !== "object" || typeof entry.dataset !== "string" || typeof entry.frame !== "string") fail(join(dir, "index.json"), `entry ${i} has no string dataset and frame`);
    const folder = join(dir, entry.dataset, entry.frame);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(folder, "points.bin"));
    } catch (error) {
      fail(join(folder, "points.bin"), (error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (error as Error).message);
    }
    if (bytes.byteLength % 16 !== 0) fail(join(folder, "points.bin"), `${bytes.byteLength} bytes is not a whole number of 16-byte x, y, z, intensity records`);
    const meta = (await readJson(join(folder, "meta.json"))) as Record<string, unknown> | null;
    if (meta === null || typeof meta !== "object") fail(join(folder, "meta.json"), "expected an object");
    // The sensor's height above the road, as a rig's /tf_static gives it; the ground estimate where the rig's is unknown.
    const height = typeof meta["sensor_height_m"] === "number" ? meta["sensor_height_m"] : -num(meta["ground_z_estimate_in_lidar_frame"], join(folder, "meta.json") + ": ground_z_estimate_in_lidar_frame (no sensor_height_m)");
    const mount: LidarMount = { x: 0, y: 0, z: height, yaw: 0 };
    const rawLabels = await readJson(join(folder, "labels.json"));
    if (!Array.isArray(rawLabels)) fail(join(folder, "labels.json"), "expected an array of boxes");
    const labels: RealLabel[] = (rawLabels as Record<string, unknown>[]).map((l, k) => {
      const what = `${join(folder, "labels.json")}: box ${k}`;
      const cls = typeof l["class"] === "string" ? l["class"] : fail(what, "no class");
      const category = Object.hasOwn(CLASS_MAP, cls) ? CLASS_MAP[cls]! : null;
      return {
        category,
        sourceClass: cls,
        box: { x: num(l["x"], `${what} x`), y: num(l["y"], `${what} y`), z: num(l["z"], `${what} z`) + height, yaw: num(l["yaw"], `${what} yaw`), length: num(l["l"], `${what} l`), width: num(l["w"], `${what} w`), height: num(l["h"], `${what} h`) },
        points: num(l["num_points"], `${what} num_points`),
      };
    });
    const cover = typeof meta["labels_cover"] === "string" ? meta["labels_cover"] : "";
    sweeps.push({
      dataset: entry.dataset,
      frame: entry.frame,
      view: { data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), pointStep: 16, count: bytes.byteLength / 16, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true },
      mount,
      labels,
      cameraFovOnly: /camera fov/i.test(cover),
    });
  }
  if (sweeps.length === 0) fail(join(dir, "index.json"), "lists no sweeps");
  return sweeps;
}

/**
 * The baseline every figure is compared with: points 0.23–3.5 m above a flat ground at the mount
 * height, 0.5 m cells, 8-connected components, axis-aligned boxes, class by size.
 */
export function gridBaseline(view: PointCloudView, mount: LidarMount): Prediction[] {
  const dv = new DataView(view.data.buffer, view.data.byteOffset, view.data.byteLength);
  const cells = new Map<number, { x0: number; x1: number; y0: number; y1: number; z1: number; n: number }>();
  const key = (i: number, j: number): number => (i + 1000) * 4000 + (j + 1000);
  for (let k = 0, o = 0; k < view.count; k++, o += view.pointStep) {
    const x = dv.getFloat32(o + view.offsetX, true), y = dv.getFloat32(o + view.offsetY, true), h = dv.getFloat32(o + view.offsetZ, true) + mount.z;
    if (!(h >= 0.23 && h <= 3.5) || Math.abs(x) > 70 || Math.abs(y) > 70) continue;
    const id = key(Math.floor(x / 0.5), Math.floor(y / 0.5));
    const c = cells.get(id);
    if (c === undefined) cells.set(id, { x0: x, x1: x, y0: y, y1: y, z1: h, n: 1 });
    else Object.assign(c, { x0: Math.min(c.x0, x), x1: Math.max(c.x1, x), y0: Math.min(c.y0, y), y1: Math.max(c.y1, y), z1: Math.max(c.z1, h), n: c.n + 1 });
  }
  const seen = new Set<number>(), out: Prediction[] = [];
  for (const start of cells.keys()) {
    if (seen.has(start)) continue;
    seen.add(start);
    const stack = [start], b = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity, z1: 0, n: 0 };
    while (stack.length > 0) {
      const id = stack.pop()!, c = cells.get(id)!;
      Object.assign(b, { x0: Math.min(b.x0, c.x0), x1: Math.max(b.x1, c.x1), y0: Math.min(b.y0, c.y0), y1: Math.max(b.y1, c.y1), z1: Math.max(b.z1, c.z1), n: b.n + c.n });
      for (const d of [-4001, -4000, -3999, -1, 1, 3999, 4000, 4001]) {
        if (!cells.has(id + d) || seen.has(id + d)) continue;
        seen.add(id + d);
        stack.push(id + d);
      }
    }
    if (b.n < 4) continue;
    const dx = b.x1 - b.x0, dy = b.y1 - b.y0, l = Math.max(dx, dy), w = Math.min(dx, dy);
    const category = l <= 1.2 && b.z1 >= 1 ? "pedestrian" : l <= 2.2 && w <= 1 && b.z1 >= 1 ? "cyclist" : l <= 6 && w <= 2.5 && b.z1 <= 2.5 ? "car" : l <= 13 && w <= 3.2 ? "truck" : "unknown";
    out.push({ category, confidence: 0.5, box: { x: (b.x0 + b.x1) / 2, y: (b.y0 + b.y1) / 2, z: b.z1 / 2, yaw: 0, length: Math.max(dx, 0.1), width: Math.max(dy, 0.1), height: b.z1 } });
  }
  return out;
}

/** Calls `fn` with every return of the sweep in base_link (the mount applied). */
function forEachReturn(sweep: RealSweep, fn: (x: number, y: number, z: number) => void): void {
  const v = sweep.view;
  const dv = new DataView(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  const rot = mountRotation(sweep.mount);
  for (let i = 0, o = 0; i < v.count; i++, o += v.pointStep) {
    const lx = dv.getFloat32(o + v.offsetX, v.littleEndian), ly = dv.getFloat32(o + v.offsetY, v.littleEndian), lz = dv.getFloat32(o + v.offsetZ, v.littleEndian);
    fn(sweep.mount.x + rot[0]! * lx + rot[1]! * ly + rot[2]! * lz, sweep.mount.y + rot[3]! * lx + rot[4]! * ly + rot[5]! * lz, sweep.mount.z + rot[6]! * lx + rot[7]! * ly + rot[8]! * lz);
  }
}

/** How much of a vehicle the sweep shows: the share of its length, or of its width, its returns span. */
export type ViewClass = "most" | "part" | "fragment";
export const VIEW_CLASSES: readonly ViewClass[] = ["most", "part", "fragment"];
const VIEW_TEXT: Record<ViewClass, string> = { most: "≥ 60 % of the length or the full width", part: "30–60 % of the length", fragment: "< 30 % of the length (a corner, a bumper)" };

/**
 * Per scored car label, how much of it the sweep shows: the extent of its returns in the body band
 * (0.3 m over the ground to its top, the box grown by 0.1 m) along its length and across its
 * width. A car whose returns span most of its length or its whole width can be boxed from one
 * sweep; a corner or a bumper seen past a parked row cannot be told from clutter.
 */
export function carViews(sweep: RealSweep, options: SweepOptions = DEFAULT_SWEEP_OPTIONS): Map<Box3D, ViewClass> {
  const cars = scoredLabels(sweep, options).filter((l) => l.category === "car");
  const span = cars.map(() => [Infinity, -Infinity, Infinity, -Infinity]);
  const axes = cars.map((l) => [Math.cos(l.box.yaw), Math.sin(l.box.yaw)] as const);
  forEachReturn(sweep, (x, y, z) => {
    cars.forEach((l, k) => {
      const b = l.box, dx = x - b.x, dy = y - b.y;
      if (Math.abs(dx) > b.length || Math.abs(dy) > b.length || z < 0.3 || z > b.z + b.height / 2 + 0.1) return;
      const [c, s] = axes[k]!, u = c * dx + s * dy, w = -s * dx + c * dy;
      if (Math.abs(u) > b.length / 2 + 0.1 || Math.abs(w) > b.width / 2 + 0.1) return;
      const e = span[k]!;
      e[0] = Math.min(e[0]!, u);
      e[1] = Math.max(e[1]!, u);
      e[2] = Math.min(e[2]!, w);
      e[3] = Math.max(e[3]!, w);
    });
  });
  const out = new Map<Box3D, ViewClass>();
  cars.forEach((l, k) => {
    const [u0, u1, w0, w1] = span[k] as [number, number, number, number];
    const along = u1 > u0 ? (u1 - u0) / l.box.length : 0, across = w1 > w0 ? (w1 - w0) / l.box.width : 0;
    out.set(l.box, along >= 0.6 || across >= 0.8 ? "most" : along >= 0.3 ? "part" : "fragment");
  });
  return out;
}

/**
 * A label the audit doubts: a vehicle whose returns fit its box turned 90° clearly better than as
 * labelled (a heading taken from the wrong edge), or a second label on an object already labelled
 * (two tracks, one box).
 */
export interface DoubtfulLabel {
  dataset: string;
  frame: string;
  category: RoadClass;
  box: Box3D;
  reason: "turned" | "duplicate";
  /** Returns in the box as labelled, and turned 90° about its centre (reason "turned"). */
  asLabelled?: number;
  turned?: number;
}

/** Two labels of one class whose boxes overlap this much (BEV IoU) label one object. */
const DUPLICATE_IOU = 0.9;

/** The turned box must hold this many times the returns (and at least DOUBT_MIN more) to doubt a label. */
const DOUBT_RATIO = 1.5;
const DOUBT_MIN = 10;

/**
 * Checks each scored vehicle label against its own returns: the body band (0.3 m over the box's
 * bottom to its top) inside the box grown by 0.2 m, as labelled and turned 90°. A vehicle's
 * returns lie along its sides, so a box whose turned copy holds far more of them has its length
 * and width swapped — no detector can match it at BEV IoU 0.5 (a correct box scores ~0.3).
 * Also a label repeating an earlier one's box (same class, BEV IoU ≥ DUPLICATE_IOU): one object, two
 * tracks. Such labels are listed, never changed: the headline figures score the labels as given.
 */
export function auditLabels(sweep: RealSweep, options: SweepOptions = DEFAULT_SWEEP_OPTIONS): DoubtfulLabel[] {
  const out: DoubtfulLabel[] = [];
  // A scored label on the same object as an earlier one of its class: one object can be matched
  // once, so the copy would count as a miss whatever the detector did.
  const scored = scoredLabels(sweep, options);
  scored.forEach((l, i) => {
    if (scored.slice(0, i).some((e) => e.category === l.category && bevIoU(e.box, l.box) >= DUPLICATE_IOU)) out.push({ dataset: sweep.dataset, frame: sweep.frame, category: l.category!, box: l.box, reason: "duplicate" });
  });
  const duplicate = new Set(out.map((d) => d.box));
  const boxes = scored.filter((l) => !duplicate.has(l.box) && (l.category === "car" || l.category === "truck") && l.box.length > 1.3 * l.box.width);
  if (boxes.length === 0) return out;
  const counts = boxes.map(() => [0, 0] as [number, number]);
  const axes = boxes.map((l) => [Math.cos(l.box.yaw), Math.sin(l.box.yaw)] as const);
  forEachReturn(sweep, (x, y, z) => {
    boxes.forEach((l, k) => {
      const b = l.box, dx = x - b.x, dy = y - b.y, reach = b.length / 2 + 0.2;
      if (Math.abs(dx) > reach || Math.abs(dy) > reach || z < b.z - b.height / 2 + 0.3 || z > b.z + b.height / 2) return;
      const [c, s] = axes[k]!, u = c * dx + s * dy, w = -s * dx + c * dy;
      const hl = b.length / 2 + 0.2, hw = b.width / 2 + 0.2;
      if (Math.abs(u) <= hl && Math.abs(w) <= hw) counts[k]![0]++;
      if (Math.abs(w) <= hl && Math.abs(u) <= hw) counts[k]![1]++;
    });
  });
  boxes.forEach((l, k) => {
    const [a, t] = counts[k]!;
    if (t > DOUBT_RATIO * a && t - a >= DOUBT_MIN) out.push({ dataset: sweep.dataset, frame: sweep.frame, category: l.category!, box: l.box, reason: "turned", asLabelled: a, turned: t });
  });
  return out;
}

export interface RealEvaluation {
  sweeps: number;
  /** Per dataset and "all": proposer, baseline. */
  datasets: Record<string, { proposer: Figures; baseline: Figures }>;
  /** Vehicle labels the audit doubts, and the proposer's figures over all sweeps with those labels as ignore regions. */
  audit: { doubtful: DoubtfulLabel[]; scoredVehicles: number; asIgnored: Figures };
  /** Scored cars by how much of them their sweep shows (see carViews): how many, how many missed, how many of those the audit doubts. */
  views: Record<ViewClass, { cars: number; missed: number; doubtful: number }>;
  outcomes: SweepOutcome[];
  /** Median wall time of one proposal run per sweep (ms). */
  medianMs: number;
  /** Label classes the scorer does not know (ignore regions), with their box counts. */
  unknownClasses: Record<string, number>;
  /**
   * The confidence's calibration (calibrate.ts), all four classes pooled: expected calibration
   * error of the raw confidence, of the published one (the shipped factors), and leave-one-dataset-out
   * (each rig's boxes scaled by factors fitted on the other rigs); the factors these sweeps give.
   */
  confidence: { rawEce: number; publishedEce: number; heldOutEce: number; fitted: Record<RoadClass, number> };
}

/** The suggestions of one sweep, raw confidence: a truncated face is evidence for a track, not a suggestion (see Proposal.truncated). */
const fromProposals = (ps: readonly Proposal[]): Prediction[] => ps.map((p) => ({ category: p.truncated === true ? "unknown" : p.category, confidence: p.confidence, box: p.box }));

/** An outcome with its boxes' confidences mapped per class (calibrate.ts); the matching does not depend on them, so it is not redone. */
const withConfidence = (o: SweepOutcome, map: (category: string, raw: number) => number = calibrated): SweepOutcome => ({
  ...o,
  tally: Object.fromEntries(ROAD_CLASSES.map((c) => [c, { ...o.tally[c], ranked: o.tally[c].ranked.map(([x, ok]): [number, boolean] => [map(c, x), ok]) }])) as SweepOutcome["tally"],
  falses: o.falses.map((f) => ({ ...f, confidence: map(f.category, f.confidence) })),
});

/** Each class's factor fitted on the (raw confidence, right) pairs of `outcomes`. */
const fitScales = (outcomes: readonly SweepOutcome[]): Record<RoadClass, number> =>
  Object.fromEntries(ROAD_CLASSES.map((c) => [c, fitConfidenceScale(outcomes.flatMap((o) => o.tally[c].ranked))])) as Record<RoadClass, number>;

/**
 * Runs the proposer (one for all sweeps, as the stage keeps one: it carries buffers, no state,
 * from sweep to sweep) and the baseline on every sweep.
 */
export function evaluateRealSweeps(sweeps: readonly RealSweep[], makeProposer: () => LidarProposer = () => new LidarProposer(), options: SweepOptions = DEFAULT_SWEEP_OPTIONS): RealEvaluation {
  const outcomes: SweepOutcome[] = [], raw: SweepOutcome[] = [], base: SweepOutcome[] = [], audited: SweepOutcome[] = [], times: number[] = [];
  const doubtful: DoubtfulLabel[] = [];
  const views = Object.fromEntries(VIEW_CLASSES.map((v) => [v, { cars: 0, missed: 0, doubtful: 0 }])) as RealEvaluation["views"];
  const proposer = makeProposer();
  for (const s of sweeps) {
    const t0 = process.hrtime.bigint();
    const proposals = proposer.propose(s.view, s.mount, { speed: 0, yawRate: 0 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const scored = scoreSweep(s, fromProposals(proposals), options), outcome = withConfidence(scored);
    raw.push(scored);
    outcomes.push(outcome);
    const doubts = auditLabels(s, options);
    doubtful.push(...doubts);
    const doubted = new Set(doubts.map((d) => d.box));
    const missed = new Set(outcome.misses.map((m) => m.box));
    for (const [box, view] of carViews(s, options)) {
      views[view].cars++;
      if (missed.has(box)) {
        views[view].missed++;
        if (doubted.has(box)) views[view].doubtful++;
      }
    }
    // A doubted label becomes an ignore region (as static/other/misc are): neither a miss nor, where a box lands on it, a false box.
    const relabelled = { ...s, labels: s.labels.map((l) => (doubted.has(l.box) ? { ...l, category: null } : l)) };
    audited.push(withConfidence(scoreSweep(relabelled, fromProposals(proposals), options)));
    base.push(scoreSweep(s, gridBaseline(s.view, s.mount), options));
  }
  const datasets: RealEvaluation["datasets"] = {};
  for (const d of [...new Set(sweeps.map((s) => s.dataset)), "all"]) {
    const pick = (o: readonly SweepOutcome[]): SweepOutcome[] => o.filter((x) => d === "all" || x.dataset === d);
    datasets[d] = { proposer: summarise(pick(outcomes)), baseline: summarise(pick(base)) };
  }
  times.sort((a, b) => a - b);
  const allFigures = datasets["all"]!.proposer;
  const audit = { doubtful, scoredVehicles: allFigures.classes.car.truth + allFigures.classes.truck.truth, asIgnored: summarise(audited) };
  // Leave-one-dataset-out: each rig's raw confidences scaled by the factors the other rigs give.
  const heldOut: SweepOutcome[] = [];
  for (const d of new Set(sweeps.map((s) => s.dataset))) {
    const scale = fitScales(raw.filter((o) => o.dataset !== d));
    for (const o of raw) if (o.dataset === d) heldOut.push(withConfidence(o, (c, x) => calibrated(c, x, scale)));
  }
  const confidence = { rawEce: summarise(raw).calibration.ece, publishedEce: allFigures.calibration.ece, heldOutEce: summarise(heldOut).calibration.ece, fitted: fitScales(raw) };
  return { sweeps: sweeps.length, datasets, audit, views, outcomes, medianMs: times[Math.floor(times.length / 2)] ?? NaN, unknownClasses: unknownClasses(sweeps), confidence };
}

const f3 = (x: number): string => (Number.isNaN(x) ? "–" : x.toFixed(3));
const f2 = (x: number): string => (Number.isNaN(x) ? "–" : x.toFixed(2));
const fr = (a: number, b: number): string => (b > 0 && !Number.isNaN(a) ? (a / b).toFixed(2) : "–");
const size = (b: Box3D): string => `${b.length.toFixed(1)}×${b.width.toFixed(1)}×${b.height.toFixed(1)} m at (${b.x.toFixed(1)}, ${b.y.toFixed(1)})`;

/** One row of the figures tables: set, what was scored, car recall and precision (with counts), 4-class recall and precision, ped+cyc recall. */
export function figuresRow(set: string, name: string, f: Figures): string {
  return `| ${set} | ${name} | ${f3(f.carRecall)} (${f.classes.car.matched}/${f.classes.car.truth}) | ${f3(f.carPrecision)} (${f.classes.car.correct}/${f.classes.car.predicted}) | ${f3(f.allRecall)} | ${f3(f.allPrecision)} | ${f3(f.vruRecall)} |`;
}

/** The tables: per dataset and over all, proposer against baseline; with `detail`, every miss and false box. */
export function formatRealEvaluation(e: RealEvaluation, detail = false): string {
  const unknown = Object.entries(e.unknownClasses);
  const lines = [`real sweeps: ${e.sweeps}; proposer median ${e.medianMs.toFixed(1)} ms per sweep`];
  if (unknown.length > 0) lines.push(`label classes not known to the scorer, taken as ignore regions (neither missed nor false): ${unknown.map(([c, n]) => `${c} (${n})`).join(", ")}`);
  lines.push("", "| set | method | car recall | car precision | 4-class recall | 4-class precision | ped+cyc recall |", "| --- | --- | --- | --- | --- | --- | --- |");
  for (const [d, { proposer: p, baseline: b }] of Object.entries(e.datasets)) {
    lines.push(figuresRow(d, "proposer", p), figuresRow(d, "grid baseline", b));
    lines.push(`| ${d} | ratio | ${fr(p.carRecall, b.carRecall)} | ${fr(p.carPrecision, b.carPrecision)} | ${fr(p.allRecall, b.allRecall)} | ${fr(p.allPrecision, b.allPrecision)} | ${fr(p.vruRecall, b.vruRecall)} |`);
  }
  const all = e.datasets["all"]!.proposer;
  lines.push("", "| class (all sweeps) | truth | recall | precision | mean IoU | AP | ECE |", "| --- | --- | --- | --- | --- | --- | --- |");
  for (const c of ROAD_CLASSES) {
    const s = all.classes[c];
    lines.push(`| ${c} | ${s.truth} | ${f3(s.recall)} | ${f3(s.precision)} (${s.correct}/${s.predicted}) | ${f3(s.meanIoU)} | ${f3(s.ap)} | ${f3(s.calibration.ece)} |`);
  }
  // The reliability diagram as a table: what share of the boxes at each confidence were right.
  const cell = (b: ReliabilityBin): string => (b.boxes === 0 ? "–" : `${b.correct}/${b.boxes} = ${f2(b.correct / b.boxes)} (mean ${f2(b.meanConfidence)})`);
  const k = e.confidence;
  lines.push(
    "",
    `published confidence against the share of boxes right (all sweeps; ECE: car ${f3(all.classes.car.calibration.ece)}, four classes ${f3(all.calibration.ece)}; raw, before calibrate.ts ${f3(k.rawEce)}; leave-one-dataset-out ${f3(k.heldOutEce)})`,
    `calibration factors these sweeps give (calibrate.ts ships ${ROAD_CLASSES.map((c) => `${c} ${CONFIDENCE_SCALE[c]}`).join(", ")}): ${ROAD_CLASSES.map((c) => `${c} ${f2(k.fitted[c])}`).join(", ")}`,
    "",
    "| confidence | car boxes right | four classes' boxes right |",
    "| --- | --- | --- |",
  );
  all.calibration.bins.forEach((b, k) => lines.push(`| ${f2(b.lo)}–${f2(b.hi)} | ${cell(all.classes.car.calibration.bins[k]!)} | ${cell(b)} |`));
  const a = e.audit, q = a.asIgnored;
  lines.push(
    "",
    `label audit: ${a.doubtful.filter((d) => d.reason === "turned").length} of ${a.scoredVehicles} scored vehicle labels hold more of their returns turned 90° than as labelled (length and width swapped); ${a.doubtful.filter((d) => d.reason === "duplicate").length} scored labels repeat another label's box (one object, two tracks)${detail ? "; listed below" : "; --detail lists them"}.`,
    `with those labels as ignore regions (for context; the tables above score the labels as given): car recall ${f3(q.carRecall)} (${q.classes.car.matched}/${q.classes.car.truth}), car precision ${f3(q.carPrecision)}, 4-class precision ${f3(q.allPrecision)}`,
  );
  lines.push("", "scored cars by how much of them their sweep shows (returns spanning …): how many, missed (of those, doubted by the audit)");
  for (const v of VIEW_CLASSES) lines.push(`  ${VIEW_TEXT[v]}: ${e.views[v].cars} cars, ${e.views[v].missed} missed (${e.views[v].doubtful})`);
  if (detail) {
    for (const d of a.doubtful) lines.push(`  doubtful ${d.dataset}/${d.frame} ${d.category} ${size(d.box)}, yaw ${d.box.yaw.toFixed(2)}: ${d.reason === "turned" ? `${d.asLabelled} returns as labelled, ${d.turned} turned 90°` : "a second label on another label's box"}`);
    for (const o of e.outcomes) {
      lines.push("", `${o.dataset}/${o.frame}:`);
      for (const m of o.misses) lines.push(`  miss  ${m.category} ${size(m.box)}, ${m.points} returns, best IoU ${m.bestIoU.toFixed(2)}`);
      for (const f of o.falses) lines.push(`  false ${f.category} ${size(f.box)}, confidence ${f.confidence.toFixed(2)}`);
    }
  }
  return lines.join("\n");
}

/** JSON for scripts: the figures per dataset (no per-prediction lists beyond the misses and false boxes). */
export function realEvaluationJson(e: RealEvaluation): unknown {
  return {
    sweeps: e.sweeps,
    medianMs: e.medianMs,
    datasets: e.datasets,
    labelAudit: { scoredVehicles: e.audit.scoredVehicles, doubtful: e.audit.doubtful, asIgnored: e.audit.asIgnored },
    carsByView: e.views,
    perSweep: e.outcomes.map((o) => ({ dataset: o.dataset, frame: o.frame, misses: o.misses, falses: o.falses })),
    unknownClasses: e.unknownClasses,
    confidence: e.confidence,
  };
}

export interface LodoResult {
  parameter: string;
  grid: number[];
  /** Per held-out dataset: the value chosen on the others, and the held-out figures with it. */
  folds: { heldOut: string; chosen: number; carRecall: number; carPrecision: number; allPrecision: number }[];
  /** Pooled held-out figures (each dataset scored with the value fitted without it). */
  heldOut: Figures;
  /** In-sample: the default value on every dataset. */
  inSample: Figures;
  defaultValue: number;
}

/** Car F1 (the criterion a value is chosen by). */
const carF1 = (f: Figures): number => (f.carRecall + f.carPrecision > 0 ? (2 * f.carRecall * f.carPrecision) / (f.carRecall + f.carPrecision) : 0);

/**
 * Leave-one-dataset-out check of the one threshold read off real data, `carMaxTop`: for each
 * rig, the value of `grid` with the best car F1 on the other rigs is applied to it; the held-out
 * figures, pooled, say what to expect on a rig not seen.
 */
export function leaveOneDatasetOut(sweeps: readonly RealSweep[], grid: readonly number[] = [1.9, 2.0, 2.05, 2.1, 2.2, 2.3, 2.5], defaultValue = 2.05): LodoResult {
  const runs = new Map<number, SweepOutcome[]>();
  for (const v of new Set([...grid, defaultValue])) runs.set(v, evaluateRealSweeps(sweeps, () => new LidarProposer({ carMaxTop: v })).outcomes);
  const datasets = [...new Set(sweeps.map((s) => s.dataset))];
  const folds: LodoResult["folds"] = [];
  const pooled: SweepOutcome[] = [];
  for (const d of datasets) {
    let chosen = grid[0]!, best = -1;
    for (const v of grid) {
      const f1 = carF1(summarise(runs.get(v)!.filter((o) => o.dataset !== d)));
      if (f1 > best) {
        best = f1;
        chosen = v;
      }
    }
    const held = runs.get(chosen)!.filter((o) => o.dataset === d);
    pooled.push(...held);
    const f = summarise(held);
    folds.push({ heldOut: d, chosen, carRecall: f.carRecall, carPrecision: f.carPrecision, allPrecision: f.allPrecision });
  }
  return { parameter: "carMaxTop", grid: [...grid], folds, heldOut: summarise(pooled), inSample: summarise(runs.get(defaultValue)!), defaultValue };
}

export function formatLodo(r: LodoResult): string {
  const lines = [`leave-one-dataset-out: ${r.parameter} chosen from [${r.grid.join(", ")}] by car F1 on the other rigs`, "", "| held out | chosen | car recall | car precision | 4-class precision |", "| --- | --- | --- | --- | --- |"];
  for (const f of r.folds) lines.push(`| ${f.heldOut} | ${f.chosen} | ${f3(f.carRecall)} | ${f3(f.carPrecision)} | ${f3(f.allPrecision)} |`);
  lines.push(`| all, held-out | | ${f3(r.heldOut.carRecall)} | ${f3(r.heldOut.carPrecision)} | ${f3(r.heldOut.allPrecision)} |`);
  lines.push(`| all, in-sample (default ${r.defaultValue}) | | ${f3(r.inSample.carRecall)} | ${f3(r.inSample.carPrecision)} | ${f3(r.inSample.allPrecision)} |`);
  return lines.join("\n");
}
