/**
 * simulateDrive: a deterministic generator of one simulated drive. It yields every message in
 * receive (arrival) order as serialized CDR, and fills the ground truth as it goes; a 60 s drive of
 * the standard rig never sits in memory at once (only the few messages in flight do).
 *
 * How the merge stays streaming: each sensor produces captures in time order; the generator always
 * renders the sensor with the earliest next capture and parks its messages in a heap keyed by
 * receive time. A parked message is released once its receive time is before every sensor's next
 * capture time, since nothing captured later can arrive earlier (receive ≥ capture).
 */
import { cameraInfoTopic } from "../transport/names.js";
import { defaultCodec } from "../messages/codec.js";
import { fromNs, type RosTime } from "../messages/time.js";
import { LATCHED_QOS, SENSOR_DATA_QOS, type QosProfile } from "../transport/port.js";
import { AudioModel } from "./audio.js";
import { CameraModel, rpyMatrix } from "./camera.js";
import { SensorClock } from "./clockmodel.js";
import { LidarModel, POINT_FIELDS, POINT_STEP } from "./lidar.js";
import { Prng } from "./prng.js";
import type { CameraConfig, ClockConfig, Extrinsics, RigConfig } from "./rig.js";
import type { PoseSample, SensorModality, TruthFile, TruthMessages, TruthSensor } from "./truth.js";
import { World } from "./world.js";

/** The common clock's epoch for simulated drives: 2023-11-14T22:13:20Z, so stamps look real. */
export const DEFAULT_START_NS = 1_700_000_000_000_000_000n;

export interface SimMessage {
  topic: string;
  /** ROS type `pkg/Type`. */
  type: string;
  /** CDR bytes with the 4-byte encapsulation header. */
  data: Uint8Array;
  /** Arrival at the transport/recorder on the common clock (MCAP log_time). */
  receiveNs: bigint;
  /** When the driver published it (rosbag2's send_timestamp, MCAP publish_time). ≤ receiveNs. */
  sendNs: bigint;
  /** True capture time and the device stamp written in header.stamp. */
  captureNs: bigint;
  stampNs: bigint;
}

export interface SimTopic {
  topic: string;
  type: string;
  qos: QosProfile;
  frameId: string;
}

export interface SimulateDriveOptions {
  rig: RigConfig;
  seed: number;
  /** Defaults to the rig's durationS. */
  durationS?: number;
  /** Common-clock time of the drive start (ns). */
  startNs?: bigint;
  /** Drive name written into the truth file's `scenario`. */
  name?: string;
}

export interface SimDrive extends Iterable<SimMessage> {
  readonly rig: RigConfig;
  readonly seed: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly durationS: number;
  readonly world: World;
  readonly topics: readonly SimTopic[];
  /** Iterates the messages (once). */
  messages(): Generator<SimMessage, void, undefined>;
  /** The ground truth; complete once messages() has been iterated to the end. */
  truth(): TruthFile;
}

interface Produced {
  topic: string;
  type: string;
  data: Uint8Array;
  /** Extra delay after the capture's receive time (ns), e.g. CameraInfo right after its image. */
  afterNs?: bigint;
}

interface Source {
  name: string;
  modality: SensorModality;
  topic: string;
  type: string;
  frameId: string;
  rateHz: number;
  clock: SensorClock;
  /** Offset of the first capture after the drive start (ns). */
  phaseNs: bigint;
  periodS: number;
  /** Renders capture k; deliver=false means it will be dropped (render only what keeps state continuous). */
  render(tS: number, stamp: RosTime, deliver: boolean): Produced[];
  extraTopics: SimTopic[];
}

const codec = defaultCodec();
const header = (stamp: RosTime, frameId: string): { stamp: RosTime; frame_id: string } => ({ stamp, frame_id: frameId });
const IDENTITY9 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function quatFromRpy(roll: number, pitch: number, yaw: number): { x: number; y: number; z: number; w: number } {
  const [cr, sr, cp, sp, cy, sy] = [Math.cos(roll / 2), Math.sin(roll / 2), Math.cos(pitch / 2), Math.sin(pitch / 2), Math.cos(yaw / 2), Math.sin(yaw / 2)];
  return { x: sr * cp * cy - cr * sp * sy, y: cr * sp * cy + sr * cp * sy, z: cr * cp * sy - sr * sp * cy, w: cr * cp * cy + sr * sp * sy };
}

export { cameraInfoTopic };

export function opticalFrame(frameId: string): string {
  return `${frameId}_optical_frame`;
}

class HeapItem {
  constructor(
    readonly message: SimMessage,
    readonly order: number,
  ) {}
}

/** Minimal binary heap on (receiveNs, insertion order): deterministic ties. */
class ArrivalHeap {
  readonly #items: HeapItem[] = [];
  get size(): number {
    return this.#items.length;
  }
  peek(): HeapItem | undefined {
    return this.#items[0];
  }
  static #less(a: HeapItem, b: HeapItem): boolean {
    return a.message.receiveNs < b.message.receiveNs || (a.message.receiveNs === b.message.receiveNs && a.order < b.order);
  }
  push(item: HeapItem): void {
    const h = this.#items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!ArrivalHeap.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): HeapItem | undefined {
    const h = this.#items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && ArrivalHeap.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && ArrivalHeap.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export function simulateDrive(options: SimulateDriveOptions): SimDrive {
  const rig = options.rig;
  const seed = options.seed;
  const durationS = options.durationS ?? rig.durationS;
  const startNs = options.startNs ?? DEFAULT_START_NS;
  const endNs = startNs + BigInt(Math.round(durationS * 1e9));
  const world = new World({ rig, seed, durationS });
  const sources = buildSources(rig, world, seed, startNs);
  const topics: SimTopic[] = [{ topic: "/tf_static", type: "tf2_msgs/TFMessage", qos: LATCHED_QOS, frameId: "base_link" }];
  for (const s of sources) {
    topics.push({ topic: s.topic, type: s.type, qos: SENSOR_DATA_QOS, frameId: s.frameId });
    topics.push(...s.extraTopics);
  }
  const messagesTruth: Record<string, TruthMessages> = {};
  for (const t of topics) messagesTruth[t.topic] = { stampNs: [], captureNs: [], receiveNs: [] };
  let complete = false;
  let started = false;

  function* generate(): Generator<SimMessage, void, undefined> {
    if (started) throw new Error("simulateDrive: messages() can be iterated only once per drive");
    started = true;
    const heap = new ArrivalHeap();
    let order = 0;
    // /tf_static first: latched, stamped at the drive start.
    const tf: SimMessage = { topic: "/tf_static", type: "tf2_msgs/TFMessage", data: tfStatic(rig, startNs), captureNs: startNs, stampNs: startNs, sendNs: startNs, receiveNs: startNs + 1_000_000n };
    heap.push(new HeapItem(tf, order++));
    const next = sources.map((s) => ({ k: 0, ns: startNs + s.phaseNs }));
    const emit = (m: SimMessage): SimMessage => {
      const t = messagesTruth[m.topic]!;
      t.stampNs.push(m.stampNs.toString());
      t.captureNs.push(m.captureNs.toString());
      t.receiveNs.push(m.receiveNs.toString());
      return m;
    };
    for (;;) {
      let si = -1;
      for (let i = 0; i < sources.length; i++) {
        if (next[i]!.ns >= endNs) continue;
        if (si < 0 || next[i]!.ns < next[si]!.ns) si = i;
      }
      const frontier = si < 0 ? null : next[si]!.ns;
      while (heap.size > 0 && (frontier === null || heap.peek()!.message.receiveNs < frontier)) yield emit(heap.pop()!.message);
      if (si < 0) break;
      const src = sources[si]!;
      const cap = next[si]!;
      const clocked = src.clock.apply(cap.ns);
      const tS = Number(cap.ns - startNs) / 1e9;
      const produced = src.render(tS, fromNs(clocked.stampNs), !clocked.dropped);
      if (!clocked.dropped) {
        for (const p of produced) {
          const extra = p.afterNs ?? 0n;
          heap.push(new HeapItem({ topic: p.topic, type: p.type, data: p.data, captureNs: cap.ns, stampNs: clocked.stampNs, sendNs: clocked.sendNs + extra, receiveNs: clocked.receiveNs + extra }, order++));
        }
      }
      cap.k++;
      cap.ns = startNs + src.phaseNs + BigInt(Math.round(cap.k * src.periodS * 1e9));
    }
    complete = true;
  }

  const sensorsTruth: TruthSensor[] = sources.map((s) => ({ name: s.name, topic: s.topic, type: s.type, modality: s.modality, frameId: s.frameId, rateHz: s.rateHz, clock: s.clock.truth() }));
  const drive: SimDrive = {
    rig,
    seed,
    startNs,
    endNs,
    durationS,
    world,
    topics,
    messages: generate,
    [Symbol.iterator]: generate,
    truth(): TruthFile {
      if (!complete) throw new Error("simulateDrive: truth() is complete only after all messages were iterated");
      return buildTruth(drive, sensorsTruth, messagesTruth, options.name ?? `${rig.name}-${seed}`);
    },
  };
  return drive;
}

function buildTruth(drive: SimDrive, sensors: TruthSensor[], messages: Record<string, TruthMessages>, scenario: string): TruthFile {
  const { world, startNs, durationS, rig } = drive;
  const dt = 1 / rig.truthRateHz;
  // Tracks run a little past the end: a lidar sweep that starts before the end finishes after it.
  const coverS = durationS + (rig.lidar ? 1 / rig.lidar.rateHz : 0) + 0.2;
  const samples = Math.floor(coverS / dt + 1e-9) + 1;
  const tNs = (i: number): string => (startNs + BigInt(Math.round(i * dt * 1e9))).toString();
  const r = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;
  const ego: PoseSample[] = [];
  for (let i = 0; i < samples; i++) {
    const t = i * dt;
    const e = world.ego(t);
    ego.push({ tNs: tNs(i), x: r(e.x), y: r(e.y), z: 0, yaw: r(e.yaw, 6), vx: r(e.speed * Math.cos(e.yaw)), vy: r(e.speed * Math.sin(e.yaw)) });
  }
  const actors = world.actors.map((a) => {
    const track: PoseSample[] = [];
    for (let i = 0; i < samples; i++) {
      const t = i * dt;
      const b = world.actorBox(a, t);
      const b2 = world.actorBox(a, t + 0.01);
      track.push({ tNs: tNs(i), x: r(b.x), y: r(b.y), z: r(a.size.z / 2), yaw: r(b.yaw, 6), vx: r((b2.x - b.x) / 0.01), vy: r((b2.y - b.y) / 0.01) });
    }
    return { id: a.id, class: a.cls, size: { ...a.size }, track };
  });
  const toNs = (s: number): string => (startNs + BigInt(Math.round(s * 1e9))).toString();
  return {
    version: 1,
    seed: drive.seed,
    rig: rig.name,
    scenario,
    startNs: startNs.toString(),
    endNs: drive.endNs.toString(),
    sensors,
    messages,
    ego,
    actors,
    events: world.events
      .filter((e) => e.startS < durationS)
      .map((e) => ({ kind: e.kind, startNs: toNs(e.startS), endNs: toNs(Math.min(e.endS, durationS)), peak: e.peak === null ? null : r(e.peak) })),
  };
}

function transformStamped(stamp: RosTime, parent: string, child: string, e: Extrinsics): unknown {
  return { header: header(stamp, parent), child_frame_id: child, transform: { translation: { x: e.x, y: e.y, z: e.z }, rotation: quatFromRpy(e.roll, e.pitch, e.yaw) } };
}

function tfStatic(rig: RigConfig, startNs: bigint): Uint8Array {
  const stamp = fromNs(startNs);
  const transforms: unknown[] = [];
  if (rig.lidar) transforms.push(transformStamped(stamp, "base_link", rig.lidar.frameId, rig.lidar.extrinsics));
  for (const c of rig.cameras) {
    transforms.push(transformStamped(stamp, "base_link", c.frameId, c.extrinsics));
    // Optical frame: z forward, x right, y down (REP 103 camera convention).
    transforms.push(transformStamped(stamp, c.frameId, opticalFrame(c.frameId), { x: 0, y: 0, z: 0, roll: -Math.PI / 2, pitch: 0, yaw: -Math.PI / 2 }));
  }
  if (rig.imu) transforms.push(transformStamped(stamp, "base_link", rig.imu.frameId, rig.imu.extrinsics));
  if (rig.gnss) transforms.push(transformStamped(stamp, "base_link", rig.gnss.frameId, rig.gnss.extrinsics));
  if (rig.audio) transforms.push(transformStamped(stamp, "base_link", rig.audio.frameId, rig.audio.extrinsics));
  return codec.encode("tf2_msgs/TFMessage", { transforms });
}

function buildSources(rig: RigConfig, world: World, seed: number, startNs: bigint): Source[] {
  const sources: Source[] = [];
  const add = (name: string, modality: SensorModality, topic: string, type: string, frameId: string, rateHz: number, clockCfg: ClockConfig, render: Source["render"], extraTopics: SimTopic[] = []): void => {
    const periodS = 1 / rateHz;
    const phaseRng = Prng.stream(seed, `${name}/phase`);
    const phaseNs = BigInt(Math.round(phaseRng.float() * periodS * 1e9));
    sources.push({ name, modality, topic, type, frameId, rateHz, periodS, phaseNs, clock: new SensorClock(clockCfg, startNs, periodS, Prng.stream(seed, `${name}/clock`)), render, extraTopics });
  };

  const structure = world.structure;
  if (rig.lidar) {
    const cfg = rig.lidar;
    const model = new LidarModel(cfg);
    const rng = Prng.stream(seed, `${cfg.name}/content`);
    add(cfg.name, "lidar", cfg.topic, "sensor_msgs/PointCloud2", cfg.frameId, cfg.rateHz, cfg.clock, (t, stamp, deliver) => {
      if (!deliver) return [];
      const sweep = model.sweep(world, t, structure, rng);
      const data = codec.encode("sensor_msgs/PointCloud2", {
        header: header(stamp, cfg.frameId),
        height: 1,
        width: sweep.points,
        fields: POINT_FIELDS,
        is_bigendian: false,
        point_step: POINT_STEP,
        row_step: sweep.points * POINT_STEP,
        data: sweep.data,
        is_dense: true,
      });
      return [{ topic: cfg.topic, type: "sensor_msgs/PointCloud2", data }];
    });
  }
  for (const cam of rig.cameras) addCamera(cam);
  function addCamera(cfg: CameraConfig): void {
    const model = new CameraModel(cfg);
    const infoTopic = cameraInfoTopic(cfg.topic);
    const frame = opticalFrame(cfg.frameId);
    const k = model.k;
    const type = cfg.encoding === "jpeg" ? "sensor_msgs/CompressedImage" : "sensor_msgs/Image";
    add(
      cfg.name,
      "camera",
      cfg.topic,
      type,
      frame,
      cfg.rateHz,
      cfg.clock,
      (t, stamp, deliver) => {
        if (!deliver) return [];
        let data: Uint8Array;
        if (cfg.encoding === "jpeg") {
          const img = model.render(world, t, structure);
          data = codec.encode(type, { header: header(stamp, frame), format: "jpeg", data: img.data });
        } else {
          // Raw frames are large: encode the fields before `data` with the codec, then render the
          // pixels straight into the message buffer (no 6 MB copy per frame). `data` is the last field.
          const bytes = k.width * k.height * 3;
          const prefix = codec.encode(type, { header: header(stamp, frame), height: k.height, width: k.width, encoding: "rgb8", is_bigendian: 0, step: k.width * 3, data: new Uint8Array(0) });
          data = new Uint8Array(prefix.length + bytes);
          data.set(prefix);
          new DataView(data.buffer, data.byteOffset).setUint32(prefix.length - 4, bytes, true);
          model.render(world, t, structure, data.subarray(prefix.length));
        }
        const info = codec.encode("sensor_msgs/CameraInfo", {
          header: header(stamp, frame),
          height: k.height,
          width: k.width,
          distortion_model: "plumb_bob",
          d: [0, 0, 0, 0, 0],
          k: [k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1],
          r: IDENTITY9,
          p: [k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1, 0],
          binning_x: 0,
          binning_y: 0,
          roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
        });
        return [
          { topic: cfg.topic, type, data },
          { topic: infoTopic, type: "sensor_msgs/CameraInfo", data: info, afterNs: 100_000n },
        ];
      },
      [{ topic: infoTopic, type: "sensor_msgs/CameraInfo", qos: SENSOR_DATA_QOS, frameId: frame }],
    );
  }
  if (rig.audio) {
    const cfg = rig.audio;
    const model = new AudioModel(cfg, rig.vehicle);
    const rng = Prng.stream(seed, `${cfg.name}/content`);
    const rate = cfg.sampleRate / model.frames;
    add(cfg.name, "audio", cfg.topic, "syncbag/AudioChunk", cfg.frameId, rate, cfg.clock, (t, stamp, deliver) => {
      // Synthesised even when dropped: the microphone kept recording.
      const pcm = model.chunk(world, t, rng);
      if (!deliver) return [];
      const data = codec.encode("syncbag/AudioChunk", { header: header(stamp, cfg.frameId), sample_rate: cfg.sampleRate, channels: cfg.channels, encoding: "S16LE", frames: model.frames, data: pcm });
      return [{ topic: cfg.topic, type: "syncbag/AudioChunk", data }];
    });
  }
  if (rig.telemetry) {
    const cfg = rig.telemetry;
    const rng = Prng.stream(seed, `${cfg.name}/content`);
    add(cfg.name, "telemetry", cfg.topic, "syncbag/VehicleTelemetry", cfg.frameId, cfg.rateHz, cfg.clock, (t, stamp, deliver) => {
      const e = world.ego(t);
      const active = world.activeEvents(t);
      const laneChange = active.find((a) => a.kind === "lane_change" || a.kind === "sharp_turn");
      const left = laneChange !== undefined && e.yawRate > 0.005;
      const right = laneChange !== undefined && e.yawRate < -0.005;
      const noise = (s: number): number => s * rng.normal();
      const msg = {
        header: header(stamp, cfg.frameId),
        speed: Math.max(0, e.speed + noise(0.02)),
        longitudinal_acceleration: e.accel + noise(0.05),
        lateral_acceleration: e.latAccel + noise(0.05),
        yaw_rate: e.yawRate + noise(0.002),
        steering_angle: e.steering,
        throttle_position: e.throttle,
        brake_position: e.brake,
        gear: e.gear,
        engine_rpm: Math.round(e.rpm * 4) / 4,
        turn_signal_left: left,
        turn_signal_right: right,
        horn: active.some((a) => a.kind === "horn"),
      };
      if (!deliver) return [];
      return [{ topic: cfg.topic, type: "syncbag/VehicleTelemetry", data: codec.encode("syncbag/VehicleTelemetry", msg) }];
    });
  }
  if (rig.imu) {
    const cfg = rig.imu;
    const rng = Prng.stream(seed, `${cfg.name}/content`);
    add(cfg.name, "imu", cfg.topic, "sensor_msgs/Imu", cfg.frameId, cfg.rateHz, cfg.clock, (t, stamp, deliver) => {
      const e = world.ego(t);
      const an = cfg.accelNoiseStd;
      const gn = cfg.gyroNoiseStd;
      const msg = {
        header: header(stamp, cfg.frameId),
        orientation: quatFromRpy(0, 0, e.yaw),
        orientation_covariance: [1e-4, 0, 0, 0, 1e-4, 0, 0, 0, 1e-3],
        angular_velocity: { x: gn * rng.normal(), y: gn * rng.normal(), z: e.yawRate + gn * rng.normal() },
        angular_velocity_covariance: [gn * gn, 0, 0, 0, gn * gn, 0, 0, 0, gn * gn],
        linear_acceleration: { x: e.accel + an * rng.normal(), y: e.latAccel + an * rng.normal(), z: 9.80665 + an * rng.normal() },
        linear_acceleration_covariance: [an * an, 0, 0, 0, an * an, 0, 0, 0, an * an],
      };
      if (!deliver) return [];
      return [{ topic: cfg.topic, type: "sensor_msgs/Imu", data: codec.encode("sensor_msgs/Imu", msg) }];
    });
  }
  if (rig.gnss) {
    const cfg = rig.gnss;
    const rng = Prng.stream(seed, `${cfg.name}/content`);
    const h = (cfg.origin.headingDeg * Math.PI) / 180;
    const R = 6378137;
    add(cfg.name, "gnss", cfg.topic, "sensor_msgs/NavSatFix", cfg.frameId, cfg.rateHz, cfg.clock, (t, stamp, deliver) => {
      const p = world.egoPose(t);
      const east = Math.cos(h) * p.x - Math.sin(h) * p.y + cfg.horizontalStd * rng.normal();
      const north = Math.sin(h) * p.x + Math.cos(h) * p.y + cfg.horizontalStd * rng.normal();
      const up = 1.5 * cfg.horizontalStd * rng.normal();
      const lat0 = (cfg.origin.lat * Math.PI) / 180;
      const v2 = cfg.horizontalStd ** 2;
      const msg = {
        header: header(stamp, cfg.frameId),
        status: { status: 0, service: 1 },
        latitude: cfg.origin.lat + ((north / R) * 180) / Math.PI,
        longitude: cfg.origin.lon + ((east / (R * Math.cos(lat0))) * 180) / Math.PI,
        altitude: cfg.origin.alt + up,
        position_covariance: [v2, 0, 0, 0, v2, 0, 0, 0, 2.25 * v2],
        position_covariance_type: 2,
      };
      if (!deliver) return [];
      return [{ topic: cfg.topic, type: "sensor_msgs/NavSatFix", data: codec.encode("sensor_msgs/NavSatFix", msg) }];
    });
  }
  if (rig.odometry) {
    const cfg = rig.odometry;
    add(cfg.name, "odometry", cfg.topic, "nav_msgs/Odometry", cfg.frameId, cfg.rateHz, cfg.clock, (t, stamp, deliver) => {
      if (!deliver) return [];
      const e = world.ego(t);
      const cov = new Array<number>(36).fill(0);
      for (let i = 0; i < 6; i++) cov[i * 7] = i < 3 ? 0.01 : 0.001;
      const msg = {
        header: header(stamp, cfg.frameId),
        child_frame_id: "base_link",
        pose: { pose: { position: { x: e.x, y: e.y, z: 0 }, orientation: quatFromRpy(0, 0, e.yaw) }, covariance: cov },
        twist: { twist: { linear: { x: e.speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: e.yawRate } }, covariance: cov },
      };
      return [{ topic: cfg.topic, type: "nav_msgs/Odometry", data: codec.encode("nav_msgs/Odometry", msg) }];
    });
  }
  return sources;
}

/** base_link → sensor rotation as a row-major 3×3 (for consumers that want the extrinsics as matrices). */
export function extrinsicsMatrix(e: Extrinsics): number[] {
  return rpyMatrix(e.roll, e.pitch, e.yaw);
}
