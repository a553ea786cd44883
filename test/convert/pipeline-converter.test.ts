import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { alignmentConfigForTopics } from "../../src/convert/pipeline-converter.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { packageRoot } from "../../src/messages/catalogue.js";
import { StaticTransforms } from "../../src/pipeline/tf.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { loadRig } from "../../src/sim/rig.js";
import { loadTruth } from "../../src/sim/truth.js";

describe("convert: the pipeline converter's sensor configuration", function () {
  const drive = join(packageRoot(), "bags", "sample", "drive-compact-s7");
  before(function () {
    if (!existsSync(drive)) this.skip(); // pending: the sample fleet is absent
  });

  it("recovers the rig's sensors, known latencies and camera azimuths from the recording, its /tf_static and truth", async () => {
    const source = await openRecording(drive);
    const tf = new StaticTransforms();
    for await (const m of source.messages()) {
      if (m.topic === "/tf_static") {
        tf.add(defaultCodec().decode(m.type, m.data));
        break;
      }
    }
    await source.close();
    const truth = await loadTruth(`${drive}.truth.json`);
    const fromRecording = alignmentConfigForTopics(source.topics, truth, tf);
    const fromRig = alignmentConfigForRig(loadRig(truth.rig));
    const byName = new Map(fromRecording.sensors!.map((s) => [s.name, s]));
    assert.equal(byName.size, fromRig.sensors!.length);
    for (const expected of fromRig.sensors!) {
      const got = byName.get(expected.name);
      assert.ok(got !== undefined, `${expected.name} found`);
      assert.equal(got.topic, expected.topic);
      assert.equal(got.modality, expected.modality);
      assert.deepEqual(got.clock, expected.clock, `${expected.name}: calibration`);
      if (expected.modality === "camera") assert.ok(Math.abs(got.cameraAzimuthRad! - expected.cameraAzimuthRad!) < 1e-6, `${expected.name}: azimuth ${got.cameraAzimuthRad} vs ${expected.cameraAzimuthRad}`);
    }
  });
});
