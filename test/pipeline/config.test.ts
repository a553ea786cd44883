import assert from "node:assert/strict";
import { describeParameterSchema, formatParameterTable } from "../../src/transport/parameters.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { packageRoot } from "../../src/messages/catalogue.js";
import { NodeConfigSchema, parseNodeConfig } from "../../src/pipeline/config.js";

import { readParamsFile } from "../../src/pipeline/params-file.js";
import { paramsYamlForRig } from "../../src/cli/commands/params.js";

describe("node configuration", () => {
  for (const file of ["real_rig.yaml", "sim_rig.yaml"]) {
    it(`launch/params/${file} is a valid configuration`, async () => {
      const config = parseNodeConfig(await readParamsFile(join(packageRoot(), "launch", "params", file), "syncbag"));
      assert.ok(config.align.sensors.length >= 7);
      assert.ok(config.align.sensors.some((s) => s.modality === "lidar"));
    });
  }

  it("the committed sim_rig.yaml is what `syncbag params --rig default` generates", async () => {
    const committed = await readFile(join(packageRoot(), "launch", "params", "sim_rig.yaml"), "utf8");
    assert.ok(committed.endsWith(paramsYamlForRig("default")), "regenerate: npm run -s syncbag -- params --rig default");
  });

  it("refuses a bad value naming the key, the value and what was expected", () => {
    assert.throws(() => parseNodeConfig({ record: { compression: "gzip" } }), /record\.compression: .*"gzip"/);
    assert.throws(() => parseNodeConfig({ align: { sensors: { cam: { topic: "/c", type: "sensor_msgs/Image", modality: "camera", toleranceMs: -1 } } } }), /align\.sensors\.cam\.toleranceMs: .*\(got -1\)/);
    assert.throws(() => parseNodeConfig({ no_such_key: 1 }), /no_such_key|Unrecognized/);
  });

  it("reads sensors given as a map by name (ROS parameters hold no list of maps)", () => {
    const config = parseNodeConfig({ align: { sensors: { front: { topic: "/f", type: "sensor_msgs/CompressedImage", modality: "camera" } } } });
    assert.equal(config.align.sensors[0]!.name, "front");
    assert.equal(config.align.sensors[0]!.clock.mode, "estimate");
  });

  it("every label-suggestion setting is a described ROS 2 parameter (the speed limit too)", () => {
    const { descriptors } = describeParameterSchema(NodeConfigSchema);
    const suggest = descriptors.filter((d) => d.name.startsWith("suggest.") && !d.name.startsWith("suggest.plugins"));
    assert.ok(suggest.length > 50, `${suggest.length} suggest parameters`);
    for (const d of suggest) assert.ok((d.description ?? "").length > 10, `${d.name}: no description`);
    assert.ok(suggest.some((d) => d.name === "suggest.telemetry.speedLimit" && d.kind === "double"));
    assert.equal(parseNodeConfig({ suggest: { telemetry: { speedLimit: 13.9 } } }).suggest.telemetry.speedLimit, 13.9);
  });

  it("the README's parameter table is the one generated from the schema", async () => {
    const readme = await readFile(join(packageRoot(), "README.md"), "utf8");
    assert.ok(readme.includes(formatParameterTable(describeParameterSchema(NodeConfigSchema))), "regenerate: npm run -s syncbag -- params --markdown");
  });
});
