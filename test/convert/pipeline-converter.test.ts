import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alignmentConfigForTopics, pipelineConverter } from "../../src/convert/pipeline-converter.js";
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

describe("convert: the pipeline converter's output bytes", function () {
  this.timeout(120_000);
  const drive = join(packageRoot(), "bags", "sample", "drive-faulty-s11");
  let dir = "";
  before(async function () {
    if (!existsSync(drive)) this.skip(); // pending: the sample fleet is absent
    dir = await mkdtemp(join(tmpdir(), "syncbag-determinism-"));
  });
  after(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  async function convert(name: string): Promise<{ hash: string; firstPassS: number | undefined }> {
    const source = await openRecording(drive);
    const mcapPath = join(dir, `${name}.mcap`);
    try {
      const report = await pipelineConverter(source, { mcapPath, reportPath: join(dir, `${name}.json`) }, { drive: "drive-faulty-s11", msgPaths: [], truthPath: `${drive}.truth.json` }, () => undefined);
      return { hash: createHash("sha256").update(await readFile(mcapPath)).digest("hex"), firstPassS: report.firstPassS };
    } finally {
      await source.close();
    }
  }

  it("are the same on every run, however loaded the machine (no wall-clock chunk flushes, no wall-clock metadata)", async () => {
    const quiet = await convert("quiet");
    // A busy event loop (a loaded machine, a slow disk): the run takes longer in wall time, which
    // used to move the timer-closed chunk boundaries and the recorded first-pass seconds.
    const hog = setInterval(() => {
      const until = performance.now() + 40;
      while (performance.now() < until);
    }, 60);
    let loaded: Awaited<ReturnType<typeof convert>>;
    try {
      loaded = await convert("loaded");
    } finally {
      clearInterval(hog);
    }
    assert.equal(loaded.hash, quiet.hash);
    assert.ok(quiet.firstPassS !== undefined && quiet.firstPassS > 0, "the first pass's time is in the report");
  });
});
