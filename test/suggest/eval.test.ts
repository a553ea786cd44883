import assert from "node:assert/strict";
import { bevIntersection, bevIoU, countTruthPoints, evaluateSuggestions, suggestionTargetMisses, type FrameRecord } from "../../src/suggest/eval.js";
import type { ObjectSuggestion } from "../../src/suggest/types.js";
import type { TruthFile } from "../../src/sim/truth.js";

/** A truth file with the ego parked at the origin and actors standing still, 2 s long. */
function still(actors: { id: number; cls: "car" | "pedestrian"; x: number; y: number; size: [number, number, number] }[]): TruthFile {
  const pose = (x: number, y: number, tNs: string) => ({ tNs, x, y, z: 0.75, yaw: 0, vx: 0, vy: 0 });
  const span = (x: number, y: number) => [pose(x, y, "0"), pose(x, y, "2000000000")];
  return {
    version: 1, seed: 0, rig: "test", scenario: "still", startNs: "0", endNs: "2000000000", sensors: [], messages: {}, events: [],
    ego: span(0, 0),
    actors: actors.map((a) => ({ id: a.id, class: a.cls, size: { x: a.size[0], y: a.size[1], z: a.size[2] }, track: span(a.x, a.y) })),
  };
}

function object(trackId: number, category: string, x: number, y: number, length: number, width: number): ObjectSuggestion {
  return { kind: "object", trackId, category, confidence: 0.9, source: "lidar", frameId: "base_link", box: { x, y, z: 0.75, yaw: 0, length, width, height: 1.5 }, velocity: { x: 0, y: 0, z: 0 }, timeNs: 0n, boxes2d: [] };
}

describe("suggest/eval: scoring rules", () => {
  const truth = still([
    { id: 1, cls: "car", x: 10, y: 0, size: [4.6, 1.9, 1.5] },
    { id: 2, cls: "car", x: 30, y: 3, size: [4.6, 1.9, 1.5] }, // hidden: 5 returns
    { id: 3, cls: "pedestrian", x: 8, y: 6, size: [0.6, 0.6, 1.75] },
  ]);
  const frames = (objects: (k: number) => ObjectSuggestion[]): FrameRecord[] =>
    Array.from({ length: 10 }, (_, k) => ({ timeNs: BigInt(1_000_000_000 + k * 100_000_000), objects: objects(k), truthPoints: new Map([[1, 200], [2, 5], [3, 40]]) }));

  it("matches at BEV IoU ≥ 0.5 per class, counts wrong classes against precision, and id switches", () => {
    const e = evaluateSuggestions(truth, frames((k) => [object(k < 5 ? 7 : 8, "car", 10.3, 0.1, 4.5, 1.85), object(9, "cyclist", 8, 6, 0.6, 0.6), object(10, "car", -20, 0, 4.5, 1.85)]), []);
    assert.deepEqual([e.lidar["car"]!.truth, e.lidar["car"]!.matched, e.lidar["car"]!.predicted, e.lidar["car"]!.correct], [10, 10, 20, 10]);
    assert.deepEqual([e.lidar["pedestrian"]!.truth, e.lidar["pedestrian"]!.matched], [10, 0]);
    assert.deepEqual([e.lidar["cyclist"]!.predicted, e.lidar["cyclist"]!.correct], [10, 0]);
    assert.equal(e.idSwitches, 1);
  });

  it("matches people at BEV IoU ≥ 0.25 and vehicles at ≥ 0.5, as eval-lidar scores real sweeps", () => {
    // A person's box 0.25 m off (IoU 0.41 with the 0.6 m truth) and a car's 1.6 m off (IoU 0.48).
    const person = object(12, "pedestrian", 8.25, 6, 0.6, 0.6), car = object(13, "car", 11.6, 0, 4.6, 1.9);
    assert.ok(bevIoU(person.box, { x: 8, y: 6, z: 0.75, yaw: 0, length: 0.6, width: 0.6, height: 1.75 }) < 0.5);
    const e = evaluateSuggestions(truth, frames(() => [person, car]), []);
    assert.equal(e.lidar["pedestrian"]!.matched, 10);
    assert.equal(e.lidar["car"]!.matched, 0);
    // One threshold for all classes when asked for.
    const strict = evaluateSuggestions(truth, frames(() => [person, car]), [], { iouThreshold: 0.5 });
    assert.equal(strict.lidar["pedestrian"]!.matched, 0);
    // A person 0.4 m off (IoU 0.2) is not matched.
    const far = evaluateSuggestions(truth, frames(() => [object(12, "pedestrian", 8.4, 6, 0.6, 0.6)]), []);
    assert.equal(far.lidar["pedestrian"]!.matched, 0);
  });

  it("neither credits nor blames a box on an object too few rays reached, however small the box", () => {
    // A person-sized sliver of the hidden car: IoU with it 0.04, but it lies on it.
    const sliver = object(11, "pedestrian", 28.4, 2.6, 0.6, 0.6);
    assert.ok(bevIoU(sliver.box, { x: 30, y: 3, z: 0.75, yaw: 0, length: 4.6, width: 1.9, height: 1.5 }) < 0.1);
    assert.ok(Math.abs(bevIntersection(sliver.box, sliver.box) - 0.36) < 1e-9);
    const e = evaluateSuggestions(truth, frames(() => [sliver]), []);
    assert.equal(e.lidar["pedestrian"]!.predicted, 0);
    assert.equal(e.lidar["car"]!.truth, 10, "the hidden car is not counted either");
    // The same box off the hidden car is a false suggestion.
    const off = evaluateSuggestions(truth, frames(() => [object(11, "pedestrian", 24, 2.6, 0.6, 0.6)]), []);
    assert.equal(off.lidar["pedestrian"]!.predicted, 10);
  });

  it("names every target a drive misses, and judges nothing it has no truth for", () => {
    const good = evaluateSuggestions(truth, frames(() => [object(7, "car", 10.3, 0.1, 4.5, 1.85), object(9, "pedestrian", 8, 6, 0.6, 0.6)]), []);
    assert.deepEqual(suggestionTargetMisses(good), [], "a perfect drive; no truck, cyclist, camera or event truth to judge");
    const poor = evaluateSuggestions(truth, frames((k) => [object(k, "car", 10.3, 0.1, 4.5, 1.85), object(50, "car", -20, 0, 4.5, 1.85), ...(k < 5 ? [object(9, "pedestrian", 8, 6, 0.6, 0.6)] : [])]), []);
    assert.deepEqual(suggestionTargetMisses(poor), ["car precision 0.500 < 0.85", "pedestrian recall 0.500 < 0.7", "id switches per 100 track-s 600.00 > 5"]);
  });

  it("scores a recording cut short only on the truth events over before its end", () => {
    const withEvents: TruthFile = { ...truth, endNs: "10000000000", events: [
      { kind: "hard_braking", startNs: "2000000000", endNs: "3000000000", peak: -5 },
      { kind: "sharp_turn", startNs: "6000000000", endNs: "8000000000", peak: 0.4 },
    ] };
    const braking = { kind: "event" as const, trackId: 1, category: "hard_braking", confidence: 0.9, source: "telemetry" as const, startNs: 2_050_000_000n, endNs: 2_900_000_000n, peakValue: -5 };
    const whole = evaluateSuggestions(withEvents, [], [braking]);
    assert.equal(whole.telemetry.recall, 0.5, "the whole drive: the turn was missed");
    const cut = evaluateSuggestions(withEvents, [], [braking], { untilNs: 5_000_000_000n });
    assert.equal(cut.telemetry.recall, 1, "cut at 5 s: the turn is not in the recording");
    assert.ok(Math.abs(cut.telemetry.falseEventsPer10Min) < 1e-9 && cut.telemetry.events.length === 1);
    // A recording ending within a second of the drive covers it.
    assert.equal(evaluateSuggestions(withEvents, [], [braking], { untilNs: 9_500_000_000n }).telemetry.recall, 0.5);
  });

  it("counts a person's returns, not the pole's beside them (visibility for scoring)", () => {
    // A person 8 m ahead-left (box top 1.75 m) and a pole 0.5 m beyond them: 5 head-height
    // returns on the person, 10 on the pole from 2.3 m up, all within the 0.8 m motion margin.
    const pts: number[] = [];
    for (let k = 0; k < 5; k++) pts.push(8 - 0.2 + 0.1 * k, 6, 1.5);
    for (let k = 0; k < 10; k++) pts.push(8.5, 6.3, 2.3 + 0.35 * k);
    const data = new Uint8Array(pts.length * 4), view = new DataView(data.buffer);
    pts.forEach((v, i) => view.setFloat32(i * 4, v, true));
    const counts = countTruthPoints(truth, { data, pointStep: 12, count: pts.length / 3, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, { x: 0, y: 0, z: 0, yaw: 0 }, 1_000_000_000n);
    assert.equal(counts.get(3), 5);
  });
});
