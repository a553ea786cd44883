/**
 * Test data for the message layer: realistic sensor messages in the shape the decoder returns
 * (typed arrays for numeric arrays, bigint for 64-bit integers), a seeded generator of random
 * messages for any catalogue type, and an independent CDR writer (@foxglove/cdr's CdrWriter,
 * driven by the definitions) for big-endian and XCDR2 buffers.
 */
import { CdrWriter, EncapsulationKind } from "@foxglove/cdr";
import type { MessageDefinitionField } from "@foxglove/message-definition";
import type { MessageCatalogue } from "../../src/messages/catalogue.js";

/** mulberry32: small, seeded, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const header = (sec: number, nanosec: number, frame_id: string) => ({ header: { stamp: { sec, nanosec }, frame_id } });
const quaternion = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });
const diagonal = (n: number, value: number) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? value : 0));

function pointCloud(sec: number, nanosec: number, rows: number, columns: number) {
  // x, y, z, intensity float32 + ring uint16 + 2 pad bytes: a 32-beam spinning lidar's layout.
  const pointStep = 20;
  const data = new Uint8Array(rows * columns * pointStep);
  const view = new DataView(data.buffer);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const o = (r * columns + c) * pointStep;
      const azimuth = (2 * Math.PI * c) / columns;
      const range = 5 + 20 * ((r * 7 + c) % 13) / 13;
      const elevation = ((r - rows / 2) * Math.PI) / 180;
      view.setFloat32(o, range * Math.cos(elevation) * Math.cos(azimuth), true);
      view.setFloat32(o + 4, range * Math.cos(elevation) * Math.sin(azimuth), true);
      view.setFloat32(o + 8, range * Math.sin(elevation) + 1.8, true);
      view.setFloat32(o + 12, (r * 31 + c) % 256, true);
      view.setUint16(o + 16, r, true);
    }
  }
  return {
    ...header(sec, nanosec, "lidar_top"),
    height: rows,
    width: columns,
    fields: [
      { name: "x", offset: 0, datatype: 7, count: 1 },
      { name: "y", offset: 4, datatype: 7, count: 1 },
      { name: "z", offset: 8, datatype: 7, count: 1 },
      { name: "intensity", offset: 12, datatype: 7, count: 1 },
      { name: "ring", offset: 16, datatype: 4, count: 1 },
    ],
    is_bigendian: false,
    point_step: pointStep,
    row_step: pointStep * columns,
    data,
    is_dense: true,
  };
}

/** A ~`bytes`-sized PointCloud2 (for the bench). */
export function bigPointCloud(bytes: number): Record<string, unknown> {
  const columns = 2048;
  return pointCloud(1_732_000_000, 250_000_000, Math.max(1, Math.round(bytes / (20 * columns))), columns);
}

function bytes(length: number, seed: number): Uint8Array {
  const random = prng(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/** Realistic messages per type; header-bearing ones have distinct stamps. */
export function sampleMessages(): { type: string; message: Record<string, unknown> }[] {
  const stamp = 1_732_000_000;
  const jpeg = bytes(3000, 7);
  jpeg.set([0xff, 0xd8, 0xff, 0xe0], 0);
  jpeg.set([0xff, 0xd9], jpeg.length - 2);
  const sample = (sensor: string, topic: string, offsetNs: number, flags: number) => ({
    sensor,
    topic,
    original_stamp: { sec: stamp + 3, nanosec: 100_000_000 + offsetNs },
    corrected_stamp: { sec: stamp + 3, nanosec: 100_250_000 + offsetNs },
    receive_time: { sec: stamp + 3, nanosec: 131_000_000 + offsetNs },
    residual: offsetNs / 1e9,
    sample_start: 0n,
    sample_count: 0,
    flags,
  });
  const suggestion = (trackId: bigint, category: string) => ({
    track_id: trackId,
    category,
    confidence: 0.87,
    source: "lidar",
    kind: 0,
    box_frame_id: "base_link",
    box_pose: { position: { x: 12.5, y: -3.25, z: 0.9 }, orientation: quaternion(0.3) },
    box_size: { x: 4.6, y: 1.9, z: 1.5 },
    velocity: { x: 8.2, y: 0.1, z: 0 },
    boxes_2d: [
      { camera: "camera_front", frame_id: "camera_front_optical", x_min: 410.5, y_min: 220, x_max: 600.25, y_max: 330, depth: 12.6, occlusion: 0.1, truncated: false },
      { camera: "camera_left", frame_id: "camera_left_optical", x_min: 0, y_min: 200, x_max: 80, y_max: 310, depth: 13.1, occlusion: 0, truncated: true },
    ],
    start: { sec: stamp + 4, nanosec: 0 },
    end: { sec: stamp + 4, nanosec: 0 },
    peak_value: 0,
  });
  return [
    { type: "sensor_msgs/PointCloud2", message: pointCloud(stamp, 100_000_000, 32, 256) },
    {
      type: "sensor_msgs/Image",
      message: { ...header(stamp, 133_333_333, "camera_front_optical"), height: 48, width: 64, encoding: "rgb8", is_bigendian: 0, step: 192, data: bytes(48 * 192, 1) },
    },
    { type: "sensor_msgs/CompressedImage", message: { ...header(stamp, 166_666_667, "camera_front_optical"), format: "jpeg", data: jpeg } },
    {
      type: "sensor_msgs/CameraInfo",
      message: {
        ...header(stamp, 133_333_333, "camera_front_optical"),
        height: 1080,
        width: 1920,
        distortion_model: "plumb_bob",
        d: Float64Array.from([-0.28, 0.074, 0.0002, -0.0001, 0]),
        k: Float64Array.from([1266.4, 0, 960.5, 0, 1266.4, 540.5, 0, 0, 1]),
        r: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]),
        p: Float64Array.from([1266.4, 0, 960.5, 0, 0, 1266.4, 540.5, 0, 0, 0, 1, 0]),
        binning_x: 0,
        binning_y: 0,
        roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
      },
    },
    {
      type: "sensor_msgs/Imu",
      message: {
        ...header(stamp, 5_000_000, "imu_link"),
        orientation: quaternion(0.42),
        orientation_covariance: diagonal(3, 1e-4),
        angular_velocity: { x: 0.001, y: -0.002, z: 0.12 },
        angular_velocity_covariance: diagonal(3, 2.5e-5),
        linear_acceleration: { x: 0.8, y: 0.05, z: 9.81 },
        linear_acceleration_covariance: diagonal(3, 1e-3),
      },
    },
    {
      type: "sensor_msgs/NavSatFix",
      message: {
        ...header(stamp - 1, 999_999_999, "gnss_antenna"),
        status: { status: 2, service: 1 | 8 },
        latitude: 48.137154,
        longitude: 11.576124,
        altitude: 519.3,
        position_covariance: Float64Array.from([0.25, 0, 0, 0, 0.25, 0, 0, 0, 1.2]),
        position_covariance_type: 2,
      },
    },
    {
      type: "nav_msgs/Odometry",
      message: {
        ...header(stamp, 20_000_000, "odom"),
        child_frame_id: "base_link",
        pose: { pose: { position: { x: 105.2, y: -12.75, z: 0 }, orientation: quaternion(1.1) }, covariance: diagonal(6, 0.01) },
        twist: { twist: { linear: { x: 13.9, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.05 } }, covariance: diagonal(6, 0.002) },
      },
    },
    {
      type: "tf2_msgs/TFMessage",
      message: {
        transforms: [
          { ...header(stamp, 0, "base_link"), child_frame_id: "lidar_top", transform: { translation: { x: 1.2, y: 0, z: 1.9 }, rotation: quaternion(0) } },
          { ...header(stamp, 0, "base_link"), child_frame_id: "camera_front", transform: { translation: { x: 1.9, y: 0, z: 1.5 }, rotation: quaternion(0.01) } },
          { ...header(stamp, 0, "odom"), child_frame_id: "base_link", transform: { translation: { x: 105.2, y: -12.75, z: 0 }, rotation: quaternion(1.1) } },
        ],
      },
    },
    {
      type: "syncbag/AudioChunk",
      message: { ...header(stamp, 40_000_000, "microphone_roof"), sample_rate: 48000, channels: 2, encoding: "S16LE", frames: 960, data: bytes(960 * 4, 3) },
    },
    {
      type: "syncbag/VehicleTelemetry",
      message: {
        ...header(stamp, 10_000_000, "base_link"),
        speed: 13.89,
        longitudinal_acceleration: -0.35,
        lateral_acceleration: 0.8,
        yaw_rate: 0.057,
        steering_angle: -0.021,
        throttle_position: 0.18,
        brake_position: 0,
        gear: 4,
        engine_rpm: 2150.5,
        turn_signal_left: true,
        turn_signal_right: false,
        horn: false,
      },
    },
    {
      type: "syncbag/SensorClockState",
      message: {
        ...header(stamp + 2, 0, "base_link"),
        sensor: "camera_front",
        topic: "/camera/front/image_raw/compressed",
        mode: "estimate",
        offset: -0.0123,
        drift: 2.1e-5,
        latency: 0.031,
        latency_source: "estimated",
        latency_uncertainty: 0.0015,
        confidence: 0.97,
        samples_used: 412,
        steps_detected: 1,
      },
    },
    { type: "syncbag/AlignedSample", message: sample("camera_front", "/camera/front/image_raw/compressed", 250_000, 2) },
    {
      type: "syncbag/AlignedFrame",
      message: {
        ...header(stamp + 3, 100_000_000, "base_link"),
        index: 8123n,
        reference_sensor: "lidar_top",
        samples: [sample("lidar_top", "/lidar/points", 0, 0), sample("camera_front", "/camera/front/image_raw/compressed", 250_000, 0), sample("microphone", "/audio", -1_000_000, 16 | 32)],
        max_abs_residual: 0.001,
        out_of_tolerance_count: 0,
      },
    },
    { type: "syncbag/Box2D", message: suggestion(1n, "car").boxes_2d[0]! },
    { type: "syncbag/LabelSuggestion", message: suggestion(17n, "pedestrian") },
    { type: "syncbag/LabelSuggestionArray", message: { ...header(stamp + 4, 0, "base_link"), suggestions: [suggestion(17n, "pedestrian"), suggestion(2n ** 63n + 5n, "car")] } },
  ];
}

const TYPED: Record<string, (n: number, random: () => number) => unknown> = {
  int8: (n, r) => Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128),
  uint8: (n, r) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256)),
  int16: (n, r) => Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768),
  uint16: (n, r) => Uint16Array.from({ length: n }, () => Math.floor(r() * 65536)),
  int32: (n, r) => Int32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32) - 2 ** 31),
  uint32: (n, r) => Uint32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32)),
  int64: (n, r) => BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 2 ** 53)) - 2n ** 52n),
  uint64: (n, r) => BigUint64Array.from({ length: n }, () => BigInt(Math.floor(r() * 2 ** 53)) * 1024n),
  float32: (n, r) => Float32Array.from({ length: n }, () => (r() - 0.5) * 1e6),
  float64: (n, r) => Float64Array.from({ length: n }, () => (r() - 0.5) * 1e12),
};

function scalar(type: string, random: () => number): unknown {
  switch (type) {
    case "bool":
      return random() < 0.5;
    case "string":
      return Array.from({ length: Math.floor(random() * 12) }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join("");
    case "time":
    case "duration":
      return { sec: Math.floor(random() * 2 ** 32) - 2 ** 31, nanosec: Math.floor(random() * 1e9) };
    default: {
      const make = TYPED[type];
      if (make === undefined) throw new Error(`no generator for ${type}`);
      const one = make(1, random) as ArrayLike<number | bigint>;
      return one[0];
    }
  }
}

/** A random message of `type` in decoded shape (seeded). */
export function randomMessage(catalogue: MessageCatalogue, type: string, random: () => number, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of catalogue.get(type).definitions) {
    if (field.isConstant === true) continue;
    out[field.name] = randomField(catalogue, field, random, depth);
  }
  return out;
}

function randomField(catalogue: MessageCatalogue, field: MessageDefinitionField, random: () => number, depth: number): unknown {
  if (field.isArray !== true) {
    if (field.isComplex === true) return randomMessage(catalogue, field.type, random, depth + 1);
    if (field.type === "string" && field.upperBound !== undefined) return (scalar("string", random) as string).slice(0, field.upperBound);
    return scalar(field.type, random);
  }
  const limit = field.arrayUpperBound ?? (depth > 2 ? 1 : 4);
  const count = field.arrayLength ?? Math.floor(random() * (limit + 1));
  if (field.isComplex === true) return Array.from({ length: count }, () => randomMessage(catalogue, field.type, random, depth + 1));
  const typed = TYPED[field.type];
  if (typed !== undefined) return typed(count, random);
  return Array.from({ length: count }, () => scalar(field.type, random));
}

/**
 * Encodes a decoded-shape message with @foxglove/cdr's CdrWriter in any plain encapsulation
 * (CDR_BE, CDR_LE, CDR2_*), element by element: an encoder independent of the codec under test.
 */
export function encodeWithKind(catalogue: MessageCatalogue, type: string, message: Record<string, unknown>, kind: EncapsulationKind): Uint8Array {
  const writer = new CdrWriter({ kind });
  writeStruct(catalogue, type, message, writer);
  return writer.data;
}

function writeStruct(catalogue: MessageCatalogue, type: string, message: Record<string, unknown>, writer: CdrWriter): void {
  const fields = catalogue.get(type).definitions.filter((f) => f.isConstant !== true);
  if (fields.length === 0) {
    writer.uint8(0);
    return;
  }
  for (const field of fields) {
    const value = message[field.name];
    if (field.isArray !== true) {
      writeValue(catalogue, field, value, writer);
      continue;
    }
    const items = Array.from(value as ArrayLike<unknown>);
    if (field.arrayLength === undefined) writer.sequenceLength(items.length);
    for (const item of items) writeValue(catalogue, field, item, writer);
  }
}

function writeValue(catalogue: MessageCatalogue, field: MessageDefinitionField, value: unknown, writer: CdrWriter): void {
  if (field.isComplex === true) return writeStruct(catalogue, field.type, value as Record<string, unknown>, writer);
  switch (field.type) {
    case "bool":
      writer.int8(value === true ? 1 : 0);
      return;
    case "string":
      writer.string(value as string);
      return;
    case "time":
    case "duration": {
      const t = value as { sec: number; nanosec: number };
      writer.int32(t.sec).uint32(t.nanosec);
      return;
    }
    case "int8":
    case "uint8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
    case "float32":
    case "float64":
      writer[field.type](typeof value === "boolean" ? Number(value) : (value as number));
      return;
    case "int64":
    case "uint64":
      writer[field.type](BigInt(value as bigint));
      return;
    default:
      throw new Error(`cannot write ${field.type}`);
  }
}

export { EncapsulationKind };
