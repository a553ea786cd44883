/**
 * Calibration given with the conversion (`syncbag convert --lidar-packets <file>` and
 * `--lidar-packet <topic>=<model>,<calibration>[,<return mode>]`): parsed into topic → entry with
 * absolute calibration paths; every problem is one line naming the option, found before any
 * drive is read, and `syncbag convert` refuses with exit 64.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lidarPacketOptions } from "../../src/lidar-packets/options.js";

describe("lidar-packets: calibration given as convert options", function () {
  const dir = mkdtempSync(join(tmpdir(), "syncbag-lidar-options-"));
  writeFileSync(join(dir, "VLP32C.yaml"), "lasers: []\nnum_lasers: 32\n");
  writeFileSync(join(dir, "at128.dat"), "x");
  writeFileSync(join(dir, "packets.yaml"), "/front/packets:\n  sensor_model: PandarAT128\n  calibration_file: at128.dat\n/rear/packets:\n  sensor_model: VLS128\n  calibration_file: missing.yaml\n");

  it("shorthand and file: topic → entry, calibration paths absolute (file entries relative to the file), shorthand wins", function () {
    const r = lidarPacketOptions("packets.yaml", ["/velodyne_packets=VLP32C,VLP32C.yaml,Dual", "/front/packets=VLP32C,VLP32C.yaml"], dir);
    assert.deepEqual(r.problems, [`--lidar-packets packets.yaml: /rear/packets: calibration file ${join(dir, "missing.yaml")} not found`]);
    assert.deepEqual(r.topics["/velodyne_packets"], { sensor_model: "VLP32C", calibration_file: join(dir, "VLP32C.yaml"), return_mode: "Dual" });
    assert.equal(r.topics["/front/packets"]!["sensor_model"], "VLP32C");
  });

  it("each problem is one line naming the option: malformed, unknown model, missing field, missing file", function () {
    const r = lidarPacketOptions("absent.yaml", ["velodyne=VLP16", "/a=HDL99,VLP32C.yaml", "/b=VLP16,nope.yaml"], dir);
    assert.deepEqual(r.problems, [
      "--lidar-packets absent.yaml: no such file",
      "--lidar-packet velodyne=VLP16: expected <topic>=<sensor_model>,<calibration_file>[,<return_mode>] (e.g. /velodyne_packets=VLP32C,VLP32C.yaml,Dual)",
      r.problems[2]!,
      `--lidar-packet /b=VLP16,nope.yaml: /b: calibration file ${join(dir, "nope.yaml")} not found`,
    ]);
    assert.match(r.problems[2]!, /^--lidar-packet \/a=HDL99,VLP32C\.yaml: \/a: unknown lidar model 'HDL99' \(supported: VLP16, VLP32C, .*PandarAT128.*\)$/);
    writeFileSync(join(dir, "bad.yaml"), "/x:\n  calibration_file: VLP32C.yaml\n");
    assert.match(lidarPacketOptions("bad.yaml", [], dir).problems[0]!, /^--lidar-packets bad\.yaml: \/x: 'sensor_model' /);
    for (const p of r.problems) assert.ok(!p.includes("\n"));
  });

  it("syncbag convert refuses them before reading anything: exit 64, one line each", function () {
    this.timeout(60_000);
    const res = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../../src/cli/main.ts"), "convert", dir, "-o", join(dir, "out"), "--lidar-packet", `/a=HDL99,${join(dir, "VLP32C.yaml")}`], { cwd: join(import.meta.dirname, "../.."), encoding: "utf8" });
    assert.equal(res.status, 64, res.stderr);
    assert.match(res.stderr, /--lidar-packet \/a=HDL99,.*VLP32C\.yaml: \/a: unknown lidar model 'HDL99'/);
    assert.ok(!/\n\s+at /.test(res.stderr), "no stack trace");
  });
});
