/**
 * Simulator speed: seconds of standard-rig drive generated per wall second (128×2048 lidar at 10 Hz,
 * three 1920×1080 rgb8 cameras at 30 Hz, stereo 48 kHz audio, CAN 100 Hz, IMU 200 Hz, GNSS, odometry),
 * every message CDR-encoded and yielded in arrival order. Target ≥ 1× real time, so the simulator
 * can drive live tests of the full rig.
 * Baseline, same run: CDR-encoding one simulated second's worth of pre-built messages of the same
 * types and sizes (the floor any generator pays); the ratio says how close generation gets to it.
 */
import { defaultCodec } from "../src/messages/codec.js";
import { simulateDrive } from "../src/sim/drive.js";
import { POINT_FIELDS, POINT_STEP } from "../src/sim/lidar.js";
import { loadRig } from "../src/sim/rig.js";
import { report } from "./harness.js";

export default async function (): Promise<void> {
  const rig = loadRig("standard");
  // Warm-up (JIT), then the measured drive.
  for (const _ of simulateDrive({ rig, seed: 1, durationS: 1 }));
  const durationS = 6;
  const sizes = new Map<string, { n: number; bytes: number }>();
  const t0 = performance.now();
  for (const m of simulateDrive({ rig, seed: 2, durationS })) {
    const s = sizes.get(m.type) ?? { n: 0, bytes: 0 };
    s.n++;
    s.bytes += m.data.byteLength;
    sizes.set(m.type, s);
  }
  const simWall = (performance.now() - t0) / 1000;
  const simMultiple = durationS / simWall;
  const mbPerS = [...sizes.values()].reduce((a, s) => a + s.bytes, 0) / durationS / 1e6;

  // Baseline: encode one simulated second of pre-built messages of the same types and sizes.
  const codec = defaultCodec();
  const header = { stamp: { sec: 1_700_000_000, nanosec: 0 }, frame_id: "x" };
  const perSecond = (type: string): number => (sizes.get(type)?.n ?? 0) / durationS;
  const avgBytes = (type: string): number => Math.round((sizes.get(type)?.bytes ?? 0) / Math.max(1, sizes.get(type)?.n ?? 1));
  const points = Math.floor(avgBytes("sensor_msgs/PointCloud2") / POINT_STEP);
  const cloud = { header, height: 1, width: points, fields: POINT_FIELDS, is_bigendian: false, point_step: POINT_STEP, row_step: points * POINT_STEP, data: new Uint8Array(points * POINT_STEP), is_dense: true };
  const cam = rig.cameras[0]!;
  const image = { header, height: cam.height, width: cam.width, encoding: "rgb8", is_bigendian: 0, step: cam.width * 3, data: new Uint8Array(cam.width * cam.height * 3) };
  const audio = { header, sample_rate: 48000, channels: 2, encoding: "S16LE", frames: 960, data: new Uint8Array(960 * 4) };
  const imu = { header, orientation: { x: 0, y: 0, z: 0, w: 1 }, orientation_covariance: new Array(9).fill(0), angular_velocity: { x: 0, y: 0, z: 0 }, angular_velocity_covariance: new Array(9).fill(0), linear_acceleration: { x: 0, y: 0, z: 9.8 }, linear_acceleration_covariance: new Array(9).fill(0) };
  const batch: [string, unknown, number][] = [
    ["sensor_msgs/PointCloud2", cloud, perSecond("sensor_msgs/PointCloud2")],
    ["sensor_msgs/Image", image, perSecond("sensor_msgs/Image")],
    ["syncbag/AudioChunk", audio, perSecond("syncbag/AudioChunk")],
    ["sensor_msgs/Imu", imu, perSecond("sensor_msgs/Imu") + perSecond("syncbag/VehicleTelemetry") + perSecond("nav_msgs/Odometry")],
  ];
  const encodeSecond = (): void => {
    for (const [type, msg, n] of batch) for (let i = 0; i < Math.round(n); i++) codec.encode(type, msg);
  };
  encodeSecond();
  const b0 = performance.now();
  const rounds = 3;
  for (let r = 0; r < rounds; r++) encodeSecond();
  const baseWall = (performance.now() - b0) / 1000 / rounds;
  const baseMultiple = 1 / baseWall;

  report({
    name: `standard rig generation (${rig.lidar!.beams}×${rig.lidar!.columns} lidar, 3× ${cam.width}×${cam.height} rgb8 @${cam.rateHz} Hz, ${mbPerS.toFixed(0)} MB/s of messages)`,
    value: simMultiple,
    unit: "× real time",
    baseline: { name: "CDR-encode of the same messages pre-built", value: baseMultiple, unit: "× real time" },
    ratio: simMultiple / baseMultiple,
    target: { text: "≥ 1× real time", met: simMultiple >= 1 },
  });
}
