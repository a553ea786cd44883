/**
 * The sample-step rig with TWO clock steps on every sensor (or on the named ones), at times scaled
 * to the drive, of either sign and 20–400 ms, plus a fast-drifting audio clock: the soak drive of
 * issue #20 (test/align/hindsight-soak.ts) and its short test (test/align/two-steps.test.ts).
 * Steps lie within 15–85 % of the drive and ≥ 40 % of it apart, so each has seconds of data on
 * both sides.
 */
import { loadRig, type ClockConfig, type ClockStep, type RigConfig } from "../../src/sim/rig.js";

/** Per sensor (in rig order): [first, second] as (fraction of the drive, step s). */
const PLAN: [number, number][][] = [
  [[0.2, 0.35], [0.62, -0.12]],
  [[0.24, -0.2], [0.7, 0.08]],
  [[0.17, 0.045], [0.66, -0.3]],
  [[0.29, -0.06], [0.78, 0.4]],
  [[0.33, 0.12], [0.74, -0.025]],
  [[0.21, -0.09], [0.81, 0.2]],
  [[0.37, 0.25], [0.84, -0.15]],
  [[0.26, -0.3], [0.69, 0.03]],
  [[0.31, 0.02], [0.77, -0.07]],
];

/** Every sensor's clock in the rig, by sensor name. */
export function rigClocks(rig: RigConfig): Map<string, ClockConfig> {
  const clocks = new Map<string, ClockConfig>();
  if (rig.lidar !== null) clocks.set(rig.lidar.name, rig.lidar.clock);
  for (const camera of rig.cameras) clocks.set(camera.name, camera.clock);
  for (const sensor of [rig.audio, rig.telemetry, rig.imu, rig.gnss, rig.odometry]) if (sensor !== null) clocks.set(sensor.name, sensor.clock);
  return clocks;
}

export function twoStepRig(durationS: number, only?: readonly string[]): { rig: RigConfig; steps: Map<string, ClockStep[]> } {
  const rig = structuredClone(loadRig("sample-step"));
  rig.durationS = durationS;
  const steps = new Map<string, ClockStep[]>();
  let i = 0;
  for (const [name, clock] of rigClocks(rig)) {
    if (only !== undefined && !only.includes(name)) {
      clock.step = null;
      continue;
    }
    const plan = PLAN[i++ % PLAN.length]!;
    clock.step = plan.map(([at, stepS]) => ({ atS: Math.round(at * durationS * 1000) / 1000, stepS }));
    steps.set(name, clock.step);
  }
  rig.audio!.clock.driftPpm = 180;
  return { rig, steps };
}
