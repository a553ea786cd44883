/**
 * The simulated world of one drive: a road (centreline with straight and curved segments), the ego
 * vehicle's motion (longitudinal events, lane changes, sharp turns), its powertrain, other actors on
 * their own trajectories, static structure, and the scripted events with their true times.
 *
 * Time inside the world is float seconds since the drive start (t = 0 at startNs). Everything is
 * precomputed at 1 kHz (ego) or analytic (actors), so sensors can query any instant cheaply and in
 * any order: what a sensor sees never depends on which other sensors exist.
 * Frame: odom (x forward at start, y left, z up); the street is the plane z = 0, the ground beyond
 * its sidewalks `terrain` (sloped and uneven; boxes there stand on it).
 */
import { Prng } from "./prng.js";
import { Terrain } from "./terrain.js";
import type { RigConfig, ScenarioConfig, ScriptedEvent } from "./rig.js";
import type { ActorClass, EventKind } from "./truth.js";

export const EGO_DT = 0.001;
const ROAD_DS = 0.5;

export interface Box {
  /** Centre of the footprint (m, odom) and yaw (rad). */
  x: number;
  y: number;
  yaw: number;
  /** Half length (along yaw) and half width. */
  hl: number;
  hw: number;
  /** Bottom and top (m above ground). */
  z0: number;
  z1: number;
  /** Render colour 0xRRGGBB and lidar reflectivity (0..255). */
  color: number;
  intensity: number;
  /**
   * Foliage: a ray entering the box passes through it with probability 0.3 and otherwise
   * returns somewhere up to this depth (m) inside it, as leaves scatter a lidar's returns.
   */
  porosity?: number;
  /** The footprint is the ellipse inscribed in hl × hw (a person's body, round, not a crate). */
  round?: boolean;
}

export interface ActorSpec {
  id: number;
  cls: ActorClass;
  size: { x: number; y: number; z: number };
  motion: "along" | "oncoming" | "crossing";
  s0: number;
  d0: number;
  speed: number;
  /** crossing only: lateral target and start time. */
  d1: number;
  tStart: number;
  color: number;
}

export interface WorldEvent {
  kind: EventKind;
  startS: number;
  endS: number;
  peak: number | null;
}

export interface EgoState {
  x: number;
  y: number;
  yaw: number;
  /** Speed along the heading (m/s), longitudinal and lateral acceleration (m/s²), yaw rate (rad/s). */
  speed: number;
  accel: number;
  latAccel: number;
  yawRate: number;
  rpm: number;
  gear: number;
  throttle: number;
  brake: number;
  steering: number;
}

export const CLASS_COLORS: Record<ActorClass, number> = { car: 0xd02020, truck: 0x2040d0, pedestrian: 0xf0d000, cyclist: 0xc020c0 };
export const SKY_COLOR = 0x87b5e0;
export const GRASS_COLOR = 0x4f7a3a;
export const ROAD_COLOR = 0x505055;
export const MARKING_COLOR = 0xf0f0f0;
export const SIDEWALK_COLOR = 0x9a968c;
/** A car's shape under its box (see World.actorParts): beltline, cabin length and offset aft (shares of height and length), tumblehome (m). */
export const CAR_BELTLINE = 0.6;
export const CAR_CABIN_SHARE = 0.5;
export const CAR_CABIN_AFT = 0.03;
export const CAR_TUMBLEHOME = 0.12;
/** A cyclist's shape under its box (see World.actorParts): frame half width and saddle height, the rider's half length and offset aft (m). */
const CYCLIST_FRAME_HALF_WIDTH = 0.08;
const CYCLIST_SADDLE = 0.95;
const CYCLIST_RIDER_HALF_LENGTH = 0.3;
const CYCLIST_RIDER_AFT = 0.15;

const CLASS_SIZES: Record<ActorClass, { x: number; y: number; z: number }> = {
  car: { x: 4.6, y: 1.9, z: 1.5 },
  truck: { x: 9.0, y: 2.5, z: 3.4 },
  pedestrian: { x: 0.6, y: 0.6, z: 1.75 },
  cyclist: { x: 1.8, y: 0.6, z: 1.7 },
};

/** Road centreline sampled every 0.5 m of arc length from sMin. */
export class Road {
  readonly sMin: number;
  readonly sMax: number;
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly hs: Float64Array;
  readonly halfWidth: number;
  constructor(
    sMin: number,
    sMax: number,
    curvature: (s: number) => number,
    readonly lanesPerDirection: number,
    readonly laneWidth: number,
    readonly sidewalkWidth: number,
    readonly curbHeight: number,
    /** Parking strip between the kerb and the sidewalk (m). */
    readonly parkingWidth = 0,
  ) {
    this.sMin = sMin;
    this.sMax = sMax;
    const n = Math.ceil((sMax - sMin) / ROAD_DS) + 1;
    this.xs = new Float64Array(n);
    this.ys = new Float64Array(n);
    this.hs = new Float64Array(n);
    this.halfWidth = lanesPerDirection * laneWidth;
    // Integrate forward from s = 0 (the start pose is the origin, heading +x) and backward to sMin.
    const i0 = Math.round(-sMin / ROAD_DS);
    for (let i = i0 + 1; i < n; i++) {
      const s = sMin + (i - 0.5) * ROAD_DS;
      const h = this.hs[i - 1]! + curvature(s) * ROAD_DS;
      const hm = (this.hs[i - 1]! + h) / 2;
      this.hs[i] = h;
      this.xs[i] = this.xs[i - 1]! + Math.cos(hm) * ROAD_DS;
      this.ys[i] = this.ys[i - 1]! + Math.sin(hm) * ROAD_DS;
    }
    for (let i = i0 - 1; i >= 0; i--) {
      const s = sMin + (i + 0.5) * ROAD_DS;
      const h = this.hs[i + 1]! - curvature(s) * ROAD_DS;
      const hm = (this.hs[i + 1]! + h) / 2;
      this.hs[i] = h;
      this.xs[i] = this.xs[i + 1]! - Math.cos(hm) * ROAD_DS;
      this.ys[i] = this.ys[i + 1]! - Math.sin(hm) * ROAD_DS;
    }
  }

  /** Point at arc length s and lateral offset d (+ left), with the road heading there. */
  at(s: number, d = 0): { x: number; y: number; h: number } {
    const f = Math.min(Math.max((s - this.sMin) / ROAD_DS, 0), this.xs.length - 1.000001);
    const i = Math.floor(f);
    const w = f - i;
    const h = this.hs[i]! + (this.hs[i + 1]! - this.hs[i]!) * w;
    const x = this.xs[i]! + (this.xs[i + 1]! - this.xs[i]!) * w - Math.sin(h) * d;
    const y = this.ys[i]! + (this.ys[i + 1]! - this.ys[i]!) * w + Math.cos(h) * d;
    return { x, y, h };
  }

  /** Centre of a driving lane: lane 0 is next to the centre line, on the right (right-hand traffic). */
  /** Lateral offset (m) of the sidewalk's back edge, where hedges and walls stand and the sloped ground begins. */
  get backEdge(): number {
    return this.halfWidth + 0.3 + this.parkingWidth + this.sidewalkWidth + 0.5;
  }

  laneOffset(lane: number, oncoming = false): number {
    const d = (lane + 0.5) * this.laneWidth;
    return oncoming ? d : -d;
  }
}

export interface WorldOptions {
  rig: RigConfig;
  seed: number;
  durationS: number;
}

/** Extra simulated time after the last capture, so late messages still have a world to look at. */
export const WORLD_MARGIN_S = 2;

export class World {
  readonly seed: number;
  readonly durationS: number;
  readonly road: Road;
  readonly events: WorldEvent[] = [];
  readonly actors: ActorSpec[] = [];
  readonly structure: Box[] = [];
  readonly scenario: ScenarioConfig;
  /** The ground beside the street (null: the plane z = 0 everywhere). */
  readonly terrain: Terrain | null;
  // Ego state at 1 kHz.
  readonly #n: number;
  readonly #x: Float64Array;
  readonly #y: Float64Array;
  readonly #yaw: Float64Array;
  readonly #v: Float64Array;
  readonly #a: Float64Array;
  readonly #yawRate: Float64Array;
  readonly #rpm: Float64Array;
  readonly #gear: Int8Array;
  readonly #throttle: Float64Array;
  readonly #s: Float64Array;

  constructor(options: WorldOptions) {
    const { rig, seed, durationS } = options;
    this.seed = seed;
    this.durationS = durationS;
    this.scenario = rig.scenario;
    const sc = rig.scenario;
    const rng = Prng.stream(seed, "world");
    const total = durationS + WORLD_MARGIN_S;
    const n = Math.ceil(total / EGO_DT) + 2;
    this.#n = n;
    // A scripted event at or after the drive's end does not happen in it (a rig's scenario outlives
    // a shorter run), so it is not in the truth either.
    const scripted = sc.events === "random" ? randomEvents(rng, durationS, sc.eventsPerMinute) : sc.events.filter((e) => e.atS < durationS).sort((a, b) => a.atS - b.atS);

    // 1. Longitudinal motion (independent of the road's shape).
    const v = new Float64Array(n);
    const a = new Float64Array(n);
    const s = new Float64Array(n);
    const cruise = sc.ego.cruiseSpeed;
    v[0] = cruise;
    let target = cruise;
    let accel = 0;
    const windows = scripted.map((e) => ({ ...e, durationS: e.durationS ?? defaultDuration(e.kind, cruise) }));
    for (let i = 1; i < n; i++) {
      const t = i * EGO_DT;
      let cmd: number | null = null;
      let hold = false;
      for (const e of windows) {
        if (t < e.atS || t >= e.atS + e.durationS) continue;
        if (e.kind === "hard_braking") cmd = -7;
        else if (e.kind === "harsh_acceleration") cmd = v[i - 1]! < 33 ? 4 : 0;
        else if (e.kind === "stop") {
          cmd = v[i - 1]! > 0.05 ? -2.5 : 0;
          hold = v[i - 1]! <= 0.05;
        }
      }
      if (cmd === null) {
        // Resume cruising; after a harsh acceleration the driver eases back gently.
        target = cruise;
        cmd = Math.max(-1.5, Math.min(1.2, 0.6 * (target - v[i - 1]!)));
      }
      accel += (cmd - accel) * Math.min(1, EGO_DT / 0.2);
      let vi = v[i - 1]! + accel * EGO_DT;
      if (hold || vi < 0) {
        vi = 0;
        if (hold) accel = 0;
      }
      v[i] = vi;
      a[i] = (vi - v[i - 1]!) / EGO_DT;
      s[i] = s[i - 1]! + (vi + v[i - 1]!) * 0.5 * EGO_DT;
    }
    a[0] = a[1]!;
    this.#v = v;
    this.#a = a;
    this.#s = s;

    // 2. The road: scripted sharp turns become tight arcs exactly where the ego will be.
    const sAt = (t: number): number => s[Math.min(n - 1, Math.max(0, Math.round(t / EGO_DT)))]!;
    const vAt = (t: number): number => v[Math.min(n - 1, Math.max(0, Math.round(t / EGO_DT)))]!;
    const arcs: { s0: number; s1: number; k: number }[] = [];
    for (const e of windows) {
      if (e.kind !== "sharp_turn") continue;
      const s0 = sAt(e.atS);
      const s1 = sAt(e.atS + e.durationS);
      const speed = Math.max(3, vAt(e.atS));
      const radius = Math.max(12, (speed * speed) / 4.5);
      arcs.push({ s0, s1, k: (rng.chance(0.5) ? 1 : -1) / radius });
    }
    const base = baseCurvature(sc, rng);
    const sEnd = s[n - 1]! + 400;
    const road = new Road(-300, sEnd, (sv) => {
      for (const arc of arcs) if (sv >= arc.s0 && sv < arc.s1) return arc.k;
      return base(sv);
    }, sc.road.lanesPerDirection, sc.road.laneWidth, sc.road.sidewalkWidth, sc.road.curbHeight, sc.road.parkingWidth);
    this.road = road;

    // 3. Lateral motion: lane changes between the ego lane and its right-hand neighbour.
    const laneA = road.laneOffset(Math.min(sc.ego.lane, sc.road.lanesPerDirection - 1));
    const laneB = sc.road.lanesPerDirection > 1 ? road.laneOffset(sc.ego.lane === 0 ? 1 : sc.ego.lane - 1) : laneA + sc.road.laneWidth * 0.8;
    const dArr = new Float64Array(n);
    let from = laneA;
    let to = laneB;
    const changes = windows.filter((e) => e.kind === "lane_change");
    let ci = 0;
    let cur = laneA;
    for (let i = 0; i < n; i++) {
      const t = i * EGO_DT;
      const c = changes[ci];
      if (c !== undefined && t >= c.atS) {
        const u = (t - c.atS) / c.durationS;
        if (u >= 1) {
          cur = to;
          [from, to] = [to, from];
          ci++;
          dArr[i] = cur;
          continue;
        }
        dArr[i] = from + (to - from) * (0.5 - 0.5 * Math.cos(Math.PI * u));
      } else dArr[i] = cur;
    }

    // 4. Ego pose, yaw rate, powertrain.
    this.#x = new Float64Array(n);
    this.#y = new Float64Array(n);
    this.#yaw = new Float64Array(n);
    this.#yawRate = new Float64Array(n);
    this.#rpm = new Float64Array(n);
    this.#gear = new Int8Array(n);
    this.#throttle = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = road.at(s[i]!, dArr[i]!);
      this.#x[i] = p.x;
      this.#y[i] = p.y;
      const dd = i > 0 ? (dArr[i]! - dArr[i - 1]!) / EGO_DT : 0;
      this.#yaw[i] = p.h + (v[i]! > 0.2 ? Math.atan2(dd, v[i]!) : 0);
    }
    for (let i = 0; i < n; i++) {
      const i0 = Math.max(0, i - 5);
      const i1 = Math.min(n - 1, i + 5);
      this.#yawRate[i] = (this.#yaw[i1]! - this.#yaw[i0]!) / ((i1 - i0) * EGO_DT);
    }
    const veh = rig.vehicle;
    let gear = 1;
    let rpm = veh.idleRpm;
    let shiftHold = 0;
    for (let i = 0; i < n; i++) {
      const throttle = Math.max(0, Math.min(1, a[i]! >= -0.3 ? 0.12 + a[i]! / 4.5 + v[i]! * 0.006 : 0));
      this.#throttle[i] = throttle;
      const wheelRpm = (v[i]! / (2 * Math.PI * veh.wheelRadius)) * 60;
      const rpmIn = (g: number): number => wheelRpm * veh.gearRatios[g - 1]! * veh.finalDrive;
      if (shiftHold > 0) shiftHold--;
      else if (gear < veh.gearRatios.length && rpmIn(gear) > veh.upshiftRpm + 1800 * throttle) {
        gear++;
        shiftHold = 400;
      } else if (gear > 1 && rpmIn(gear) < veh.downshiftRpm) {
        gear--;
        shiftHold = 400;
      }
      if (v[i]! < 0.5) gear = 1;
      // At a standstill or while pulling away the clutch slips: the engine stays above idle.
      const targetRpm = Math.max(veh.idleRpm + 700 * throttle * (v[i]! < 3 ? 1 : 0), rpmIn(gear));
      rpm += (targetRpm - rpm) * Math.min(1, EGO_DT / 0.08);
      this.#rpm[i] = rpm;
      this.#gear[i] = gear;
    }

    // 5. Events with their true extent and peak.
    for (const e of windows) {
      const i0 = Math.round(e.atS / EGO_DT);
      const i1 = Math.min(n - 1, Math.round((e.atS + e.durationS) / EGO_DT));
      let peak: number | null = null;
      if (e.kind === "hard_braking") peak = minOf(a, i0, i1);
      else if (e.kind === "harsh_acceleration") peak = maxOf(a, i0, i1);
      else if (e.kind === "sharp_turn") peak = extremeOf(this.#yawRate, i0, i1);
      else if (e.kind === "lane_change") {
        const lat = new Float64Array(i1 - i0 + 1);
        for (let i = i0; i <= i1; i++) lat[i - i0] = v[i]! * this.#yawRate[i]!;
        peak = extremeOf(lat, 0, lat.length - 1);
      } else if (e.kind === "stop") peak = 0;
      this.events.push({ kind: e.kind, startS: e.atS, endS: e.atS + e.durationS, peak });
    }
    this.events.sort((p, q) => p.startS - q.startS);

    // 6. Structure and actors.
    const parked = buildStructure(this.structure, road, sc, Prng.stream(seed, "structure"));
    const st = sc.structure;
    this.terrain = st.terrainSlope > 0 || st.terrainBumps > 0 ? new Terrain(road, road.backEdge, st.terrainSlope, st.terrainBumps, seed) : null;
    if (this.terrain !== null) for (let i = 0; i < this.structure.length; i++) this.structure[i] = this.terrain.settle(this.structure[i]!);
    buildActors(this, sc, Prng.stream(seed, "actors"), parked);
  }

  #index(t: number): [number, number, number] {
    const f = Math.min(Math.max(t / EGO_DT, 0), this.#n - 1.000001);
    const i = Math.floor(f);
    return [i, i + 1, f - i];
  }

  /** Ego base_link pose and state at world time t (s). */
  ego(t: number): EgoState {
    const [i, j, w] = this.#index(t);
    const lerp = (arr: Float64Array): number => arr[i]! + (arr[j]! - arr[i]!) * w;
    const speed = lerp(this.#v);
    const yawRate = lerp(this.#yawRate);
    const accel = lerp(this.#a);
    return {
      x: lerp(this.#x),
      y: lerp(this.#y),
      yaw: lerp(this.#yaw),
      speed,
      accel,
      latAccel: speed * yawRate,
      yawRate,
      rpm: lerp(this.#rpm),
      gear: this.#gear[w < 0.5 ? i : j]!,
      throttle: lerp(this.#throttle),
      brake: Math.max(0, Math.min(1, -accel / 8)) * (accel < -0.3 ? 1 : 0),
      steering: speed > 0.5 ? Math.atan((2.8 * yawRate) / speed) : 0,
    };
  }

  /** Only the pose (cheap): x, y, yaw. */
  egoPose(t: number): { x: number; y: number; yaw: number } {
    const [i, j, w] = this.#index(t);
    return {
      x: this.#x[i]! + (this.#x[j]! - this.#x[i]!) * w,
      y: this.#y[i]! + (this.#y[j]! - this.#y[i]!) * w,
      yaw: this.#yaw[i]! + (this.#yaw[j]! - this.#yaw[i]!) * w,
    };
  }

  /** Engine RPM at t (what the audio's engine tone follows). */
  rpm(t: number): number {
    const [i, j, w] = this.#index(t);
    return this.#rpm[i]! + (this.#rpm[j]! - this.#rpm[i]!) * w;
  }

  egoS(t: number): number {
    const [i, j, w] = this.#index(t);
    return this.#s[i]! + (this.#s[j]! - this.#s[i]!) * w;
  }

  /** Events of a kind active at t. */
  activeEvents(t: number): WorldEvent[] {
    return this.events.filter((e) => t >= e.startS && t < e.endS);
  }

  /** An actor's box at world time t. */
  actorBox(actor: ActorSpec, t: number): Box {
    const p = actorPose(this.road, actor, t);
    return { x: p.x, y: p.y, yaw: p.yaw, hl: actor.size.x / 2, hw: actor.size.y / 2, z0: 0, z1: actor.size.z, color: actor.color, intensity: actor.cls === "truck" ? 90 : 60, ...(actor.cls === "pedestrian" ? { round: true } : {}) };
  }

  /**
   * What a lidar sees of an actor at t. A cyclist is a thin bicycle with a round rider on it. A car is not one box: its body reaches the beltline
   * (CAR_BELTLINE of its height), and the cabin above is set in from the sides (tumblehome,
   * CAR_TUMBLEHOME each side) and shorter than the body (bonnet and boot lower, CAR_CABIN_SHARE of
   * its length, a little aft). Seen from any side its returns lie on two faces at different
   * depths, as on a real car; a wall, fence or box truck is one flat face. Truth stays its box.
   */
  actorParts(actor: ActorSpec, t: number): Box[] {
    const b = this.actorBox(actor, t);
    if (actor.cls === "cyclist") {
      // A rider on a bicycle: the bicycle a thin frame up to the saddle and bars, the rider a
      // round body above it (as a pedestrian's), sitting a little aft of the middle.
      const c = Math.cos(b.yaw), s = Math.sin(b.yaw), aft = CYCLIST_RIDER_AFT;
      return [
        { ...b, hw: CYCLIST_FRAME_HALF_WIDTH, z1: CYCLIST_SADDLE },
        { ...b, x: b.x - c * aft, y: b.y - s * aft, hl: CYCLIST_RIDER_HALF_LENGTH, z0: CYCLIST_SADDLE - 0.1, round: true },
      ];
    }
    if (actor.cls !== "car") return [b];
    const c = Math.cos(b.yaw), s = Math.sin(b.yaw), aft = CAR_CABIN_AFT * 2 * b.hl, belt = CAR_BELTLINE * b.z1;
    return [
      { ...b, z1: belt },
      { ...b, x: b.x - c * aft, y: b.y - s * aft, hl: CAR_CABIN_SHARE * b.hl, hw: b.hw - CAR_TUMBLEHOME, z0: belt },
    ];
  }

  /** Every actor's box at t. */
  actorBoxes(t: number): Box[] {
    return this.actors.map((a) => this.actorBox(a, t));
  }
}

export function actorPose(road: Road, actor: ActorSpec, t: number): { x: number; y: number; yaw: number } {
  if (actor.motion === "crossing") {
    const dir = Math.sign(actor.d1 - actor.d0);
    const d = t < actor.tStart ? actor.d0 : actor.d0 + dir * Math.min(Math.abs(actor.d1 - actor.d0), actor.speed * (t - actor.tStart));
    const p = road.at(actor.s0, d);
    return { x: p.x, y: p.y, yaw: p.h + (dir * Math.PI) / 2 };
  }
  const sign = actor.motion === "along" ? 1 : -1;
  const p = road.at(actor.s0 + sign * actor.speed * t, actor.d0);
  return { x: p.x, y: p.y, yaw: actor.motion === "along" ? p.h : p.h + Math.PI };
}

function defaultDuration(kind: ScriptedEvent["kind"], cruise: number): number {
  switch (kind) {
    case "hard_braking":
      return 1.2;
    case "harsh_acceleration":
      return 2.5;
    case "stop":
      return cruise / 2.5 + 4;
    case "sharp_turn":
      return 3.5;
    case "lane_change":
      return 4;
    case "siren_wail":
    case "siren_yelp":
      return 6;
    case "horn":
      return 1;
  }
}

const RANDOM_KINDS: ScriptedEvent["kind"][] = ["siren_wail", "siren_yelp", "horn", "hard_braking", "harsh_acceleration", "sharp_turn", "stop", "lane_change"];

function randomEvents(rng: Prng, durationS: number, perMinute: number): ScriptedEvent[] {
  const count = Math.round((perMinute * durationS) / 60);
  const events: ScriptedEvent[] = [];
  let t = 1.5 + rng.uniform(0, 2);
  const kinds = [...RANDOM_KINDS];
  for (let k = 0; k < count && t < durationS - 3; k++) {
    // Cycle through a seeded shuffle so a minute of driving shows every kind.
    if (kinds.length === 0) kinds.push(...RANDOM_KINDS);
    const kind = kinds.splice(rng.int(0, kinds.length - 1), 1)[0]!;
    events.push({ kind, atS: Math.round(t * 100) / 100 });
    t += Math.max(defaultDuration(kind, 12) + 1.5, (60 / Math.max(perMinute, 0.1)) * rng.uniform(0.7, 1.3));
  }
  return events;
}

function baseCurvature(sc: ScenarioConfig, rng: Prng): (s: number) => number {
  const segs: { s0: number; s1: number; k: number }[] = [];
  if (sc.road.segments === "random") {
    let s = -300;
    let straight = true;
    while (s < 20000) {
      const len = straight ? rng.uniform(60, 160) : rng.uniform(40, 120);
      const k = straight ? 0 : (rng.chance(0.5) ? 1 : -1) / rng.uniform(120, 400);
      segs.push({ s0: s, s1: s + len, k });
      s += len;
      straight = !straight;
    }
  } else {
    let s = 0;
    for (const seg of sc.road.segments) {
      segs.push({ s0: s, s1: s + seg.length, k: seg.radius === null ? 0 : (seg.turn === "left" ? 1 : -1) / seg.radius });
      s += seg.length;
    }
  }
  return (s: number) => {
    for (const seg of segs) if (s >= seg.s0 && s < seg.s1) return seg.k;
    return 0;
  };
}

/** A parked car: arc length and lateral offset of its centre (a truth actor with speed 0). */
interface ParkedCar {
  s: number;
  d: number;
}

/**
 * The street's static side: kerbs, poles, buildings, and the clutter of a real street (see
 * ScenarioConfig.structure). Returns the parked cars, which become actors (they are road users the
 * truth must list). Along each side the parking strip is laid out slot by slot so that nothing
 * overlaps: poles and tree trunks by the kerb, parked rows and cone groups between them.
 */
function buildStructure(out: Box[], road: Road, sc: ScenarioConfig, rng: Prng): ParkedCar[] {
  const edge = road.halfWidth;
  const curbH = sc.road.curbHeight;
  const park = sc.road.parkingWidth;
  const st = sc.structure;
  const boxAt = (s: number, d: number, len: number, wid: number, z1: number, color: number, intensity: number, z0 = 0, porosity?: number): Box => {
    const p = road.at(s, d);
    return { x: p.x, y: p.y, yaw: p.h, hl: len / 2, hw: wid / 2, z0, z1, color, intensity, ...(porosity !== undefined ? { porosity } : {}) };
  };
  // Roadside things stay off the carriageway everywhere: a sharp turn can bring the road back
  // past what was placed along an earlier stretch (as for buildings below).
  const kerbSide = edge + 0.3;
  const roadside = (b: Box): boolean => b.z0 > 0 || clearOfRoad(b, road, kerbSide);
  if (curbH > 0) {
    for (let s = road.sMin + 2.5; s < road.sMax - 2.5; s += 5) {
      for (const side of [-1, 1]) out.push(boxAt(s, side * (edge + 0.1), 5, 0.2, curbH, 0xb0ada5, 40));
    }
  }
  // Occupied stretches of each side's kerb zone (poles, trunks, parked cars, cones): [s0, s1].
  const taken: Record<number, [number, number][]> = { [-1]: [], [1]: [] };
  const free = (side: number, s0: number, s1: number): boolean => taken[side]!.every(([a, b]) => s1 < a || s0 > b);
  for (let s = road.sMin + st.poleSpacing / 2; s < road.sMax; s += st.poleSpacing) {
    for (const side of [-1, 1]) {
      const sp = s + side * st.poleSpacing * 0.25;
      out.push(boxAt(sp, side * (edge + 0.6), 0.25, 0.25, 6, 0x3a3a3a, 120));
      taken[side]!.push([sp - 0.6, sp + 0.6]);
    }
  }
  const parked: ParkedCar[] = [];
  const length = road.sMax - road.sMin;
  for (const side of [-1, 1]) {
    // Street trees: a trunk by the kerb, a porous crown over the strip and the road's edge.
    const trees = Math.round((length / 100) * st.treesPer100m);
    for (let k = 0; k < trees; k++) {
      const s = rng.uniform(road.sMin + 5, road.sMax - 5);
      if (!free(side, s - 0.8, s + 0.8)) continue;
      taken[side]!.push([s - 0.8, s + 0.8]);
      const d = side * (edge + 0.6);
      const crown = rng.uniform(3, 5.5), base = rng.uniform(2.5, 3.2);
      const trunk = boxAt(s, d, 0.35, 0.35, base + 0.5, 0x5a4030, 50);
      if (!roadside(trunk)) continue;
      out.push(trunk);
      // The crown hangs over the strip and the road's edge, above any vehicle (base ≥ 2.5 m).
      out.push(boxAt(s, d + side * 0.4, crown, crown, base + rng.uniform(3, 5), 0x3f6a2f, 25, base, 1.2));
    }
    if (park > 0) {
      // Cone and barrier groups (road works) in the strip.
      const groups = Math.round((length / 1000) * st.conesPerKm);
      for (let k = 0; k < groups; k++) {
        const s = rng.uniform(road.sMin + 5, road.sMax - 10);
        const barrier = rng.chance(0.4);
        const span = barrier ? 4.5 : 6;
        if (!free(side, s - 0.5, s + span + 0.5)) continue;
        taken[side]!.push([s - 0.5, s + span + 0.5]);
        const d = side * (edge + 0.3 + rng.uniform(0.4, park - 0.4));
        const items = barrier ? [0, 1, 2].map((j) => boxAt(s + j * 1.6, d, 1.5, 0.35, 1.0, 0xe05020, 160)) : [0, 1, 2, 3].map((j) => boxAt(s + j * 2, d, 0.35, 0.35, 0.7, 0xff7010, 180));
        if (items.every(roadside)) out.push(...items);
      }
      // Parked rows: 2–5 cars bumper to bumper, in the free stretches of the strip.
      let s = road.sMin + rng.uniform(0, 20);
      while (s < road.sMax - 30) {
        if (!rng.chance(st.parkedShare)) {
          s += rng.uniform(8, 25);
          continue;
        }
        const cars = rng.int(2, 5);
        for (let j = 0; j < cars; j++) {
          const len = CLASS_SIZES.car.x;
          if (!free(side, s - 0.2, s + len + 0.2)) break;
          const d = side * (edge + 0.3 + park / 2 + rng.uniform(-0.15, 0.15));
          if (!roadside(boxAt(s + len / 2, d, len, CLASS_SIZES.car.y, CLASS_SIZES.car.z, 0, 0))) break;
          taken[side]!.push([s, s + len]);
          parked.push({ s: s + len / 2, d });
          s += len + rng.uniform(0.4, 1.2);
        }
        s += rng.uniform(6, 20);
      }
    }
    // The sidewalk's back edge: hedges, walls and fences, else open (a lawn, a forecourt).
    const back = road.backEdge;
    // (No draws from the stream without hedges or walls: the bare street stays the street it was.)
    let s = st.hedgeShare + st.wallShare > 0 ? road.sMin : road.sMax;
    while (s < road.sMax) {
      const len = rng.uniform(6, 25);
      const r = rng.float();
      const item = r < st.hedgeShare ? boxAt(s + len / 2, side * back, len, rng.uniform(0.7, 1.2), rng.uniform(0.8, 1.8), 0x2f5a26, 30, 0, 0.6)
        : r < st.hedgeShare + st.wallShare ? boxAt(s + len / 2, side * back, len, 0.2, rng.uniform(0.9, 2.4), 0x8a8478, 45) : null;
      if (item !== null && clearOfRoad(item, road, edge + 0.3 + park + sc.road.sidewalkWidth)) out.push(item);
      s += len + rng.uniform(1, 8);
    }
  }
  for (const side of [-1, 1]) {
    let s = road.sMin;
    while (s < road.sMax) {
      const len = rng.uniform(15, 40);
      const depth = rng.uniform(10, 20);
      const height = rng.uniform(6, 24);
      const setback = park + sc.road.sidewalkWidth + rng.uniform(2, 6);
      if (rng.chance(st.buildingDensity)) {
        const shade = rng.int(0, 3);
        const colors = [0xc8b89a, 0xa8a29a, 0xb88a70, 0x9aa8b8];
        const b = boxAt(s + len / 2, side * (edge + setback + depth / 2), len, depth, height, colors[shade]!, 30 + shade * 10);
        // A straight building placed along a tight curve reaches into the road on the inside of the
        // bend, and a sharp turn can bring the road back past lots placed along an earlier stretch:
        // streets keep their sidewalks, so a lot that would put a wall in the road stays empty.
        if (clearOfRoad(b, road, edge + park + sc.road.sidewalkWidth)) out.push(b);
      }
      s += len + rng.uniform(3, 12);
    }
  }
  return parked;
}

/** Is the footprint at least `clearance` from the road's centre line everywhere? */
function clearOfRoad(b: Box, road: Road, clearance: number): boolean {
  const c = Math.cos(b.yaw), sn = Math.sin(b.yaw);
  for (let sv = road.sMin; sv <= road.sMax; sv += 1) {
    const p = road.at(sv);
    const dx = p.x - b.x, dy = p.y - b.y;
    const u = Math.max(Math.abs(c * dx + sn * dy) - b.hl, 0), v = Math.max(Math.abs(-sn * dx + c * dy) - b.hw, 0);
    if (u * u + v * v < clearance * clearance) return false;
  }
  return true;
}

/** Do two footprints (centre, yaw, half extents) overlap, with a margin? Separating-axis test in 2D. */
function footprintsOverlap(a: Pose2, ah: [number, number], b: Pose2, bh: [number, number], margin: number): boolean {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const ra = Math.hypot(ah[0], ah[1]);
  const rb = Math.hypot(bh[0], bh[1]);
  if (dx * dx + dy * dy > (ra + rb + margin) ** 2) return false;
  const axes = [a.yaw, a.yaw + Math.PI / 2, b.yaw, b.yaw + Math.PI / 2];
  for (const ang of axes) {
    const ux = Math.cos(ang);
    const uy = Math.sin(ang);
    const proj = (h: [number, number], yaw: number): number => h[0] * Math.abs(Math.cos(yaw) * ux + Math.sin(yaw) * uy) + h[1] * Math.abs(-Math.sin(yaw) * ux + Math.cos(yaw) * uy);
    if (Math.abs(dx * ux + dy * uy) > proj(ah, a.yaw) + proj(bh, b.yaw) + margin) return false;
  }
  return true;
}

interface Pose2 {
  x: number;
  y: number;
  yaw: number;
}

const PLACEMENT_DT = 0.1;

function buildActors(world: World, sc: ScenarioConfig, rng: Prng, parked: readonly ParkedCar[] = []): void {
  const road = world.road;
  const lanes = sc.road.lanesPerDirection;
  type Spec = Omit<ActorSpec, "id" | "size" | "color">;
  const specs: Spec[] = [];
  for (const a of sc.actors) {
    specs.push({ cls: a.class, motion: a.motion, s0: a.s0, d0: a.d, speed: a.speed, d1: a.motion === "crossing" ? -a.d : a.d, tStart: 0 });
  }
  const sTravel = world.egoS(world.durationS);
  const cruise = sc.ego.cruiseSpeed;
  const sidewalk = road.halfWidth + 0.3 + sc.road.parkingWidth + sc.road.sidewalkWidth / 2;
  // One speed per lane and direction, so vehicles sharing a lane never run into each other.
  const laneSpeed = new Map<string, number>();
  const speedOf = (key: string, make: () => number): number => {
    let v = laneSpeed.get(key);
    if (v === undefined) {
      v = make();
      laneSpeed.set(key, v);
    }
    return v;
  };
  const propose = (cls: ActorClass): Spec => {
    if (cls === "pedestrian") {
      const r = rng.float();
      const side = rng.chance(0.5) ? 1 : -1;
      if (r < 0.3) {
        const s0 = rng.uniform(15, sTravel + 80);
        return { cls, motion: "crossing", s0, d0: side * sidewalk, d1: -side * sidewalk, speed: rng.uniform(1.1, 1.6), tStart: rng.uniform(0, world.durationS) };
      }
      const motion = rng.chance(0.5) ? "along" : "oncoming";
      return { cls, motion, s0: rng.uniform(-20, sTravel + 80), d0: side * (sidewalk + rng.uniform(-0.8, 0.8)), d1: 0, speed: rng.uniform(1.0, 1.7), tStart: 0 };
    }
    if (cls === "cyclist") {
      const oncoming = rng.chance(0.3);
      const d = oncoming ? road.halfWidth - 0.45 : -(road.halfWidth - 0.45);
      const speed = speedOf(`bike/${oncoming}`, () => rng.uniform(3.5, 6.5));
      return { cls, motion: oncoming ? "oncoming" : "along", s0: rng.uniform(-10, sTravel + 100), d0: d, d1: d, speed, tStart: 0 };
    }
    const oncoming = rng.chance(0.45);
    const lane = rng.int(0, lanes - 1);
    const d = road.laneOffset(lane, oncoming);
    const speed = speedOf(`lane/${lane}/${oncoming}`, () => (oncoming ? rng.uniform(8, 15) : cruise * rng.uniform(0.75, 1.15)));
    const s0 = oncoming ? rng.uniform(40, sTravel + speed * world.durationS + 40) : rng.uniform(-40, 120);
    return { cls, motion: oncoming ? "oncoming" : "along", s0, d0: d, d1: d, speed, tStart: 0 };
  };
  const counts: [ActorClass, number][] = [
    ["car", sc.traffic.cars],
    ["truck", sc.traffic.trucks],
    ["pedestrian", sc.traffic.pedestrians],
    ["cyclist", sc.traffic.cyclists],
  ];
  const steps = Math.ceil((world.durationS + WORLD_MARGIN_S) / PLACEMENT_DT) + 1;
  // The ego's footprint: about 4.8 × 2 m, its centre 1.4 m ahead of base_link (rear axle).
  const egoPath: Pose2[] = [];
  for (let k = 0; k < steps; k++) {
    const e = world.egoPose(k * PLACEMENT_DT);
    egoPath.push({ x: e.x + 1.4 * Math.cos(e.yaw), y: e.y + 1.4 * Math.sin(e.yaw), yaw: e.yaw });
  }
  const placed: { path: Pose2[]; half: [number, number] }[] = [{ path: egoPath, half: [2.4 + 1.5, 1.0 + 0.3] }];
  const pathOf = (spec: Spec): Pose2[] => {
    const probe: ActorSpec = { ...spec, id: 0, size: CLASS_SIZES[spec.cls], color: 0 };
    const path: Pose2[] = [];
    for (let k = 0; k < steps; k++) path.push(actorPose(road, probe, k * PLACEMENT_DT));
    return path;
  };
  const fits = (path: Pose2[], half: [number, number]): boolean => {
    for (const other of placed) {
      for (let k = 0; k < steps; k++) if (footprintsOverlap(path[k]!, half, other.path[k]!, other.half, 0.3)) return false;
    }
    return true;
  };
  // Parked cars first: they stand where the structure left them room.
  for (const p of parked) specs.push({ cls: "car", motion: "along", s0: p.s, d0: p.d, speed: 0, d1: p.d, tStart: 0 });
  for (const spec of specs) placed.push({ path: pathOf(spec), half: [CLASS_SIZES[spec.cls].x / 2, CLASS_SIZES[spec.cls].y / 2] });
  const tryPlace = (spec: Spec, half: [number, number]): boolean => {
    const path = pathOf(spec);
    if (!fits(path, half)) return false;
    specs.push(spec);
    placed.push({ path, half });
    return true;
  };
  // Poles (as buildStructure places them), for people waiting beside one.
  const poles: { s: number; side: number }[] = [];
  for (let s = road.sMin + sc.structure.poleSpacing / 2; s < road.sMax; s += sc.structure.poleSpacing) {
    for (const side of [-1, 1]) {
      const sp = s + side * sc.structure.poleSpacing * 0.25;
      if (sp > -20 && sp < sTravel + 80) poles.push({ s: sp, side });
    }
  }
  for (const [cls, count] of counts) {
    const size = CLASS_SIZES[cls];
    const half: [number, number] = [size.x / 2, size.y / 2];
    for (let k = 0; k < count; k++) {
      // A person waiting beside a pole: the pole's returns touch theirs.
      if (cls === "pedestrian" && poles.length > 0 && sc.structure.pedestrianByPoleShare > 0 && rng.chance(sc.structure.pedestrianByPoleShare)) {
        const pole = poles[rng.int(0, poles.length - 1)]!;
        const d = pole.side * (road.halfWidth + 0.6 + rng.uniform(0.45, 0.6));
        if (tryPlace({ cls, motion: "along", s0: pole.s + rng.uniform(-0.3, 0.3), d0: d, d1: d, speed: 0, tStart: 0 }, half)) continue;
      }
      for (let attempt = 0; attempt < 30; attempt++) {
        const spec = propose(cls);
        if (!tryPlace(spec, half)) continue;
        // Walking together: one or two others at the same pace, side by side or just behind.
        if (cls === "pedestrian" && spec.motion !== "crossing" && sc.structure.pedestrianGroupShare > 0 && rng.chance(sc.structure.pedestrianGroupShare)) {
          const others = rng.int(1, 2);
          for (let j = 1; j <= others && k + 1 < count; j++) {
            const d = spec.d0 + (j % 2 === 1 ? 0.75 : -0.75) * Math.sign(spec.d0 || 1) * (rng.chance(0.5) ? 1 : -1);
            if (tryPlace({ ...spec, s0: spec.s0 + rng.uniform(-0.9, 0.9), d0: d, d1: d }, half)) k++;
          }
        }
        break;
      }
    }
  }
  specs.forEach((spec, id) => world.actors.push({ ...spec, id, size: CLASS_SIZES[spec.cls], color: CLASS_COLORS[spec.cls] }));
}

function minOf(arr: Float64Array, i0: number, i1: number): number {
  let m = Infinity;
  for (let i = i0; i <= i1; i++) m = Math.min(m, arr[i]!);
  return m;
}
function maxOf(arr: Float64Array, i0: number, i1: number): number {
  let m = -Infinity;
  for (let i = i0; i <= i1; i++) m = Math.max(m, arr[i]!);
  return m;
}
function extremeOf(arr: Float64Array, i0: number, i1: number): number {
  const lo = minOf(arr, i0, i1);
  const hi = maxOf(arr, i0, i1);
  return Math.abs(lo) > Math.abs(hi) ? lo : hi;
}
