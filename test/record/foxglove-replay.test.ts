/**
 * The recordings a user opens in Foxglove, replayed by the viewer's rules (foxglove-viewer.ts):
 * the `npm start` recording (its default speed, 2× real time) and a sample drive converted with
 * the pipeline converter. Every lidar sweep after warm-up must have exactly its boxes in view
 * until the next sweep (lifetimes read as @foxglove/schemas defines them and as Lichtblick reads
 * them), every camera image a frame used must carry annotations with its exact header.stamp and be
 * shown by an image panel in sync mode, and every channel must be CDR with a ros2msg schema.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start } from "../../src/cli/commands/start.js";
import { runBatch } from "../../src/convert/batch.js";
import { parseAlignmentConfig } from "../../src/align/config.js";
import { packageRoot } from "../../src/messages/catalogue.js";
import { foxgloveLayout, layoutInputForRecording } from "../../src/pipeline/layout.js";
import { layoutForRecording } from "../../src/cli/commands/layout.js";
import { annotationSync, layoutProblems, readRecording, sceneCoverage, type Recording } from "./foxglove-viewer.js";

type Layout = Parameters<typeof layoutProblems>[0];

/** The layout a converted drive gets: built from what the recording holds (its frames name the sensors and their topics). */
function layoutFor(rec: Recording): Layout {
  const sensors = new Map<string, string>();
  for (const f of rec.byTopic("/syncbag/frames")) for (const s of rec.decode<{ samples: { sensor: string; topic: string }[] }>(f).samples) sensors.set(s.sensor, s.topic);
  return foxgloveLayout(layoutInputForRecording(rec.channels, [...sensors].map(([name, topic]) => ({ name, topic })))) as Layout;
}

const PIPELINE = { module: new URL("../../src/convert/pipeline-converter.js", import.meta.url).href, exportName: "pipelineConverter" };
const WARMUP_NS = 1_000_000_000n;

function checkRecording(name: string, rec: Recording, lidarTopic: string): void {
  for (const c of rec.channels) {
    assert.equal(`${c.messageEncoding}/${c.schemaEncoding}`, "cdr/ros2msg", `${name} ${c.topic} (${c.schemaName}): every channel CDR with a ROS 2 schema`);
  }
  for (const rule of ["timestamp", "receive"] as const) {
    const scene = sceneCoverage(rec, { lidarTopic, sceneTopic: "/syncbag/suggestions/scene", warmupNs: WARMUP_NS, rule });
    assert.ok(scene.sweeps >= 20 && scene.withBoxes >= scene.sweeps / 2, `${name}: ${scene.sweeps} sweeps checked, ${scene.withBoxes} with boxes`);
    assert.deepEqual(scene.failures.slice(0, 5), [], `${name} (lifetime from ${rule}): ${scene.failures.length} of ${scene.sweeps} sweeps without exactly their boxes in view`);
  }
  // ~/frames: logged once their sweep is in and no later than the aligner's wait for late sensors
  // allows: the node time passes referenceNs + maxWaitS at the first input after it.
  const inputs = rec.messages.filter((m) => !m.topic.startsWith("/syncbag/") && m.topic !== "/diagnostics");
  let gap = 0n;
  for (let i = 1; i < inputs.length; i++) if (inputs[i]!.logTime - inputs[i - 1]!.logTime > gap) gap = inputs[i]!.logTime - inputs[i - 1]!.logTime;
  const maxWaitNs = BigInt(Math.round(parseAlignmentConfig({}).maxWaitS * 1e9));
  const sweepLog = new Map(rec.byTopic(lidarTopic).map((m) => [m.publishTime, m.logTime]));
  const frames = rec.byTopic("/syncbag/frames");
  const late = frames.filter((f) => f.logTime < (sweepLog.get(f.publishTime) ?? 0n) || f.logTime - f.publishTime > maxWaitNs + gap);
  assert.ok(frames.length >= 20, `${name}: ${frames.length} frames`);
  assert.deepEqual(late.slice(0, 3).map((f) => `frame for ${f.publishTime} logged at ${f.logTime}`), [], `${name}: ${late.length} of ${frames.length} frames logged before their sweep or after the aligner's wait (${maxWaitNs} ns + largest input gap ${gap} ns)`);
  const sync = annotationSync(rec, { framesTopic: "/syncbag/frames", annotationTopic: (camera) => `/syncbag/suggestions/${camera}/annotations`, warmupNs: WARMUP_NS });
  assert.ok(sync.framedImages >= 30, `${name}: ${sync.framedImages} framed images`);
  assert.deepEqual(sync.failures, [], `${name}: image annotations`);
  assert.equal(sync.shownInSync, sync.framedImages);
}

describe("record/Foxglove replay: what a viewer shows", function () {
  this.timeout(180_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-replay-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("npm start's recording: boxes of every sweep in view, annotations synced to their images, all CDR", async () => {
    const result = await start({ rig: "default", seed: "3", duration: "8", speed: "2", out: dir, compression: "zstd", quiet: true });
    const rec = await readRecording(result.mcapPath);
    checkRecording("npm start", rec, "/sensing/lidar/top/points");
    // The layout npm start writes beside it, and the one shipped for the sim rig (the same rig).
    const written = JSON.parse(await readFile(join(dir, "default-seed3.layout.json"), "utf8")) as Layout;
    assert.deepEqual(layoutProblems(written, rec), []);
    const shipped = JSON.parse(await readFile(join(packageRoot(), "launch", "foxglove", "sim_rig.layout.json"), "utf8")) as Layout;
    assert.deepEqual(layoutProblems(shipped, rec), []);
    assert.deepEqual(shipped, written, "launch/foxglove/sim_rig.layout.json: regenerate it from npm start's layout (default rig)");
    const clockPaths = (written.configById["Plot!sync"]!.paths as { value: string }[]).map((p) => p.value);
    assert.equal(clockPaths.length, 9, "one clock series per sensor of the rig");
    // `syncbag layout` on the same recording: built from the file alone, it fits it as well.
    const fromFile = (await layoutForRecording(result.mcapPath)) as Layout;
    assert.deepEqual(layoutProblems(fromFile, rec), []);
    assert.equal((fromFile.configById["Plot!sync"]!.paths as unknown[]).length, 9, "syncbag layout: one clock series per sensor");
  });

  it("a converted drive: the same", async function () {
    const input = join(packageRoot(), "bags", "sample", "drive-compact-s7");
    if (!existsSync(input)) {
      console.log(`      skipped: ${input} is absent`);
      this.skip();
    }
    const out = join(dir, "converted");
    const summary = await runBatch({ inputs: [input], outDir: out, jobs: 1, converter: PIPELINE, inProcess: true }, { progress: null });
    assert.equal(summary.drives[0]?.status, "converted", JSON.stringify(summary.drives[0]?.error));
    const rec = await readRecording(join(out, "drive-compact-s7.mcap"));
    const lidar = rec.channels.find((c) => c.schemaName.endsWith("PointCloud2"))!.topic;
    checkRecording("converted drive-compact-s7", rec, lidar);
    assert.deepEqual(layoutProblems(layoutFor(rec), rec), []);
    assert.deepEqual(layoutProblems((await layoutForRecording(join(out, "drive-compact-s7.mcap"))) as Layout, rec), [], "syncbag layout of the converted drive");
  });
});
