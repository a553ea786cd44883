import assert from "node:assert/strict";
import { interpolateSample, slerp } from "../../src/align/interpolate.js";
import { SampleFlag, type AlignedSampleData } from "../../src/align/types.js";
import { defaultCodec } from "../../src/messages/codec.js";

const yawQuaternion = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });
const yawOf = (q: { z: number; w: number }): number => 2 * Math.atan2(q.z, q.w);

function sample(type: string, values: unknown[], times: bigint[]): AlignedSampleData {
  const codec = defaultCodec();
  return {
    sensor: "s",
    topic: "/s",
    type,
    stampNs: times[0]!,
    correctedNs: times[0]!,
    receiveNs: times[0]!,
    residualS: 0,
    flags: SampleFlag.INTERPOLATED,
    messages: values.map((v) => ({ topic: "/s", type, data: codec.encode(type, v), receiveTime: 0n })),
    correctedTimes: times,
  };
}

describe("telemetry interpolation", () => {
  it("slerps orientations along the shorter arc and keeps them unit length", () => {
    assert.ok(Math.abs(yawOf(slerp(yawQuaternion(0), yawQuaternion(Math.PI / 2), 0.5)) - Math.PI / 4) < 1e-9);
    assert.ok(Math.abs(yawOf(slerp(yawQuaternion(0.2), yawQuaternion(0.6), 0)) - 0.2) < 1e-9);
    const negated = { x: -0, y: -0, z: -Math.sin(0.3), w: -Math.cos(0.3) }; // the same rotation as yaw 0.6
    const q = slerp(yawQuaternion(0.2), negated, 0.5);
    assert.ok(Math.abs(yawOf(q) - 0.4) < 1e-9, `yaw ${yawOf(q)}`);
    assert.ok(Math.abs(Math.hypot(q.x, q.y, q.z, q.w) - 1) < 1e-12);
  });

  it("interpolates Imu linearly for vectors and by slerp for the orientation at the reference time", () => {
    const imu = (yaw: number, rate: number) => ({
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "imu_link" },
      orientation: yawQuaternion(yaw),
      orientation_covariance: new Array(9).fill(0),
      angular_velocity: { x: 0, y: 0, z: rate },
      angular_velocity_covariance: new Array(9).fill(0),
      linear_acceleration: { x: rate * 10, y: 0, z: 9.81 },
      linear_acceleration_covariance: new Array(9).fill(0),
    });
    const s = sample("sensor_msgs/Imu", [imu(0.1, 0.2), imu(0.3, 0.4)], [1_000_000_000n, 1_005_000_000n]);
    const value = interpolateSample(s, 1_001_250_000n) as { orientation: { z: number; w: number }; angular_velocity: { z: number }; linear_acceleration: { x: number } };
    assert.ok(Math.abs(yawOf(value.orientation) - 0.15) < 1e-9);
    assert.ok(Math.abs(value.angular_velocity.z - 0.25) < 1e-12);
    assert.ok(Math.abs(value.linear_acceleration.x - 2.5) < 1e-9);
  });

  it("never extrapolates: outside the bracket the value is held at the nearer message", () => {
    const telemetry = (speed: number, gear: number) => ({
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "base_link" },
      speed, longitudinal_acceleration: 0, lateral_acceleration: 0, yaw_rate: 0, steering_angle: 0,
      throttle_position: 0, brake_position: 0, gear, engine_rpm: 1000, turn_signal_left: false, turn_signal_right: false, horn: false,
    });
    const s = sample("syncbag/VehicleTelemetry", [telemetry(10, 2), telemetry(12, 3)], [0n, 10_000_000n]);
    assert.equal((interpolateSample(s, 2_500_000n) as { speed: number }).speed, 10.5);
    assert.equal((interpolateSample(s, 2_500_000n) as { gear: number }).gear, 2, "integer-coded gear from the nearer message");
    assert.equal((interpolateSample(s, 50_000_000n) as { speed: number }).speed, 12);
  });
});
