import assert from "node:assert/strict";
import type { AlignedFrameData } from "../../src/align/types.js";
import { defaultCodec } from "../../src/messages/codec.js";
import type { SuggestionPort } from "../../src/pipeline/pipeline.js";
import { cameraView, intrinsicsFromCameraInfo, projectBoxes, StaticTransforms } from "../../src/suggest/camera.js";
import { parseSuggestConfig } from "../../src/suggest/config.js";
import { loadSuggester, SuggesterRegistry } from "../../src/suggest/plugin.js";
import { SuggestionStage } from "../../src/suggest/stage.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";

const codec = defaultCodec();
const telemetry = (horn: boolean): Uint8Array =>
  codec.encode("syncbag/VehicleTelemetry", { header: { stamp: { sec: 1, nanosec: 0 }, frame_id: "base_link" }, speed: 10, longitudinal_acceleration: 0, lateral_acceleration: 0, yaw_rate: 0, steering_angle: 0, throttle_position: 0, brake_position: 0, gear: 3, engine_rpm: 2000, turn_signal_left: false, turn_signal_right: false, horn });
const frame: AlignedFrameData = { referenceNs: 5_000_000_000n, referenceSensor: "lidar_top", sequence: 7, samples: [] };

describe("suggest/plugin and stage", () => {
  it("reads the same 3D boxes whichever ego topic the node hears first (odometry held back behind the telemetry before the first sweep)", () => {
    // The speed and yaw rate that deskew a sweep come from telemetry, the pose from odometry: the
    // telemetry heard before the first odometry message must still count once odometry arrives.
    const rig = loadRig("default");
    const messages = [...simulateDrive({ rig, seed: 6, durationS: 1.5 })];
    const scenes = (order: typeof messages): string[] => {
      const stage = new SuggestionStage({ log: () => {} });
      const out: string[] = [];
      for (const m of order) for (const o of stage.onMessage({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs }, m.receiveNs)) if (o.topic.endsWith("/suggestions/scene")) out.push(Buffer.from(o.data).toString("base64"));
      return out;
    };
    // Every message received before the first sweep, telemetry first and odometry after it: what is
    // known when that sweep arrives is the same, only the order it was heard in differs.
    const firstSweep = messages.find((m) => m.topic === rig.lidar!.topic)!.receiveNs;
    const early = messages.filter((m) => m.receiveNs < firstSweep);
    const held = [...early.filter((m) => m.topic !== rig.odometry!.topic), ...early.filter((m) => m.topic === rig.odometry!.topic), ...messages.filter((m) => m.receiveNs >= firstSweep)];
    assert.ok(early.some((m) => m.topic === rig.odometry!.topic) && early.some((m) => m.topic === rig.telemetry!.topic), "both ego topics heard before the first sweep");
    const inOrder = scenes(messages), reordered = scenes(held);
    assert.ok(inOrder.length >= 10, `${inOrder.length} sweeps`);
    assert.deepEqual(reordered, inOrder);
  });

  it("loads a plugin module by path and merges its suggestions into LabelSuggestionArray", async () => {
    const stage = await SuggestionStage.create({ config: { plugins: [{ module: "./test/suggest/fixtures/plugin.ts", options: { label: "bollard" } }] }, now: () => 42n });
    const out = stage.onFrame(frame);
    const array = out.find((o) => o.topic === "/syncbag/suggestions")!;
    assert.equal(array.encoding, "cdr");
    const decoded = codec.decode<{ header: { frame_id: string }; suggestions: { category: string; source: string; track_id: bigint; box_pose: { position: { x: number } } }[] }>(array.schemaName, array.data);
    assert.equal(decoded.suggestions.length, 1);
    assert.equal(decoded.suggestions[0]!.category, "bollard");
    assert.equal(decoded.suggestions[0]!.source, "plugin");
    assert.equal(decoded.suggestions[0]!.box_pose.position.x, 5);
    assert.equal(array.logTime, 42n);
    const events = stage.onMessage({ topic: "/vehicle/telemetry", type: "syncbag/VehicleTelemetry", data: telemetry(true), receiveTime: 1n }, 1_000_000_000n);
    const ev = codec.decode<{ suggestions: { category: string; kind: number; track_id: bigint }[] }>(events[0]!.schemaName, events[0]!.data);
    assert.equal(ev.suggestions[0]!.category, "horn");
    assert.equal(ev.suggestions[0]!.kind, 1);
    assert.ok(ev.suggestions[0]!.track_id >= 1_000_000n, "plugin events get stage ids");
    assert.deepEqual(stage.onMessage({ topic: "/vehicle/telemetry", type: "syncbag/VehicleTelemetry", data: telemetry(false), receiveTime: 2n }, 2_000_000_000n), []);
  });

  it("refuses a plugin that builds no valid suggester, and a registry refuses unknown names", async () => {
    await assert.rejects(loadSuggester("./test/suggest/fixtures/bad-plugin.ts"), /non-empty name/);
    await assert.rejects(loadSuggester("./test/suggest/fixtures/missing.ts"), /cannot import/);
    const registry = new SuggesterRegistry();
    registry.register("fixture", async (o) => (await import("./fixtures/plugin.js")).default(o));
    assert.equal((await registry.create("fixture")).name, "fixture");
    await assert.rejects(registry.create("onnx"), /no suggester "onnx"/);
  });

  it("counts a throwing plugin and keeps going; malformed input is counted, never thrown", () => {
    // The stage is the pipeline's SuggestionPort (checked by the type checker).
    const stage: SuggestionPort & SuggestionStage = new SuggestionStage({ suggesters: [{ name: "boom", onFrame: () => { throw new Error("boom"); } }], log: () => {} });
    assert.equal(stage.onFrame(frame).length, 1); // the (empty) array still goes out
    assert.equal(stage.counters.pluginErrors, 1);
    stage.onMessage({ topic: "/vehicle/telemetry", type: "syncbag/VehicleTelemetry", data: new Uint8Array([0, 1, 0, 0, 9]), receiveTime: 1n }, 1n);
    assert.equal(stage.counters.malformed, 1);
  });

  it("validates its configuration with the key, the value and the expectation", () => {
    assert.throws(() => parseSuggestConfig({ telemetry: { hardBrakingG: "x" } }), /suggest\.telemetry\.hardBrakingG: got "x"/);
    assert.equal(parseSuggestConfig({}).telemetry.hardBrakingG, 0.35);
    assert.throws(() => parseSuggestConfig({ audio: { bandLowHz: 2000 } }), /suggest\.audio\.bandHighHz: .*above bandLowHz/);
  });

  it("records ImageAnnotations as foxglove_msgs CDR stamped with the image's header.stamp (not published on the graph)", () => {
    const stage = new SuggestionStage({ now: () => 1n });
    const image = { topic: "/cam/image_raw/compressed", type: "sensor_msgs/CompressedImage", data: new Uint8Array(0), receiveTime: 0n };
    const out = stage.onFrame({ ...frame, samples: [{ sensor: "camera_front", topic: image.topic, type: image.type, stampNs: 7_000_000_123n, correctedNs: 0n, receiveNs: 0n, residualS: 0, flags: 0, messages: [image] }] });
    const ann = out.find((o) => o.topic === "/syncbag/suggestions/camera_front/annotations")!;
    assert.equal(ann.encoding, "cdr");
    assert.equal(ann.schemaName, "foxglove_msgs/ImageAnnotations");
    assert.equal(ann.publish, false);
    const decoded = defaultCodec().decode<{ points: { timestamp: { sec: number; nanosec: number } }[] }>(ann.schemaName, ann.data);
    assert.deepEqual(decoded.points.map((p) => p.timestamp), [{ sec: 7, nanosec: 123 }]);
  });
});

describe("suggest/camera", () => {
  const tf = new StaticTransforms();
  const q = (r: number, p: number, y: number): { x: number; y: number; z: number; w: number } => {
    const [cr, sr, cp, sp, cy, sy] = [Math.cos(r / 2), Math.sin(r / 2), Math.cos(p / 2), Math.sin(p / 2), Math.cos(y / 2), Math.sin(y / 2)];
    return { x: sr * cp * cy - cr * sp * sy, y: cr * sp * cy + sr * cp * sy, z: cr * cp * sy - sr * sp * cy, w: cr * cp * cy + sr * sp * sy };
  };
  tf.add({ transforms: [
    { header: { frame_id: "base_link" }, child_frame_id: "camera_front", transform: { translation: { x: 2, y: 0, z: 1.5 }, rotation: q(0, 0, 0) } },
    { header: { frame_id: "camera_front" }, child_frame_id: "camera_front_optical", transform: { translation: { x: 0, y: 0, z: 0 }, rotation: q(-Math.PI / 2, 0, -Math.PI / 2) } },
  ] });
  const k = intrinsicsFromCameraInfo({ width: 640, height: 360, k: [320, 0, 320, 0, 320, 180, 0, 0, 1], p: [], d: [0, 0, 0, 0, 0], distortion_model: "plumb_bob" })!;
  const view = cameraView("camera_front", "camera_front", k, tf)!;

  it("projects a box ahead to the image centre, drops boxes behind, marks occlusion and truncation", () => {
    const ahead = { box: { x: 12, y: 0, z: 1.5, yaw: 0, length: 4, width: 2, height: 1 }, vx: 0, vy: 0 };
    const behindIt = { box: { x: 22, y: 0, z: 1.5, yaw: 0, length: 4, width: 2, height: 1 }, vx: 0, vy: 0 };
    const behindCam = { box: { x: -10, y: 0, z: 1, yaw: 0, length: 4, width: 2, height: 1 }, vx: 0, vy: 0 };
    const side = { box: { x: 6, y: 6.5, z: 1, yaw: 0, length: 4, width: 2, height: 1.5 }, vx: 0, vy: 0 };
    const out = projectBoxes([ahead, behindIt, behindCam, side], view, 0, { speed: 0, yawRate: 0 });
    assert.deepEqual(out.map((o) => o.index).sort(), [0, 1, 3]);
    const a = out.find((o) => o.index === 0)!.box;
    // Near face at 8 m from the camera: half width 1 m → ±40 px; far face at 12 m.
    assert.ok(Math.abs((a.xMin + a.xMax) / 2 - 320) < 0.5 && Math.abs(a.xMax - a.xMin - 80) < 0.5, JSON.stringify(a));
    assert.ok(out.find((o) => o.index === 1)!.box.occlusion > 0.9);
    assert.equal(a.occlusion, 0);
    assert.equal(out.find((o) => o.index === 3)!.box.truncated, true);
  });

  it("drops boxes too small to label and boxes outside the image", () => {
    const far = { box: { x: 200, y: 0, z: 1, yaw: 0, length: 0.6, width: 0.6, height: 1.8 }, vx: 0, vy: 0 }; // ~1 px wide
    const near = { box: { x: 30, y: 0, z: 1, yaw: 0, length: 0.6, width: 0.6, height: 1.8 }, vx: 0, vy: 0 }; // ~7 px wide
    const outside = { box: { x: 5, y: 30, z: 1, yaw: 0, length: 4, width: 2, height: 1.5 }, vx: 0, vy: 0 }; // in front, off to the side
    const out = projectBoxes([far, near, outside], view, 0, { speed: 0, yawRate: 0 });
    assert.deepEqual(out.map((o) => o.index), [1]);
  });

  it("moves boxes to the camera's capture time (ego motion)", () => {
    const ahead = { box: { x: 12, y: 3, z: 1.5, yaw: 0, length: 4, width: 2, height: 1 }, vx: 0, vy: 0 };
    const now = projectBoxes([ahead], view, 0, { speed: 0, yawRate: 0 })[0]!.box;
    const later = projectBoxes([ahead], view, 0.1, { speed: 20, yawRate: 0 })[0]!.box;
    // The ego drove 2 m closer: the box looks bigger.
    assert.ok(later.xMax - later.xMin > (now.xMax - now.xMin) * 1.2);
  });
});
