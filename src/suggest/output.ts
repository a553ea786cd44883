/**
 * Suggestions → OutboundMessage, all CDR: syncbag/LabelSuggestionArray (transport + recorder),
 * foxglove_msgs/SceneUpdate (3D boxes) and foxglove_msgs/ImageAnnotations per camera (recorder),
 * encoded with the messages layer's Foxglove encoders.
 */
import type { Color, ImageAnnotations, SceneEntity, SceneUpdate } from "@foxglove/schemas";
import { defaultCodec } from "../messages/codec.js";
import { encodeImageAnnotations, encodeSceneUpdate, foxgloveType } from "../messages/foxglove.js";
import type { OutboundMessage } from "../messages/outbound.js";
import { fromNs, type RosTime } from "../messages/time.js";
import type { Box2D, EventSuggestion, ObjectSuggestion, Suggestion } from "./types.js";

export const LABEL_SUGGESTION_ARRAY = "syncbag/LabelSuggestionArray";

const KIND_OBJECT = 0;
const KIND_EVENT = 1;
const CLASS_COLORS: Record<string, Color> = {
  car: { r: 0.2, g: 0.6, b: 1, a: 0.35 },
  truck: { r: 1, g: 0.6, b: 0.1, a: 0.35 },
  pedestrian: { r: 1, g: 0.2, b: 0.3, a: 0.4 },
  cyclist: { r: 0.3, g: 1, b: 0.3, a: 0.4 },
};
const OTHER_COLOR: Color = { r: 0.7, g: 0.7, b: 0.7, a: 0.3 };

function yawQuat(yaw: number): { x: number; y: number; z: number; w: number } {
  return { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) };
}

/** The ROS message value of one suggestion (field names as in msg/LabelSuggestion.msg). */
export function labelSuggestionValue(s: Suggestion): Record<string, unknown> {
  const zero = { x: 0, y: 0, z: 0 };
  if (s.kind === "object") {
    const t = fromNs(s.timeNs);
    return {
      track_id: BigInt(s.trackId), category: s.category, confidence: s.confidence, source: s.source, kind: KIND_OBJECT,
      box_frame_id: s.frameId, box_pose: { position: { x: s.box.x, y: s.box.y, z: s.box.z }, orientation: yawQuat(s.box.yaw) },
      box_size: { x: s.box.length, y: s.box.width, z: s.box.height }, velocity: s.velocity,
      boxes_2d: s.boxes2d.map(box2dValue), start: t, end: t, peak_value: 0,
    };
  }
  return {
    track_id: BigInt(s.trackId), category: s.category, confidence: s.confidence, source: s.source, kind: KIND_EVENT,
    box_frame_id: "", box_pose: { position: zero, orientation: { x: 0, y: 0, z: 0, w: 1 } }, box_size: zero, velocity: zero,
    boxes_2d: [], start: fromNs(s.startNs), end: fromNs(s.endNs), peak_value: s.peakValue,
  };
}

function box2dValue(b: Box2D): Record<string, unknown> {
  return { camera: b.camera, frame_id: b.frameId, x_min: b.xMin, y_min: b.yMin, x_max: b.xMax, y_max: b.yMax, depth: b.depth, occlusion: b.occlusion, truncated: b.truncated };
}

export function encodeSuggestionArray(stampNs: bigint, frameId: string, suggestions: readonly Suggestion[]): Uint8Array {
  return defaultCodec().encode(LABEL_SUGGESTION_ARRAY, { header: { stamp: fromNs(stampNs), frame_id: frameId }, suggestions: suggestions.map(labelSuggestionValue) });
}

function foxTime(t: RosTime): { sec: number; nsec: number } {
  return { sec: t.sec, nsec: t.nanosec };
}

/** Stable entity id of a track: each update replaces the entity of the same track. */
export function entityId(trackId: number): string {
  return `track-${trackId}`;
}

/**
 * The 3D boxes of one sweep. Entities have lifetime 0 (kept until replaced: Foxglove counts a
 * lifetime from the entity's timestamp, Lichtblick from receipt, so no lifetime is right for both)
 * and the id of their track, so the next update replaces them; a track shown before and absent now
 * is deleted by id. Each update holds every box of its sweep, so a viewer that seeks shows the
 * right set from the last update alone.
 */
export function sceneUpdate(stampNs: bigint, frameId: string, objects: readonly ObjectSuggestion[], previousIds: ReadonlySet<string> = new Set()): SceneUpdate {
  const timestamp = foxTime(fromNs(stampNs));
  const lifetime = { sec: 0, nsec: 0 };
  const entities: SceneEntity[] = objects.map((o) => ({
    timestamp, frame_id: frameId, id: entityId(o.trackId), lifetime, frame_locked: false,
    metadata: [
      { key: "category", value: o.category }, { key: "confidence", value: o.confidence.toFixed(3) }, { key: "track_id", value: String(o.trackId) },
      { key: "source", value: o.source }, { key: "speed", value: Math.hypot(o.velocity.x, o.velocity.y).toFixed(1) },
    ],
    arrows: [], spheres: [], cylinders: [], lines: [], triangles: [], models: [],
    cubes: [{ pose: { position: { x: o.box.x, y: o.box.y, z: o.box.z }, orientation: yawQuat(o.box.yaw) }, size: { x: o.box.length, y: o.box.width, z: o.box.height }, color: CLASS_COLORS[o.category] ?? OTHER_COLOR }],
    texts: [{ pose: { position: { x: o.box.x, y: o.box.y, z: o.box.z + o.box.height / 2 + 0.5 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, billboard: true, font_size: 14, scale_invariant: true, color: { r: 1, g: 1, b: 1, a: 1 }, text: `${o.category} ${o.trackId} ${o.confidence.toFixed(2)}` }],
  }));
  const current = new Set(entities.map((e) => e.id));
  const deletions = [...previousIds].filter((id) => !current.has(id)).map((id) => ({ timestamp, type: 0 /* MATCHING_ID */, id }));
  return { deletions, entities };
}

/**
 * The 2D boxes of one camera image. Every annotation carries the image's own header.stamp, which
 * is what an image panel's "sync annotations" pairs on; an image without boxes gets one empty
 * points annotation with that stamp, so it still pairs (and shows no stale boxes).
 */
export function imageAnnotations(imageStampNs: bigint, camera: string, objects: readonly ObjectSuggestion[]): ImageAnnotations {
  const timestamp = foxTime(fromNs(imageStampNs));
  const annotations: ImageAnnotations = { circles: [], points: [], texts: [] };
  for (const o of objects) {
    for (const b of o.boxes2d) {
      if (b.camera !== camera) continue;
      const color = CLASS_COLORS[o.category] ?? OTHER_COLOR;
      const outline = { ...color, a: b.occlusion > 0.5 ? 0.5 : 1 };
      annotations.points.push({
        timestamp, type: 2 /* LINE_LOOP */, thickness: 2, outline_color: outline, outline_colors: [], fill_color: { r: 0, g: 0, b: 0, a: 0 },
        points: [{ x: b.xMin, y: b.yMin }, { x: b.xMax, y: b.yMin }, { x: b.xMax, y: b.yMax }, { x: b.xMin, y: b.yMax }],
      });
      annotations.texts.push({ timestamp, position: { x: b.xMin, y: Math.max(0, b.yMin - 4) }, text: `${o.category} ${o.trackId}`, font_size: 12, text_color: { r: 1, g: 1, b: 1, a: 1 }, background_color: { r: 0, g: 0, b: 0, a: 0.5 } });
    }
  }
  if (annotations.points.length === 0) {
    annotations.points.push({ timestamp, type: 1 /* POINTS */, thickness: 0, outline_color: OTHER_COLOR, outline_colors: [], fill_color: OTHER_COLOR, points: [] });
  }
  return annotations;
}

export interface OutputTopics {
  suggestions: string;
  scene: string;
  annotations(camera: string): string;
}

/** `~/suggestions` etc. under the node's name. */
export function outputTopics(nodeBase: string): OutputTopics {
  const base = nodeBase.endsWith("/") ? nodeBase.slice(0, -1) : nodeBase;
  return { suggestions: `${base}/suggestions`, scene: `${base}/suggestions/scene`, annotations: (camera) => `${base}/suggestions/${camera}/annotations` };
}

/**
 * The overlays are recorded, not published on the ROS graph: foxglove_msgs is often not installed
 * there (a publisher of an unknown type fails), while the recording carries its own definition.
 */
const RECORD_ONLY = { publish: false } as const;

/** 3D boxes of one sweep as foxglove_msgs/SceneUpdate (CDR); `stampNs` is the sweep's corrected time. */
export function sceneOutput(topics: OutputTopics, stampNs: bigint, logTime: bigint, frameId: string, objects: readonly ObjectSuggestion[], previousIds?: ReadonlySet<string>): OutboundMessage {
  return { topic: topics.scene, schemaName: foxgloveType("SceneUpdate"), encoding: "cdr", data: encodeSceneUpdate(sceneUpdate(stampNs, frameId, objects, previousIds)), logTime, publishTime: stampNs, ...RECORD_ONLY };
}

/** A camera image of an aligned frame: its sensor name, header.stamp (device clock) and corrected time. */
export interface AnnotatedImage {
  camera: string;
  stampNs: bigint;
  correctedNs: bigint;
}

/** One aligned frame: the LabelSuggestionArray (3D + 2D boxes) and ImageAnnotations per camera image. */
export function frameOutputs(topics: OutputTopics, stampNs: bigint, logTime: (topic: string) => bigint, frameId: string, objects: readonly ObjectSuggestion[], images: readonly AnnotatedImage[]): OutboundMessage[] {
  const out: OutboundMessage[] = [{ topic: topics.suggestions, schemaName: LABEL_SUGGESTION_ARRAY, encoding: "cdr", data: encodeSuggestionArray(stampNs, frameId, objects), logTime: logTime(topics.suggestions), publishTime: stampNs }];
  for (const image of images) {
    const topic = topics.annotations(image.camera);
    const data = encodeImageAnnotations(imageAnnotations(image.stampNs, image.camera, objects));
    out.push({ topic, schemaName: foxgloveType("ImageAnnotations"), encoding: "cdr", data, logTime: logTime(topic), publishTime: image.correctedNs, ...RECORD_ONLY });
  }
  return out;
}

export function eventOutputs(topics: OutputTopics, logTime: (topic: string) => bigint, events: readonly EventSuggestion[]): OutboundMessage[] {
  if (events.length === 0) return [];
  const stamp = events.reduce((a, e) => (e.endNs > a ? e.endNs : a), events[0]!.endNs);
  return [{ topic: topics.suggestions, schemaName: LABEL_SUGGESTION_ARRAY, encoding: "cdr", data: encodeSuggestionArray(stamp, "", events), logTime: logTime(topics.suggestions), publishTime: stamp }];
}

/** A syncbag/LabelSuggestion as the CDR codec decodes it (for readers of recorded suggestions). */
export interface DecodedLabel {
  track_id: bigint;
  category: string;
  confidence: number;
  source: string;
  kind: number;
  box_frame_id: string;
  box_pose: { position: { x: number; y: number; z: number }; orientation: { x: number; y: number; z: number; w: number } };
  box_size: { x: number; y: number; z: number };
  velocity: { x: number; y: number; z: number };
  boxes_2d: { camera: string; frame_id: string; x_min: number; y_min: number; x_max: number; y_max: number; depth: number; occlusion: number; truncated: boolean }[];
  start: RosTime;
  end: RosTime;
  peak_value: number;
}

/** A recorded object suggestion (kind KIND_OBJECT) back as the stage made it, in its frame's time. */
export function objectFromLabel(s: DecodedLabel, timeNs: bigint): ObjectSuggestion {
  const q = s.box_pose.orientation, p = s.box_pose.position;
  return {
    kind: "object", trackId: Number(s.track_id), category: s.category, confidence: s.confidence, source: s.source as ObjectSuggestion["source"], frameId: s.box_frame_id,
    box: { x: p.x, y: p.y, z: p.z, yaw: Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z)), length: s.box_size.x, width: s.box_size.y, height: s.box_size.z },
    velocity: s.velocity, timeNs,
    boxes2d: s.boxes_2d.map((b): Box2D => ({ camera: b.camera, frameId: b.frame_id, xMin: b.x_min, yMin: b.y_min, xMax: b.x_max, yMax: b.y_max, depth: b.depth, occlusion: b.occlusion, truncated: b.truncated })),
  };
}
