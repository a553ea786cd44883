import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calibrated, fitConfidenceScale } from "../../src/suggest/calibrate.js";
import { auditLabels, calibration, carViews, evaluateRealSweeps, formatRealEvaluation, gridBaseline, loadRealSweeps, scoreSweep, summarise, type Prediction, type RealSweep } from "../../src/suggest/eval-lidar.js";
import type { Box3D } from "../../src/suggest/types.js";

const box = (x: number, y: number, length: number, width: number, height = 1.5): Box3D => ({ x, y, z: height / 2, yaw: 0, length, width, height });
const pred = (category: string, b: Box3D, confidence = 0.8): Prediction => ({ category, confidence, box: b });

function sweep(labels: RealSweep["labels"], cameraFovOnly = false): RealSweep {
  return { dataset: "t", frame: "0", view: { data: new Uint8Array(0), pointStep: 16, count: 0, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, mount: { x: 0, y: 0, z: 1.7, yaw: 0 }, labels, cameraFovOnly };
}

describe("suggest/eval-lidar: real-sweep scoring rules", () => {
  it("scores confidence calibration as a reliability diagram and its expected calibration error", () => {
    // Ten boxes at 0.9 of which 9 right, ten at 0.5 of which 2 right: ECE = ½·0 + ½·|0.2 − 0.5| = 0.15.
    const pairs: [number, boolean][] = [...Array.from({ length: 10 }, (_, i): [number, boolean] => [0.9, i < 9]), ...Array.from({ length: 10 }, (_, i): [number, boolean] => [0.5, i < 2])];
    const c = calibration(pairs);
    assert.ok(Math.abs(c.ece - 0.15) < 1e-9, `ECE ${c.ece}`);
    assert.deepEqual(c.bins.map((b) => [b.boxes, b.correct]), [[0, 0], [0, 0], [10, 2], [0, 0], [10, 9]]);
    assert.ok(Number.isNaN(calibration([]).ece));
    // The factor: Laplace-smoothed share right (12/22) over the mean confidence (0.7).
    assert.ok(Math.abs(fitConfidenceScale(pairs) - 12 / 22 / 0.7) < 1e-9);
    assert.equal(fitConfidenceScale([]), 1);
    // Published = raw × the class's factor, inside (0, 1); an unknown class is left as it is.
    assert.ok(Math.abs(calibrated("pedestrian", 0.9, { pedestrian: 0.3 }) - 0.27) < 1e-9);
    assert.equal(calibrated("car", 0.99, { car: 2 }), 0.99);
    assert.equal(calibrated("toString", 0.5, { car: 2 }), 0.5);
  });

  const labels: RealSweep["labels"] = [
    { category: "car", sourceClass: "car", box: box(10, 0, 4.5, 1.9), points: 300 },
    { category: "pedestrian", sourceClass: "pedestrian", box: box(8, 5, 0.6, 0.6, 1.8), points: 60 },
    { category: "car", sourceClass: "car", box: box(20, -8, 4.5, 1.9), points: 6 }, // too few returns: not counted
    { category: null, sourceClass: "static_object", box: box(6, -4, 0.5, 0.5, 1), points: 40 },
    { category: "truck", sourceClass: "bus", box: box(60, 0, 10, 2.5, 3), points: 400 }, // beyond 50 m
  ];

  it("matches vehicles at IoU ≥ 0.5 and people at ≥ 0.25, ignores boxes on uncounted labels, counts the rest as false", () => {
    const o = scoreSweep(sweep(labels), [
      pred("car", box(10.5, 0, 4.5, 1.9)), // IoU 0.8: true
      pred("pedestrian", box(8.25, 5.1, 0.6, 0.6)), // IoU ≈ 0.35: true at 0.25, would not be at 0.5
      pred("car", box(20, -8, 4.4, 1.8)), // on a car with 6 returns: neither
      pred("pedestrian", box(6, -4, 0.5, 0.5)), // on a cone: neither
      pred("truck", box(30, 10, 9, 2.5)), // nothing there: false
      pred("unknown", box(12, 12, 2, 2)), // not a road-user class: not counted
    ]);
    const f = summarise([o]);
    assert.equal(f.classes.car.truth, 1);
    assert.equal(f.classes.car.matched, 1);
    assert.equal(f.classes.car.predicted, 1);
    assert.equal(f.classes.pedestrian.matched, 1);
    assert.equal(f.classes.truck.truth, 0);
    assert.equal(f.classes.truck.predicted, 1);
    assert.equal(f.allPrecision, 2 / 3);
    assert.equal(f.vruRecall, 1);
    assert.equal(o.falses.length, 1);
    assert.equal(o.falses[0]!.category, "truck");
  });

  it("a wrong class is a miss and a false box; a vehicle box off by IoU < 0.5 misses", () => {
    const o = scoreSweep(sweep(labels), [pred("truck", box(10, 0, 4.5, 1.9)), pred("pedestrian", box(9, 6, 0.6, 0.6))]);
    const f = summarise([o]);
    assert.equal(f.carRecall, 0);
    assert.equal(f.allPrecision, 0);
    assert.equal(o.misses.length, 2);
  });

  it("where labels cover the camera's view only, boxes outside ±45° are ignored", () => {
    const o = scoreSweep(sweep(labels, true), [pred("car", box(10, 0, 4.5, 1.9)), pred("car", box(0, 15, 4.5, 1.9)), pred("car", box(-12, 0, 4.5, 1.9))]);
    assert.equal(summarise([o]).carPrecision, 1);
    const all = scoreSweep(sweep(labels, false), [pred("car", box(10, 0, 4.5, 1.9)), pred("car", box(0, 15, 4.5, 1.9))]);
    assert.equal(summarise([all]).carPrecision, 0.5);
  });

  it("the grid baseline boxes a cluster of points above the ground", () => {
    const pts: number[] = [];
    for (let i = 0; i < 40; i++) pts.push(10 + (i % 8) * 0.5, (Math.floor(i / 8) % 4) * 0.5, -0.5 + (i % 3) * 0.3, 0);
    pts.push(5, 5, -1.7, 0); // ground
    const data = new Uint8Array(new Float32Array(pts).buffer);
    const out = gridBaseline({ data, pointStep: 16, count: pts.length / 4, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, { x: 0, y: 0, z: 1.7, yaw: 0 });
    assert.equal(out.length, 1);
    assert.equal(out[0]!.category, "car");
    assert.ok(Math.abs(out[0]!.box.length - 3.5) < 1e-6);
  });

  it("sorts scored cars by how much of them the sweep shows: most of a side, part of it, a corner", () => {
    // Mount 1.7 m up: a return at sensor z = h − 1.7 is h over the ground.
    const pts: number[] = [];
    for (let u = -2.2; u <= 2.2; u += 0.1) pts.push(10 + u, -0.95, 0.8 - 1.7, 0); // a whole side of the car at (10, 0)
    for (let u = -0.4; u <= 0.4; u += 0.1) pts.push(20 + u, 9.05, 0.8 - 1.7, 0); // 0.8 m of the one at (20, 10): under 30 %
    for (let u = -1.2; u <= 0.35; u += 0.1) pts.push(30 + u, -19.05, 0.8 - 1.7, 0); // 1.5 m of the one at (30, −20): 30–60 %
    for (let u = -2.2; u <= 2.2; u += 0.1) pts.push(40 + u, 0.95, 0.1 - 1.7, 0); // ground-level returns only: not the car's body
    const data = new Uint8Array(new Float32Array(pts).buffer);
    const cars = [box(10, 0, 4.5, 1.9), box(20, 10, 4.5, 1.9), box(30, -20, 4.5, 1.9), box(40, 0, 4.5, 1.9)];
    const s = { ...sweep(cars.map((b) => ({ category: "car" as const, sourceClass: "car", box: b, points: 50 }))), view: { data, pointStep: 16, count: pts.length / 4, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true } };
    const views = carViews(s);
    assert.deepEqual(cars.map((b) => views.get(b)), ["most", "fragment", "part", "fragment"]);
  });

  it("the label audit doubts a box turned 90° from its returns and a second label on one object, never the first", () => {
    const pts: number[] = [];
    for (let u = -2.2; u <= 2.2; u += 0.1) pts.push(10 + u, -0.95, 0.8 - 1.7, 0); // the side of a car along x at (10, 0)
    for (let u = -2.2; u <= 2.2; u += 0.1) pts.push(20 - 0.95, -10 + u, 0.8 - 1.7, 0); // a car along y at (20, −10), labelled along x
    const data = new Uint8Array(new Float32Array(pts).buffer);
    const asGiven = box(10, 0, 4.5, 1.9), copy = { ...box(10, 0, 4.5, 1.9), x: 10.02 }, turned = box(20, -10, 4.5, 1.9);
    const car = (b: Box3D) => ({ category: "car" as const, sourceClass: "car", box: b, points: 45 });
    const s = { ...sweep([car(asGiven), car(copy), car(turned), { category: "pedestrian" as const, sourceClass: "pedestrian", box: box(30, 5, 0.6, 0.6, 1.8), points: 40 }]), view: { data, pointStep: 16, count: pts.length / 4, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true } };
    const doubts = auditLabels(s);
    assert.deepEqual(doubts.map((d) => [d.box, d.reason]), [[copy, "duplicate"], [turned, "turned"]]);
  });

  it("scores a rider by Argoverse 2's name as a cyclist, and reports class names it does not know instead of dropping them unseen", async () => {
    const dir = await mkdtemp(join(tmpdir(), "eval-lidar-"));
    try {
      await writeFile(join(dir, "index.json"), JSON.stringify([{ dataset: "d", frame: "f" }]));
      await mkdir(join(dir, "d", "f"), { recursive: true });
      await writeFile(join(dir, "d", "f", "points.bin"), new Uint8Array(32));
      await writeFile(join(dir, "d", "f", "meta.json"), JSON.stringify({ sensor_height_m: 1.7 }));
      const label = (cls: string, x: number) => ({ class: cls, x, y: 0, z: 0, l: 1.8, w: 0.6, h: 1.7, yaw: 0, num_points: 50 });
      await writeFile(join(dir, "d", "f", "labels.json"), JSON.stringify([label("bicyclist", 8), label("hoverboard", 12), label("hoverboard", 16), label("toString", 20)]));
      const sweeps = await loadRealSweeps(dir);
      assert.deepEqual(sweeps[0]!.labels.map((l) => l.category), ["cyclist", null, null, null]);
      const e = evaluateRealSweeps(sweeps);
      assert.deepEqual(e.unknownClasses, { hoverboard: 2, toString: 1 });
      assert.match(formatRealEvaluation(e), /label classes not known to the scorer, taken as ignore regions \(neither missed nor false\): hoverboard \(2\), toString \(1\)/);
      assert.equal(e.datasets["all"]!.proposer.classes.cyclist.truth, 1);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("names the file and the problem on bad input", async () => {
    const dir = await mkdtemp(join(tmpdir(), "eval-lidar-"));
    try {
      await assert.rejects(loadRealSweeps(dir), /index\.json: not found/);
      await writeFile(join(dir, "index.json"), JSON.stringify([{ dataset: "d", frame: "f" }]));
      await mkdir(join(dir, "d", "f"), { recursive: true });
      await writeFile(join(dir, "d", "f", "points.bin"), new Uint8Array(10));
      await assert.rejects(loadRealSweeps(dir), /points\.bin: 10 bytes is not a whole number/);
      await writeFile(join(dir, "d", "f", "points.bin"), new Uint8Array(32));
      await writeFile(join(dir, "d", "f", "meta.json"), JSON.stringify({ sensor_height_m: null }));
      await assert.rejects(loadRealSweeps(dir), /ground_z_estimate_in_lidar_frame/);
      await writeFile(join(dir, "d", "f", "meta.json"), JSON.stringify({ sensor_height_m: 1.7 }));
      await writeFile(join(dir, "d", "f", "labels.json"), JSON.stringify([{ class: "car", x: 1, y: 2, z: 0, l: 4, w: 2, h: 1.5, yaw: 0 }]));
      await assert.rejects(loadRealSweeps(dir), /box 0 num_points: expected a number/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
