/**
 * Conversion of a raw-packet recording (../shared/lidar-packets, copied to a temp folder with a
 * lidar_packets.yaml beside it): the packets are recorded byte for byte, a decoded cloud topic
 * appears next to them with one sweep per completed turn, and the pipeline aligns it (frames) like
 * any lidar. A packet topic without configuration is carried with a warning; a configuration that
 * does not fit fails the drive with one line.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBatch } from "../../src/convert/batch.js";
import { pipelineConverter } from "../../src/convert/pipeline-converter.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { LidarConfigError } from "../../src/lidar-packets/index.js";
import { available, PACKETS_ROOT, sensorJson } from "./shared.js";

function copyBag(folder: string, config: string | null): string {
  const json = sensorJson(folder);
  const dir = join(mkdtempSync(join(tmpdir(), "syncbag-packets-convert-")), folder);
  cpSync(join(PACKETS_ROOT, folder, json.bag.dir), dir, { recursive: true });
  cpSync(join(PACKETS_ROOT, folder, json.calibration_file), join(dir, json.calibration_file));
  if (config !== null) writeFileSync(join(dir, "lidar_packets.yaml"), config);
  return dir;
}

async function convert(dir: string, lidarPackets?: Record<string, Record<string, unknown>>): Promise<{ report: Awaited<ReturnType<typeof pipelineConverter>>; out: string }> {
  const source = await openRecording(dir);
  const out = `${dir}.mcap`;
  try {
    const report = await pipelineConverter(source, { mcapPath: out, reportPath: `${dir}.report.json` }, { drive: "d", msgPaths: [], ...(lidarPackets ? { lidarPackets } : {}) }, () => {});
    return { report, out };
  } finally {
    await source.close();
  }
}

async function byTopic(path: string): Promise<Map<string, Uint8Array[]>> {
  const source = await openRecording(path);
  const map = new Map<string, Uint8Array[]>();
  for await (const m of source.messages()) {
    if (!map.has(m.topic)) map.set(m.topic, []);
    map.get(m.topic)!.push(m.data);
  }
  await source.close();
  return map;
}

describe("lidar-packets: conversion writes decoded clouds next to the packets (needs ../shared/lidar-packets)", function () {
  this.timeout(120_000);
  before(function () {
    if (!available()) {
      console.log(`    ../shared/lidar-packets absent (${PACKETS_ROOT}): skipped`);
      this.skip();
    }
  });

  it("Pandar40P: packets unchanged, /pandar_packets/points with the sweeps, aligned into frames", async function () {
    const dir = copyBag("hesai_pandar40p", "/pandar_packets:\n  sensor_model: Pandar40P\n  return_mode: Dual\n  calibration_file: Pandar40P.csv\n");
    const { report, out } = await convert(dir);
    const input = await byTopic(dir);
    const output = await byTopic(out);
    assert.deepEqual(output.get("/pandar_packets"), input.get("/pandar_packets"), "packets recorded byte for byte");
    const clouds = output.get("/pandar_packets/points") ?? [];
    // 4 messages of ~one turn each: the recording's first partial turn and three full ones.
    assert.equal(clouds.length, 4);
    assert.ok((report.frames ?? 0) >= 3, `${report.frames} aligned frames`);
    assert.ok(report.sensors.some((s) => s.topic === "/pandar_packets/points" && s.count === 4));
    assert.ok(!report.warnings.some((w) => w.includes("/pandar_packets")), report.warnings.join("; "));
  });

  it("Ouster ROS 1 bag with <bag>.lidar_packets.yaml: one cloud beside the packets, IMU packets untouched", async function () {
    const work = mkdtempSync(join(tmpdir(), "syncbag-packets-convert-"));
    const src = join(PACKETS_ROOT, "ouster_os0-128_512x10");
    cpSync(join(src, "512x10_raw.bag"), join(work, "512x10_raw.bag"));
    cpSync(join(src, "512x10_metadata.json"), join(work, "meta.json"));
    writeFileSync(join(work, "512x10_raw.bag.lidar_packets.yaml"), "/os_node0/lidar_packets:\n  sensor_model: OS-0-128\n  calibration_file: meta.json\n");
    const { report, out } = await convert(join(work, "512x10_raw.bag"));
    const input = await byTopic(join(work, "512x10_raw.bag"));
    const output = await byTopic(out);
    assert.deepEqual(output.get("/os_node0/lidar_packets"), input.get("/os_node0/lidar_packets"));
    assert.deepEqual(output.get("/os_node0/imu_packets"), input.get("/os_node0/imu_packets"));
    assert.equal(output.get("/os_node0/lidar_packets/points")?.length, 1);
    assert.equal(output.get("/os_node0/imu_packets/points"), undefined);
    assert.ok((report.frames ?? 0) >= 1);
  });

  it("no configuration: packets carried, a warning says how to decode them", async function () {
    const dir = copyBag("velodyne_vlp16", null);
    const { report, out } = await convert(dir);
    const output = await byTopic(out);
    assert.equal(output.get("/velodyne_packets")?.length, 4);
    assert.equal(output.get("/velodyne_packets/points"), undefined);
    assert.ok(report.warnings.some((w) => /\/velodyne_packets: raw lidar packets .* not decoded: no entry for it in .*lidar_packets\.yaml/.test(w)), report.warnings.join("; "));
  });

  it("a configuration that does not fit: the drive fails with one line naming the topic and what is wrong", async function () {
    const refuse = async (config: string, re: RegExp): Promise<void> => {
      await assert.rejects(convert(copyBag("velodyne_vlp16", config)), (e: unknown) => {
        assert.ok(e instanceof LidarConfigError, String(e));
        assert.ok(!e.message.includes("\n"));
        assert.match(e.message, re);
        return true;
      });
    };
    await refuse("/velodyne_packets:\n  sensor_model: Pandar64\n  calibration_file: VLP16.yaml\n", /^\/velodyne_packets: velodyne_msgs\/VelodyneScan carries velodyne packets but sensor_model is Pandar64$/);
    // Calibration of another sensor: a 32-laser file for the VLP-16.
    const yaml32 = `lasers:\n${Array.from({ length: 32 }, (_, i) => `  - {laser_id: ${i}, rot_correction: 0, vert_correction: ${i / 100}, dist_correction: 0}`).join("\n")}\nnum_lasers: 32\n`;
    const dir = copyBag("velodyne_vlp16", "/velodyne_packets:\n  sensor_model: VLP16\n  calibration_file: vlp32.yaml\n");
    writeFileSync(join(dir, "vlp32.yaml"), yaml32);
    await assert.rejects(convert(dir), /\/velodyne_packets: calibration has 32 lasers but a VLP-16 has 16 \(calibration for another model\?\)/);
    await refuse("/velodyne_packets:\n  sensor_model: VLP16\n  calibration_file: absent.yaml\n", /^\/velodyne_packets: calibration file .*absent\.yaml cannot be read/);
  });

  it("calibration given with the conversion (convert --lidar-packet/--lidar-packets): decodes without a file beside, and wins over one that does not fit", async function () {
    const cal = join(PACKETS_ROOT, "velodyne_vlp16", sensorJson("velodyne_vlp16").calibration_file);
    const given = { "/velodyne_packets": { sensor_model: "VLP16", return_mode: "Dual", calibration_file: cal } };
    const plain = copyBag("velodyne_vlp16", null);
    const { report, out } = await convert(plain, given);
    const output = await byTopic(out);
    assert.ok((output.get("/velodyne_packets/points")?.length ?? 0) >= 2);
    assert.ok(!report.warnings.some((w) => w.includes("not decoded")), report.warnings.join("; "));
    // A wrong entry beside the recording is not used for a topic given with the conversion.
    const wrong = copyBag("velodyne_vlp16", "/velodyne_packets:\n  sensor_model: Pandar64\n  calibration_file: VLP16.yaml\n");
    const again = await convert(wrong, given);
    assert.ok(((await byTopic(again.out)).get("/velodyne_packets/points")?.length ?? 0) >= 2);
    // A given topic the recording lacks: one warning line.
    const extra = await convert(copyBag("velodyne_vlp16", null), { ...given, "/front/packets": given["/velodyne_packets"] });
    assert.ok(extra.report.warnings.includes("/front/packets: lidar packets given with the conversion, but the recording has no such topic"), extra.report.warnings.join("; "));
  });

  it("through the batch (as syncbag convert runs it): the option reaches the drive", async function () {
    const cal = join(PACKETS_ROOT, "velodyne_vlp16", sensorJson("velodyne_vlp16").calibration_file);
    const dir = copyBag("velodyne_vlp16", null);
    const converter = { module: new URL("../../src/convert/pipeline-converter.ts", import.meta.url).href, exportName: "pipelineConverter" };
    const summary = await runBatch(
      { inputs: [dir], outDir: `${dir}-out`, jobs: 1, converter, inProcess: true, lidarPackets: { "/velodyne_packets": { sensor_model: "VLP16", return_mode: "Dual", calibration_file: cal } } },
      { progress: null },
    );
    assert.equal(summary.exitCode, 0, JSON.stringify(summary.drives[0]));
    const out = summary.drives[0]!.output!.mcap;
    const mcap = out.startsWith("/") ? out : join(`${dir}-out`, out);
    assert.ok(((await byTopic(mcap)).get("/velodyne_packets/points")?.length ?? 0) >= 2);
  });
});
