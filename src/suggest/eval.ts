/**
 * Suggestion metrics against the simulator's truth (src/sim/truth.ts):
 * - lidar: per frame, truth boxes within `rangeM` (BEV distance from base_link) that the sweep
 *   actually hit (≥ `minTruthPoints` returns inside the box: boxes no ray reached are not
 *   countable, as in nuScenes/KITTI) matched one-to-one to suggested boxes (greedy by IoU) at
 *   BEV IoU ≥ 0.5 for vehicles and ≥ 0.25 for pedestrians and cyclists (`IOU_MIN`, the rule
 *   `syncbag eval-lidar` scores real sweeps by); recall and precision per class; id switches per
 *   100 track-seconds;
 * - camera: median 2D IoU of each matched object's 2D box against the truth box projected the
 *   same way (same camera, same time);
 * - audio / telemetry: a truth event is found by a suggestion of its category overlapping it
 *   (or starting within `eventToleranceS`); onset error |Δstart|; unmatched suggestions are
 *   false alarms, reported per 10 minutes of drive;
 * - latency: arrival of the sweep → its suggestions out (p50/p99).
 */
import type { TruthActor, TruthEvent, TruthFile, PoseSample } from "../sim/truth.js";
import { mountRotation, type LidarMount, type PointCloudView } from "./lidar.js";
import type { Box2D, Box3D, EventSuggestion, ObjectSuggestion } from "./types.js";

export interface FrameRecord {
  timeNs: bigint;
  objects: ObjectSuggestion[];
  /** Per truth actor id: number of sweep returns inside its box (visibility), when known. */
  truthPoints?: Map<number, number>;
  /** Truth 2D boxes per (actor id, camera), when a projection was available. */
  truth2d?: Map<string, Box2D>;
  /** Seconds from the sweep's arrival to its 3D suggestions (lidar boxes and tracks). */
  latencyS?: number;
  /** Seconds from the sweep's arrival to its frame's full suggestions (with 2D boxes: includes the aligner's wait for the cameras). */
  frameLatencyS?: number;
}

/**
 * Least BEV IoU a suggestion needs with a truth box of each class to match it: 0.5 for vehicles,
 * 0.25 for pedestrians and cyclists, whose boxes are under a metre across, so 10–20 cm of offset
 * (one beam gap at 20 m) already costs half the overlap. One table for the simulator and the
 * real sweeps (eval-lidar.ts), so their figures compare.
 */
export const IOU_MIN: Readonly<Record<string, number>> = { car: 0.5, truck: 0.5, pedestrian: 0.25, cyclist: 0.25 };

export interface SuggestionEvalOptions {
  rangeM?: number;
  /** One threshold for every class, instead of `IOU_MIN`. */
  iouThreshold?: number;
  minTruthPoints?: number;
  eventToleranceS?: number;
  /** Seconds at the start not scored (trackers and detectors warming up). */
  warmupS?: number;
  /**
   * End of what was recorded, when the recording stops before the drive did (a file cut short):
   * truth events not over by then are not scored, and false-alarm rates are per recorded time.
   */
  untilNs?: bigint;
}

export interface ClassScore {
  truth: number;
  matched: number;
  recall: number;
  predicted: number;
  correct: number;
  precision: number;
}

export interface EventScore {
  kind: string;
  truth: number;
  found: number;
  medianOnsetErrorMs: number;
  maxOnsetErrorMs: number;
}

export interface SuggestionEvaluation {
  frames: number;
  lidar: Record<string, ClassScore>;
  idSwitches: number;
  trackSeconds: number;
  idSwitchesPer100TrackS: number;
  camera: { pairs: number; medianIoU: number };
  audio: { events: EventScore[]; recall: number; maxOnsetErrorMs: number; falseAlarms: number; falseAlarmsPer10Min: number };
  telemetry: { events: EventScore[]; recall: number; maxOnsetErrorMs: number; falseEvents: number; falseEventsPer10Min: number };
  latency: { p50Ms: number; p99Ms: number; maxMs: number; samples: number; frameP50Ms: number; frameP99Ms: number };
}

/** Truth pose of an actor (or the ego) at t, linearly interpolated; null outside its lifetime. */
export function poseAt(track: readonly PoseSample[], tNs: bigint): PoseSample | null {
  if (track.length === 0) return null;
  const t = Number(tNs);
  const first = Number(BigInt(track[0]!.tNs)), last = Number(BigInt(track[track.length - 1]!.tNs));
  if (t < first || t > last) return null;
  let lo = 0, hi = track.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (Number(BigInt(track[mid]!.tNs)) <= t) lo = mid;
    else hi = mid;
  }
  const a = track[lo]!, b = track[hi]!;
  const ta = Number(BigInt(a.tNs)), tb = Number(BigInt(b.tNs));
  const u = tb > ta ? (t - ta) / (tb - ta) : 0;
  let dyaw = b.yaw - a.yaw;
  dyaw -= 2 * Math.PI * Math.round(dyaw / (2 * Math.PI));
  return { tNs: String(tNs), x: a.x + u * (b.x - a.x), y: a.y + u * (b.y - a.y), z: a.z + u * (b.z - a.z), yaw: a.yaw + u * dyaw, vx: a.vx + u * (b.vx - a.vx), vy: a.vy + u * (b.vy - a.vy) };
}

/** Truth actors as boxes in the ego's base_link at t (odom → base_link). */
export function truthBoxesAt(truth: TruthFile, tNs: bigint): { actor: TruthActor; box: Box3D; vx: number; vy: number }[] {
  const ego = poseAt(truth.ego, tNs);
  if (ego === null) return [];
  const c = Math.cos(ego.yaw), s = Math.sin(ego.yaw);
  const out: { actor: TruthActor; box: Box3D; vx: number; vy: number }[] = [];
  for (const actor of truth.actors) {
    const p = poseAt(actor.track, tNs);
    if (p === null) continue;
    const dx = p.x - ego.x, dy = p.y - ego.y;
    out.push({
      actor,
      box: { x: c * dx + s * dy, y: -s * dx + c * dy, z: p.z, yaw: p.yaw - ego.yaw, length: actor.size.x, width: actor.size.y, height: actor.size.z },
      vx: c * p.vx + s * p.vy,
      vy: -s * p.vx + c * p.vy,
    });
  }
  return out;
}

function corners(b: Box3D): [number, number][] {
  const c = Math.cos(b.yaw), s = Math.sin(b.yaw);
  const hl = b.length / 2, hw = b.width / 2;
  return [[hl, hw], [-hl, hw], [-hl, -hw], [hl, -hw]].map(([u, v]) => [b.x + c * u! - s * v!, b.y + s * u! + c * v!]);
}

function area(poly: [number, number][]): number {
  let a = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x1, y1] = poly[i]!, [x2, y2] = poly[(i + 1) % poly.length]!;
    a += x1 * y2 - x2 * y1;
  }
  return Math.abs(a) / 2;
}

/** Area (m²) of the overlap of two oriented boxes seen from above (Sutherland–Hodgman clipping of convex quadrilaterals). */
export function bevIntersection(a: Box3D, b: Box3D): number {
  if (Math.hypot(a.x - b.x, a.y - b.y) > (Math.hypot(a.length, a.width) + Math.hypot(b.length, b.width)) / 2) return 0;
  let poly = corners(a);
  const clip = corners(b);
  for (let i = 0; i < 4 && poly.length > 0; i++) {
    const [ax, ay] = clip[i]!, [bx, by] = clip[(i + 1) % 4]!;
    const side = (p: [number, number]): number => (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax);
    const next: [number, number][] = [];
    for (let j = 0; j < poly.length; j++) {
      const p = poly[j]!, q = poly[(j + 1) % poly.length]!;
      const sp = side(p), sq = side(q);
      if (sp >= 0) next.push(p);
      if (sp * sq < 0) {
        const u = sp / (sp - sq);
        next.push([p[0] + u * (q[0] - p[0]), p[1] + u * (q[1] - p[1])]);
      }
    }
    poly = next;
  }
  return poly.length >= 3 ? area(poly) : 0;
}

/** BEV IoU of two oriented boxes. */
export function bevIoU(a: Box3D, b: Box3D): number {
  const inter = bevIntersection(a, b);
  const union = a.length * a.width + b.length * b.width - inter;
  return union > 0 ? inter / union : 0;
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const TRUTH_TO_CATEGORY: Record<string, string> = { siren_wail: "siren", siren_yelp: "siren", horn: "horn" };

function scoreEvents(truth: readonly TruthEvent[], suggested: readonly EventSuggestion[], tolS: number): { scores: EventScore[]; found: number; total: number; maxOnset: number; falses: number } {
  const used = new Set<EventSuggestion>();
  const byKind = new Map<string, { truth: number; found: number; errors: number[] }>();
  for (const e of truth) {
    const category = TRUTH_TO_CATEGORY[e.kind] ?? e.kind;
    const t0 = BigInt(e.startNs), t1 = BigInt(e.endNs);
    const entry = byKind.get(e.kind) ?? { truth: 0, found: 0, errors: [] };
    byKind.set(e.kind, entry);
    entry.truth++;
    let best: EventSuggestion | null = null, bestErr = Infinity;
    for (const s of suggested) {
      if (used.has(s) || s.category !== category) continue;
      const err = Math.abs(Number(s.startNs - t0)) / 1e9;
      const overlaps = s.startNs <= t1 && s.endNs >= t0;
      if ((overlaps || err <= tolS) && err < bestErr) {
        best = s;
        bestErr = err;
      }
    }
    if (best !== null) {
      used.add(best);
      entry.found++;
      entry.errors.push(bestErr * 1000);
    }
  }
  const scores = [...byKind].map(([kind, v]) => ({ kind, truth: v.truth, found: v.found, medianOnsetErrorMs: quantile(v.errors, 0.5), maxOnsetErrorMs: v.errors.length ? Math.max(...v.errors) : NaN }));
  const found = scores.reduce((a, s) => a + s.found, 0), total = scores.reduce((a, s) => a + s.truth, 0);
  const maxOnset = Math.max(0, ...scores.map((s) => (Number.isNaN(s.maxOnsetErrorMs) ? 0 : s.maxOnsetErrorMs)));
  return { scores, found, total, maxOnset, falses: suggested.filter((s) => !used.has(s)).length };
}

export function evaluateSuggestions(truth: TruthFile, frames: readonly FrameRecord[], events: readonly EventSuggestion[], options: SuggestionEvalOptions = {}): SuggestionEvaluation {
  const range = options.rangeM ?? 50, minPts = options.minTruthPoints ?? 10, tol = options.eventToleranceS ?? 1;
  const startNs = BigInt(truth.startNs), endNs = BigInt(truth.endNs);
  const warmNs = startNs + BigInt(Math.round((options.warmupS ?? 1) * 1e9));
  const classes = ["car", "truck", "pedestrian", "cyclist"];
  const lidar: Record<string, ClassScore> = Object.fromEntries(classes.map((c) => [c, { truth: 0, matched: 0, recall: NaN, predicted: 0, correct: 0, precision: NaN }]));
  const lastTrack = new Map<number, number>();
  let switches = 0, trackFrames = 0;
  const ious2d: number[] = [];
  const latencies: number[] = [];
  const frameLatencies: number[] = [];
  let scored = 0;
  let prevT: bigint | null = null, periodS = 0.1;
  for (const f of frames) {
    if (f.latencyS !== undefined) latencies.push(f.latencyS * 1000);
    if (f.frameLatencyS !== undefined) frameLatencies.push(f.frameLatencyS * 1000);
    if (prevT !== null && f.timeNs > prevT) periodS = Number(f.timeNs - prevT) / 1e9;
    prevT = f.timeNs;
    if (f.timeNs < warmNs) continue;
    scored++;
    const truthBoxes = truthBoxesAt(truth, f.timeNs).filter((t) => Math.hypot(t.box.x, t.box.y) <= range);
    const countable = truthBoxes.filter((t) => f.truthPoints === undefined || (f.truthPoints.get(t.actor.id) ?? 0) >= minPts);
    const ignored = truthBoxes.filter((t) => !countable.includes(t));
    const preds = f.objects.filter((o) => Math.hypot(o.box.x, o.box.y) <= range);
    const pairs: [number, number, number][] = [];
    countable.forEach((t, ti) => preds.forEach((p, pi) => {
      const iou = bevIoU(t.box, p.box);
      if (iou >= (options.iouThreshold ?? IOU_MIN[t.actor.class] ?? 0.5)) pairs.push([iou, ti, pi]);
    }));
    pairs.sort((a, b) => b[0] - a[0]);
    const usedT = new Set<number>(), usedP = new Set<number>();
    for (const [, ti, pi] of pairs) {
      if (usedT.has(ti) || usedP.has(pi)) continue;
      usedT.add(ti);
      usedP.add(pi);
      const t = countable[ti]!, p = preds[pi]!;
      if (p.category === t.actor.class) lidar[t.actor.class]!.matched++;
      trackFrames++;
      const prev = lastTrack.get(t.actor.id);
      if (prev !== undefined && prev !== p.trackId) switches++;
      lastTrack.set(t.actor.id, p.trackId);
      for (const b of p.boxes2d) {
        const tb = f.truth2d?.get(`${t.actor.id}/${b.camera}`);
        if (tb !== undefined) ious2d.push(iou2dOf(b, tb));
      }
    }
    for (const t of countable) lidar[t.actor.class]!.truth++;
    preds.forEach((p, pi) => {
      const score = lidar[p.category];
      if (score === undefined) return;
      // A box on a truth object too few rays reached is neither right nor wrong: one overlapping it
      // (IoU > 0.1), or lying mostly on it (over half its own area, the ignore-region rule of the
      // Caltech pedestrian and KITTI DontCare evaluations: a person-sized sliver of a hidden car
      // has an IoU of 0.04 with the car).
      if (!usedP.has(pi) && ignored.some((t) => bevIoU(t.box, p.box) > 0.1 || bevIntersection(t.box, p.box) > 0.5 * p.box.length * p.box.width)) return;
      score.predicted++;
      if (usedP.has(pi)) {
        const ti = pairs.find(([, , q]) => q === pi)![1];
        if (countable[ti]!.actor.class === p.category) score.correct++;
      }
    });
  }
  for (const s of Object.values(lidar)) {
    s.recall = s.truth > 0 ? s.matched / s.truth : NaN;
    s.precision = s.predicted > 0 ? s.correct / s.predicted : NaN;
  }
  // A recording within a second of the drive's end covers it (its last message is a little
  // before the truth's end time); one cut earlier is scored up to its end.
  const untilNs = options.untilNs !== undefined && options.untilNs < endNs - 1_000_000_000n ? options.untilNs : endNs;
  const durationMin = Number(untilNs - startNs) / 60e9;
  const recorded = untilNs === endNs ? truth.events : truth.events.filter((e) => BigInt(e.endNs) <= untilNs);
  const audioTruth = recorded.filter((e) => e.kind in TRUTH_TO_CATEGORY);
  const teleTruth = recorded.filter((e) => !(e.kind in TRUTH_TO_CATEGORY));
  const audio = scoreEvents(audioTruth, events.filter((e) => e.source === "audio"), tol);
  const tele = scoreEvents(teleTruth, events.filter((e) => e.source === "telemetry" && e.category !== "speeding"), tol);
  const trackSeconds = trackFrames * periodS;
  return {
    frames: scored,
    lidar,
    idSwitches: switches,
    trackSeconds,
    idSwitchesPer100TrackS: trackSeconds > 0 ? (100 * switches) / trackSeconds : 0,
    camera: { pairs: ious2d.length, medianIoU: quantile(ious2d, 0.5) },
    audio: { events: audio.scores, recall: audio.total ? audio.found / audio.total : NaN, maxOnsetErrorMs: audio.maxOnset, falseAlarms: audio.falses, falseAlarmsPer10Min: (audio.falses / durationMin) * 10 },
    telemetry: { events: tele.scores, recall: tele.total ? tele.found / tele.total : NaN, maxOnsetErrorMs: tele.maxOnset, falseEvents: tele.falses, falseEventsPer10Min: (tele.falses / durationMin) * 10 },
    latency: { p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), maxMs: latencies.length ? Math.max(...latencies) : NaN, samples: latencies.length, frameP50Ms: quantile(frameLatencies, 0.5), frameP99Ms: quantile(frameLatencies, 0.99) },
  };
}

function iou2dOf(a: Box2D, b: Box2D): number {
  const w = Math.min(a.xMax, b.xMax) - Math.max(a.xMin, b.xMin), h = Math.min(a.yMax, b.yMax) - Math.max(a.yMin, b.yMin);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.xMax - a.xMin) * (a.yMax - a.yMin) + (b.xMax - b.xMin) * (b.yMax - b.yMin) - inter);
}

const pct = (x: number): string => (Number.isNaN(x) ? "–" : x.toFixed(3));

/**
 * The targets a drive's suggestions are held to (the "must show"), each missed one named
 * with its figure. A figure with nothing to judge (no truth of that kind) is not a miss; a false
 * alarm rate is judged only past one false alarm, as a short drive cannot show "≤ 1 per 10 min".
 */
export function suggestionTargetMisses(e: SuggestionEvaluation): string[] {
  const misses: string[] = [];
  const below = (name: string, value: number, min: number): void => {
    if (!Number.isNaN(value) && value < min) misses.push(`${name} ${value.toFixed(3)} < ${min}`);
  };
  const above = (name: string, value: number, max: number, unit = ""): void => {
    if (!Number.isNaN(value) && value > max) misses.push(`${name} ${value.toFixed(unit === "" ? 2 : 0)}${unit} > ${max}${unit}`);
  };
  for (const c of ["car", "truck"]) {
    const s = e.lidar[c];
    if (s === undefined) continue;
    below(`${c} recall`, s.recall, 0.9);
    below(`${c} precision`, s.precision, 0.85);
  }
  for (const c of ["pedestrian", "cyclist"]) if (e.lidar[c] !== undefined) below(`${c} recall`, e.lidar[c]!.recall, 0.7);
  if (e.trackSeconds > 0) above("id switches per 100 track-s", e.idSwitchesPer100TrackS, 5);
  if (e.camera.pairs > 0) below("camera median 2D IoU", e.camera.medianIoU, 0.7);
  if (e.audio.events.length > 0) {
    below("audio recall", e.audio.recall, 0.95);
    above("audio onset error", e.audio.maxOnsetErrorMs, 150, " ms");
  }
  if (e.audio.falseAlarms > 1) above("audio false alarms per 10 min", e.audio.falseAlarmsPer10Min, 1);
  if (e.telemetry.events.length > 0) {
    below("telemetry recall", e.telemetry.recall, 1);
    above("telemetry onset error", e.telemetry.maxOnsetErrorMs, 100, " ms");
  }
  if (e.telemetry.falseEvents > 1) above("telemetry false events per 10 min", e.telemetry.falseEventsPer10Min, 1);
  if (e.latency.samples > 0) above("latency p99", e.latency.p99Ms, 50, " ms");
  return misses;
}

export function formatSuggestionTable(e: SuggestionEvaluation): string {
  const lines = ["suggestions vs truth", "class        truth  recall  predicted  precision"];
  for (const [c, s] of Object.entries(e.lidar)) lines.push(`${c.padEnd(12)} ${String(s.truth).padStart(5)}  ${pct(s.recall).padStart(6)}  ${String(s.predicted).padStart(9)}  ${pct(s.precision).padStart(9)}`);
  lines.push(`id switches: ${e.idSwitches} over ${e.trackSeconds.toFixed(0)} track-s (${e.idSwitchesPer100TrackS.toFixed(2)} per 100 track-s)`);
  lines.push(`camera: median 2D IoU ${pct(e.camera.medianIoU)} over ${e.camera.pairs} boxes`);
  for (const [name, m] of [["audio", e.audio], ["telemetry", e.telemetry]] as const) {
    lines.push(`${name}: recall ${pct(m.recall)}, max onset error ${m.maxOnsetErrorMs.toFixed(0)} ms`);
    for (const ev of m.events) lines.push(`  ${ev.kind.padEnd(20)} ${ev.found}/${ev.truth}  onset median ${Number.isNaN(ev.medianOnsetErrorMs) ? "–" : ev.medianOnsetErrorMs.toFixed(0)} ms`);
  }
  lines.push(`audio false alarms: ${e.audio.falseAlarms} (${e.audio.falseAlarmsPer10Min.toFixed(2)} per 10 min); telemetry false events: ${e.telemetry.falseEvents} (${e.telemetry.falseEventsPer10Min.toFixed(2)} per 10 min)`);
  if (e.latency.samples === 0) {
    lines.push("latency: not measurable from a recording (measured live, in the stage's counters and the simulated-drive tests)");
    return lines.join("\n");
  }
  lines.push(`latency sweep arrival → 3D suggestions: p50 ${e.latency.p50Ms.toFixed(1)} ms, p99 ${e.latency.p99Ms.toFixed(1)} ms (${e.latency.samples} sweeps)`);
  lines.push(`latency sweep arrival → frame suggestions with 2D boxes: p50 ${e.latency.frameP50Ms.toFixed(1)} ms, p99 ${e.latency.frameP99Ms.toFixed(1)} ms (includes the aligner's wait)`);
  return lines.join("\n");
}

/**
 * Returns per truth actor within 60 m inside its box (grown by 0.8 m horizontally: the points are
 * at their firing time, the box at the sweep start), above 0.3 m and below 0.3 m over its top:
 * whether a ray reached the object at all.
 */
export function countTruthPoints(truth: TruthFile, view: PointCloudView, mount: LidarMount, tNs: bigint): Map<number, number> {
  const dv = new DataView(view.data.buffer, view.data.byteOffset, view.data.byteLength);
  const le = view.littleEndian;
  const [r00, r01, r02, r10, r11, r12, r20, r21, r22] = mountRotation(mount) as [number, number, number, number, number, number, number, number, number];
  const boxes = truthBoxesAt(truth, tNs).filter((t) => Math.hypot(t.box.x, t.box.y) <= 60);
  const counts = new Map<number, number>(boxes.map((b) => [b.actor.id, 0]));
  // The margin is horizontal only (motion during the sweep); a return above the object's top is
  // something else's (a pole or a wall beside a person is not the person).
  const geo = boxes.map((t) => ({ id: t.actor.id, x: t.box.x, y: t.box.y, top: t.box.z + t.box.height / 2 + 0.3, c: Math.cos(t.box.yaw), s: Math.sin(t.box.yaw), hl: t.box.length / 2 + 0.8, hw: t.box.width / 2 + 0.8 }));
  for (let i = 0, o = 0; i < view.count; i++, o += view.pointStep) {
    const lx = dv.getFloat32(o + view.offsetX, le), ly = dv.getFloat32(o + view.offsetY, le), lz = dv.getFloat32(o + view.offsetZ, le);
    const z = mount.z + r20 * lx + r21 * ly + r22 * lz;
    if (z <= 0.3) continue;
    const x = mount.x + r00 * lx + r01 * ly + r02 * lz, y = mount.y + r10 * lx + r11 * ly + r12 * lz;
    for (const g of geo) {
      const dx = x - g.x, dy = y - g.y;
      if (z > g.top || Math.abs(dx) > g.hl + g.hw || Math.abs(dy) > g.hl + g.hw) continue;
      const u = g.c * dx + g.s * dy, v = -g.s * dx + g.c * dy;
      if (u > -g.hl && u < g.hl && v > -g.hw && v < g.hw) counts.set(g.id, counts.get(g.id)! + 1);
    }
  }
  return counts;
}
