/**
 * Rig and scenario configuration: one YAML file describes the sensors (with their clock faults) and
 * the world the drive happens in. Validated with zod; a bad value is refused with a message naming
 * the key, the value and what was expected. Built-in rigs live in src/sim/rigs/<name>.yaml.
 *
 * Frames (REP 103/105): base_link is x forward, y left, z up, on the ground under the rear axle.
 * Extrinsics are base_link → sensor body frame (x forward); cameras also get an optical frame
 * (`<frame>_optical_frame`, z forward, x right, y down) which their images are stamped with.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { EventKind } from "./truth.js";

const Extrinsics = z.strictObject({
  x: z.number(),
  y: z.number(),
  z: z.number(),
  roll: z.number().default(0),
  pitch: z.number().default(0),
  /** Radians about +z of base_link. */
  yaw: z.number().default(0),
});
export type Extrinsics = z.infer<typeof Extrinsics>;

/** A clock step: at atS seconds after the drive start the device clock jumps by stepS. */
const ClockStep = z.strictObject({ atS: z.number().nonnegative(), stepS: z.number().min(-5).max(5) });
export type ClockStep = z.infer<typeof ClockStep>;

/** A sensor's clock faults, as configured. `step`: one step, or a list of steps (each applies from its atS on, cumulatively). */
export const ClockConfig = z.strictObject({
  offsetS: z.number().min(-0.5).max(0.5).default(0),
  driftPpm: z.number().min(-200).max(200).default(0),
  latencyFixedS: z.number().min(0).max(1).default(0.005),
  jitterS: z.number().min(0).max(0.01).default(0.001),
  latencyKnown: z.boolean().default(true),
  dropRate: z.number().min(0).max(0.5).default(0),
  reorderRate: z.number().min(0).max(0.5).default(0),
  step: z.union([ClockStep, z.array(ClockStep)]).nullable().default(null),
});
export type ClockConfig = z.infer<typeof ClockConfig>;

/** A clock's steps as a list in time order (`step` may be null, one step, or a list). */
export function clockSteps(cfg: Pick<ClockConfig, "step">): ClockStep[] {
  if (cfg.step === null) return [];
  return (Array.isArray(cfg.step) ? [...cfg.step] : [cfg.step]).sort((a, b) => a.atS - b.atS);
}

const clockDefault = (): ClockConfig => ClockConfig.parse({});

/** The steepest lidar roll or pitch a rig may give (10°). */
export const MAX_LIDAR_TILT_RAD = (10 * Math.PI) / 180;

export const LidarConfig = z.strictObject({
  name: z.string().default("lidar_top"),
  topic: z.string().default("/sensing/lidar/top/points"),
  frameId: z.string().default("lidar_top"),
  beams: z.number().int().min(1).max(256).default(32),
  columns: z.number().int().min(16).max(4096).default(1024),
  rateHz: z.number().min(1).max(30).default(10),
  /** Lowest and highest beam elevation (degrees); beams are evenly spaced. */
  verticalFovDeg: z.tuple([z.number().min(-90), z.number().max(90)]).default([-22.5, 22.5]),
  maxRange: z.number().positive().default(120),
  minRange: z.number().nonnegative().default(0.5),
  rangeNoiseStd: z.number().nonnegative().default(0.02),
  /** Azimuth (degrees, about +z of the lidar frame, 0 = forward, +90 = left) where each sweep starts. */
  startAzimuthDeg: z.number().default(180),
  /** Rotation seen from above: "cw" (clockwise, like Ouster and Velodyne) or "ccw". */
  rotation: z.enum(["cw", "ccw"]).default("cw"),
  /** base_link → lidar; roll and pitch (radians, |·| ≤ 10°) tilt the sensor, and its rays with it (lidar.ts casts a tilted mount ray by ray). */
  extrinsics: Extrinsics.default({ x: 1.2, y: 0, z: 1.9, roll: 0, pitch: 0, yaw: 0 }),
  /** latencyFixedS must cover the sweep (the cloud is published after the sweep ends). */
  clock: ClockConfig.default(() => ClockConfig.parse({ latencyFixedS: 0.11 })),
});
export type LidarConfig = z.infer<typeof LidarConfig>;

export const CameraConfig = z.strictObject({
  name: z.string(),
  /** Image topic; CameraInfo goes to `<parent of topic>/camera_info`. */
  topic: z.string(),
  frameId: z.string(),
  width: z.number().int().min(16).max(4096),
  height: z.number().int().min(16).max(4096),
  rateHz: z.number().min(1).max(60),
  hfovDeg: z.number().min(10).max(170).default(90),
  /** jpeg: sensor_msgs/CompressedImage; rgb8: raw sensor_msgs/Image. */
  encoding: z.enum(["jpeg", "rgb8"]).default("jpeg"),
  jpegQuality: z.number().int().min(10).max(100).default(80),
  extrinsics: Extrinsics,
  clock: ClockConfig.default(clockDefault),
});
export type CameraConfig = z.infer<typeof CameraConfig>;

export const AudioConfig = z.strictObject({
  name: z.string().default("microphone"),
  topic: z.string().default("/sensing/audio/audio"),
  frameId: z.string().default("mic_link"),
  sampleRate: z.number().int().min(8000).max(192000).default(48000),
  channels: z.number().int().min(1).max(2).default(1),
  chunkMs: z.number().positive().max(200).default(20),
  extrinsics: Extrinsics.default({ x: 0.5, y: 0, z: 1.6, roll: 0, pitch: 0, yaw: 0 }),
  /** latencyFixedS must cover the chunk (it is published once its last sample is in). */
  clock: ClockConfig.default(() => ClockConfig.parse({ latencyFixedS: 0.04 })),
});
export type AudioConfig = z.infer<typeof AudioConfig>;

const SimpleSensor = (name: string, topic: string, frameId: string, rateHz: number) =>
  z.strictObject({
    name: z.string().default(name),
    topic: z.string().default(topic),
    frameId: z.string().default(frameId),
    rateHz: z.number().min(1).max(1000).default(rateHz),
    extrinsics: Extrinsics.default({ x: 0, y: 0, z: 0.5, roll: 0, pitch: 0, yaw: 0 }),
    clock: ClockConfig.default(clockDefault),
  });

export const ImuConfig = SimpleSensor("imu", "/sensing/imu/imu_raw", "imu_link", 200).extend({
  accelNoiseStd: z.number().nonnegative().default(0.05),
  gyroNoiseStd: z.number().nonnegative().default(0.002),
});
export const GnssConfig = SimpleSensor("gnss", "/sensing/gnss/fix", "gnss_link", 10).extend({
  /** Latitude, longitude (degrees) and altitude (m) of the odom origin; odom x points along headingDeg (0 = east, 90 = north). */
  origin: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180), alt: z.number(), headingDeg: z.number() }).default({ lat: 48.1351, lon: 11.582, alt: 520, headingDeg: 0 }),
  horizontalStd: z.number().nonnegative().default(0.8),
});
export const TelemetryConfig = SimpleSensor("can", "/vehicle/telemetry", "base_link", 100);
export const OdometryConfig = SimpleSensor("odometry", "/localization/odometry", "odom", 50);

/** The ego vehicle's powertrain: what ties engine RPM (telemetry) to the engine tone (audio). */
export const VehicleConfig = z.strictObject({
  wheelbase: z.number().positive().default(2.8),
  wheelRadius: z.number().positive().default(0.33),
  gearRatios: z.array(z.number().positive()).min(1).default([3.6, 2.2, 1.5, 1.15, 0.9, 0.75]),
  finalDrive: z.number().positive().default(3.9),
  idleRpm: z.number().positive().default(800),
  upshiftRpm: z.number().positive().default(2600),
  downshiftRpm: z.number().positive().default(1300),
  cylinders: z.number().int().min(1).max(16).default(4),
});
export type VehicleConfig = z.infer<typeof VehicleConfig>;

const ScriptedEvent = z.strictObject({
  kind: EventKind.exclude(["speeding"]),
  /** Seconds after the drive start. */
  atS: z.number().nonnegative(),
  durationS: z.number().positive().optional(),
});
export type ScriptedEvent = z.infer<typeof ScriptedEvent>;

const RoadSegment = z.strictObject({
  length: z.number().positive(),
  /** Omit (or null) for a straight segment. Positive radius; `turn` gives the direction. */
  radius: z.number().min(5).nullable().default(null),
  turn: z.enum(["left", "right"]).default("left"),
});

const ExplicitActor = z.strictObject({
  class: z.enum(["car", "truck", "pedestrian", "cyclist"]),
  /** Arc length along the road (m) at the drive start. */
  s0: z.number(),
  /** Lateral offset from the road centreline (m, + left). */
  d: z.number(),
  speed: z.number().nonnegative(),
  /** along: drives with the ego; oncoming: against it; crossing: walks across the road. */
  motion: z.enum(["along", "oncoming", "crossing"]).default("along"),
});

export const ScenarioConfig = z.strictObject({
  name: z.string().default("urban"),
  road: z
    .strictObject({
      lanesPerDirection: z.number().int().min(1).max(4).default(2),
      laneWidth: z.number().min(2.5).max(5).default(3.5),
      sidewalkWidth: z.number().min(0).default(3),
      curbHeight: z.number().min(0).max(0.5).default(0.15),
      /** Paved strip between the kerb and the sidewalk where cars park (m; 0: none). */
      parkingWidth: z.number().min(0).max(4).default(2.4),
      /** Explicit segments, or "random" for seeded gentle curves. */
      segments: z.union([z.literal("random"), z.array(RoadSegment).min(1)]).default("random"),
    })
    .default({ lanesPerDirection: 2, laneWidth: 3.5, sidewalkWidth: 3, curbHeight: 0.15, parkingWidth: 2.4, segments: "random" }),
  ego: z.strictObject({ cruiseSpeed: z.number().min(1).max(40).default(12), lane: z.number().int().min(0).default(0) }).default({ cruiseSpeed: 12, lane: 0 }),
  traffic: z
    .strictObject({
      cars: z.number().int().min(0).max(100).default(6),
      trucks: z.number().int().min(0).max(50).default(2),
      pedestrians: z.number().int().min(0).max(100).default(4),
      cyclists: z.number().int().min(0).max(50).default(2),
    })
    .default({ cars: 6, trucks: 2, pedestrians: 4, cyclists: 2 }),
  actors: z.array(ExplicitActor).default([]),
  /**
   * What stands beside a real street (the clutter a proposer must tell from road users): parked
   * rows bumper to bumper, street trees whose crowns hang over the parking strip, hedges, walls
   * and fences along the sidewalk's back edge, traffic cones and barriers, people standing by
   * poles and walking in groups. Every density 0 gives the bare street of earlier versions.
   */
  structure: z
    .strictObject({
      poleSpacing: z.number().min(5).default(30),
      buildingDensity: z.number().min(0).max(1).default(0.6),
      /** Share of the parking strip taken by parked cars (rows of 2–5, 0.4–1.2 m apart; truth actors). */
      parkedShare: z.number().min(0).max(0.9).default(0.45),
      /** Street trees per 100 m and side (trunk by the kerb, porous crown 2.5–3 m up). */
      treesPer100m: z.number().min(0).max(20).default(3),
      /** Share of the sidewalk's back edge lined by hedges (porous, 0.8–1.8 m) and by walls or fences (0.2 m thick, 0.9–2.4 m). */
      hedgeShare: z.number().min(0).max(1).default(0.3),
      wallShare: z.number().min(0).max(1).default(0.3),
      /** Groups of traffic cones or barriers per km and side, in the parking strip. */
      conesPerKm: z.number().min(0).max(100).default(10),
      /** Share of pedestrians walking with one or two others, and standing beside a pole. */
      pedestrianGroupShare: z.number().min(0).max(1).default(0.35),
      pedestrianByPoleShare: z.number().min(0).max(1).default(0.2),
      /** Largest cross slope of the ground beyond the sidewalk's back edge (rise over run, up or down, drifting along the street; see terrain.ts); 0 = flat. */
      terrainSlope: z.number().min(0).max(0.3).default(0.1),
      /** Amplitude of the bumps in that ground (m). */
      terrainBumps: z.number().min(0).max(1).default(0.1),
    })
    .default({ poleSpacing: 30, buildingDensity: 0.6, parkedShare: 0.45, treesPer100m: 3, hedgeShare: 0.3, wallShare: 0.3, conesPerKm: 10, pedestrianGroupShare: 0.35, pedestrianByPoleShare: 0.2, terrainSlope: 0.1, terrainBumps: 0.1 }),
  /** Explicit events, or "random" for seeded events (eventsPerMinute of them). */
  events: z.union([z.literal("random"), z.array(ScriptedEvent)]).default("random"),
  eventsPerMinute: z.number().min(0).max(30).default(6),
});
export type ScenarioConfig = z.infer<typeof ScenarioConfig>;

export const RigConfig = z
  .strictObject({
    name: z.string(),
    description: z.string().default(""),
    /** Default drive length (s) when the caller gives none. */
    durationS: z.number().positive().default(20),
    /** Rate of the ego and actor poses in the truth file (Hz, ≥ 20). */
    truthRateHz: z.number().min(20).max(200).default(20),
    lidar: LidarConfig.nullable().default(() => LidarConfig.parse({})),
    cameras: z.array(CameraConfig).default([]),
    audio: AudioConfig.nullable().default(() => AudioConfig.parse({})),
    telemetry: TelemetryConfig.nullable().default(() => TelemetryConfig.parse({})),
    imu: ImuConfig.nullable().default(() => ImuConfig.parse({})),
    gnss: GnssConfig.nullable().default(() => GnssConfig.parse({})),
    odometry: OdometryConfig.nullable().default(() => OdometryConfig.parse({})),
    vehicle: VehicleConfig.default(() => VehicleConfig.parse({})),
    scenario: ScenarioConfig.default(() => ScenarioConfig.parse({})),
  })
  .superRefine((rig, ctx) => {
    const lidar = rig.lidar;
    if (lidar !== null) {
      // A tilted mount is ray-cast exactly (lidar.ts); beyond a few degrees it is a mistake (degrees given as radians, or a sign flip), not a mount.
      for (const axis of ["roll", "pitch"] as const) {
        const v = lidar.extrinsics[axis];
        if (Math.abs(v) > MAX_LIDAR_TILT_RAD) {
          ctx.addIssue({ code: "custom", path: ["lidar", "extrinsics", axis], message: `is ${v} rad (${((v * 180) / Math.PI).toFixed(1)}°); expected |${axis}| ≤ ${MAX_LIDAR_TILT_RAD.toFixed(4)} rad (10°), in radians` });
        }
      }
      if (lidar.verticalFovDeg[0] >= lidar.verticalFovDeg[1]) {
        ctx.addIssue({ code: "custom", path: ["lidar", "verticalFovDeg"], message: "expected [lowest, highest] with lowest < highest" });
      }
      if (lidar.clock.latencyFixedS < 1 / lidar.rateHz) {
        ctx.addIssue({ code: "custom", path: ["lidar", "clock", "latencyFixedS"], message: `is ${lidar.clock.latencyFixedS} s; expected ≥ the sweep period ${1 / lidar.rateHz} s (a sweep is published after it ends)` });
      }
    }
    if (rig.audio !== null && rig.audio.clock.latencyFixedS < rig.audio.chunkMs / 1000) {
      ctx.addIssue({ code: "custom", path: ["audio", "clock", "latencyFixedS"], message: `is ${rig.audio.clock.latencyFixedS} s; expected ≥ the chunk length ${rig.audio.chunkMs / 1000} s` });
    }
    const topics = new Map<string, string>();
    const names = new Set<string>();
    const sensors: [string, { name: string; topic: string }][] = [];
    for (const key of ["lidar", "audio", "telemetry", "imu", "gnss", "odometry"] as const) {
      const s = rig[key];
      if (s !== null) sensors.push([key, s]);
    }
    rig.cameras.forEach((c, i) => sensors.push([`cameras.${i}`, c]));
    for (const [key, s] of sensors) {
      if (topics.has(s.topic)) ctx.addIssue({ code: "custom", path: [...key.split("."), "topic"], message: `topic '${s.topic}' is already used by ${topics.get(s.topic)}` });
      if (names.has(s.name)) ctx.addIssue({ code: "custom", path: [...key.split("."), "name"], message: `sensor name '${s.name}' is not unique` });
      topics.set(s.topic, key);
      names.add(s.name);
    }
  });
export type RigConfig = z.infer<typeof RigConfig>;

export class RigConfigError extends Error {
  override name = "RigConfigError";
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

interface IssueLike {
  path: PropertyKey[];
  message: string;
  code?: string;
  errors?: IssueLike[][];
}

/** For a union ("random" or a list), report the branch that got furthest, with its full path. */
function deepestIssue(issue: IssueLike): IssueLike {
  if (issue.code !== "invalid_union" || issue.errors === undefined) return issue;
  let best: IssueLike = issue;
  for (const branch of issue.errors) {
    for (const sub of branch) {
      const inner = deepestIssue({ ...sub, path: [...issue.path, ...sub.path] });
      if (inner.path.length > best.path.length) best = inner;
    }
  }
  return best;
}

/** Validates a parsed rig object; the error names the key, the value and what was expected. */
export function parseRig(input: unknown, source = "rig"): RigConfig {
  const result = RigConfig.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((top) => {
    const issue = deepestIssue(top);
    const key = issue.path.map(String).join(".") || "(root)";
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? "missing" : JSON.stringify(value);
    // Cross-field (custom) messages state the effective value themselves.
    if (issue.code === "custom") return `${key}: ${issue.message}`;
    return `${key}: ${issue.message} (got ${shown && shown.length > 60 ? shown.slice(0, 57) + "..." : shown})`;
  });
  throw new RigConfigError(`${source}: invalid rig\n  ${lines.join("\n  ")}`);
}

export function parseRigYaml(text: string, source = "rig"): RigConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new RigConfigError(`${source}: not valid YAML (${(error as Error).message})`);
  }
  return parseRig(doc, source);
}

/** The folder of the built-in rig YAMLs (src/sim/rigs, also found from dist/). */
export function rigFolder(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, "rigs"), join(here, "..", "..", "..", "src", "sim", "rigs")]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new RigConfigError(`built-in rig folder not found near ${here}`);
}

export function builtinRigNames(): string[] {
  return readdirSync(rigFolder())
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => basename(f, ".yaml"))
    .sort();
}

/** Loads a rig by built-in name (`default`, `standard`, …) or by path to a YAML file. */
/**
 * The same scenario on a bare street: no parking strip, parked rows, trees, hedges, walls,
 * cones, groups, people by poles or sloped ground (the simulator before the street clutter; kept for the
 * targets set on it and to show what the clutter costs).
 */
export function bareStreet(scenario: ScenarioConfig): ScenarioConfig {
  return {
    ...scenario,
    road: { ...scenario.road, parkingWidth: 0 },
    structure: { ...scenario.structure, parkedShare: 0, treesPer100m: 0, hedgeShare: 0, wallShare: 0, conesPerKm: 0, pedestrianGroupShare: 0, pedestrianByPoleShare: 0, terrainSlope: 0, terrainBumps: 0 },
  };
}

export function loadRig(nameOrPath: string): RigConfig {
  const isPath = nameOrPath.includes("/") || nameOrPath.endsWith(".yaml") || nameOrPath.endsWith(".yml");
  const path = isPath ? nameOrPath : join(rigFolder(), `${nameOrPath}.yaml`);
  if (!existsSync(path)) {
    throw new RigConfigError(`rig '${nameOrPath}' not found: expected a file path or one of ${builtinRigNames().join(", ")}`);
  }
  return parseRigYaml(readFileSync(path, "utf8"), path);
}
