/**
 * Ouster OS-0-128 (512×10, RNG15_RFL8_NIR8) from ../shared/lidar-packets: there is no reference
 * cloud, so: the counts ouster-sdk's own test checks (43 messages: 32 lidar packets, 10 IMU
 * packets, 1 metadata; one scan), and the geometry of every point checked against the metadata
 * and the packets independently of the decoder — each point, taken back to its beam origin in
 * the lidar frame, has its beam's altitude angle and the packet's range; one cloud per rotation
 * (512 columns, firing times spanning one 100 ms turn); points = pixels with a return.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openRecording } from "../../src/convert/readers/open.js";
import { createPacketDecoder, LidarConfigError, type DecodedCloud } from "../../src/lidar-packets/index.js";
import { readOusterPacket } from "../../src/lidar-packets/scan-msgs.js";
import { available, PACKETS_ROOT } from "./shared.js";

const FOLDER = "ouster_os0-128_512x10";

describe("lidar-packets: Ouster OS-0-128 decoded geometry (needs ../shared/lidar-packets)", function () {
  this.timeout(60_000);
  const dir = join(PACKETS_ROOT, FOLDER);
  let meta: { beam_intrinsics: { beam_altitude_angles: number[]; beam_azimuth_angles: number[]; beam_to_lidar_transform: number[] }; lidar_intrinsics: { lidar_to_sensor_transform: number[] } };
  const clouds: DecodedCloud[] = [];
  const counts = new Map<string, number>();
  let pixelsWithReturn = 0;
  const columnTimes: bigint[] = [];

  before(async function () {
    if (!available()) {
      console.log(`    ../shared/lidar-packets absent (${PACKETS_ROOT}): skipped`);
      this.skip();
    }
    meta = JSON.parse(readFileSync(join(dir, "512x10_metadata.json"), "utf8")) as typeof meta;
    const decoder = await createPacketDecoder({ sensor_model: "OS-0-128", calibration_file: "512x10_metadata.json" }, { baseDir: dir, type: "ouster_ros/PacketMsg" });
    const source = await openRecording(join(dir, "512x10_raw.bag"));
    for await (const m of source.messages()) {
      counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
      if (m.topic !== "/os_node0/lidar_packets") continue;
      // Independent tally from the packet bytes (FW 2.3 layout: 32 B header, 16 × (12 B column header + 128 × 4 B), 32 B footer).
      const p = readOusterPacket(m.type, m.data);
      const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
      for (let c = 0; c < 16; c++) {
        const base = 32 + c * (12 + 128 * 4);
        columnTimes.push(v.getBigUint64(base, true));
        for (let u = 0; u < 128; u++) if ((v.getUint16(base + 12 + u * 4, true) & 0x7fff) !== 0) pixelsWithReturn++;
      }
      clouds.push(...decoder.decodeMessage(m.type, m.data));
    }
    await source.close();
    assert.equal(decoder.problems.total, 0, decoder.problems.lines().join("; "));
  });

  it("counts as ouster-sdk's test_bag.py: 43 messages (32 lidar, 10 IMU, 1 metadata), one scan", function () {
    assert.equal(counts.get("/os_node0/lidar_packets"), 32);
    assert.equal(counts.get("/os_node0/imu_packets"), 10);
    assert.equal(counts.get("/os_node0/metadata"), 1);
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 43);
    assert.equal(clouds.length, 1, "one cloud for one 512-column rotation");
  });

  it("every pixel with a return is a point; the cloud spans one 100 ms turn", function () {
    const cloud = clouds[0]!;
    assert.equal(cloud.points, pixelsWithReturn);
    assert.ok(cloud.points > 10000, `${cloud.points} points`);
    assert.equal(cloud.stampNs, columnTimes[0]);
    const v = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    let maxT = 0;
    for (let i = 0; i < cloud.points; i++) maxT = Math.max(maxT, v.getUint32(i * 32 + 28, true));
    // 512 columns at 10 Hz: the last column fires 511/512 of 100 ms after the first.
    assert.ok(Math.abs(maxT - (511 / 512) * 1e8) < 0.02 * 1e8, `last point at ${maxT} ns`);
  });

  it("each point lies on its beam: altitude angle from the metadata and range from the packet, seen from the beam origin", function () {
    const cloud = clouds[0]!;
    const v = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    const T = meta.lidar_intrinsics.lidar_to_sensor_transform;
    const n = meta.beam_intrinsics.beam_to_lidar_transform[3]! / 1000;
    const alt = meta.beam_intrinsics.beam_altitude_angles;
    const azi = meta.beam_intrinsics.beam_azimuth_angles;
    // A point's column, from its firing time (the packets' column timestamps, columns 0..511 in order).
    const columnOf = new Map(columnTimes.map((t, i) => [Number(t - columnTimes[0]!), i]));
    let worstAngle = 0, worstRange = 0, worstAzimuth = 0;
    for (let i = 0; i < cloud.points; i++) {
      const s = [v.getFloat32(i * 32, true), v.getFloat32(i * 32 + 4, true), v.getFloat32(i * 32 + 8, true)];
      // Sensor → lidar frame: inverse of the rigid lidar_to_sensor transform (translation in mm).
      const d = [s[0]! - T[3]! / 1000, s[1]! - T[7]! / 1000, s[2]! - T[11]! / 1000];
      const l = [0, 1, 2].map((r) => T[r]! * d[0]! + T[4 + r]! * d[1]! + T[8 + r]! * d[2]!);
      const horiz = Math.hypot(l[0]!, l[1]!);
      const beam = v.getUint16(i * 32 + 14, true);
      const range = v.getFloat32(i * 32 + 24, true);
      assert.ok(Math.abs(range * 1000 - 8 * Math.round((range * 1000) / 8)) < 1e-3, `range ${range} m is a multiple of 8 mm`);
      // Ouster's range is measured from the lidar origin through the beam origin (|o| = n, in the
      // horizontal plane): the point is (range − n) from o along the beam, so z gives the altitude.
      const altitude = (alt[beam]! * Math.PI) / 180;
      const along = range - n;
      const sinAlt = l[2]! / along;
      worstAngle = Math.max(worstAngle, Math.abs(Math.asin(Math.max(-1, Math.min(1, sinAlt))) - altitude));
      // Horizontal distance from the axis: |o + (range − n)·cos(alt)·dir_h| lies within n of (range − n)·cos(alt).
      worstRange = Math.max(worstRange, Math.max(0, Math.abs(horiz - along * Math.cos(altitude)) - n));
      // Seen from the beam origin at encoder angle θe = 2π(1 − column/512), the point lies at θe − beam azimuth.
      const column = columnOf.get(v.getUint32(i * 32 + 28, true));
      assert.ok(column !== undefined, `point ${i}: time_stamp is no column's time`);
      const enc = 2 * Math.PI * (1 - column / 512);
      const seen = Math.atan2(l[1]! - n * Math.sin(enc), l[0]! - n * Math.cos(enc));
      const want = enc - (azi[beam]! * Math.PI) / 180;
      worstAzimuth = Math.max(worstAzimuth, Math.abs(Math.atan2(Math.sin(seen - want), Math.cos(seen - want))));
    }
    assert.ok(worstAngle < 1e-4, `altitude off by up to ${worstAngle} rad`);
    assert.ok(worstRange < 1e-4, `horizontal distance off by up to ${worstRange} m beyond the beam-origin radius`);
    assert.ok(worstAzimuth < 1e-4, `azimuth off by up to ${worstAzimuth} rad`);
  });

  it("metadata of another model or a packet type of another vendor: one-line LidarConfigError", async function () {
    await assert.rejects(createPacketDecoder({ sensor_model: "OS-1-64", calibration_file: "512x10_metadata.json" }, { baseDir: dir, topic: "/os/lidar" }), (e: unknown) => {
      assert.ok(e instanceof LidarConfigError);
      assert.match(e.message, /^\/os\/lidar: .*512x10_metadata\.json is the metadata of an OS-0-128, sensor_model is OS-1-64 \(calibration for another model\?\)$/);
      return true;
    });
    await assert.rejects(createPacketDecoder({ sensor_model: "OS-0-128", calibration_file: "512x10_metadata.json" }, { baseDir: dir, type: "pandar_msgs/msg/PandarScan" }), /pandar_msgs\/msg\/PandarScan does not carry Ouster packets/);
  });
});
