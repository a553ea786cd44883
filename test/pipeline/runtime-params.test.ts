import assert from "node:assert/strict";
import { parseNodeConfig } from "../../src/pipeline/config.js";
import { applyRuntimeParameters, isRuntimeParameter, RUNTIME_PARAMETERS, runtimeRefusal } from "../../src/pipeline/runtime-params.js";
import { describeParameterSchema } from "../../src/transport/parameters.js";
import { NodeConfigSchema } from "../../src/pipeline/config.js";

describe("pipeline/runtime-params: ros2 param set while the node runs", () => {
  it("every run-time parameter is a declared node parameter", () => {
    const declared = new Set(describeParameterSchema(NodeConfigSchema).descriptors.map((d) => d.name));
    assert.ok(RUNTIME_PARAMETERS.length >= 10);
    for (const name of RUNTIME_PARAMETERS) {
      assert.ok(isRuntimeParameter(name), name);
      assert.ok(declared.has(name), `${name} is declared on the node`);
    }
  });

  it("refuses the others with the reason, one clause per parameter", () => {
    assert.equal(runtimeRefusal(["record.splitDurationS", "align.minConfidence"]), null);
    const refusal = runtimeRefusal(["output_dir", "align.sensors.imu.topic", "record.compression"]) ?? "";
    assert.match(refusal, /^output_dir cannot change while the node runs: the recording's folder is opened at start; restart the node with the new value/);
    assert.match(refusal, /align\.sensors\.imu\.topic cannot change while the node runs: the topics and clock models are set up at start/);
    assert.match(refusal, /record\.compression cannot change while the node runs: a file's compressor is made when it is opened/);
    assert.match(runtimeRefusal(["suggest.lidar.carMaxTop"]) ?? "", /the suggesters build their models from it at start/);
  });

  it("applies a change to the live config objects from the validated configuration, nested fields too", () => {
    const config = parseNodeConfig({ record: { splitDurationS: 2.5 }, suggest: { camera: { maxDepth: 80 } } });
    const live = { record: { splitDurationS: 0, compression: "zstd" }, align: {}, suggest: { camera: { maxDepth: 120, nearPlane: 0.3 } } };
    const lines = applyRuntimeParameters({ "record.splitDurationS": 2.5, "suggest.camera.maxDepth": 80 }, config, live);
    assert.deepEqual(live, { record: { splitDurationS: 2.5, compression: "zstd" }, align: {}, suggest: { camera: { maxDepth: 80, nearPlane: 0.3 } } });
    assert.deepEqual(lines, [
      "record.splitDurationS = 2.5 (was 0), applied checked at every message",
      "suggest.camera.maxDepth = 80 (was 120), applied for the next projections",
    ]);
    assert.match(applyRuntimeParameters({ "suggest.egoWaitS": 0.5 }, config, { record: {} })[0]!, /this node runs no suggest stage/);
  });
});
