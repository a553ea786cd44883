/**
 * SuggestionStage: the one object the pipeline calls (it satisfies the pipeline's SuggestionPort).
 *
 *   const stage = await SuggestionStage.create({ config });   // loads plugin modules
 *   pipeline: stage.onMessage(raw, correctedNs) for every message, stage.onFrame(frame) for every
 *   aligned frame, stage.finish() at the end — each returns OutboundMessage[] to record/publish.
 *
 * onMessage keeps the state the frame suggesters need (/tf_static, CameraInfo, ego motion from
 * odometry or telemetry) and runs the streaming event detectors (audio, telemetry); onFrame runs
 * the lidar proposer and tracker on the frame's sweep and projects the tracks into each camera of
 * the frame at that camera's aligned time. A malformed message is counted and skipped.
 */
import type { AlignedFrameData } from "../align/types.js";
import { defaultCodec, type MessageCodec } from "../messages/codec.js";
import type { OutboundMessage } from "../messages/outbound.js";
import { diffSeconds, type RosTime } from "../messages/time.js";
import type { RawMessage } from "../transport/port.js";
import { AudioEventDetector, pcmToMono } from "./audio.js";
import { calibrated } from "./calibrate.js";
import { cameraView, intrinsicsFromCameraInfo, projectBoxes, StaticTransforms, type CameraIntrinsics, type MovingBox } from "./camera.js";
import { parseSuggestConfig, type SuggestConfig } from "./config.js";
import { LidarProposer, mountFromTransform, pointCloudView, type LidarMount, type Proposal } from "./lidar.js";
import { entityId, eventOutputs, frameOutputs, outputTopics, sceneOutput, type OutputTopics } from "./output.js";
import { loadSuggester, type Suggester, type SuggesterContext } from "./plugin.js";
import { TelemetryEventDetector } from "./telemetry.js";
import { Tracker, type SweepVisibility } from "./tracker.js";
import type { EventSuggestion, ObjectSuggestion, Suggestion } from "./types.js";

export interface SuggestionStageOptions {
  /** Raw configuration, validated with SuggestConfigSchema. */
  config?: unknown;
  /** Suggesters in addition to the plugins the configuration names (already built). */
  suggesters?: Suggester[];
  /**
   * The node clock, when it runs by itself (system or ROS time): a derived output is logged at
   * max(now(), the receive time of the newest input it derives from) — when it was produced.
   * Omit it where time is advanced by the data (a simulated clock set by the simulator, offline
   * conversion): outputs are then logged at that receive time, as if produced without delay.
   */
  now?: () => bigint;
  log?: (line: string) => void;
  /** Called with every suggestion as it is emitted (eval, export, tests). */
  onSuggestions?: (suggestions: readonly Suggestion[], frame: AlignedFrameData | null) => void;
}

export interface SuggestionCounters {
  frames: number;
  objects: number;
  events: number;
  malformed: number;
  pluginErrors: number;
  /** Wall-clock ms spent in onFrame, per frame (last 1000). */
  frameMs: number[];
}

interface EgoSample {
  tNs: bigint;
  x: number;
  y: number;
  yaw: number;
  speed: number;
  yawRate: number;
}

const POINTCLOUD2 = "sensor_msgs/PointCloud2";
const IMAGE_TYPES = new Set(["sensor_msgs/Image", "sensor_msgs/CompressedImage"]);

export class SuggestionStage {
  readonly config: SuggestConfig;
  readonly topics: OutputTopics;
  readonly counters: SuggestionCounters = { frames: 0, objects: 0, events: 0, malformed: 0, pluginErrors: 0, frameMs: [] };
  readonly #codec: MessageCodec = defaultCodec();
  readonly #proposer: LidarProposer;
  readonly #tracker: Tracker;
  readonly #audio: AudioEventDetector;
  readonly #telemetry: TelemetryEventDetector;
  readonly #tf = new StaticTransforms();
  readonly #intrinsics = new Map<string, CameraIntrinsics>();
  readonly #suggesters: Suggester[];
  readonly #ctx: SuggesterContext;
  readonly #now: (() => bigint) | undefined;
  readonly #log: (line: string) => void;
  readonly #onSuggestions: SuggestionStageOptions["onSuggestions"];
  /** Ego motion: odometry poses if any arrive, otherwise telemetry dead reckoning. */
  #ego: EgoSample[] = [];
  /** Speed and yaw rate from telemetry while odometry gives the poses. */
  #motion: { tNs: bigint; speed: number; yawRate: number }[] = [];
  #odometry = false;
  #nextPluginEventId = 1_000_000;
  #lidarTopic: string | null = null;
  /** Objects of sweeps seen in onMessage, until their frame arrives (weak: a dropped frame leaks nothing). */
  readonly #sweeps = new WeakMap<Uint8Array, ObjectSuggestion[]>();
  /** Newest receive time of any input seen: nothing derived can be produced before it. */
  #inputNs = 0n;
  /** Last log time per output topic: each topic is written in time order. */
  readonly #lastLog = new Map<string, bigint>();
  /** Entity ids of the last SceneUpdate, to delete tracks that ended. */
  #sceneIds = new Set<string>();
  /** Sweeps waiting for ego motion covering their time (see SuggestConfig.egoWaitS), oldest first. */
  #pendingSweeps: { raw: RawMessage; correctedNs: bigint }[] = [];
  /** Newest corrected time of any input: a sweep older than it by egoWaitS waits no longer. */
  #newestNs = 0n;
  /**
   * Newest time ego motion is known to: an odometry pose, or telemetry (speed and yaw rate) that
   * carries the last pose forward by dead reckoning over the short gap to it.
   */
  #egoKnownNs: bigint | undefined;
  /** Receive time of the input onMessage is handling (or handled last). */
  #receivingNs = 0n;

  constructor(options: SuggestionStageOptions = {}) {
    this.config = parseSuggestConfig(options.config ?? {});
    this.topics = outputTopics(this.config.nodeBase);
    this.#proposer = new LidarProposer(this.config.lidar);
    this.#tracker = new Tracker(this.config.tracker);
    this.#audio = new AudioEventDetector(this.config.audio);
    this.#telemetry = new TelemetryEventDetector(this.config.telemetry);
    this.#suggesters = [...(options.suggesters ?? [])];
    this.#now = options.now;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#onSuggestions = options.onSuggestions;
    this.#ctx = { codec: this.#codec, boxFrameId: this.config.boxFrameId, options: {}, log: this.#log };
  }

  /** Builds the stage and loads the plugin modules the configuration names. */
  static async create(options: SuggestionStageOptions = {}): Promise<SuggestionStage> {
    const config = parseSuggestConfig(options.config ?? {});
    const plugins: Suggester[] = [];
    for (const p of config.plugins) plugins.push(await loadSuggester(p.module, p.options));
    return new SuggestionStage({ ...options, config, suggesters: [...plugins, ...(options.suggesters ?? [])] });
  }

  onMessage(raw: RawMessage, correctedNs: bigint): OutboundMessage[] {
    if (raw.receiveTime > this.#inputNs) this.#inputNs = raw.receiveTime;
    if (correctedNs > this.#newestNs) this.#newestNs = correctedNs;
    this.#receivingNs = raw.receiveTime;
    const out = this.#onInput(raw, correctedNs);
    return this.#pendingSweeps.length > 0 ? [...this.#releaseSweeps(false), ...out] : out;
  }

  #onInput(raw: RawMessage, correctedNs: bigint): OutboundMessage[] {
    const events: Suggestion[] = [];
    try {
      switch (raw.type) {
        case "tf2_msgs/TFMessage":
          if (raw.topic === "/tf_static") this.#tf.add(this.#codec.decode(raw.type, raw.data));
          break;
        case "sensor_msgs/CameraInfo": {
          const info = this.#codec.decode<Parameters<typeof intrinsicsFromCameraInfo>[0]>(raw.type, raw.data);
          const k = intrinsicsFromCameraInfo(info);
          if (k !== null) this.#intrinsics.set(raw.topic, k);
          break;
        }
        case "nav_msgs/Odometry":
          this.#onOdometry(raw, correctedNs);
          break;
        case "syncbag/VehicleTelemetry":
          events.push(...this.#onTelemetry(raw, correctedNs));
          break;
        case POINTCLOUD2:
          if (this.config.enable.lidar) {
            if (this.#lidarTopic === null) this.#lidarTopic = raw.topic;
            if (raw.topic === this.#lidarTopic) this.#pendingSweeps.push({ raw, correctedNs });
          }
          return [];
        case "syncbag/AudioChunk":
          if (this.config.enable.audio) events.push(...this.#onAudio(raw, correctedNs));
          break;
      }
    } catch {
      this.counters.malformed++;
    }
    for (const s of this.#suggesters) {
      if (s.onMessage === undefined) continue;
      events.push(...this.#plugin(s, () => s.onMessage!(raw, correctedNs, this.#ctx)));
    }
    return this.#emitEvents(events);
  }

  onFrame(frame: AlignedFrameData): OutboundMessage[] {
    // A frame is complete: its sweep (and any older one) waits no longer for ego motion.
    const sweeps = this.config.enable.lidar ? this.#releaseSweeps(true, this.#frameSweep(frame)?.messages[0]!.data) : [];
    const started = performance.now();
    this.counters.frames++;
    const objects: ObjectSuggestion[] = [];
    const extra: Suggestion[] = [];
    if (this.config.enable.lidar) {
      try {
        objects.push(...this.#frameObjects(frame));
      } catch {
        this.counters.malformed++;
      }
    }
    for (const s of this.#suggesters) {
      if (s.onFrame === undefined) continue;
      for (const sug of this.#plugin(s, () => s.onFrame!(frame, this.#ctx))) (sug.kind === "object" ? objects : extra).push(sug as ObjectSuggestion);
    }
    // Each camera image of the frame is annotated under its own header.stamp; a camera whose image
    // is missing from the frame has nothing to annotate.
    const images = frame.samples.filter((s) => IMAGE_TYPES.has(s.type) && s.messages.length > 0).map((s) => ({ camera: s.sensor, stampNs: s.stampNs, correctedNs: s.correctedNs }));
    // Produced once the frame is complete: after every sample it holds, and after the input that completed it.
    const after = frame.samples.reduce((t, s) => (s.messages.length > 0 && s.receiveNs > t ? s.receiveNs : t), this.#inputNs);
    const out = frameOutputs(this.topics, frame.referenceNs, (topic) => this.#logTime(topic, after), this.config.boxFrameId, objects, images);
    this.counters.objects += objects.length;
    this.#onSuggestions?.(objects, frame);
    out.push(...this.#emitEvents(extra));
    this.counters.frameMs.push(performance.now() - started);
    if (this.counters.frameMs.length > 1000) this.counters.frameMs.shift();
    return [...sweeps, ...out];
  }

  finish(): OutboundMessage[] {
    const sweeps = this.#releaseSweeps(true);
    const events: Suggestion[] = [...this.#audio.finish(), ...this.#telemetry.finish()];
    for (const s of this.#suggesters) if (s.finish !== undefined) events.push(...this.#plugin(s, () => s.finish!(this.#ctx)));
    return [...sweeps, ...this.#emitEvents(events)];
  }

  /**
   * Processes the waiting sweeps, oldest first, that ego motion now covers (a pose at or after the
   * sweep's time, so it is interpolated, not extrapolated), that have waited egoWaitS of later
   * inputs, or that have no ego source to wait for; `force` releases every sweep, or those up to
   * and including the one carrying `until` (a frame's sweep).
   */
  #releaseSweeps(force: boolean, until?: Uint8Array): OutboundMessage[] {
    const out: OutboundMessage[] = [];
    const waitNs = BigInt(Math.round(this.config.egoWaitS * 1e9));
    let forced = force && (until === undefined || this.#pendingSweeps.some((p) => p.raw.data === until));
    while (this.#pendingSweeps.length > 0) {
      const { raw, correctedNs } = this.#pendingSweeps[0]!;
      const egoNs = this.#egoKnownNs;
      const covered = egoNs !== undefined && egoNs >= correctedNs;
      const ready = forced || covered || egoNs === undefined || this.#newestNs - correctedNs >= waitNs;
      if (!ready) break;
      this.#pendingSweeps.shift();
      if (raw.data === until) forced = false;
      // Produced while handling the input that released it, and never before the sweep itself.
      const producedNs = this.#receivingNs > raw.receiveTime ? this.#receivingNs : raw.receiveTime;
      out.push(...this.#onSweep(raw, correctedNs, producedNs));
    }
    return out;
  }

  #plugin(s: Suggester, call: () => Suggestion[]): Suggestion[] {
    try {
      const result = call();
      return result.map((sug) => (sug.kind === "event" && sug.trackId === 0 ? { ...sug, trackId: this.#nextPluginEventId++ } : sug));
    } catch (error) {
      this.counters.pluginErrors++;
      if (this.counters.pluginErrors <= 5) this.#log(`syncbag suggest: plugin ${s.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
  }

  #emitEvents(events: Suggestion[]): OutboundMessage[] {
    if (events.length === 0) return [];
    const evs = events.filter((e): e is EventSuggestion => e.kind === "event");
    this.counters.events += evs.length;
    this.#onSuggestions?.(evs, null);
    return eventOutputs(this.topics, (topic) => this.#logTime(topic, this.#inputNs), evs);
  }

  /**
   * Log time of an output derived from inputs received up to `inputNs`: when it was produced on the
   * node clock (if the node has one of its own), never before those inputs, and in time order per topic.
   */
  #logTime(topic: string, inputNs: bigint): bigint {
    let t = inputNs;
    const now = this.#now?.();
    if (now !== undefined && now > t) t = now;
    const last = this.#lastLog.get(topic);
    if (last !== undefined && last > t) t = last;
    this.#lastLog.set(topic, t);
    return t;
  }

  #onOdometry(raw: RawMessage, t: bigint): void {
    const m = this.#codec.decode<{ pose: { pose: { position: { x: number; y: number }; orientation: { x: number; y: number; z: number; w: number } } }; twist: { twist: { linear: { x: number }; angular: { z: number } } } }>(raw.type, raw.data);
    const q = m.pose.pose.orientation;
    const yaw = Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
    if (!this.#odometry) this.#ego = [];
    this.#odometry = true;
    this.#pushEgo({ tNs: t, x: m.pose.pose.position.x, y: m.pose.pose.position.y, yaw, speed: m.twist.twist.linear.x, yawRate: m.twist.twist.angular.z });
  }

  #onTelemetry(raw: RawMessage, t: bigint): EventSuggestion[] {
    const m = this.#codec.decode<{ speed: number; longitudinal_acceleration: number; lateral_acceleration: number; yaw_rate: number }>(raw.type, raw.data);
    // The speed and yaw rate at telemetry's own times, kept whether or not odometry has been heard
    // yet (a series, not an edit of the last pose): once odometry gives the pose, every sweep reads
    // its speed and yaw rate from the same samples, whichever topic the node heard first.
    const lastMotion = this.#motion[this.#motion.length - 1];
    if (lastMotion === undefined || t > lastMotion.tNs) {
      this.#motion.push({ tNs: t, speed: m.speed, yawRate: m.yaw_rate });
      if (this.#motion.length > 2000) this.#motion.splice(0, 1000);
    }
    if (!this.#odometry) {
      const last = this.#ego[this.#ego.length - 1];
      if (last === undefined) this.#pushEgo({ tNs: t, x: 0, y: 0, yaw: 0, speed: m.speed, yawRate: m.yaw_rate });
      else if (t > last.tNs) {
        const dt = diffSeconds(t, last.tNs);
        const yaw = last.yaw + m.yaw_rate * dt;
        const mid = (last.yaw + yaw) / 2;
        this.#pushEgo({ tNs: t, x: last.x + m.speed * dt * Math.cos(mid), y: last.y + m.speed * dt * Math.sin(mid), yaw, speed: m.speed, yawRate: m.yaw_rate });
      }
    } else if (this.#ego.length > 0) this.#egoSeen(t);
    if (!this.config.enable.telemetry) return [];
    return this.#telemetry.push({ tNs: t, speed: m.speed, ax: m.longitudinal_acceleration, ay: m.lateral_acceleration, yawRate: m.yaw_rate });
  }

  #egoSeen(t: bigint): void {
    if (this.#egoKnownNs === undefined || t > this.#egoKnownNs) this.#egoKnownNs = t;
  }

  #onAudio(raw: RawMessage, t: bigint): EventSuggestion[] {
    const m = this.#codec.decode<{ sample_rate: number; channels: number; encoding: string; frames: number; data: Uint8Array }>(raw.type, raw.data);
    const mono = pcmToMono(m.data, m.encoding, m.channels, m.frames);
    if (mono === null) {
      this.counters.malformed++;
      return [];
    }
    return this.#audio.push(mono, m.sample_rate, t);
  }

  #pushEgo(s: EgoSample): void {
    this.#egoSeen(s.tNs);
    const last = this.#ego[this.#ego.length - 1];
    if (last !== undefined && s.tNs <= last.tNs) return;
    this.#ego.push(s);
    if (this.#ego.length > 2000) this.#ego.splice(0, 1000);
  }

  /** Ego pose at t, with the speed and yaw rate telemetry measured at t where it has. */
  #egoAt(t: bigint): EgoSample {
    const pose = this.#poseAt(t);
    const m = this.#motion;
    if (!this.#odometry || m.length === 0) return pose;
    let i = m.length - 1;
    while (i > 0 && m[i]!.tNs > t) i--;
    const a = m[i]!;
    const b = m[i + 1];
    if (b === undefined || t < a.tNs) return { ...pose, speed: a.speed, yawRate: a.yawRate };
    const u = diffSeconds(t, a.tNs) / diffSeconds(b.tNs, a.tNs);
    return { ...pose, speed: a.speed + u * (b.speed - a.speed), yawRate: a.yawRate + u * (b.yawRate - a.yawRate) };
  }

  /** Ego pose at t (interpolated, or extrapolated with the last speed and yaw rate). */
  #poseAt(t: bigint): EgoSample {
    const e = this.#ego;
    if (e.length === 0) return { tNs: t, x: 0, y: 0, yaw: 0, speed: 0, yawRate: 0 };
    let i = e.length - 1;
    while (i > 0 && e[i]!.tNs > t) i--;
    const a = e[i]!;
    const b = e[i + 1];
    if (b !== undefined && t >= a.tNs) {
      const u = diffSeconds(t, a.tNs) / diffSeconds(b.tNs, a.tNs);
      let dyaw = b.yaw - a.yaw;
      dyaw -= 2 * Math.PI * Math.round(dyaw / (2 * Math.PI));
      return { tNs: t, x: a.x + u * (b.x - a.x), y: a.y + u * (b.y - a.y), yaw: a.yaw + u * dyaw, speed: a.speed + u * (b.speed - a.speed), yawRate: a.yawRate + u * (b.yawRate - a.yawRate) };
    }
    const dt = diffSeconds(t, a.tNs);
    const yaw = a.yaw + a.yawRate * dt;
    return { tNs: t, x: a.x + a.speed * dt * Math.cos(a.yaw), y: a.y + a.speed * dt * Math.sin(a.yaw), yaw, speed: a.speed, yawRate: a.yawRate };
  }

  /**
   * A sweep is processed as soon as ego motion covers it (3D boxes out on ~/suggestions/scene
   * without waiting for the aligner to collect the cameras); its frame later adds the 2D boxes.
   */
  #onSweep(raw: RawMessage, correctedNs: bigint, producedNs: bigint): OutboundMessage[] {
    let objects: ObjectSuggestion[];
    try {
      objects = this.#lidar(raw.data, correctedNs);
    } catch {
      this.counters.malformed++;
      return [];
    }
    this.#sweeps.set(raw.data, objects);
    // Logged when this sweep's processing ends (not after later sweeps queued behind it): a viewer
    // shows the boxes with the sweep they describe.
    const out = sceneOutput(this.topics, correctedNs, this.#logTime(this.topics.scene, producedNs), this.config.boxFrameId, objects, this.#sceneIds);
    this.#sceneIds = new Set(objects.map((o) => entityId(o.trackId)));
    return [out];
  }

  /** The frame's sweep: the reference sensor's cloud, else any cloud it holds. */
  #frameSweep(frame: AlignedFrameData): AlignedFrameData["samples"][number] | undefined {
    return frame.samples.find((s) => s.type === POINTCLOUD2 && s.messages.length > 0 && s.sensor === frame.referenceSensor) ?? frame.samples.find((s) => s.type === POINTCLOUD2 && s.messages.length > 0);
  }

  #frameObjects(frame: AlignedFrameData): ObjectSuggestion[] {
    const sample = this.#frameSweep(frame);
    if (sample === undefined) return [];
    const data = sample.messages[0]!.data;
    let objects = this.#sweeps.get(data);
    // A frame whose sweep never came through onMessage (e.g. a test feeding frames only).
    objects ??= this.#lidar(data, sample.correctedNs);
    this.#sweeps.delete(data);
    const copies = objects.map((o) => ({ ...o, boxes2d: [], timeNs: frame.referenceNs }));
    if (this.config.enable.camera) this.#cameras(frame, copies, sample.correctedNs);
    return copies;
  }

  #lidar(data: Uint8Array, tLidar: bigint): ObjectSuggestion[] {
    const cloud = this.#codec.decode<Parameters<typeof pointCloudView>[0] & { header: { frame_id: string; stamp: RosTime } }>(POINTCLOUD2, data);
    const view = pointCloudView(cloud);
    if (view === null) {
      this.counters.malformed++;
      return [];
    }
    const mount = this.#mount(cloud.header.frame_id);
    const ego = this.#egoAt(tLidar);
    const proposals = this.#proposer.propose(view, mount, { speed: ego.speed, yawRate: ego.yawRate });
    // Track in odom (ego motion removed), report in base_link at the sweep time.
    const c = Math.cos(ego.yaw), s = Math.sin(ego.yaw);
    const toOdom = (b: Proposal["box"]): Proposal["box"] => ({ ...b, x: ego.x + c * b.x - s * b.y, y: ego.y + s * b.x + c * b.y, yaw: b.yaw + ego.yaw });
    const inOdom: Proposal[] = proposals.map((p) => ({ ...p, box: toOdom(p.box), visible: toOdom(p.visible) }));
    const sensorOdom = { x: ego.x + c * mount.x - s * mount.y, y: ego.y + s * mount.x + c * mount.y };
    // Odom → base_link at the sweep time.
    const toBase = (x: number, y: number): [number, number] => [c * (x - ego.x) + s * (y - ego.y), -s * (x - ego.x) + c * (y - ego.y)];
    const sweepView: SweepVisibility = {
      hidden: (x, y, reach) => this.#proposer.hidden(...toBase(x, y), reach, mount),
      seen: (x, y) => this.#proposer.seen(...toBase(x, y), mount),
    };
    const tracks = this.config.publishTentative ? (this.#tracker.update(Number(tLidar) / 1e9, inOdom, sensorOdom, sweepView), this.#tracker.tracks.filter((t) => t.misses === 0)) : this.#tracker.update(Number(tLidar) / 1e9, inOdom, sensorOdom, sweepView);
    const objects: ObjectSuggestion[] = tracks.map((t) => {
      const [x, y] = toBase(t.box.x, t.box.y);
      return {
        kind: "object", trackId: t.id, category: t.category, confidence: calibrated(t.category, t.confidence), source: "lidar", frameId: this.config.boxFrameId,
        box: { ...t.box, x, y, yaw: normalize(t.box.yaw - ego.yaw) },
        velocity: { x: c * t.vx + s * t.vy, y: -s * t.vx + c * t.vy, z: 0 }, boxes2d: [], timeNs: tLidar,
      };
    });
    return objects;
  }

  #cameras(frame: AlignedFrameData, objects: ObjectSuggestion[], tLidar: bigint): void {
    if (objects.length === 0) return;
    const moving: MovingBox[] = objects.map((o) => ({ box: o.box, vx: o.velocity.x, vy: o.velocity.y }));
    for (const sample of frame.samples) {
      if (!IMAGE_TYPES.has(sample.type) || sample.messages.length === 0) continue;
      const k = this.#intrinsics.get(cameraInfoTopic(sample.topic));
      if (k === undefined) continue;
      const header = this.#codec.decode<{ header: { frame_id: string } }>(sample.type, sample.messages[0]!.data).header;
      const view = cameraView(sample.sensor, header.frame_id, k, this.#tf);
      if (view === null) continue;
      const ego = this.#egoAt(tLidar);
      // Image captured at the camera's aligned time; the ego moved since the sweep started.
      const dt = diffSeconds(sample.correctedNs, tLidar);
      for (const p of projectBoxes(moving, view, dt, { speed: ego.speed, yawRate: ego.yawRate }, this.config.camera)) objects[p.index]!.boxes2d.push(p.box);
    }
  }

  /** The projection of a camera as the stage knows it (for evaluation against projected truth). */
  cameraView(sensor: string, imageTopic: string, frameId: string): ReturnType<typeof cameraView> {
    const k = this.#intrinsics.get(cameraInfoTopic(imageTopic));
    return k === undefined ? null : cameraView(sensor, frameId, k, this.#tf);
  }

  /** The lidar mounting from /tf_static (identity when unknown). */
  lidarMount(frameId: string): LidarMount {
    return this.#mount(frameId);
  }

  #mount(frameId: string): LidarMount {
    const t = this.#tf.lookup("base_link", frameId);
    if (t === undefined) return { x: 0, y: 0, z: 0, yaw: 0 };
    return mountFromTransform(t);
  }
}

function normalize(a: number): number {
  return a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
}

/** image_transport: `<camera>/image_raw[/compressed]` → `<camera>/camera_info`. */
export function cameraInfoTopic(imageTopic: string): string {
  const parts = imageTopic.split("/");
  if (parts[parts.length - 1] === "compressed") parts.pop();
  parts.pop();
  return `${parts.join("/")}/camera_info`;
}

