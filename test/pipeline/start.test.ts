/**
 * `npm start` end to end: the simulated drive through the in-process transport into the node,
 * recorded, read back with @mcap/core's indexed reader and compared with what was published.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { McapIndexedReader } from "@mcap/core";
import { start } from "../../src/cli/commands/start.js";
import { runEvalSections } from "../../src/cli/evaluate.js";
import { loadTruth } from "../../src/sim/truth.js";
import { SuggestionEvalSection } from "../../src/suggest/eval-section.js";
import type { SuggestionEvaluation } from "../../src/suggest/eval.js";
import { runSimulatedDrive } from "../suggest/sim-harness.js";
import { mcapDecompressHandlers } from "../../src/convert/readers/decompress.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";

const run = promisify(execFile);

describe("npm start (simulated drive → node → MCAP)", function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-start-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("records every published message byte for byte, with corrected publish times, frames and a report", async () => {
    const result = await start({ rig: "default", seed: "6", duration: "6", speed: "max", out: dir, compression: "zstd", quiet: true });
    const bytes = await readFile(result.mcapPath);
    const reader = await McapIndexedReader.Initialize({
      readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)) },
      decompressHandlers: mcapDecompressHandlers(),
    });
    assert.equal(reader.header.profile, "ros2");
    const byTopic = new Map<string, Uint8Array[]>();
    const topicOf = new Map([...reader.channelsById.values()].map((c) => [c.id, c.topic]));
    let previous = -1n;
    for await (const message of reader.readMessages()) {
      assert.ok(message.logTime >= previous, "messages in log-time order");
      previous = message.logTime;
      const topic = topicOf.get(message.channelId)!;
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(message.data);
    }
    // The same seed regenerates exactly what was published.
    const published = new Map<string, Uint8Array[]>();
    for (const m of simulateDrive({ rig: loadRig("default"), seed: 6, durationS: 6 })) {
      let list = published.get(m.topic);
      if (list === undefined) published.set(m.topic, (list = []));
      list.push(m.data);
    }
    for (const [topic, messages] of published) {
      const recorded = byTopic.get(topic) ?? [];
      assert.equal(recorded.length, messages.length, `${topic}: count`);
      const key = (d: Uint8Array): string => Buffer.from(d).toString("base64");
      assert.deepEqual(new Set(recorded.map(key)), new Set(messages.map(key)), `${topic}: bytes`);
    }
    assert.equal(byTopic.get("/syncbag/frames")?.length, published.get(loadRig("default").lidar!.topic)!.length);
    assert.ok((byTopic.get("/syncbag/clock_state")?.length ?? 0) > 0);
    assert.ok([...reader.metadataIndexes.values()].some((m) => m.name === "syncbag.clock_models"));
    const report = JSON.parse(await readFile(result.reportPath, "utf8")) as {
      evaluation: { alignment: { sensors: { sensor: string; compared: number }[] } };
      status: { subscriptions: { topic: string; dropped: number }[]; pipeline: { stageErrors: number } };
    };
    assert.equal(report.evaluation.alignment.sensors.length, 9);
    for (const s of report.status.subscriptions) assert.equal(s.dropped, 0, `${s.topic}: dropped by the subscription queue`);
    assert.equal(report.status.pipeline.stageErrors, 0);
    assert.ok((byTopic.get("/syncbag/suggestions")?.length ?? 0) > 0, "label suggestions recorded");
    assert.ok((byTopic.get("/syncbag/suggestions/scene")?.length ?? 0) > 0, "Foxglove SceneUpdate recorded");
    for (const camera of loadRig("default").cameras) {
      assert.ok((byTopic.get(`/syncbag/suggestions/${camera.name}/annotations`)?.length ?? 0) > 0, `Foxglove ImageAnnotations recorded for ${camera.name}`);
    }
    // `syncbag eval`'s suggestion section, from the recording alone: the suggestions recorded are
    // scored against the truth file, as a table and as JSON. They must score as the same drive
    // scored in-process: the same truth boxes counted, and counts within two boxes. (Sweeps wait
    // for the ego motion that covers them, so the node's own delivery order does not change the
    // boxes; the margin is for a loaded host where a sweep outwaits suggest.egoWaitS.)
    const [scored] = await runEvalSections(result.mcapPath, [new SuggestionEvalSection(await loadTruth(result.truthPath), { warmupS: 1 })]);
    const json = scored!.json as (SuggestionEvaluation & { malformed: number }) | null;
    assert.ok(json !== null, "suggestions found in the recording");
    assert.equal(json.malformed, 0);
    const live = runSimulatedDrive({ seed: 6, durationS: 6 }).evaluation;
    for (const c of ["car", "truck", "pedestrian", "cyclist"]) {
      assert.equal(json.lidar[c]!.truth, live.lidar[c]!.truth, `${c}: truth boxes, recording vs live`);
      const [r, l] = [json.lidar[c]!, live.lidar[c]!];
      assert.ok(Math.abs(r.matched - l.matched) <= 2, `${c}: boxes found, recording ${r.matched} vs live ${l.matched}`);
      assert.ok(Math.abs(r.predicted - l.predicted) <= 2 && Math.abs(r.correct - l.correct) <= 2, `${c}: boxes suggested / right, recording ${r.predicted}/${r.correct} vs live ${l.predicted}/${l.correct}`);
    }
    assert.ok(Math.abs(json.camera.medianIoU - live.camera.medianIoU) <= 0.05, `camera median IoU, recording ${json.camera.medianIoU} vs live ${live.camera.medianIoU}`);
    assert.ok(json.lidar["car"]!.truth > 100 && json.lidar["car"]!.recall >= 0.7, `car ${json.lidar["car"]!.recall} of ${json.lidar["car"]!.truth}`);
    assert.ok(json.camera.pairs > 100 && json.camera.medianIoU >= 0.7, `camera ${json.camera.pairs} pairs, median IoU ${json.camera.medianIoU}`);
    // The command itself: a table by default, one JSON key per section with --json, exit code 2
    // where a target is missed (the table says which).
    const cli = [process.execPath, "--import", "tsx", "src/cli/main.ts", "eval", "--truth", result.truthPath, "--warmup", "1", result.mcapPath];
    const cwd = new URL("../..", import.meta.url).pathname;
    const asJson = await run(cli[0]!, [...cli.slice(1), "--json"], { cwd }).catch((e: { code: number; stdout: string }) => e);
    const parsed = JSON.parse(asJson.stdout) as { suggestions: SuggestionEvaluation; alignment: unknown };
    assert.equal(parsed.suggestions.lidar["car"]!.truth, json.lidar["car"]!.truth);
    assert.equal(parsed.suggestions.lidar["car"]!.recall, json.lidar["car"]!.recall);
    assert.ok(parsed.alignment !== null);
    const asTable = await run(cli[0]!, cli.slice(1), { cwd }).catch((e: { code: number; stdout: string }) => e);
    // Exit 2 exactly when a section names a target missed (on a 6 s drive: car recall, or another figure).
    const missed = /below target: /.test(asTable.stdout);
    assert.equal("code" in asTable ? asTable.code : 0, missed ? 2 : 0);
    assert.ok(json.lidar["car"]!.recall >= 0.9 || missed);
    assert.match(asTable.stdout, /car\s.*\d\.\d+/);
    if (json.lidar["car"]!.recall < 0.9) assert.match(asTable.stdout, /below target: .*car recall 0\.\d+ < 0\.9/);
    // A copy cut in half (a crash, a full disk): eval and export still use every message before the
    // cut, name the damage, and exit 1.
    const cut = join(dir, "cut.mcap");
    await writeFile(cut, bytes.subarray(0, bytes.byteLength >> 1));
    const cutEval = await run(cli[0]!, [...cli.slice(1, 6), result.truthPath, "--warmup", "1", cut, "--json"], { cwd }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    assert.equal("code" in cutEval ? cutEval.code : 0, 1);
    assert.match(cutEval.stderr, /cut\.mcap: truncated: .*scored the messages before it/);
    const cutScore = (JSON.parse(cutEval.stdout) as { suggestions: SuggestionEvaluation }).suggestions;
    assert.ok(cutScore.lidar["car"]!.truth > 0 && cutScore.lidar["car"]!.truth < json.lidar["car"]!.truth, `car truth boxes in the first half: ${cutScore.lidar["car"]!.truth}`);
    const exported = join(dir, "cut.jsonl");
    const cutExport = await run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "export", cut, "-o", exported, "--format", "jsonl"], { cwd }).catch((e: { code: number; stderr: string }) => e);
    assert.equal("code" in cutExport ? cutExport.code : 0, 1);
    assert.match(cutExport.stderr, /truncated: .*exported the suggestions before it/);
    assert.ok((await readFile(exported, "utf8")).trim().split("\n").length > 10);
    assert.match(scored!.text, /recall/);
  });

  it("refuses bad options with a message naming them", async () => {
    await assert.rejects(start({ rig: "default", seed: "x", duration: "6", speed: "max", out: dir, compression: "zstd", quiet: true }), /--seed/);
    await assert.rejects(start({ rig: "nosuchrig", seed: "1", duration: "6", speed: "max", out: dir, compression: "zstd", quiet: true }), /nosuchrig/);
    await assert.rejects(start({ rig: "default", seed: "1", duration: "-3", speed: "max", out: dir, compression: "zstd", quiet: true }), /--duration/);
  });
});
