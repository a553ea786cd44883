/**
 * The node's sensor configuration for a simulated rig — what a real rig's params file says:
 * topics, types, frames, which latencies are calibrated (configured) and which are unknown,
 * the lidar's spin and each camera's azimuth in the lidar frame. Only what a real vehicle's
 * calibration sheet would hold is passed on; the clock offsets, drifts and steps stay hidden.
 */
import type { AlignmentConfigInput, Modality } from "../align/config.js";
import type { RigConfig } from "../sim/rig.js";

interface RigSensor {
  name: string;
  topic: string;
  frameId: string;
  clock: { latencyFixedS: number; latencyKnown: boolean };
}

export function alignmentConfigForRig(rig: RigConfig, base: { nodeName?: string; namespace?: string } = {}): AlignmentConfigInput {
  const sensors: NonNullable<AlignmentConfigInput["sensors"]> = [];
  const add = (sensor: RigSensor, type: string, modality: Modality, extra: { cameraAzimuthRad?: number } = {}): void => {
    sensors.push({
      name: sensor.name,
      topic: sensor.topic,
      type,
      modality,
      frameId: sensor.frameId,
      clock: sensor.clock.latencyKnown ? { latencyS: sensor.clock.latencyFixedS } : {},
      ...extra,
    });
  };
  const lidar = rig.lidar;
  if (lidar !== null) add(lidar, "sensor_msgs/PointCloud2", "lidar");
  for (const camera of rig.cameras) {
    const type = camera.encoding === "jpeg" ? "sensor_msgs/CompressedImage" : "sensor_msgs/Image";
    const azimuth = camera.extrinsics.yaw - (lidar?.extrinsics.yaw ?? 0);
    add(camera, type, "camera", { cameraAzimuthRad: Math.atan2(Math.sin(azimuth), Math.cos(azimuth)) });
  }
  if (rig.audio !== null) add(rig.audio, "syncbag/AudioChunk", "audio");
  if (rig.telemetry !== null) add(rig.telemetry, "syncbag/VehicleTelemetry", "telemetry");
  if (rig.imu !== null) add(rig.imu, "sensor_msgs/Imu", "imu");
  if (rig.gnss !== null) add(rig.gnss, "sensor_msgs/NavSatFix", "gnss");
  if (rig.odometry !== null) add(rig.odometry, "nav_msgs/Odometry", "odometry");
  return {
    ...base,
    sensors,
    engineCylinders: rig.vehicle.cylinders,
    ...(lidar === null
      ? {}
      : { lidarRotation: lidar.rotation, lidarStartAzimuthDeg: lidar.startAzimuthDeg, lidarPeriodS: 1 / lidar.rateHz }),
  };
}
