/** A small test rig and one cached drive shared by the physics tests (generated once per process). */
import { defaultCodec } from "../../src/messages/codec.js";
import { toNs, type RosTime } from "../../src/messages/time.js";
import { simulateDrive, type SimDrive, type SimMessage } from "../../src/sim/drive.js";
import { parseRig, type RigConfig } from "../../src/sim/rig.js";
import type { TruthFile } from "../../src/sim/truth.js";

export function testRig(overrides: Record<string, unknown> = {}): RigConfig {
  return parseRig({
    name: "test",
    durationS: 3,
    truthRateHz: 100,
    lidar: { beams: 32, columns: 512, verticalFovDeg: [-20, 10], clock: { offsetS: 0.013, driftPpm: 150, latencyFixedS: 0.11, jitterS: 0.003 } },
    cameras: [
      { name: "camera_front", topic: "/cam/front/image_raw", frameId: "camera_front", width: 320, height: 180, rateHz: 10, encoding: "rgb8", extrinsics: { x: 1.8, y: 0, z: 1.5, pitch: 0.05 }, clock: { offsetS: -0.3, driftPpm: -80, latencyFixedS: 0.03, jitterS: 0.005 } },
      { name: "camera_front_left", topic: "/cam/left/image_raw", frameId: "camera_front_left", width: 320, height: 180, rateHz: 10, encoding: "rgb8", extrinsics: { x: 1.7, y: 0.5, z: 1.5, pitch: 0.05, yaw: 0.9 } },
      { name: "camera_front_right", topic: "/cam/right/image_raw/compressed", frameId: "camera_front_right", width: 320, height: 180, rateHz: 10, encoding: "jpeg", extrinsics: { x: 1.7, y: -0.5, z: 1.5, pitch: 0.05, yaw: -0.9 } },
    ],
    audio: { clock: { offsetS: 0.4, driftPpm: 90, latencyFixedS: 0.04, jitterS: 0.001, latencyKnown: false } },
    telemetry: { clock: { offsetS: -0.35, driftPpm: -25, latencyFixedS: 0.004, jitterS: 0.002, dropRate: 0.05, reorderRate: 0.05, step: { atS: 1.5, stepS: 0.25 } } },
    imu: { clock: { offsetS: 0.08, driftPpm: 30, latencyFixedS: 0.002, jitterS: 0.001, dropRate: 0.1 } },
    scenario: {
      traffic: { cars: 8, trucks: 2, pedestrians: 6, cyclists: 3 },
      events: [
        { kind: "siren_wail", atS: 0.5, durationS: 1.2 },
        { kind: "horn", atS: 2.2, durationS: 0.5 },
        { kind: "hard_braking", atS: 1.0 },
      ],
    },
    ...overrides,
  });
}

/**
 * Ground only: no traffic, no kerbs, poles, buildings or street clutter; a lidar with these
 * extrinsics (over x 1.2, y 0.1, z 1.9) and range noise, on one curve. `terrain`: the default
 * sloped ground beside the street, else level ground everywhere.
 */
export function groundOnlyRig(name: string, extrinsics: Record<string, number>, rangeNoiseStd: number, options: { terrain: boolean; radius: number }): RigConfig {
  const level = options.terrain ? {} : { terrainSlope: 0, terrainBumps: 0 };
  return parseRig({
    name,
    lidar: { rangeNoiseStd, extrinsics: { x: 1.2, y: 0.1, z: 1.9, ...extrinsics } },
    audio: null,
    telemetry: null,
    imu: null,
    gnss: null,
    odometry: null,
    scenario: {
      road: { curbHeight: 0, parkingWidth: 0, segments: [{ length: 400, radius: options.radius, turn: "left" }] },
      traffic: { cars: 0, trucks: 0, pedestrians: 0, cyclists: 0 },
      structure: { poleSpacing: 100000, buildingDensity: 0, parkedShare: 0, treesPer100m: 0, hedgeShare: 0, wallShare: 0, conesPerKm: 0, pedestrianGroupShare: 0, pedestrianByPoleShare: 0, ...level },
      events: [],
    },
  });
}

export interface Collected {
  drive: SimDrive;
  messages: SimMessage[];
  truth: TruthFile;
}

let cached: Collected | undefined;
export function testDrive(): Collected {
  if (cached !== undefined) return cached;
  const drive = simulateDrive({ rig: testRig(), seed: 42 });
  const messages = [...drive];
  cached = { drive, messages, truth: drive.truth() };
  return cached;
}

export function decode<T>(m: SimMessage): T {
  return defaultCodec().decode<T>(m.type, m.data);
}

export function stampOf(m: SimMessage): bigint {
  return toNs(decode<{ header: { stamp: RosTime } }>(m).header.stamp);
}

/** Linear interpolation of a truth track (odom pose) at t. */
export function poseAt(track: readonly { tNs: string; x: number; y: number; yaw: number }[], tNs: bigint): { x: number; y: number; yaw: number } {
  let lo = 0;
  let hi = track.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (BigInt(track[mid]!.tNs) <= tNs) lo = mid;
    else hi = mid;
  }
  const a = track[lo]!;
  const b = track[hi]!;
  const span = Number(BigInt(b.tNs) - BigInt(a.tNs));
  const w = span === 0 ? 0 : Math.min(1, Math.max(0, Number(tNs - BigInt(a.tNs)) / span));
  let dyaw = b.yaw - a.yaw;
  dyaw -= 2 * Math.PI * Math.round(dyaw / (2 * Math.PI));
  return { x: a.x + (b.x - a.x) * w, y: a.y + (b.y - a.y) * w, yaw: a.yaw + dyaw * w };
}
