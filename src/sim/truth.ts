/**
 * Ground truth written beside every simulated recording (`<drive>.truth.json`).
 * This file is the contract between the simulator (which writes it) and everything that
 * measures against it: `syncbag eval` for alignment and for suggestions, and the tests.
 *
 * Conventions: absolute times are ns on the common clock (= the simulator's true time = the
 * node clock in live runs), stored as decimal strings because JSON numbers cannot hold epoch ns.
 * Poses are in the `odom` frame (REP 105: x forward at start, z up), yaw in radians about +z.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";

const NsString = z.string().regex(/^-?\d+$/, "expected a decimal nanosecond string");

export const SensorModality = z.enum(["lidar", "camera", "audio", "telemetry", "imu", "gnss", "odometry"]);
export type SensorModality = z.infer<typeof SensorModality>;

/** A sensor's true clock behaviour. device stamp = capture + offset + drift·(capture − startNs) (+ every step's stepS after its atNs). */
export const TrueClock = z.object({
  offsetS: z.number(),
  driftPpm: z.number(),
  /** Constant capture-to-publish latency (s). */
  latencyFixedS: z.number().nonnegative(),
  /** Random extra latency, ≥ 0 (s): the scale of the jitter distribution. */
  jitterS: z.number().nonnegative(),
  /** Whether the node is told latencyFixedS (a calibrated sensor) or must estimate it. */
  latencyKnown: z.boolean(),
  dropRate: z.number().min(0).max(1),
  reorderRate: z.number().min(0).max(1),
  /** Optional clock step: at true time atNs the device clock jumps by stepS (the first of `steps`, for readers of one step). */
  step: z.object({ atNs: NsString, stepS: z.number() }).nullable(),
  /** Every clock step in time order, each applying from its atNs on (cumulative); written only when there are several (otherwise `step` is all). */
  steps: z.array(z.object({ atNs: NsString, stepS: z.number() })).optional(),
});
export type TrueClock = z.infer<typeof TrueClock>;

export const TruthSensor = z.object({
  name: z.string(),
  topic: z.string(),
  /** ROS 2 type, `pkg/Type`. */
  type: z.string(),
  modality: SensorModality,
  frameId: z.string(),
  rateHz: z.number().positive(),
  clock: TrueClock,
});
export type TruthSensor = z.infer<typeof TruthSensor>;

/** Per topic, parallel arrays in publish (arrival) order: one entry per published message. */
export const TruthMessages = z.object({
  /** The header.stamp the device wrote (device clock). Unique within a topic. */
  stampNs: z.array(NsString),
  /** True capture time on the common clock (for lidar: sweep start). */
  captureNs: z.array(NsString),
  /** When the message reached the transport (common clock). */
  receiveNs: z.array(NsString),
});
export type TruthMessages = z.infer<typeof TruthMessages>;

export const ActorClass = z.enum(["car", "truck", "pedestrian", "cyclist"]);
export type ActorClass = z.infer<typeof ActorClass>;

export const PoseSample = z.object({
  tNs: NsString,
  x: z.number(),
  y: z.number(),
  /** Height of the box centre above the road (m). */
  z: z.number(),
  yaw: z.number(),
  vx: z.number(),
  vy: z.number(),
});
export type PoseSample = z.infer<typeof PoseSample>;

export const TruthActor = z.object({
  id: z.number().int(),
  class: ActorClass,
  /** Box extent (m): length along heading, width, height. */
  size: z.object({ x: z.number().positive(), y: z.number().positive(), z: z.number().positive() }),
  /** Sampled at a fixed rate (≥ 20 Hz) over the actor's lifetime, odom frame. */
  track: z.array(PoseSample),
});
export type TruthActor = z.infer<typeof TruthActor>;

export const EventKind = z.enum([
  "siren_wail",
  "siren_yelp",
  "horn",
  "hard_braking",
  "harsh_acceleration",
  "sharp_turn",
  "stop",
  "lane_change",
  "speeding",
]);
export type EventKind = z.infer<typeof EventKind>;

export const TruthEvent = z.object({
  kind: EventKind,
  startNs: NsString,
  endNs: NsString,
  /** Peak of the defining signal where one exists (m/s², rad/s, m/s), else null. */
  peak: z.number().nullable(),
});
export type TruthEvent = z.infer<typeof TruthEvent>;

export const TruthFile = z.object({
  version: z.literal(1),
  seed: z.number().int(),
  rig: z.string(),
  scenario: z.string(),
  startNs: NsString,
  endNs: NsString,
  sensors: z.array(TruthSensor),
  messages: z.record(z.string(), TruthMessages),
  /** The ego vehicle's base_link pose in odom over time (same sampling as actors). */
  ego: z.array(PoseSample),
  actors: z.array(TruthActor),
  events: z.array(TruthEvent),
});
export type TruthFile = z.infer<typeof TruthFile>;

export class TruthFileError extends Error {
  override name = "TruthFileError";
}

export function parseTruth(text: string, source = "truth"): TruthFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TruthFileError(`${source}: not JSON (${(error as Error).message})`);
  }
  const result = TruthFile.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new TruthFileError(`${source}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return result.data;
}

export async function loadTruth(path: string): Promise<TruthFile> {
  return parseTruth(await readFile(path, "utf8"), path);
}
