/**
 * Runs a simulated drive through the real alignment stage and the suggestion stage (as the
 * node's pipeline does) and collects what evaluateSuggestions needs: per frame the suggested
 * objects, the truth boxes' visibility (sweep returns inside each box) and their projections.
 */
import { AlignmentStage } from "../../src/align/stage.js";
import type { AlignedFrameData } from "../../src/align/types.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig, type RigConfig } from "../../src/sim/rig.js";
import type { TruthFile } from "../../src/sim/truth.js";
import { projectBoxes, type CameraView } from "../../src/suggest/camera.js";
import { evaluateSuggestions, truthBoxesAt, type FrameRecord, type SuggestionEvaluation } from "../../src/suggest/eval.js";
import { pointCloudView } from "../../src/suggest/lidar.js";
import { SuggestionStage } from "../../src/suggest/stage.js";
import type { EventSuggestion, ObjectSuggestion } from "../../src/suggest/types.js";

export interface SimRun {
  truth: TruthFile;
  frames: FrameRecord[];
  events: EventSuggestion[];
  evaluation: SuggestionEvaluation;
  stage: SuggestionStage;
  outputs: { topic: string; schemaName: string; encoding: string }[];
}

export interface SimRunOptions {
  rig?: string;
  seed: number;
  durationS: number;
  /** Replaces parts of the rig's scenario (e.g. events, traffic). */
  scenario?: Partial<RigConfig["scenario"]>;
  config?: unknown;
}

export function runSimulatedDrive(options: SimRunOptions): SimRun {
  const base = loadRig(options.rig ?? "default");
  const rig: RigConfig = options.scenario === undefined ? base : { ...base, scenario: { ...base.scenario, ...options.scenario } };
  const drive = simulateDrive({ rig, seed: options.seed, durationS: options.durationS });
  const alignment = new AlignmentStage({ config: alignmentConfigForRig(drive.rig) });
  const frames: FrameRecord[] = [];
  const events: EventSuggestion[] = [];
  const outputs: SimRun["outputs"] = [];
  const objectsBySequence = new Map<number, ObjectSuggestion[]>();
  const stage = new SuggestionStage({
    config: options.config,
    onSuggestions: (list, frame) => {
      if (frame === null) events.push(...(list as EventSuggestion[]));
      else objectsBySequence.set(frame.sequence, list as ObjectSuggestion[]);
    },
  });
  const codec = defaultCodec();
  const sweeps: { record: FrameRecord; points: Float32Array }[] = [];
  const cameras: { record: FrameRecord; view: CameraView; tNs: bigint }[] = [];
  let nowNs = 0n;
  const sweepLatency = new WeakMap<Uint8Array, number>();
  const handleFrames = (list: AlignedFrameData[]): void => {
    for (const frame of list) {
      const started = performance.now();
      for (const o of stage.onFrame(frame)) outputs.push({ topic: o.topic, schemaName: o.schemaName, encoding: o.encoding });
      const wallS = (performance.now() - started) / 1000;
      const lidar = frame.samples.find((s) => s.type === "sensor_msgs/PointCloud2" && s.messages.length > 0);
      if (lidar === undefined) continue;
      const record: FrameRecord = {
        timeNs: frame.referenceNs,
        objects: objectsBySequence.get(frame.sequence) ?? [],
        frameLatencyS: Number(nowNs - lidar.messages[0]!.receiveTime) / 1e9 + wallS,
        ...(sweepLatency.has(lidar.messages[0]!.data) ? { latencyS: sweepLatency.get(lidar.messages[0]!.data)! } : {}),
        truth2d: new Map(),
      };
      objectsBySequence.delete(frame.sequence);
      frames.push(record);
      sweeps.push({ record, points: sweepPoints(codec, lidar.messages[0]!.data, stage) });
      for (const sample of frame.samples) {
        if (sample.type !== "sensor_msgs/CompressedImage" && sample.type !== "sensor_msgs/Image") continue;
        if (sample.messages.length === 0) continue;
        const header = codec.decode<{ header: { frame_id: string } }>(sample.type, sample.messages[0]!.data).header;
        const view = stage.cameraView(sample.sensor, sample.topic, header.frame_id);
        if (view !== null) cameras.push({ record, view, tNs: sample.correctedNs });
      }
    }
  };
  for (const m of drive.messages()) {
    nowNs = m.receiveNs;
    const raw = { topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs };
    const result = alignment.ingest(raw);
    {
      // As the pipeline does: untimed messages (/tf_static, CameraInfo) with their receive time.
      const started = performance.now();
      for (const o of stage.onMessage(raw, result.corrected ?? raw.receiveTime)) outputs.push({ topic: o.topic, schemaName: o.schemaName, encoding: o.encoding });
      if (m.type === "sensor_msgs/PointCloud2") sweepLatency.set(m.data, (performance.now() - started) / 1000);
    }
    handleFrames(result.frames);
  }
  handleFrames(alignment.finish().frames);
  stage.finish();
  const truth = drive.truth();
  for (const s of sweeps) s.record.truthPoints = countInside(truth, s.points, s.record.timeNs);
  for (const c of cameras) {
    const boxes = truthBoxesAt(truth, c.tNs);
    for (const p of projectBoxes(boxes.map((b) => ({ box: b.box, vx: 0, vy: 0 })), c.view, 0, { speed: 0, yawRate: 0 })) {
      c.record.truth2d!.set(`${boxes[p.index]!.actor.id}/${c.view.name}`, p.box);
    }
  }
  return { truth, frames, events, evaluation: evaluateSuggestions(truth, frames, events), stage, outputs };
}

/** The sweep's above-ground points in base_link (x, y pairs; NaN for ground returns). */
function sweepPoints(codec: ReturnType<typeof defaultCodec>, data: Uint8Array, stage: SuggestionStage): Float32Array {
  const cloud = codec.decode<Parameters<typeof pointCloudView>[0] & { header: { frame_id: string } }>("sensor_msgs/PointCloud2", data);
  const view = pointCloudView(cloud)!;
  const mount = stage.lidarMount(cloud.header.frame_id);
  const dv = new DataView(view.data.buffer, view.data.byteOffset, view.data.byteLength);
  const pts = new Float32Array(view.count * 2);
  const c = Math.cos(mount.yaw), s = Math.sin(mount.yaw);
  for (let i = 0; i < view.count; i++) {
    const o = i * view.pointStep;
    const x = dv.getFloat32(o + view.offsetX, true), y = dv.getFloat32(o + view.offsetY, true), z = dv.getFloat32(o + view.offsetZ, true) + mount.z;
    pts[2 * i] = z > 0.3 ? mount.x + c * x - s * y : NaN;
    pts[2 * i + 1] = mount.y + s * x + c * y;
  }
  return pts;
}

function countInside(truth: TruthFile, pts: Float32Array, tNs: bigint): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of truthBoxesAt(truth, tNs)) {
    if (Math.hypot(t.box.x, t.box.y) > 60) continue;
    const c = Math.cos(t.box.yaw), s = Math.sin(t.box.yaw);
    // Generous margin: points are at their firing time, the box at the sweep start.
    const hl = t.box.length / 2 + 0.8, hw = t.box.width / 2 + 0.8;
    let n = 0;
    for (let i = 0; i < pts.length; i += 2) {
      const dx = pts[i]! - t.box.x, dy = pts[i + 1]! - t.box.y;
      if (dx !== dx) continue;
      const u = c * dx + s * dy, v = -s * dx + c * dy;
      if (u > -hl && u < hl && v > -hw && v < hw) n++;
    }
    out.set(t.actor.id, n);
  }
  return out;
}
