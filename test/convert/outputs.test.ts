import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverInputs, expandGlob } from "../../src/convert/discover.js";
import type { IndexEntry } from "../../src/convert/index-file.js";
import { barChart, lineChart, renderBatchHtml, throughputOverTime, timeline } from "../../src/convert/html.js";
import { ProgressDisplay } from "../../src/convert/progress.js";
import { DriveReport, parseDriveReport, qualityOf, type DriveReportInput } from "../../src/convert/report.js";
import { rateAndDrops } from "../../src/convert/copy-converter.js";

function sampleReport(): DriveReportInput {
  return {
    drive: "d1",
    input: "/x/d1",
    format: "rosbag2-mcap",
    startTime: "1700000000000000000",
    endTime: "1700000010000000000",
    durationS: 10,
    messageCount: 1000,
    frames: 100,
    sensors: [
      { name: "lidar_top", topic: "/lidar", type: "sensor_msgs/PointCloud2", count: 98, rateHz: 9.8, drops: 2 },
      { name: "camera_front", topic: "/cam", type: "sensor_msgs/CompressedImage", count: 100, rateHz: 10, drops: 0 },
    ],
    clockModels: [{ sensor: "camera_front", offsetS: 0.012, driftPpm: 35 }],
    syncError: {
      camera_front: { p50: 0.001, p99: 0.004, max: 0.006, series: [[0, 0.001], [5, 0.003], [10, 0.002]] },
      lidar_top: { p50: 0.0005, p99: 0.002, max: 0.003, series: [[0, 0.0005], [10, 0.001]] },
    },
    suggestions: { lidar_box: 40, camera_box: 120 },
    events: [{ t: 2.5, kind: "hard_brake" }, { t: 6, kind: "siren", label: "ambulance", durationS: 1.5 }],
    warnings: ["something <odd>"],
  };
}

describe("convert/report: DriveReport schema", function () {
  it("accepts a full report and computes the index's quality figures from it", () => {
    const report = parseDriveReport(sampleReport(), "d1");
    const q = qualityOf(report);
    assert.equal(q.syncErrorP99MaxS, 0.004);
    assert.equal(q.dropRate, 2 / 200);
    assert.equal(q.suggestions, 160);
    assert.equal(q.warnings, 1);
  });

  it("refuses a bad value naming the key, the value and what was expected", () => {
    const bad = sampleReport();
    bad.sensors[1]!.count = -3;
    assert.throws(() => parseDriveReport(bad, "d1"), /key 'sensors\.1\.count' = -3: .*>=0/);
    assert.throws(() => parseDriveReport({ ...sampleReport(), startTime: "soon" }, "d1"), /'startTime' = "soon".*integer nanoseconds/);
    assert.equal(DriveReport.safeParse({ ...sampleReport(), syncError: { a: { p50: 0, p99: 0, max: 0, series: [[1]] } } }).success, false);
  });
});

describe("convert/html: self-contained report", function () {
  it("draws one polyline per sensor, drop bars, event marks and suggestion bars, with escaped text", () => {
    const report = parseDriveReport(sampleReport(), "d1");
    const html = renderBatchHtml([{ drive: "d1", input: "/x/d1", status: "converted", quality: qualityOf(report) }, { drive: "bad", input: "/x/bad", status: "failed", error: { kind: "corrupt", reason: "CRC <mismatch>" } }], [report], "now");
    assert.equal((html.match(/<polyline/g) ?? []).length, 2);
    assert.ok(html.includes("camera_front") && html.includes("lidar_top"));
    assert.ok(html.includes("2 of 100"), "drop text for lidar");
    assert.equal((html.match(/<circle/g) ?? []).length, 1, "point event");
    assert.ok(/<rect[^>]*><title>siren: ambulance/.test(html), "interval event");
    assert.ok(html.includes("camera_box") && html.includes(">120<"));
    assert.ok(/<td>camera_front<\/td><td>12\.0<\/td><td>35\.0<\/td>/.test(html), "clock model row (offset ms, drift ppm)");
    assert.ok(html.includes("CRC &lt;mismatch&gt;") && html.includes("something &lt;odd&gt;"));
    assert.ok(!/<script|https?:\/\/(?!www\.w3)/.test(html));
  });

  it("fleet report: throughput over time per worker and for the fleet, each drive's bytes spread over its own conversion", () => {
    // Worker a: 10 MB over 0–10 s and 10 MB over 10–20 s; worker b: 20 MB over 5–10 s.
    const at = (s: number): string => new Date(Date.UTC(2026, 11, 6, 8, 0, 0) + s * 1000).toISOString();
    const drive = (name: string, worker: string, end: number, elapsedS: number, mb: number): IndexEntry => ({ drive: name, input: `/x/${name}`, status: "converted", worker, completedAt: at(end), elapsedS, inputBytes: mb * 1e6 });
    const entries = [drive("a1", "a:1", 10, 10, 10), drive("a2", "a:1", 20, 10, 10), drive("b1", "b:2", 10, 5, 20), { drive: "bad", input: "/x/bad", status: "failed" as const, worker: "b:2", error: { kind: "corrupt", reason: "x" } }];
    const series = throughputOverTime(entries, 4); // 5 s bins
    const value = (name: string, bin: number): number => series.find((s) => s.name === name)!.points[2 * bin]![1];
    assert.deepEqual(series.map((s) => s.name).sort(), ["a:1", "b:2", "fleet"]);
    assert.deepEqual([0, 1, 2, 3].map((b) => value("fleet", b)), [1, 5, 1, 1]);
    assert.deepEqual([0, 1, 2, 3].map((b) => value("b:2", b)), [0, 4, 0, 0]);
    const html = renderBatchHtml(entries, [], "now");
    assert.match(html, /<figcaption>throughput over time \(input MB\/s/);
    assert.equal((html.match(/<polyline/g) ?? []).length, 3);
    assert.deepEqual(throughputOverTime(entries.slice(0, 1)), [], "one drive: no chart");
  });

  it("scales charts to the data", () => {
    const svg = lineChart("t", [{ name: "a", points: [[0, 0], [10, 2]] }], "ms");
    assert.ok(svg.includes('points="60.0,190.0 570.0,24.0"'), svg);
    assert.match(barChart("b", [{ label: "x", value: 1 }, { label: "y", value: 0.5 }]), /width="370\.0".*width="185\.0"/s);
    assert.ok(timeline("e", [], 1).includes("no events"));
  });
});

describe("convert/progress", function () {
  it("non-TTY: plain lines on state changes with total percent and ETA by input bytes", () => {
    const lines: string[] = [];
    let now = 0;
    const display = new ProgressDisplay({ out: { write: (t) => lines.push(t), isTTY: false }, bytes: new Map([["a", 300], ["b", 100]]), now: () => now, intervalMs: 1e9 });
    display.update({ drive: "a", state: "converting", fraction: 0, messages: 0 });
    now = 10_000;
    display.update({ drive: "a", state: "converting", fraction: 0.5, messages: 10 }); // same state: throttled
    display.update({ drive: "b", state: "done", fraction: 1, messages: 5 });
    assert.equal(lines.length, 2);
    const t = display.total();
    assert.equal(t.fraction, (150 + 100) / 400);
    assert.ok(Math.abs(t.etaS - (10 * (1 - 0.625)) / 0.625) < 1e-9);
    assert.match(lines[1]!, /\[ 63% ETA 6s\] b: done/);
    assert.ok(!lines.join("").includes("\x1b["));
  });

  it("TTY: redraws in place (cursor up over the previous lines)", () => {
    const out: string[] = [];
    const display = new ProgressDisplay({ out: { write: (t) => out.push(t), isTTY: true }, bytes: new Map([["a", 1], ["b", 1]]) });
    display.update({ drive: "a", state: "converting", fraction: 0.25, messages: 1 });
    display.update({ drive: "b", state: "converting", fraction: 0.5, messages: 1 });
    assert.ok(!out[0]!.includes("\x1b[2F"));
    assert.ok(out[1]!.startsWith("\x1b[2F"), JSON.stringify(out[1]));
    assert.match(out[1]!, /total: 0\/2 drives, 37\.5%/);
  });
});

describe("convert/copy-converter helpers", function () {
  it("rate and gap-based drops", () => {
    const t = [0, 1, 2, 3, 6, 7].map((s) => BigInt(s) * 100_000_000n);
    const r = rateAndDrops(t);
    assert.equal(r.drops, 2);
    assert.ok(Math.abs(r.rateHz - 5 / 0.7) < 1e-9);
  });
});

describe("convert/discover", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-discover-"));
    for (const p of ["fleet/car1/run1", "fleet/car2/run1", "fleet/car2/misc", "fleet/.hidden/x", "out"]) await mkdir(join(dir, p), { recursive: true });
    await writeFile(join(dir, "fleet/car1/run1/metadata.yaml"), "x");
    await writeFile(join(dir, "fleet/car1/run1/run1_0.mcap"), "x");
    await writeFile(join(dir, "fleet/car2/run1/metadata.yaml"), "x");
    await writeFile(join(dir, "fleet/car2/old.bag"), "x");
    await writeFile(join(dir, "fleet/car2/misc/readme.txt"), "x");
    await writeFile(join(dir, "fleet/.hidden/x/a.mcap"), "x");
    await writeFile(join(dir, "out/result.mcap"), "x");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds bag folders and loose recordings, names colliding drives by their parent, skips hidden and output folders", async () => {
    const { drives, problems } = await discoverInputs([dir], [join(dir, "out")]);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      drives.map((d) => [d.name, d.path.slice(dir.length + 1)]),
      [
        ["car1__run1", "fleet/car1/run1"],
        ["old", "fleet/car2/old.bag"],
        ["car2__run1", "fleet/car2/run1"],
      ].sort((a, b) => a[1]!.localeCompare(b[1]!)),
    );
  });

  it("expands globs (** at any depth, trailing / for folders) and deduplicates", async () => {
    const folders = await expandGlob(join(dir, "fleet/**/"));
    assert.ok(folders.includes(join(dir, "fleet/car2/misc")) && !folders.some((f) => f.includes(".hidden")));
    const { drives } = await discoverInputs([join(dir, "fleet/**/"), join(dir, "fleet/car*/*.bag")]);
    assert.equal(drives.length, 3);
    const { problems } = await discoverInputs([join(dir, "nothing-*"), join(dir, "missing")]);
    assert.deepEqual(problems.map((p) => p.reason), ["pattern matched nothing", "no such file or folder"]);
  });
});
