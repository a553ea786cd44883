import assert from "node:assert/strict";
import { encodeSuggestionArray } from "../../src/suggest/output.js";
import { SuggestionCollector, toJsonLines, toOpenLabel } from "../../src/suggest/export.js";
import type { EventSuggestion, ObjectSuggestion } from "../../src/suggest/types.js";

const obj = (trackId: number, t: bigint, x: number): ObjectSuggestion => ({
  kind: "object", trackId, category: "car", confidence: 0.8, source: "lidar", frameId: "base_link", timeNs: t,
  box: { x, y: 1, z: 0.75, yaw: Math.PI / 2, length: 4.5, width: 1.8, height: 1.5 }, velocity: { x: 1, y: 0, z: 0 },
  boxes2d: [{ camera: "camera_front", frameId: "camera_front_optical", xMin: 100, yMin: 50, xMax: 200, yMax: 150, depth: 10, occlusion: 0.25, truncated: false }],
});
const ev: EventSuggestion = { kind: "event", trackId: 3, category: "hard_braking", confidence: 0.9, source: "telemetry", startNs: 1_150_000_000n, endNs: 1_250_000_000n, peakValue: -6.5 };

function collector(): SuggestionCollector {
  const c = new SuggestionCollector();
  const msg = (data: Uint8Array): Parameters<SuggestionCollector["add"]>[0] => ({ topic: "/syncbag/suggestions", type: "syncbag/LabelSuggestionArray", data, logTimeNs: 0n, publishTimeNs: 0n });
  for (let k = 0; k < 4; k++) {
    const t = 1_000_000_000n + BigInt(k) * 100_000_000n;
    c.add(msg(encodeSuggestionArray(t, "base_link", k === 2 ? [obj(7, t, 10)] : [obj(7, t, 10), obj(8, t, 20)])));
  }
  c.add(msg(encodeSuggestionArray(1_250_000_000n, "", [ev])));
  c.add(msg(new Uint8Array([0, 1, 0, 0])));
  return c;
}

describe("suggest/export", () => {
  it("writes ASAM OpenLABEL 1.0 with cuboids, bboxes, frame intervals and events", () => {
    const c = collector();
    assert.equal(c.malformed, 1);
    // Walked as plain JSON, as an annotation tool reads it.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ol = (JSON.parse(JSON.stringify(toOpenLabel(c))) as { openlabel: any }).openlabel;
    assert.equal(ol.metadata.schema_version, "1.0.0");
    assert.equal(Object.keys(ol.frames).length, 4);
    assert.equal(ol.frames["1"].frame_properties.timestamp, 1.1);
    const cuboid = ol.frames["0"].objects["7"].object_data.cuboid[0].val as number[];
    assert.equal(cuboid.length, 10);
    assert.deepEqual([cuboid[0], cuboid[7], cuboid[8], cuboid[9]], [10, 4.5, 1.8, 1.5]);
    assert.ok(Math.abs(cuboid[5]! - Math.SQRT1_2) < 1e-9 && Math.abs(cuboid[6]! - Math.SQRT1_2) < 1e-9, "quaternion of yaw π/2");
    assert.deepEqual(ol.frames["0"].objects["7"].object_data.bbox[0].val, [150, 100, 100, 100]);
    assert.deepEqual(ol.objects["8"].frame_intervals, [{ frame_start: 0, frame_end: 1 }, { frame_start: 3, frame_end: 3 }]);
    assert.equal(ol.objects["7"].type, "car");
    assert.deepEqual(ol.events["telemetry-3"].frame_intervals, [{ frame_start: 1, frame_end: 2 }]);
    assert.ok(ol.frames["2"].events["telemetry-3"]);
    assert.ok(ol.streams.camera_front && ol.coordinate_systems.base_link);
  });

  it("writes JSON Lines: one object suggestion per line, then events", () => {
    const lines = toJsonLines(collector()).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 8);
    assert.equal(lines[0]!["kind"], "object");
    assert.equal(lines[0]!["time_ns"], "1000000000");
    const last = lines[7]!;
    assert.deepEqual([last["kind"], last["category"], last["start_ns"], last["peak_value"]], ["event", "hard_braking", "1150000000", -6.5]);
  });
});
