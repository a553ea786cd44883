import assert from "node:assert/strict";
import { join } from "node:path";
import type { ImageAnnotations, RawAudio, SceneUpdate } from "@foxglove/schemas";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { encodeImageAnnotations, encodeRawAudio, encodeSceneUpdate, FOXGLOVE_ROOTS, foxgloveMsgTexts, foxgloveType } from "../../src/messages/foxglove.js";
import { McapRecorder } from "../../src/record/recorder.js";
import { readIndexed, tempDir } from "./helpers.js";

const scene: SceneUpdate = {
  deletions: [{ timestamp: { sec: 10, nsec: 5 }, type: 0, id: "track-3" }],
  entities: [
    {
      timestamp: { sec: 1_700_000_000, nsec: 123_456_789 },
      frame_id: "base_link",
      id: "track-7",
      lifetime: { sec: 0, nsec: 0 },
      frame_locked: false,
      metadata: [{ key: "confidence", value: "0.910" }],
      arrows: [],
      cubes: [{ pose: { position: { x: 12.5, y: -3, z: 0.8 }, orientation: { x: 0, y: 0, z: 0.38268343, w: 0.92387953 } }, size: { x: 4.5, y: 1.9, z: 1.6 }, color: { r: 1, g: 0.5, b: 0, a: 0.6 } }],
      spheres: [],
      cylinders: [],
      lines: [],
      triangles: [],
      texts: [{ pose: { position: { x: 12.5, y: -3, z: 2 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, billboard: true, font_size: 12, scale_invariant: true, color: { r: 1, g: 1, b: 1, a: 1 }, text: "car 0.91" }],
      models: [],
    },
  ],
};

const annotations: ImageAnnotations = {
  circles: [],
  points: [
    {
      timestamp: { sec: 1_700_000_000, nsec: 5 },
      type: 2, // LINE_LOOP: a 2D box
      points: [
        { x: 10, y: 20 },
        { x: 110, y: 20 },
        { x: 110, y: 80 },
        { x: 10, y: 80 },
      ],
      outline_color: { r: 0, g: 1, b: 0, a: 1 },
      outline_colors: [],
      fill_color: { r: 0, g: 0, b: 0, a: 0 },
      thickness: 2,
    },
  ],
  texts: [{ timestamp: { sec: 1_700_000_000, nsec: 5 }, position: { x: 10, y: 16 }, text: "car 7", font_size: 12, text_color: { r: 1, g: 1, b: 1, a: 1 }, background_color: { r: 0, g: 0, b: 0, a: 0.5 } }],
};

const audio: RawAudio = { timestamp: { sec: 1_700_000_000, nsec: 9 }, data: new Uint8Array([1, 0, 255, 127, 0, 128]), format: "pcm-s16", sample_rate: 48_000, number_of_channels: 1 };

/** Foxglove {sec, nsec} → ROS 2 builtin_interfaces {sec, nanosec}, as a ROS 2 decoder returns times. */
function rosTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rosTimes);
  if (value instanceof Uint8Array || value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 2 && "sec" in object && "nsec" in object) return { sec: object.sec, nanosec: object.nsec };
  return Object.fromEntries(keys.map((k) => [k, rosTimes(object[k])]));
}

/** Field names of one section of a ros2msg schema (constants and comments left out). */
function fieldNames(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line !== "" && !line.includes("="))
    .map((line) => line.split(/\s+/)[1]!);
}

describe("record/Foxglove overlays as foxglove_msgs CDR", () => {
  it("defines the foxglove_msgs types as the ROS package has them: no fields the SDK added later (ImageAnnotations.timestamp, metadata)", () => {
    const texts = foxgloveMsgTexts();
    for (const root of FOXGLOVE_ROOTS) assert.ok(texts.has(foxgloveType(root)), root);
    // foxglove_msgs 3.x (ros_foxglove_msgs/ros2/*.msg in foxglove/schemas).
    assert.deepEqual(fieldNames(texts.get("foxglove_msgs/ImageAnnotations")!), ["circles", "points", "texts"]);
    assert.deepEqual(fieldNames(texts.get("foxglove_msgs/PointsAnnotation")!), ["timestamp", "type", "points", "outline_color", "outline_colors", "fill_color", "thickness"]);
    assert.deepEqual(fieldNames(texts.get("foxglove_msgs/SceneEntity")!), ["timestamp", "frame_id", "id", "lifetime", "frame_locked", "metadata", "arrows", "cubes", "spheres", "cylinders", "lines", "triangles", "texts", "models"]);
    assert.deepEqual(fieldNames(texts.get("foxglove_msgs/SceneEntityDeletion")!), ["timestamp", "type", "id"]);
    // A value carrying the SDK-only fields encodes to the same bytes as one without them.
    const withExtras = { ...annotations, timestamp: { sec: 1, nsec: 2 }, metadata: [{ key: "k", value: "v" }] };
    assert.deepEqual(encodeImageAnnotations(withExtras), encodeImageAnnotations(annotations));
  });

  it("records them as cdr/ros2msg channels that decode from the file's own schema, as Foxglove decodes them", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "fx" } });
      await recorder.start();
      const inputs: Array<[string, string, Uint8Array, object]> = [
        ["/syncbag/suggestions/scene", foxgloveType("SceneUpdate"), encodeSceneUpdate(scene), scene],
        ["/syncbag/suggestions/camera_front/annotations", foxgloveType("ImageAnnotations"), encodeImageAnnotations(annotations), annotations],
        ["/sensing/audio/foxglove", foxgloveType("RawAudio"), encodeRawAudio(audio), audio],
      ];
      inputs.forEach(([topic, schemaName, data], i) => recorder.write({ topic, schemaName, encoding: "cdr", data, logTime: BigInt(i + 1), publishTime: BigInt(i) }));
      await recorder.close();
      const { reader, messages } = await readIndexed(join(dir, "fx_0.mcap"));
      assert.equal(messages.length, 3);
      for (const [i, message] of messages.entries()) {
        const channel = [...reader.channelsById.values()].find((c) => c.topic === message.topic)!;
        const schema = reader.schemasById.get(channel.schemaId)!;
        assert.equal(channel.messageEncoding, "cdr");
        assert.equal(schema.encoding, "ros2msg");
        assert.equal(schema.name, inputs[i]![1]);
        // What Foxglove's ROS 2 MCAP support does: parse the schema text, read the CDR with it.
        const reader2 = new MessageReader(parse(new TextDecoder().decode(schema.data), { ros2: true }));
        assert.deepEqual(reader2.readMessage(message.data), rosTimes(inputs[i]![3]));
      }
    } finally {
      cleanup();
    }
  });
});
