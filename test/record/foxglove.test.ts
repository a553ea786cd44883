import assert from "node:assert/strict";
import { join } from "node:path";
import type { ImageAnnotations, RawAudio, SceneUpdate } from "@foxglove/schemas";
import * as protobufModule from "protobufjs";
import * as descriptorModule from "protobufjs/ext/descriptor.js";
import { encodeImageAnnotations, encodeRawAudio, encodeSceneUpdate, FOXGLOVE_SCHEMA_NAMES, foxgloveSchema } from "../../src/messages/foxglove.js";
import { McapRecorder } from "../../src/record/recorder.js";
import { readIndexed, tempDir, testSchemas } from "./helpers.js";

const protobuf = ((protobufModule as { default?: unknown }).default ?? protobufModule) as typeof protobufModule;
const descriptor = ((descriptorModule as { default?: unknown }).default ?? descriptorModule) as typeof descriptorModule;

const scene: SceneUpdate = {
  deletions: [{ timestamp: { sec: 10, nsec: 5 }, type: 1, id: "old" }],
  entities: [
    {
      timestamp: { sec: 1_700_000_000, nsec: 123_456_789 },
      frame_id: "base_link",
      id: "car-7",
      lifetime: { sec: 0, nsec: 200_000_000 },
      frame_locked: false,
      metadata: [{ key: "class", value: "car" }],
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
  texts: [],
};

const audio: RawAudio = { timestamp: { sec: 1_700_000_000, nsec: 9 }, data: new Uint8Array([1, 0, 255, 127, 0, 128]), format: "pcm-s16", sample_rate: 48_000, number_of_channels: 1 };

/** protobuf Timestamp/Duration back to Foxglove's {sec, nsec}, like Foxglove's reader does. */
function times(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(times);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.every((k) => k === "seconds" || k === "nanos") && keys.length > 0) return { sec: Number(object.seconds ?? 0), nsec: Number(object.nanos ?? 0) };
  return Object.fromEntries(keys.map((k) => [k, times(object[k])]));
}

/** `actual` restricted to the keys `expected` has (the schema may carry newer optional fields). */
function shapedLike(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual)) return actual.map((a, i) => shapedLike(a, expected[i]));
  if (expected === null || typeof expected !== "object" || expected instanceof Uint8Array) return actual;
  if (actual === null || typeof actual !== "object") return actual;
  const object = actual as Record<string, unknown>;
  return Object.fromEntries(Object.keys(expected).map((k) => [k, shapedLike(object[k], (expected as Record<string, unknown>)[k])]));
}

describe("record/Foxglove protobuf channels", () => {
  it("offers SceneUpdate, ImageAnnotations, RawAudio and CompressedAudio; nothing for unknown names", () => {
    for (const name of FOXGLOVE_SCHEMA_NAMES) assert.ok(foxgloveSchema(name)!.data.byteLength > 100, name);
    assert.equal(foxgloveSchema("foxglove.NoSuchThing"), undefined);
    assert.equal(foxgloveSchema("sensor_msgs/Image"), undefined);
  });

  it("decodes back from the FileDescriptorSet stored in the MCAP, as Foxglove does", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const recorder = new McapRecorder({ config: { outputDir: dir, baseName: "fx" }, schemaFor: testSchemas });
      await recorder.start();
      const inputs: Array<[string, string, Uint8Array, object]> = [
        ["/syncbag/suggestions/boxes_3d", "foxglove.SceneUpdate", encodeSceneUpdate(scene), scene],
        ["/syncbag/suggestions/camera_front/boxes_2d", "foxglove.ImageAnnotations", encodeImageAnnotations(annotations), annotations],
        ["/sensing/audio/foxglove", "foxglove.RawAudio", encodeRawAudio(audio), audio],
      ];
      inputs.forEach(([topic, schemaName, data], i) => recorder.write({ topic, schemaName, encoding: "protobuf", data, logTime: BigInt(i + 1), publishTime: BigInt(i) }));
      await recorder.close();
      const { reader, messages } = await readIndexed(join(dir, "fx_0.mcap"));
      assert.equal(messages.length, 3);
      for (const [i, message] of messages.entries()) {
        const channel = [...reader.channelsById.values()].find((c) => c.topic === message.topic)!;
        const schema = reader.schemasById.get(channel.schemaId)!;
        assert.equal(channel.messageEncoding, "protobuf");
        assert.equal(schema.encoding, "protobuf");
        assert.equal(schema.name, inputs[i]![1]);
        const set = descriptor.FileDescriptorSet.decode(schema.data);
        const root = (protobuf.Root as unknown as { fromDescriptor(d: unknown, o: { keepCase: boolean }): protobufModule.Root }).fromDescriptor(set, { keepCase: true });
        const type = root.lookupType(schema.name);
        const decoded = type.toObject(type.decode(message.data), { longs: Number, enums: Number, defaults: true, arrays: true, bytes: Uint8Array });
        const expected = times(inputs[i]![3]);
        assert.deepEqual(shapedLike(times(decoded), expected), expected);
      }
    } finally {
      cleanup();
    }
  });
});
