import assert from "node:assert/strict";
import { builtinRigNames, loadRig, parseRigYaml, RigConfigError } from "../../src/sim/rig.js";

describe("sim rig YAML", () => {
  it("loads every built-in rig", () => {
    const names = builtinRigNames();
    for (const required of ["default", "standard", "sample-compact", "sample-faulty", "sample-step"]) assert.ok(names.includes(required), required);
    for (const name of names) assert.equal(loadRig(name).name, name);
    const standard = loadRig("standard");
    assert.equal(standard.lidar!.beams * standard.lidar!.columns, 262_144);
    assert.equal(standard.cameras.length, 3);
    assert.equal(loadRig("default").audio!.clock.latencyKnown, false);
  });

  it("names the key, the value and the expectation of a bad value", () => {
    assert.throws(
      () => parseRigYaml("name: x\nlidar:\n  clock:\n    driftPpm: 500\n"),
      (e: Error) => e instanceof RigConfigError && e.message.includes("lidar.clock.driftPpm") && e.message.includes("500") && /200/.test(e.message),
    );
    assert.throws(
      () => parseRigYaml("name: x\ncameras:\n  - { name: c, topic: /c, frameId: c, width: 10, height: 100, rateHz: 10, extrinsics: { x: 0, y: 0, z: 1 } }\n"),
      (e: Error) => e.message.includes("cameras.0.width") && e.message.includes("got 10"),
    );
  });

  it("refuses unknown keys and wrong types, naming them", () => {
    assert.throws(() => parseRigYaml("name: x\nlidar:\n  beamz: 32\n"), (e: Error) => e.message.includes("lidar") && e.message.includes("beamz"));
    assert.throws(() => parseRigYaml("name: x\nscenario:\n  events:\n    - { kind: fireworks, atS: 1 }\n"), (e: Error) => e.message.includes("scenario.events.0.kind") && e.message.includes("fireworks"));
    assert.throws(() => parseRigYaml("lidar: {}\n"), (e: Error) => e.message.includes("name") && e.message.includes("missing"));
  });

  it("checks cross-field rules: lidar latency covers the sweep, topics are unique", () => {
    assert.throws(() => parseRigYaml("name: x\nlidar:\n  clock: { latencyFixedS: 0.05 }\n"), (e: Error) => e.message.includes("lidar.clock.latencyFixedS"));
    assert.throws(() => parseRigYaml("name: x\nimu:\n  topic: /vehicle/telemetry\n"), (e: Error) => e.message.includes("imu.topic") && e.message.includes("already used"));
    assert.throws(() => loadRig("no-such-rig"), (e: Error) => e.message.includes("default") && e.message.includes("standard"));
  });
});
