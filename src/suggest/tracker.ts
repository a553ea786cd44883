/**
 * Multi-object tracker in a fixed (odom) frame: constant-velocity Kalman filter per track on the
 * BEV centre (state x, y, vx, vy), greedy association by ascending gated distance (class-aware
 * gates), confirmation after `confirmHits` hits and retirement after `maxMisses` consecutive
 * misses. Size and heading are smoothed; heading follows the velocity once the object moves,
 * which resolves the ±180° ambiguity of a box fit.
 */
import { z } from "zod";
import { CLASS_PRIORS, classifyOriented, growBox, normalizeAngle, type Proposal } from "./lidar.js";
import type { SeenThrough } from "./lidar/fit.js";
import type { Box3D, ObjectClass } from "./types.js";

/** What one sweep showed, in the tracking frame (from LidarProposer after its `propose`). */
export interface SweepVisibility {
  /** Is an object of radius `reach` at (x, y) behind something nearer (LidarProposer.hidden)? */
  hidden(x: number, y: number, reach: number): boolean;
  /** Did the sensor see through (x, y) at body height: free space (LidarProposer.seen)? */
  seen(x: number, y: number): boolean;
}

export const TrackerConfigSchema = z.strictObject({
  confirmHits: z.number().int().min(1).default(3).describe("Detections a track needs before it is published."),
  maxMisses: z.number().int().min(1).default(10).describe("Sweeps a confirmed track coasts unseen, unpublished, before it is retired (1 s at 10 Hz): an object hidden for a moment comes back under its own id (SimpleTrack's finding)."),
  gate: z.number().positive().default(2.5).describe("Association gate on the bird's-eye distance between prediction and detection (m)."),
  accelNoise: z.number().positive().default(4).describe("Process noise: acceleration spectral density ((m/s²)²·s)."),
  measurementStd: z.number().positive().default(0.3).describe("Measurement noise std of a box centre 30 m away (m); scales with range (×0.33 … ×1.5)."),
  headingFromVelocityAbove: z.number().nonnegative().default(1.5).describe("Speed above which the heading follows the velocity (m/s)."),
});
export type TrackerConfig = z.infer<typeof TrackerConfigSchema>;

/**
 * What a detection says about its class: its confidence without the share of the vehicle seen
 * (Proposal.view). A partial view is less likely to be a vehicle at all, which the published
 * confidence says, but what it is said to be is voted on as before.
 */
const classEvidence = (d: Proposal): number => d.confidence / (d.view ?? 1);

export interface Track {
  id: number;
  category: ObjectClass;
  confidence: number;
  /** Box in the tracking frame. */
  box: Box3D;
  vx: number;
  vy: number;
  hits: number;
  misses: number;
  /** Of those misses, sweeps in which it was hidden behind something nearer (not counted toward retirement). */
  held: number;
  /** Sightings still needed before a track back from hiding is published again. */
  recheck: number;
  confirmed: boolean;
  /** Hits that saw more than the object's top: its position along the line of sight is known. */
  fullViews: number;
  /** Seen at least once not truncated by an occluder (see Proposal.truncated). */
  seenWhole: boolean;
  /** Class votes (sum of confidences). */
  votes: Map<ObjectClass, number>;
  /** Kalman state [x, y, vx, vy] and covariance (4×4 row-major). */
  s: Float64Array;
  P: Float64Array;
}

export class Tracker {
  readonly #cfg: TrackerConfig;
  #tracks: Track[] = [];
  #nextId = 1;
  #lastS: number | undefined;
  #sensor = { x: 0, y: 0 };
  /** This sweep's free space (SweepVisibility.seen), for completing partial views. */
  #seen: SeenThrough | undefined;

  constructor(config: Partial<TrackerConfig> = {}) {
    this.#cfg = TrackerConfigSchema.parse(config);
  }

  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /**
   * Detections in the tracking frame at time tS (s); returns the confirmed tracks updated this frame.
   * `view`: what this sweep showed, in the tracking frame (LidarProposer.hidden / seen).
   */
  update(tS: number, detections: Proposal[], sensor: { x: number; y: number } = { x: 0, y: 0 }, view?: SweepVisibility): Track[] {
    this.#sensor = sensor;
    this.#seen = view?.seen;
    const hidden = view?.hidden;
    const dt = this.#lastS === undefined ? 0 : Math.max(0, tS - this.#lastS);
    this.#lastS = tS;
    for (const t of this.#tracks) predict(t, dt, this.#cfg.accelNoise);
    // Candidate pairs within the gate, cheapest first.
    const pairs: [number, number, number][] = [];
    this.#tracks.forEach((t, ti) => {
      detections.forEach((d, di) => {
        // Compared where the track is predicted at the moment the sweep passed the object.
        const dt = d.dtS ?? 0;
        const px = t.s[0]! + dt * t.s[2]!, py = t.s[1]! + dt * t.s[3]!;
        const dist = residual(px - d.box.x, py - d.box.y, d, sensor, t.fullViews >= ESTABLISHED_HITS ? Math.max(t.box.length, d.box.length) : 0);
        const gate = this.#cfg.gate * (t.category === "pedestrian" || d.category === "pedestrian" ? 0.6 : 1) + Math.min(2, 0.5 * Math.sqrt(t.P[0]! + t.P[5]!));
        // A person-sized track that a vehicle's box now covers was that vehicle's first returns (the
        // front of an oncoming car at range): no class penalty, the vehicle's view takes it over.
        // A person beside a car keeps their own detection, the cheaper pair. (Requiring the track
        // to move faster than a walk cost seed 3 an id switch in 100 track-s: slow fragments too.)
        const grownInto = isVru(t.category) && isVehicle(d.category) && insideBox(d.box, d.box.x, d.box.y, px, py, 0.3);
        const classPenalty = compatible(t.category, d.category) || grownInto ? 0 : 1.5;
        // Confirmed tracks are served first (a cascade, as in DeepSORT): a tentative track born
        // from a stray fragment must not take the detection its object's track was waiting for.
        if (dist + classPenalty <= gate) pairs.push([dist + classPenalty + (t.confirmed ? 0 : TENTATIVE_PENALTY), ti, di]);
      });
    });
    pairs.sort((a, b) => a[0] - b[0]);
    const usedT = new Set<number>(), usedD = new Set<number>();
    for (const [, ti, di] of pairs) {
      if (usedT.has(ti) || usedD.has(di)) continue;
      usedT.add(ti);
      usedD.add(di);
      this.#correct(this.#tracks[ti]!, detections[di]!);
    }
    for (let ti = 0; ti < this.#tracks.length; ti++) {
      if (usedT.has(ti)) continue;
      const t = this.#tracks[ti]!;
      t.misses++;
      // Standing still and not seen because something nearer stands in front of it: hidden, not
      // gone. Its id is held until it comes out (a parked car behind a passing truck), up to
      // HOLD_MAX sweeps. A moving track is not held: where it went in that time is a guess.
      if (t.confirmed && Math.hypot(t.s[2]!, t.s[3]!) < this.#cfg.headingFromVelocityAbove && hidden !== undefined && hidden(t.s[0]!, t.s[1]!, Math.hypot(t.box.length, t.box.width) / 2)) t.held++;
    }
    this.#tracks = this.#tracks.filter((t) => (t.confirmed ? t.misses - t.held <= this.#cfg.maxMisses && t.misses <= HOLD_MAX : t.misses === 0));
    // A detection lying inside a vehicle's or cyclist's track box is a piece of it (a roof edge or a
    // side seen past an occluder), not a new object: it refreshes the track instead of starting one.
    detections.forEach((d, di) => {
      if (usedD.has(di)) return;
      const dt = d.dtS ?? 0;
      const host = this.#tracks.find((t) => t.hits >= 2 && t.category !== "pedestrian" && t.category !== "unknown" && insideBox(t.box, t.s[0]! + dt * t.s[2]!, t.s[1]! + dt * t.s[3]!, d.visible.x, d.visible.y, t.category === "cyclist" ? FRAGMENT_MARGIN / 2 : FRAGMENT_MARGIN));
      if (host === undefined) return;
      usedD.add(di);
      if (!usedT.has(this.#tracks.indexOf(host))) this.#sighted(host);
    });
    detections.forEach((d, di) => {
      if (usedD.has(di) || d.category === "unknown") return;
      const r = this.#cfg.measurementStd ** 2;
      const P = new Float64Array(16);
      P[0] = r;
      P[5] = r;
      P[10] = 25;
      P[15] = 25;
      this.#tracks.push({
        id: this.#nextId++, category: d.category, confidence: d.confidence, box: { ...d.box }, vx: 0, vy: 0, hits: 1, misses: 0, held: 0, recheck: 0, fullViews: d.topOnly === true ? 0 : 1,
        confirmed: this.#cfg.confirmHits <= 1 && d.truncated !== true, seenWhole: d.truncated !== true, votes: new Map([[d.category, classEvidence(d)]]), s: Float64Array.of(d.box.x, d.box.y, 0, 0), P,
      });
    });
    this.#suppressDuplicates();
    return this.#tracks.filter((t) => t.confirmed && t.misses === 0 && t.recheck === 0);
  }

  /**
   * The track was seen this sweep (its detection, or a piece of it). Back from longer in hiding
   * than a track may go unseen, it keeps its id but is published again only once seen as often as
   * a new track must be (a hedge piece behind a parked row comes out at every gap; one sighting
   * must not make it a suggestion again).
   */
  #sighted(t: Track): void {
    if (t.misses > this.#cfg.maxMisses) t.recheck = this.#cfg.confirmHits;
    if (t.recheck > 0) t.recheck--;
    t.misses = 0;
    t.held = 0;
  }

  /**
   * Two tracks on one object (a fragment that became a track before its vehicle did, or a
   * vehicle split in two by an occluder): the one whose centre lies inside the other's box goes,
   * keeping the longer-lived track (and its id).
   */
  #suppressDuplicates(): void {
    const gone = new Set<Track>();
    for (const a of this.#tracks) {
      for (const b of this.#tracks) {
        if (a === b || gone.has(a) || gone.has(b)) continue;
        const aBig = a.box.length * a.box.width >= b.box.length * b.box.width;
        const [big, small] = aBig ? [a, b] : [b, a];
        if (!insideBox(big.box, big.box.x, big.box.y, small.box.x, small.box.y, 0)) continue;
        gone.add(small.hits > big.hits * 2 && small.confirmed ? big : small);
      }
    }
    if (gone.size > 0) this.#tracks = this.#tracks.filter((t) => !gone.has(t));
  }

  #correct(t: Track, input: Proposal): void {
    let d = input;
    let weight = 1;
    let heading = Math.atan2(t.vy, t.vx);
    let measuredHeading: number | null = null;
    if (Math.hypot(t.vx, t.vy) > this.#cfg.headingFromVelocityAbove && t.hits >= 3) {
      // Moving: the heading is known, so the visible box's edges can be told apart (which one is
      // the length) and the class read from extents along and across the direction of travel.
      const v = d.visible;
      // Two faces seen (an L): the fit measures the heading directly, with no lag behind a turn
      // as the velocity's direction has; the velocity only picks which of the fit's four axes.
      // A long straight face (a side) alone measures it as well.
      if ((Math.min(v.length, v.width) >= L_SHAPE_MIN_FACE && Math.max(v.length, v.width) >= 2 * L_SHAPE_MIN_FACE) || Math.max(v.length, v.width) >= LONG_FACE) {
        let best = v.yaw;
        for (let k = 1; k < 4; k++) {
          const cand = v.yaw + (k * Math.PI) / 2;
          if (Math.abs(normalizeAngle(cand - heading)) < Math.abs(normalizeAngle(best - heading))) best = cand;
        }
        if (Math.abs(normalizeAngle(best - heading)) < Math.PI / 4) {
          measuredHeading = normalizeAngle(best);
          heading = measuredHeading;
        }
      }
      const diff = Math.abs(normalizeAngle(v.yaw - heading));
      const across = diff > Math.PI / 4 && diff < (3 * Math.PI) / 4;
      const aligned = { ...v, yaw: heading, length: across ? v.width : v.length, width: across ? v.length : v.width };
      const cls = classifyOriented(aligned.length, aligned.width, aligned.height);
      const category = cls.category === "unknown" ? d.category : cls.category;
      // An established track's class (votes over many frames, checked against its speed) knows the
      // object's size better than one partial view: the view is completed to that class's size.
      const shape = t.hits >= ESTABLISHED_HITS && t.category !== "unknown" ? t.category : category;
      const box = shape === "unknown" ? aligned : growBox(aligned, CLASS_PRIORS[shape], this.#sensor.x, this.#sensor.y, input.topOnly === true, this.#seen);
      d = { ...d, box, category, confidence: cls.category === "unknown" ? d.confidence * 0.7 : cls.confidence, ...(cls.category === "unknown" ? {} : { view: 1 }) };
      // An oriented reading is worth more than an unoriented one.
      weight = 3;
    }
    // A near object is measured more precisely than a far one (denser returns, smaller beam
    // footprint): measurementStd holds at 30 m and scales with range, so near tracks follow a
    // turning vehicle closely while far ones stay smooth; one seen with many returns (a truck at
    // 45 m) is trusted as at 30 m, or it lags through a turn.
    const range = Math.hypot(d.box.x - this.#sensor.x, d.box.y - this.#sensor.y);
    const r = (this.#cfg.measurementStd * Math.min(d.points >= WELL_SEEN_POINTS ? 1 : 1.5, Math.max(0.33, range / 30))) ** 2;
    const { s, P } = t;
    // The object was seen dtS after the sweep start: H = [I, dt·I] maps the state (at the sweep
    // start) to where it was then, so moving objects are not smeared by the scan time.
    const dt = d.dtS ?? 0;
    const H = [1, 0, dt, 0, 0, 1, 0, dt];
    // PHᵀ (4×2) and S = H P Hᵀ + R (2×2).
    const PHt = new Float64Array(8);
    for (let row = 0; row < 4; row++)
      for (let m = 0; m < 2; m++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += P[row * 4 + k]! * H[m * 4 + k]!;
        PHt[row * 2 + m] = v;
      }
    // R = r·I, plus, for a view of the top only, the returns' unknown place along the object's
    // length (uniform: variance L²/12) along the line of sight.
    const R = [r, 0, 0, r];
    const span = Math.max(t.box.length, d.box.length);
    const sight = d.topOnly === true && range > 1e-6 ? { x: (d.box.x - this.#sensor.x) / range, y: (d.box.y - this.#sensor.y) / range } : null;
    if (sight !== null) {
      const los = span ** 2 / 12;
      R[0] += los * sight.x * sight.x;
      R[1] += los * sight.x * sight.y;
      R[2] += los * sight.x * sight.y;
      R[3] += los * sight.y * sight.y;
    }
    const S = [0, 0, 0, 0];
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += H[a * 4 + k]! * PHt[k * 2 + b]!;
      S[a * 2 + b] = v + R[a * 2 + b]!;
    }
    const det = S[0]! * S[3]! - S[1]! * S[2]!;
    const i00 = S[3]! / det, i01 = -S[1]! / det, i10 = -S[2]! / det, i11 = S[0]! / det;
    const K = new Float64Array(8);
    for (let row = 0; row < 4; row++) {
      const p0 = PHt[row * 2]!, p1 = PHt[row * 2 + 1]!;
      K[row * 2] = p0 * i00 + p1 * i10;
      K[row * 2 + 1] = p0 * i01 + p1 * i11;
    }
    let y0 = d.box.x - (s[0]! + dt * s[2]!), y1 = d.box.y - (s[1]! + dt * s[3]!);
    // A track whose motion full views established: a top-only view says where the object is
    // across the line of sight; along it, only that the object spans the returns. No pull while
    // the prediction's extent covers them (the same beam grazes each roof passing through its
    // range, so the error repeats frame after frame and would stop the track).
    if (sight !== null && t.fullViews >= ESTABLISHED_HITS) [y0, y1] = spanResidual(y0, y1, sight, span);
    for (let row = 0; row < 4; row++) s[row] = s[row]! + K[row * 2]! * y0 + K[row * 2 + 1]! * y1;
    // P = (I − K H) P.
    const HP = new Float64Array(8);
    for (let m = 0; m < 2; m++) for (let col = 0; col < 4; col++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += H[m * 4 + k]! * P[k * 4 + col]!;
      HP[m * 4 + col] = v;
    }
    const newP = new Float64Array(16);
    for (let row = 0; row < 4; row++)
      for (let col = 0; col < 4; col++) newP[row * 4 + col] = P[row * 4 + col]! - K[row * 2]! * HP[col]! - K[row * 2 + 1]! * HP[4 + col]!;
    t.P = newP;
    t.vx = s[2]!;
    t.vy = s[3]!;
    t.hits++;
    if (input.topOnly !== true) t.fullViews++;
    this.#sighted(t);
    if (input.truncated !== true) t.seenWhole = true;
    // Confirmed once seen whole at least once: a face always ending in a nearer object's shadow
    // (a wall or hedge between parked cars) never becomes a suggestion.
    if (t.hits >= this.#cfg.confirmHits && t.seenWhole) t.confirmed = true;
    t.votes.set(d.category, (t.votes.get(d.category) ?? 0) + weight * classEvidence(d));
    // A class the track's speed rules out (a "pedestrian" at 12 m/s is a fragment of a vehicle)
    // gets no say; with no plausible vote left it is a vehicle, its size deciding car or truck.
    const speedNow = t.hits >= SPEED_TRUSTED_AFTER ? Math.hypot(t.vx, t.vy) : 0;
    let best: ObjectClass = t.category, bestV = -1, total = 0;
    for (const [c, v] of t.votes) {
      total += v;
      if (v > bestV && c !== "unknown" && speedNow <= MAX_SPEED[c]) {
        best = c;
        bestV = v;
      }
    }
    if (bestV < 0 && speedNow > MAX_SPEED.cyclist) best = t.box.length > 6.5 || t.box.height > 2.6 ? "truck" : "car";
    else if (bestV < 0 && speedNow > MAX_SPEED.pedestrian) best = best === "pedestrian" ? "cyclist" : best;
    if (best !== t.category && isVru(t.category) && isVehicle(best)) {
      // The fragment was a vehicle: its box takes the vehicle's size, grown away from the sensor.
      const heading = Math.atan2(t.vy, t.vx);
      const grown = growBox({ ...input.visible, yaw: heading, length: input.visible.length, width: input.visible.width }, CLASS_PRIORS[best], this.#sensor.x, this.#sensor.y, input.topOnly === true, this.#seen);
      t.box.length = grown.length;
      t.box.width = grown.width;
      t.box.height = Math.max(t.box.height, CLASS_PRIORS[best].height * 0.8);
      s[0] = grown.x - dt * s[2]!;
      s[1] = grown.y - dt * s[3]!;
    }
    t.category = best;
    t.confidence = Math.min(0.99, (bestV / Math.max(total, 1e-9)) * Math.min(1, 0.6 + 0.1 * t.hits) * (d.confidence + 0.2));
    const a = 0.3;
    t.box.length += a * (d.box.length - t.box.length);
    t.box.width += a * (d.box.width - t.box.width);
    t.box.height += a * (d.box.height - t.box.height);
    t.box.z += a * (d.box.z - t.box.z);
    t.box.x = s[0]!;
    t.box.y = s[1]!;
    const speed = Math.hypot(t.vx, t.vy);
    if (speed > this.#cfg.headingFromVelocityAbove && t.hits >= 3) {
      t.box.yaw = measuredHeading ?? Math.atan2(t.vy, t.vx);
    } else {
      // Fit heading is ambiguous by π: take the one closest to the previous heading.
      let yaw = d.box.yaw;
      if (Math.abs(normalizeAngle(yaw - t.box.yaw)) > Math.PI / 2) yaw = normalizeAngle(yaw + Math.PI);
      t.box.yaw = normalizeAngle(t.box.yaw + 0.5 * normalizeAngle(yaw - t.box.yaw));
    }
  }
}

/**
 * Fastest plausible speed per class (m/s): a track faster than this is not of that class. People
 * walk at 1–2 m/s and jog at up to ~3; a cyclist seen from behind is as narrow and short as a
 * person, so its speed is what tells them apart.
 */
const MAX_SPEED: Record<ObjectClass, number> = { pedestrian: 3.0, cyclist: 11, car: Infinity, truck: Infinity, unknown: Infinity };
/** Hits after which a track's class decides the size its partial views are completed to. */
const ESTABLISHED_HITS = 5;
/** Returns above which a far object's measurement is trusted as one at 30 m. */
const WELL_SEEN_POINTS = 40;
/** Hits before a track's velocity is trusted for class plausibility. */
const SPEED_TRUSTED_AFTER = 4;

/** Shortest face (m) of a visible L-shape whose fit heading is trusted over the velocity's. */
const L_SHAPE_MIN_FACE = 1.0;
/** A visible face at least this long (m) is a vehicle's side: its direction is the heading. */
const LONG_FACE = 3;
/** Added to the association cost of a tentative track (m). */
const TENTATIVE_PENALTY = 1;
/** Longest a confirmed track is held while hidden behind nearer objects (sweeps: 5 s at 10 Hz). */
const HOLD_MAX = 50;
/** How far outside a vehicle track's box a fragment may lie and still be part of it (m). */
const FRAGMENT_MARGIN = 0.4;

/** Is (px, py) inside `box` centred at (cx, cy), grown by `margin` on every side? */
function insideBox(box: Box3D, cx: number, cy: number, px: number, py: number, margin: number): boolean {
  const c = Math.cos(box.yaw), s = Math.sin(box.yaw);
  const dx = px - cx, dy = py - cy;
  return Math.abs(c * dx + s * dy) <= box.length / 2 + margin && Math.abs(-s * dx + c * dy) <= box.width / 2 + margin;
}

const isVehicle = (c: ObjectClass): c is "car" | "truck" => c === "car" || c === "truck";
const isVru = (c: ObjectClass): boolean => c === "pedestrian" || c === "cyclist";

function compatible(a: ObjectClass, b: ObjectClass): boolean {
  return a === b || (isVehicle(a) && isVehicle(b)) || (isVru(a) && isVru(b));
}

function predict(t: Track, dt: number, q: number): void {
  if (dt <= 0) return;
  const { s, P } = t;
  s[0] = s[0]! + dt * s[2]!;
  s[1] = s[1]! + dt * s[3]!;
  // P = F P Fᵀ + Q with F = [[I, dt I], [0, I]].
  const F = (r: number, c: number): number => (r === c ? 1 : c === r + 2 ? dt : 0);
  const FP = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) FP[r * 4 + c] = FP[r * 4 + c]! + F(r, k) * P[k * 4 + c]!;
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) out[r * 4 + c] = out[r * 4 + c]! + FP[r * 4 + k]! * F(c, k);
  const dt2 = dt * dt, dt3 = dt2 * dt / 2, dt4 = dt2 * dt2 / 4;
  for (const i of [0, 1]) {
    out[i * 4 + i] = out[i * 4 + i]! + q * dt4;
    out[i * 4 + i + 2] = out[i * 4 + i + 2]! + q * dt3;
    out[(i + 2) * 4 + i] = out[(i + 2) * 4 + i]! + q * dt3;
    out[(i + 2) * 4 + i + 2] = out[(i + 2) * 4 + i + 2]! + q * dt2;
  }
  t.P = out;
  t.box.x = s[0]!;
  t.box.y = s[1]!;
}

/**
 * Distance from a track's prediction to a detection, off by (ex, ey). A view of the top only lies
 * somewhere along the object's length on the line of sight: along it, only what exceeds half the
 * length counts (length 0 for a track whose place along the line of sight is not yet known).
 */
function residual(ex: number, ey: number, d: Proposal, sensor: { x: number; y: number }, length: number): number {
  const range = Math.hypot(d.box.x - sensor.x, d.box.y - sensor.y);
  if (d.topOnly !== true || range < 1e-6) return Math.hypot(ex, ey);
  const [a, b] = spanResidual(ex, ey, { x: (d.box.x - sensor.x) / range, y: (d.box.y - sensor.y) / range }, length);
  return Math.hypot(a, b);
}

/** The offset (ex, ey) with its component along the unit line of sight `u` reduced by half `span` (to 0 within it). */
function spanResidual(ex: number, ey: number, u: { x: number; y: number }, span: number): [number, number] {
  const along = ex * u.x + ey * u.y, across = -ex * u.y + ey * u.x;
  const excess = Math.sign(along) * Math.max(0, Math.abs(along) - span / 2);
  return [excess * u.x - across * u.y, excess * u.y + across * u.x];
}
