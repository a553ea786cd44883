/**
 * The suggestions section of `syncbag eval`: reads back what the node recorded on
 * `~/suggestions` (LabelSuggestionArray, CDR), the lidar sweeps (for which truth boxes a ray
 * reached), /tf_static and CameraInfo (to project the truth boxes the same way), and scores it with
 * evaluateSuggestions. Truth 2D boxes are projected at each camera's own corrected capture time,
 * read from the aligned frame (~/frames) the suggestions belong to, as the node projected them;
 * at the frame time where a recording has no frames.
 */
import type { EvalMessage, EvalSection, EvalSectionResult } from "../align/eval.js";
import { defaultCodec } from "../messages/codec.js";
import { toNs, type RosTime } from "../messages/time.js";
import type { TruthFile } from "../sim/truth.js";
import { cameraView, intrinsicsFromCameraInfo, projectBoxes, StaticTransforms, type CameraIntrinsics } from "./camera.js";
import { countTruthPoints, evaluateSuggestions, formatSuggestionTable, suggestionTargetMisses, truthBoxesAt, type FrameRecord, type SuggestionEvalOptions } from "./eval.js";
import { mountFromTransform, pointCloudView } from "./lidar.js";
import { LABEL_SUGGESTION_ARRAY, objectFromLabel, type DecodedLabel } from "./output.js";
import type { EventSuggestion, ObjectSuggestion } from "./types.js";


/** AlignedSample.FLAG_MISSING: the sensor has no message in the frame. */
const FLAG_MISSING = 16;

export class SuggestionEvalSection implements EvalSection {
  readonly name = "suggestions";
  readonly #truth: TruthFile;
  readonly #options: SuggestionEvalOptions;
  readonly #codec = defaultCodec();
  readonly #tf = new StaticTransforms();
  readonly #intrinsics = new Map<string, { k: CameraIntrinsics; frameId: string }>();
  readonly #frames: FrameRecord[] = [];
  readonly #events = new Map<string, EventSuggestion>();
  readonly #points = new Map<bigint, Map<number, number>>();
  /** Per aligned frame (by reference time): each sensor's corrected capture time in it. */
  readonly #frameTimes = new Map<bigint, Map<string, bigint>>();
  #malformed = 0;
  /** Latest message time seen: where a recording cut short ends. */
  #lastNs = 0n;

  constructor(truth: TruthFile, options: SuggestionEvalOptions = {}) {
    this.#truth = truth;
    this.#options = options;
  }

  add(message: EvalMessage): void {
    if (message.publishTimeNs > this.#lastNs) this.#lastNs = message.publishTimeNs;
    try {
      if (message.type === "tf2_msgs/TFMessage") this.#tf.add(this.#codec.decode(message.type, message.data));
      else if (message.type === "sensor_msgs/CameraInfo") {
        const info = this.#codec.decode<Parameters<typeof intrinsicsFromCameraInfo>[0] & { header: { frame_id: string } }>(message.type, message.data);
        const k = intrinsicsFromCameraInfo(info);
        if (k !== null) this.#intrinsics.set(info.header.frame_id, { k, frameId: info.header.frame_id });
      } else if (message.type === "sensor_msgs/PointCloud2") this.#sweep(message);
      else if (message.type === LABEL_SUGGESTION_ARRAY) this.#suggestions(message);
      else if (message.type === "syncbag/AlignedFrame") this.#alignedFrame(message);
    } catch {
      this.#malformed++;
    }
  }

  finish(): EvalSectionResult {
    if (this.#frames.length === 0 && this.#events.size === 0) {
      // A recording made without the suggestion stage: nothing to judge.
      return { name: this.name, ok: true, text: "suggestions: none recorded", json: null };
    }
    for (const f of this.#frames) {
      f.truthPoints = this.#points.get(f.timeNs) ?? nearest(this.#points, f.timeNs);
      this.#project(f);
    }
    const evaluation = evaluateSuggestions(this.#truth, this.#frames, [...this.#events.values()], { ...this.#options, untilNs: this.#lastNs });
    const misses = suggestionTargetMisses(evaluation);
    const verdict = misses.length === 0 ? "targets: all met" : `below target: ${misses.join("; ")}`;
    const text = `${formatSuggestionTable(evaluation)}\n${verdict}${this.#malformed > 0 ? `\nunreadable messages: ${this.#malformed}` : ""}`;
    const ok = misses.length === 0;
    return { name: this.name, ok, text, json: { ...evaluation, malformed: this.#malformed, targetMisses: misses } };
  }

  #alignedFrame(message: EvalMessage): void {
    const frame = this.#codec.decode<{ header: { stamp: RosTime }; samples: { sensor: string; corrected_stamp: RosTime; flags: number }[] }>(message.type, message.data);
    const times = new Map<string, bigint>();
    for (const sample of frame.samples) if ((sample.flags & FLAG_MISSING) === 0) times.set(sample.sensor, toNs(sample.corrected_stamp));
    this.#frameTimes.set(toNs(frame.header.stamp), times);
  }

  #sweep(message: EvalMessage): void {
    const cloud = this.#codec.decode<Parameters<typeof pointCloudView>[0] & { header: { frame_id: string } }>(message.type, message.data);
    const view = pointCloudView(cloud);
    const mount = this.#tf.lookup("base_link", cloud.header.frame_id);
    if (view === null || mount === undefined) return;
    this.#points.set(message.publishTimeNs, countTruthPoints(this.#truth, view, mountFromTransform(mount), message.publishTimeNs));
  }

  #suggestions(message: EvalMessage): void {
    const array = this.#codec.decode<{ header: { stamp: RosTime; frame_id: string }; suggestions: DecodedLabel[] }>(message.type, message.data);
    const timeNs = toNs(array.header.stamp);
    const objects: ObjectSuggestion[] = [];
    for (const s of array.suggestions) {
      if (s.kind === 1) {
        const e: EventSuggestion = { kind: "event", trackId: Number(s.track_id), category: s.category, confidence: s.confidence, source: s.source as EventSuggestion["source"], startNs: toNs(s.start), endNs: toNs(s.end), peakValue: s.peak_value };
        this.#events.set(`${s.source}/${s.track_id}`, e);
        continue;
      }
      objects.push(objectFromLabel(s, timeNs));
    }
    // Frames carry objects; event-only arrays do not start a frame.
    if (objects.length > 0 || array.header.frame_id !== "") this.#frames.push({ timeNs, objects, truth2d: new Map() });
  }

  #project(f: FrameRecord): void {
    const cameras = new Set(f.objects.flatMap((o) => o.boxes2d.map((b) => b.camera)));
    if (cameras.size === 0) return;
    const times = this.#frameTimes.get(f.timeNs);
    for (const camera of cameras) {
      const boxes = truthBoxesAt(this.#truth, times?.get(camera) ?? f.timeNs);
      const frameId = f.objects.flatMap((o) => o.boxes2d).find((b) => b.camera === camera)!.frameId;
      const info = [...this.#intrinsics.values()].find((i) => frameId.startsWith(i.frameId));
      if (info === undefined) continue;
      const view = cameraView(camera, info.frameId, info.k, this.#tf);
      if (view === null) continue;
      for (const p of projectBoxes(boxes.map((b) => ({ box: b.box, vx: 0, vy: 0 })), view, 0, { speed: 0, yawRate: 0 })) f.truth2d!.set(`${boxes[p.index]!.actor.id}/${camera}`, p.box);
    }
  }
}

function nearest(map: Map<bigint, Map<number, number>>, t: bigint): Map<number, number> | undefined {
  let best: Map<number, number> | undefined, bestD = 10_000_000n;
  for (const [k, v] of map) {
    const d = k > t ? k - t : t - k;
    if (d < bestD) {
      best = v;
      bestD = d;
    }
  }
  return best;
}
