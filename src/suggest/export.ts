/**
 * Export of recorded suggestions for annotation tools: JSON Lines (one suggestion per line) and
 * ASAM OpenLABEL 1.0 JSON (pre-annotations: objects with cuboids in base_link and 2D bboxes per
 * camera stream, per frame; audio and telemetry events as OpenLABEL events with frame intervals).
 * Fed message by message (an EvalSection, so it rides on the same one-pass MCAP reader).
 */
import type { EvalMessage, EvalSection, EvalSectionResult } from "../align/eval.js";
import { defaultCodec } from "../messages/codec.js";
import { toNs, type RosTime } from "../messages/time.js";
import { LABEL_SUGGESTION_ARRAY, type DecodedLabel } from "./output.js";


export interface ExportedFrame {
  timeNs: bigint;
  labels: DecodedLabel[];
}

export class SuggestionCollector implements EvalSection {
  readonly name = "export";
  readonly frames: ExportedFrame[] = [];
  readonly events = new Map<string, DecodedLabel>();
  readonly #codec = defaultCodec();
  malformed = 0;

  add(message: EvalMessage): void {
    if (message.type !== LABEL_SUGGESTION_ARRAY) return;
    try {
      const array = this.#codec.decode<{ header: { stamp: RosTime }; suggestions: DecodedLabel[] }>(message.type, message.data);
      const objects = array.suggestions.filter((s) => s.kind === 0);
      for (const e of array.suggestions.filter((s) => s.kind === 1)) this.events.set(`${e.source}/${e.track_id}`, e);
      if (objects.length > 0) this.frames.push({ timeNs: toNs(array.header.stamp), labels: objects });
    } catch {
      this.malformed++;
    }
  }

  finish(): EvalSectionResult {
    return { name: this.name, ok: true, text: `${this.frames.length} frames, ${this.events.size} events`, json: null };
  }
}

const seconds = (ns: bigint): number => Number(ns) / 1e9;

/** One JSON object per line: objects per frame, then events. Times as decimal-string ns and float s. */
export function toJsonLines(c: SuggestionCollector): string[] {
  const lines: string[] = [];
  for (const f of c.frames) {
    for (const l of f.labels) {
      lines.push(JSON.stringify({
        kind: "object", time_ns: f.timeNs.toString(), time_s: seconds(f.timeNs), track_id: Number(l.track_id), category: l.category, confidence: l.confidence, source: l.source,
        frame_id: l.box_frame_id, position: l.box_pose.position, orientation: l.box_pose.orientation, size: l.box_size, velocity: l.velocity,
        boxes_2d: l.boxes_2d.map((b) => ({ camera: b.camera, frame_id: b.frame_id, x_min: b.x_min, y_min: b.y_min, x_max: b.x_max, y_max: b.y_max, depth: b.depth, occlusion: b.occlusion, truncated: b.truncated })),
      }));
    }
  }
  for (const e of [...c.events.values()].sort((a, b) => (toNs(a.start) < toNs(b.start) ? -1 : 1))) {
    lines.push(JSON.stringify({ kind: "event", track_id: Number(e.track_id), category: e.category, confidence: e.confidence, source: e.source, start_ns: toNs(e.start).toString(), end_ns: toNs(e.end).toString(), start_s: seconds(toNs(e.start)), end_s: seconds(toNs(e.end)), peak_value: e.peak_value }));
  }
  return lines;
}

/**
 * ASAM OpenLABEL 1.0: frames keyed by frame number (0…) with frame_properties.timestamp (s);
 * objects keyed by uid with their frame_intervals; cuboid val = [x, y, z, qx, qy, qz, qw, sx, sy, sz]
 * in the base_link coordinate system; bbox val = [x_centre, y_centre, width, height] in the camera stream.
 */
export function toOpenLabel(c: SuggestionCollector, options: { name?: string } = {}): Record<string, unknown> {
  const frames: Record<string, { frame_properties: { timestamp: number }; objects: Record<string, unknown>; events?: Record<string, unknown> }> = {};
  const objects: Record<string, { name: string; type: string; frame_intervals: { frame_start: number; frame_end: number }[]; object_data?: unknown }> = {};
  const cameras = new Set<string>();
  const frameOf = (tNs: bigint): number => {
    // The frame at or just before t (events refer to lidar frames).
    let lo = 0;
    for (let i = 0; i < c.frames.length && c.frames[i]!.timeNs <= tNs; i++) lo = i;
    return lo;
  };
  c.frames.forEach((f, index) => {
    const frameObjects: Record<string, unknown> = {};
    for (const l of f.labels) {
      const uid = String(Number(l.track_id));
      const q = l.box_pose.orientation, p = l.box_pose.position;
      const objectData: Record<string, unknown[]> = {
        cuboid: [{ name: "box3d", val: [p.x, p.y, p.z, q.x, q.y, q.z, q.w, l.box_size.x, l.box_size.y, l.box_size.z], coordinate_system: l.box_frame_id || "base_link" }],
        num: [{ name: "confidence", val: l.confidence }],
        vec: [{ name: "velocity", val: [l.velocity.x, l.velocity.y, l.velocity.z] }],
      };
      if (l.boxes_2d.length > 0) {
        objectData["bbox"] = l.boxes_2d.map((b) => {
          cameras.add(b.camera);
          return { name: `bbox_${b.camera}`, stream: b.camera, val: [(b.x_min + b.x_max) / 2, (b.y_min + b.y_max) / 2, b.x_max - b.x_min, b.y_max - b.y_min], attributes: { num: [{ name: "occlusion", val: b.occlusion }], boolean: [{ name: "truncated", val: b.truncated }] } };
        });
      }
      frameObjects[uid] = { object_data: objectData };
      const o = (objects[uid] ??= { name: `track-${uid}`, type: l.category, frame_intervals: [] });
      const last = o.frame_intervals[o.frame_intervals.length - 1];
      if (last !== undefined && last.frame_end === index - 1) last.frame_end = index;
      else o.frame_intervals.push({ frame_start: index, frame_end: index });
    }
    frames[String(index)] = { frame_properties: { timestamp: seconds(f.timeNs) }, objects: frameObjects };
  });
  const events: Record<string, unknown> = {};
  for (const e of c.events.values()) {
    const uid = `${e.source}-${Number(e.track_id)}`;
    const start = frameOf(toNs(e.start)), end = Math.max(start, frameOf(toNs(e.end)));
    events[uid] = {
      name: `${e.category}-${Number(e.track_id)}`, type: e.category, frame_intervals: [{ frame_start: start, frame_end: end }],
      event_data: { num: [{ name: "peak_value", val: e.peak_value }, { name: "confidence", val: e.confidence }, { name: "start_s", val: seconds(toNs(e.start)) }, { name: "end_s", val: seconds(toNs(e.end)) }], text: [{ name: "source", val: e.source }] },
    };
    for (let i = start; i <= end; i++) (frames[String(i)]!.events ??= {})[uid] = {};
  }
  const streams: Record<string, unknown> = { lidar: { type: "lidar", description: "reference lidar (frames follow its sweeps)" } };
  for (const cam of cameras) streams[cam] = { type: "camera" };
  const coordinate_systems: Record<string, unknown> = { base_link: { type: "local", parent: "", children: [...cameras] } };
  for (const cam of cameras) coordinate_systems[cam] = { type: "sensor_cs", parent: "base_link", children: [] };
  return {
    openlabel: {
      metadata: { schema_version: "1.0.0", name: options.name ?? "syncbag suggestions", annotator: "syncbag (pre-annotation)", comment: "model-assisted pre-labels: verify before use" },
      ontologies: {},
      streams,
      coordinate_systems,
      objects,
      events,
      frames,
      frame_intervals: c.frames.length > 0 ? [{ frame_start: 0, frame_end: c.frames.length - 1 }] : [],
    },
  };
}
