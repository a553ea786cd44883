/**
 * The lidar proposer on the shared real labelled sweeps (KITTI HDL-64, Argoverse 2 2×VLP-32C,
 * PandaSet Pandar64), scored as `syncbag eval-lidar` scores them. The floors are the level the
 * proposer reached (README "Figures"), a little under it: the test fails when it regresses.
 * The data stay in ../shared (non-commercial terms): the test skips where they are absent.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluateThroughPipeline, formatTracked } from "../../src/convert/eval-tracked.js";
import { evaluateRealSweeps, formatRealEvaluation, loadRealSweeps, type RealEvaluation, type RealSweep } from "../../src/suggest/eval-lidar.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../shared/real-labelled-lidar");

describe("suggest/lidar on real labelled sweeps (../shared/real-labelled-lidar)", function () {
  this.timeout(120_000);
  let e: RealEvaluation;
  let sweeps: RealSweep[];
  before(async function () {
    if (!existsSync(join(DIR, "index.json"))) {
      console.log(`    skipped: ${DIR}/index.json not found (the shared real sweeps are kept outside the repository)`);
      this.skip();
    }
    sweeps = await loadRealSweeps(DIR);
    e = evaluateRealSweeps(sweeps);
    if (process.env["SYNCBAG_SUGGEST_VERBOSE"]) console.log(formatRealEvaluation(e));
  });

  it("reads all 11 sweeps of the three rigs", () => {
    assert.equal(e.sweeps, 11);
    assert.deepEqual(Object.keys(e.datasets).sort(), ["all", "argoverse2", "kitti", "pandaset"]);
    assert.ok(e.datasets["all"]!.proposer.classes.car.truth >= 130, "the car labels counted (≥ 10 returns within 50 m)");
  });

  it("holds the level reached over all sweeps: car recall ≥ 0.52 / precision ≥ 0.67, four classes precision ≥ 0.49, pedestrians+cyclists recall ≥ 0.46", () => {
    // Reached 2026-12-07: 0.530 / 0.696, 0.516, 0.538 (a floor a little under it: one car moves recall 0.0075; one person moves the last 0.077).
    const p = e.datasets["all"]!.proposer;
    assert.ok(p.carRecall >= 0.52, `car recall ${p.carRecall}`);
    assert.ok(p.carPrecision >= 0.67, `car precision ${p.carPrecision}`);
    assert.ok(p.allPrecision >= 0.49, `four-class precision ${p.allPrecision}`);
    assert.ok(p.vruRecall >= 0.46, `pedestrian+cyclist recall ${p.vruRecall}`);
  });

  it("beats the grid-clustering baseline of the same run: ≥ 2× its car recall and ≥ 3× its four-class precision", () => {
    const { proposer: p, baseline: b } = e.datasets["all"]!;
    assert.ok(p.carRecall >= 2 * b.carRecall, `${p.carRecall} vs ${b.carRecall}`);
    assert.ok(p.allPrecision >= 3 * b.allPrecision, `${p.allPrecision} vs ${b.allPrecision}`);
  });

  it("holds on each rig, not on one: car recall ≥ 0.4 on Argoverse 2 and PandaSet, four-class precision over the baseline's on every rig", () => {
    for (const d of ["argoverse2", "pandaset"]) assert.ok(e.datasets[d]!.proposer.carRecall >= 0.4, `${d}: ${e.datasets[d]!.proposer.carRecall}`);
    for (const d of ["kitti", "argoverse2", "pandaset"]) assert.ok(e.datasets[d]!.proposer.allPrecision > e.datasets[d]!.baseline.allPrecision, d);
  });

  it("publishes a calibrated confidence: expected calibration error ≤ 0.1 as shipped, ≤ 0.2 with factors fitted on the other rigs, under half the raw score's", () => {
    // Reached 2026-12-07: raw 0.336, published 0.070, leave-one-dataset-out 0.159 (calibrate.ts).
    const k = e.confidence;
    assert.ok(k.publishedEce <= 0.1, `published ECE ${k.publishedEce}`);
    assert.ok(k.heldOutEce <= 0.2 && k.heldOutEce < k.rawEce / 2, `held-out ECE ${k.heldOutEce}, raw ${k.rawEce}`);
  });

  it("publishes through the pipeline what the proposer finds: each sweep as a recording (10× at 10 Hz) converted as `syncbag convert` does, the last LabelSuggestionArray scores within 0.05 of one sweep's proposals (one sweep per rig)", async () => {
    // The issue's own protocol: what an annotator receives (tracks confirmed, classes by vote), not
    // only what the proposer holds. A pipeline that loses, moves or re-sizes boxes fails here.
    const picked = ["kitti/000003", "argoverse2/", "pandaset/006560"].map((k) => sweeps.find((s) => `${s.dataset}/${s.frame}`.startsWith(k))!);
    const t = await evaluateThroughPipeline(picked);
    const p = evaluateRealSweeps(picked).datasets["all"]!.proposer, q = t.datasets["all"]!;
    if (process.env["SYNCBAG_SUGGEST_VERBOSE"]) console.log(formatTracked(t, { all: p }));
    assert.ok(q.classes.car.truth >= 30 && q.classes.car.truth === p.classes.car.truth, `cars scored: ${q.classes.car.truth}`);
    assert.ok(q.carRecall >= p.carRecall - 0.05, `published car recall ${q.carRecall} vs proposals ${p.carRecall}`);
    assert.ok(q.carPrecision >= p.carPrecision - 0.05, `published car precision ${q.carPrecision} vs proposals ${p.carPrecision}`);
    assert.ok(q.allPrecision >= p.allPrecision - 0.05, `published four-class precision ${q.allPrecision} vs proposals ${p.allPrecision}`);
  });
});
