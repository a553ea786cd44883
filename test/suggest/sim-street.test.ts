/**
 * Lidar suggestions on the simulator's cluttered street (the default scenario: parked rows bumper
 * to bumper, street trees over the parking strip, hedges, walls and fences, cones and barriers,
 * people in groups and beside poles). Pedestrians and cyclists meet the recall target
 * (≥ 0.7, matched at BEV IoU ≥ 0.25 as on the real sweeps), and id switches its ≤ 5 per 100
 * track-s; both are held to it. The vehicle targets (car/truck recall ≥ 0.9 and precision ≥ 0.85)
 * are NOT met here yet; this test holds the level reached so that a change which loses ground
 * fails, and prints the figures beside the targets (SYNCBAG_SUGGEST_VERBOSE=1). Raise the floors as
 * the proposer improves.
 */
import assert from "node:assert/strict";
import { loadRig } from "../../src/sim/rig.js";
import { runSimulatedDrive, type SimRun } from "./sim-harness.js";

describe("suggest: the simulator's cluttered street (level reached, below target)", function () {
  this.timeout(300_000);
  const runs: SimRun[] = [];
  before(() => {
    const rig = loadRig("default");
    assert.ok(rig.scenario.structure.parkedShare > 0 && rig.scenario.structure.hedgeShare > 0, "the default scenario is the cluttered street");
    for (const seed of [1, 2]) runs.push(runSimulatedDrive({ seed, durationS: 20, scenario: { events: [] } }));
  });

  it("holds cars, trucks, pedestrians, cyclists and id switches at the level reached", () => {
    for (const r of runs) {
      const e = r.evaluation, seed = r.truth.seed;
      const line = ["car", "truck", "pedestrian", "cyclist"].map((c) => `${c} ${e.lidar[c]!.recall.toFixed(3)}/${e.lidar[c]!.precision.toFixed(3)} (${e.lidar[c]!.truth})`).join(", ");
      if (process.env["SYNCBAG_SUGGEST_VERBOSE"]) console.log(`street seed ${seed}: ${line}; id switches ${e.idSwitchesPer100TrackS.toFixed(2)} per 100 track-s (targets 0.9/0.85 vehicles, 0.7 recall people, ≤ 5)`);
      const car = e.lidar["car"]!;
      assert.ok(car.truth >= 200, `seed ${seed}: parked rows give many car boxes (${car.truth})`);
      assert.ok(car.recall >= FLOOR.carRecall, `seed ${seed}: car recall ${car.recall} (${line})`);
      assert.ok(car.precision >= FLOOR.carPrecision, `seed ${seed}: car precision ${car.precision} (${line})`);
      for (const c of ["pedestrian", "cyclist"]) {
        const s = e.lidar[c]!;
        if (s.truth >= 20) assert.ok(s.recall >= 0.7, `seed ${seed}: ${c} recall ${s.recall} (${line})`);
      }
      assert.ok(e.idSwitchesPer100TrackS <= 5, `seed ${seed}: ${e.idSwitchesPer100TrackS} id switches per 100 track-s`);
    }
  });
});

/**
 * The level reached (2026-12-07, cars shaped as body and cabin and no flat sheet named a car: seed 1
 * car 0.88/0.59; seed 2 car 0.95/0.60), a little under it so noise does not fail it. People then:
 * pedestrians 0.73 and 0.74, cyclists 0.90 (seed 1; seed 2 has none); id switches 3.7 and 0.9
 * (8.6 on seed 1 before hidden parked cars' tracks were held, tracker.ts).
 */
const FLOOR = { carRecall: 0.8, carPrecision: 0.5 };
