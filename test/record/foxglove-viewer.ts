/**
 * A recording read by the rules a Foxglove-compatible viewer applies, to check what a user sees:
 * messages delivered in log-time order; a 3D panel's SceneUpdate state (entities replaced by id,
 * deletions by id, lifetimes counted from the entity's timestamp as @foxglove/schemas defines it,
 * or from receipt as Lichtblick does); an image panel in "sync annotations" mode, which shows the
 * newest image whose header.stamp equals the timestamp of an annotation on every visible
 * annotation topic (Lichtblick's ImageMode MessageHandler, findSynchronizedSetAndRemoveOlderItems).
 */
import { readFileSync } from "node:fs";
import { McapIndexedReader } from "@mcap/core";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { mcapDecompressHandlers } from "../../src/convert/readers/decompress.js";

export interface ViewerMessage {
  topic: string;
  schemaName: string;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

export interface ViewerChannel {
  topic: string;
  messageEncoding: string;
  schemaName: string;
  schemaEncoding: string;
  schemaText: string;
}

export interface Recording {
  channels: ViewerChannel[];
  /** Every message in log-time order (as a viewer plays them). */
  messages: ViewerMessage[];
  /** Decodes a message with its channel's own schema text (what Foxglove does for ros2msg). */
  decode<T>(message: ViewerMessage): T;
  byTopic(topic: string): ViewerMessage[];
}

export async function readRecording(path: string): Promise<Recording> {
  const bytes = readFileSync(path);
  const reader = await McapIndexedReader.Initialize({
    readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)) },
    decompressHandlers: mcapDecompressHandlers(),
  });
  const channels = [...reader.channelsById.values()].map((c) => {
    const schema = reader.schemasById.get(c.schemaId);
    return { topic: c.topic, messageEncoding: c.messageEncoding, schemaName: schema?.name ?? "", schemaEncoding: schema?.encoding ?? "", schemaText: schema === undefined ? "" : new TextDecoder().decode(schema.data) };
  });
  const schemaOf = new Map([...reader.channelsById.values()].map((c) => [c.id, reader.schemasById.get(c.schemaId)?.name ?? ""]));
  const messages: ViewerMessage[] = [];
  for await (const m of reader.readMessages()) {
    messages.push({ topic: reader.channelsById.get(m.channelId)!.topic, schemaName: schemaOf.get(m.channelId)!, logTime: m.logTime, publishTime: m.publishTime, data: m.data });
  }
  const readers = new Map<string, MessageReader>();
  const textOf = new Map(channels.map((c) => [c.topic, c]));
  const byTopic = new Map<string, ViewerMessage[]>();
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (list === undefined) byTopic.set(m.topic, (list = []));
    list.push(m);
  }
  return {
    channels,
    messages,
    byTopic: (topic) => byTopic.get(topic) ?? [],
    decode<T>(message: ViewerMessage): T {
      let r = readers.get(message.topic);
      if (r === undefined) {
        const channel = textOf.get(message.topic)!;
        if (channel.schemaEncoding !== "ros2msg") throw new Error(`${message.topic}: schema encoding ${channel.schemaEncoding}, not ros2msg`);
        r = new MessageReader(parse(channel.schemaText, { ros2: true }));
        readers.set(message.topic, r);
      }
      return r.readMessage<T>(message.data);
    },
  };
}

interface RosTime {
  sec: number;
  nanosec: number;
}
const ns = (t: RosTime): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanosec);

interface SceneEntityMsg {
  timestamp: RosTime;
  id: string;
  lifetime: RosTime;
}
interface SceneUpdateMsg {
  deletions: { timestamp: RosTime; type: number; id: string }[];
  entities: SceneEntityMsg[];
}

/** "timestamp": lifetime counted from the entity's timestamp (@foxglove/schemas); "receive": from its log time (Lichtblick). */
export type LifetimeRule = "timestamp" | "receive";

/** One topic's entities in a 3D panel. */
export class SceneState {
  readonly #entities = new Map<string, { timestampNs: bigint; lifetimeNs: bigint; receiveNs: bigint }>();

  apply(update: SceneUpdateMsg, logTime: bigint): void {
    // Deletions first, then entities (both viewers); a deletion removes only entities older than it.
    for (const d of update.deletions) {
      if (d.type === 1) this.#entities.clear();
      const existing = this.#entities.get(d.id);
      if (d.type === 0 && existing !== undefined && existing.timestampNs < ns(d.timestamp)) this.#entities.delete(d.id);
    }
    for (const e of update.entities) this.#entities.set(e.id, { timestampNs: ns(e.timestamp), lifetimeNs: ns(e.lifetime), receiveNs: logTime });
  }

  /** Ids in view at playback time t. */
  visibleAt(t: bigint, rule: LifetimeRule): Set<string> {
    const out = new Set<string>();
    for (const [id, e] of this.#entities) {
      const from = rule === "timestamp" ? e.timestampNs : e.receiveNs;
      if (e.lifetimeNs === 0n || t <= from + e.lifetimeNs) out.add(id);
    }
    return out;
  }
}

export interface SceneCoverage {
  sweeps: number;
  /** Sweeps with at least one box. */
  withBoxes: number;
  /** Sweeps whose update is missing, logged outside the sweep's display interval, or not exactly in view until the next sweep. */
  failures: string[];
}

/**
 * For every lidar sweep after warm-up (and before the last), plays the recording to just before the
 * next sweep and checks that exactly the boxes of that sweep's SceneUpdate (matched by publish
 * time: the sweep's corrected time) are in view, and that the update was logged while its sweep is
 * the one shown (not before it, not after the next).
 */
export function sceneCoverage(rec: Recording, options: { lidarTopic: string; sceneTopic: string; warmupNs: bigint; rule: LifetimeRule }): SceneCoverage {
  const sweeps = rec.byTopic(options.lidarTopic);
  const updates = rec.byTopic(options.sceneTopic);
  const byPublish = new Map(updates.map((u) => [u.publishTime, u]));
  const state = new SceneState();
  let next = 0;
  const failures: string[] = [];
  let checked = 0;
  let withBoxes = 0;
  const start = sweeps[0]?.logTime ?? 0n;
  for (let i = 0; i + 1 < sweeps.length; i++) {
    const sweep = sweeps[i]!;
    const until = sweeps[i + 1]!.logTime - 1n;
    while (next < updates.length && updates[next]!.logTime <= until) {
      state.apply(rec.decode<SceneUpdateMsg>(updates[next]!), updates[next]!.logTime);
      next++;
    }
    if (sweep.logTime - start < options.warmupNs) continue;
    checked++;
    const at = `sweep ${i} (log ${sweep.logTime})`;
    const update = byPublish.get(sweep.publishTime);
    if (update === undefined) {
      failures.push(`${at}: no SceneUpdate with its publish time`);
      continue;
    }
    if (update.logTime < sweep.logTime || update.logTime > until) {
      failures.push(`${at}: its SceneUpdate is logged at ${update.logTime}, outside [${sweep.logTime}, ${until}]`);
      continue;
    }
    const expected = new Set(rec.decode<SceneUpdateMsg>(update).entities.map((e) => e.id));
    if (expected.size > 0) withBoxes++;
    const visible = state.visibleAt(until, options.rule);
    const missing = [...expected].filter((id) => !visible.has(id));
    const stale = [...visible].filter((id) => !expected.has(id));
    if (missing.length > 0 || stale.length > 0) failures.push(`${at}: ${missing.length} of ${expected.size} boxes not in view, ${stale.length} stale boxes in view`);
  }
  return { sweeps: checked, withBoxes, failures };
}

interface ImageAnnotationsMsg {
  circles: { timestamp: RosTime }[];
  points: { timestamp: RosTime; points: unknown[] }[];
  texts: { timestamp: RosTime }[];
}
interface AlignedFrameMsg {
  samples: { sensor: string; topic: string; original_stamp: RosTime; flags: number }[];
}
const MISSING = 16;

export interface AnnotationSync {
  /** Camera images the aligned frames used (after warm-up): the images that should be annotated. */
  framedImages: number;
  /** Distinct images an image panel in sync mode showed, replaying the recording. */
  shownInSync: number;
  failures: string[];
}

/**
 * Per camera: every image an aligned frame used (after warm-up) has an ImageAnnotations whose
 * timestamps equal its header.stamp; every ImageAnnotations pairs with an image; and an image panel
 * in sync mode, fed the image and annotation topics in log-time order, shows every such image.
 */
export function annotationSync(rec: Recording, options: { framesTopic: string; annotationTopic: (camera: string) => string; warmupNs: bigint }): AnnotationSync {
  const failures: string[] = [];
  const frames = rec.byTopic(options.framesTopic);
  const start = frames[0]?.logTime ?? 0n;
  const wanted = new Map<string, { imageTopic: string; stamps: Set<bigint> }>();
  for (const f of frames) {
    const frame = rec.decode<AlignedFrameMsg>(f);
    for (const s of frame.samples) {
      if (!s.topic.includes("image") || (s.flags & MISSING) !== 0) continue;
      let camera = wanted.get(s.sensor);
      if (camera === undefined) wanted.set(s.sensor, (camera = { imageTopic: s.topic, stamps: new Set() }));
      if (f.logTime - start >= options.warmupNs) camera.stamps.add(ns(s.original_stamp));
    }
  }
  let framedImages = 0;
  let shownInSync = 0;
  for (const [camera, { imageTopic, stamps }] of wanted) {
    framedImages += stamps.size;
    const annotationTopic = options.annotationTopic(camera);
    const annotated = new Set<bigint>();
    const imageStamps = new Set<bigint>();
    // The sync tree of an image panel: stamp → whether the image and the annotations are there.
    const tree = new Map<bigint, { image: boolean; annotations: boolean }>();
    const shown = new Set<bigint>();
    for (const m of rec.messages) {
      if (m.topic !== imageTopic && m.topic !== annotationTopic) continue;
      if (m.topic === imageTopic) {
        const stamp = ns(rec.decode<{ header: { stamp: RosTime } }>(m).header.stamp);
        imageStamps.add(stamp);
        tree.set(stamp, { image: true, annotations: tree.get(stamp)?.annotations ?? false });
      } else {
        const a = rec.decode<ImageAnnotationsMsg>(m);
        const own = new Set([...a.circles, ...a.points, ...a.texts].map((x) => ns(x.timestamp)));
        if (own.size !== 1) {
          failures.push(`${annotationTopic} at log ${m.logTime}: ${own.size} distinct annotation timestamps (one image per message expected)`);
          continue;
        }
        const stamp = [...own][0]!;
        annotated.add(stamp);
        tree.set(stamp, { image: tree.get(stamp)?.image ?? false, annotations: true });
      }
      // Newest complete entry is shown; older entries are dropped.
      let newest: bigint | null = null;
      for (const [stamp, entry] of tree) if (entry.image && entry.annotations && (newest === null || stamp > newest)) newest = stamp;
      if (newest !== null) {
        shown.add(newest);
        for (const stamp of [...tree.keys()]) if (stamp < newest) tree.delete(stamp);
      }
    }
    const unannotated = [...stamps].filter((s) => !annotated.has(s));
    if (unannotated.length > 0) failures.push(`${camera}: ${unannotated.length} of ${stamps.size} framed images have no annotations with their stamp (first ${unannotated[0]})`);
    const orphans = [...annotated].filter((s) => !imageStamps.has(s));
    if (orphans.length > 0) failures.push(`${camera}: ${orphans.length} annotation stamps match no image header.stamp (first ${orphans[0]})`);
    const notShown = [...stamps].filter((s) => !shown.has(s));
    if (notShown.length > 0) failures.push(`${camera}: ${notShown.length} of ${stamps.size} framed images never shown in sync mode`);
    shownInSync += [...stamps].filter((s) => shown.has(s)).length;
  }
  return { framedImages, shownInSync, failures };
}

const NUMERIC = new Set(["float64", "float32", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "bool"]);
const IMAGE_SCHEMAS = /^sensor_msgs\/(msg\/)?(Image|CompressedImage)$/;
const ANNOTATION_SCHEMAS = /^foxglove_msgs\/(msg\/)?ImageAnnotations$/;
/** A Plot message path: `/topic{field==literal}.field.sub` (Foxglove's message path syntax, the subset a layout of ours uses). */
const PLOT_PATH = /^(\/[^{.]+)(?:\{([A-Za-z_][A-Za-z0-9_]*)==("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)\})?\.([A-Za-z_][A-Za-z0-9_.]*)$/;

/** The type of a dotted field path in a channel's schema, or undefined if a name is not there. */
function fieldType(schemaText: string, path: string): string | undefined {
  const definitions = parse(schemaText, { ros2: true });
  type Field = { name: string; type: string; isArray?: boolean; isComplex?: boolean; isConstant?: boolean };
  let fields: readonly Field[] | undefined = definitions[0]?.definitions;
  let type: string | undefined;
  for (const name of path.split(".")) {
    const field: Field | undefined = fields?.find((f) => f.name === name && f.isConstant !== true);
    if (field === undefined) return undefined;
    type = field.isArray === true ? `${field.type}[]` : field.type;
    fields = field.isComplex === true ? definitions.find((d) => d.name === field.type)?.definitions : undefined;
  }
  return type;
}

function valueAt(message: unknown, path: string): unknown {
  let value = message;
  for (const name of path.split(".")) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
  return value;
}

/**
 * Everything a layout refers to, checked against a recording: each panel's topics exist with the
 * schema the panel needs; each plot path's topic, field and filter field exist in the topic's
 * schema, its filter value occurs in the recorded messages and the plotted value is a number;
 * titles sit in the keys Foxglove and Lichtblick read; image panels sync annotations; every
 * panel is placed in the layout tree. Returns one line per problem.
 */
export function layoutProblems(layout: { configById: Record<string, Record<string, unknown>>; layout: unknown }, rec: Recording): string[] {
  const problems: string[] = [];
  const channel = new Map(rec.channels.map((c) => [c.topic, c]));
  const need = (panel: string, topic: string, schema?: RegExp): void => {
    const c = channel.get(topic);
    if (c === undefined) problems.push(`${panel}: topic ${topic} is not in the recording`);
    else if (schema !== undefined && !schema.test(c.schemaName)) problems.push(`${panel}: ${topic} has schema ${c.schemaName}, not ${schema.source}`);
  };
  const placed = new Set<string>();
  const walk = (node: unknown): void => {
    if (typeof node === "string") placed.add(node);
    else if (node !== null && typeof node === "object") for (const key of ["first", "second"]) walk((node as Record<string, unknown>)[key]);
  };
  walk(layout.layout);
  for (const [id, config] of Object.entries(layout.configById)) {
    if (!placed.has(id)) problems.push(`${id}: not placed in the layout tree`);
    const kind = id.split("!")[0];
    if (kind === "3D") {
      for (const [topic, settings] of Object.entries((config.topics ?? {}) as Record<string, { visible?: boolean }>)) if (settings.visible === true) need(id, topic);
    } else if (kind === "Image") {
      const mode = config.imageMode as { imageTopic?: string; calibrationTopic?: string; synchronize?: boolean; annotations?: Record<string, { visible?: boolean }> };
      if (mode.imageTopic === undefined) problems.push(`${id}: no imageTopic`);
      else need(id, mode.imageTopic, IMAGE_SCHEMAS);
      if (mode.calibrationTopic !== undefined) need(id, mode.calibrationTopic, /CameraInfo$/);
      for (const [topic, settings] of Object.entries(mode.annotations ?? {})) if (settings.visible === true) need(id, topic, ANNOTATION_SCHEMAS);
      if (mode.synchronize !== true) problems.push(`${id}: annotations not synchronized with their images`);
    } else if (kind === "Plot") {
      if ("title" in config) problems.push(`${id}: a "title" key, which neither viewer reads`);
      if (typeof config.foxglovePanelTitle !== "string" || typeof config.lichtblickPanelTitle !== "string") problems.push(`${id}: no foxglovePanelTitle/lichtblickPanelTitle`);
      for (const path of (config.paths ?? []) as { value: string; timestampMethod?: string }[]) {
        const m = PLOT_PATH.exec(path.value);
        if (m === null) {
          problems.push(`${id}: message path ${path.value} not understood`);
          continue;
        }
        const [, topic, filterField, literal, field] = m as unknown as [string, string, string | undefined, string | undefined, string];
        const c = channel.get(topic);
        if (c === undefined) {
          problems.push(`${id}: ${path.value}: topic ${topic} is not in the recording`);
          continue;
        }
        const type = fieldType(c.schemaText, field);
        if (type === undefined || !NUMERIC.has(type)) problems.push(`${id}: ${path.value}: ${c.schemaName} has no numeric field ${field} (${type ?? "absent"})`);
        if (path.timestampMethod !== "receiveTime" && path.timestampMethod !== "headerStamp") problems.push(`${id}: ${path.value}: timestampMethod ${path.timestampMethod}`);
        if (path.timestampMethod === "headerStamp" && fieldType(c.schemaText, "header.stamp") === undefined) problems.push(`${id}: ${path.value}: headerStamp on a type without header`);
        const messages = rec.byTopic(topic).map((m2) => rec.decode<unknown>(m2));
        let selected = messages;
        if (filterField !== undefined && literal !== undefined) {
          if (fieldType(c.schemaText, filterField) === undefined) problems.push(`${id}: ${path.value}: ${c.schemaName} has no field ${filterField} to filter on`);
          const wanted: unknown = JSON.parse(literal);
          selected = messages.filter((msg) => valueAt(msg, filterField) === wanted);
        }
        if (!selected.some((msg) => typeof valueAt(msg, field) === "number")) problems.push(`${id}: ${path.value}: no recorded message gives a value (${selected.length} of ${messages.length} pass the filter)`);
      }
    }
  }
  return problems;
}
