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
import { countTruthPoints, evaluateSuggestions, truthBoxesAt, type FrameRecord, type SuggestionEvaluation } from "../../src/suggest/eval.js";
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
  const sweeps: { record: FrameRecord; data: Uint8Array }[] = [];
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
      sweeps.push({ record, data: lidar.messages[0]!.data });
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
  // The same visibility count `syncbag eval` makes from a recording, so both score alike.
  for (const s of sweeps) {
    const cloud = codec.decode<Parameters<typeof pointCloudView>[0] & { header: { frame_id: string } }>("sensor_msgs/PointCloud2", s.data);
    s.record.truthPoints = countTruthPoints(truth, pointCloudView(cloud)!, stage.lidarMount(cloud.header.frame_id), s.record.timeNs);
  }
  for (const c of cameras) {
    const boxes = truthBoxesAt(truth, c.tNs);
    for (const p of projectBoxes(boxes.map((b) => ({ box: b.box, vx: 0, vy: 0 })), c.view, 0, { speed: 0, yawRate: 0 })) {
      c.record.truth2d!.set(`${boxes[p.index]!.actor.id}/${c.view.name}`, p.box);
    }
  }
  return { truth, frames, events, evaluation: evaluateSuggestions(truth, frames, events), stage, outputs };
}
