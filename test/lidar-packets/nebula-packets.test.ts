/**
 * nebula_msgs/msg/NebulaPackets (tier4/nebula's vendor-neutral packet message: header, then
 * NebulaPacket[] of stamp + uint8[] data): read without copying and decoded by the configured
 * model exactly as the same packets in the vendor message; a message cut inside a packet keeps the
 * whole packets before the cut and says so.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPacketDecoder, LidarConfigError } from "../../src/lidar-packets/index.js";
import { readPacketScan } from "../../src/lidar-packets/scan-msgs.js";
import { nebulaPackets, velodynePacket } from "./points.js";

/** A VLP-32C packet: every return at 10 m (4 mm units). */
const vlp32Packet = (azimuth: number): Uint8Array => velodynePacket(0x28, azimuth);

const VLP32_YAML = `lasers:\n${Array.from({ length: 32 }, (_, i) => `  - {laser_id: ${i}, rot_correction: 0, vert_correction: ${((-25 + (40 * i) / 31) * Math.PI) / 180}, dist_correction: 0, dist_correction_x: 0, dist_correction_y: 0, focal_distance: 0, focal_slope: 0, vert_offset_correction: 0}`).join("\n")}\nnum_lasers: 32\ndistance_resolution: 0.004\n`;

describe("lidar-packets: nebula_msgs/NebulaPackets input", function () {
  const dir = mkdtempSync(join(tmpdir(), "syncbag-nebula-"));
  writeFileSync(join(dir, "VLP32C.yaml"), VLP32_YAML);
  const T = "nebula_msgs/msg/NebulaPackets";
  // 2 turns of packets, 10 packets per message.
  const packets = Array.from({ length: 320 }, (_, i) => ({ sec: 100 + Math.floor((i * 1327100) / 1e9), nanosec: (i * 1327100) % 1e9, data: vlp32Packet((i * 240) % 36000) }));
  const messages = Array.from({ length: 32 }, (_, m) => nebulaPackets("velodyne", packets.slice(m * 10, m * 10 + 10)));

  it("is read in place: every packet's stamp and bytes", function () {
    const scan = readPacketScan(T, messages[1]!);
    assert.equal(scan.frameId, "velodyne");
    assert.equal(scan.packets.length, 10);
    assert.deepEqual(scan.packets[3]!.data, packets[13]!.data);
    assert.equal(scan.packets[3]!.nanosec, packets[13]!.nanosec);
    assert.equal(scan.truncated, undefined);
  });

  it("decodes by the configured model as the vendor message would (same sweeps, same bytes)", async function () {
    const config = { sensor_model: "VLP32C", return_mode: "Strongest", calibration_file: "VLP32C.yaml" };
    const viaNebula = await createPacketDecoder(config, { baseDir: dir, topic: "/velodyne_packets", type: T });
    const direct = await createPacketDecoder(config, { baseDir: dir, topic: "/velodyne_packets", type: "velodyne_msgs/msg/VelodyneScan" });
    const a = messages.flatMap((m) => viaNebula.decodeMessage(T, m));
    // The same packets as a VelodyneScan (fixed uint8[1206], no length prefix).
    const b = messages.flatMap((m) => {
      const scan = readPacketScan(T, m);
      const parts: Uint8Array[] = [];
      const head = m.subarray(0, 4 + 8 + 4 + "velodyne".length + 1 + 3 + 4);
      parts.push(head);
      for (const p of scan.packets) {
        const rec = new Uint8Array(8 + 1206 + 2);
        const v = new DataView(rec.buffer);
        v.setInt32(0, p.sec, true);
        v.setUint32(4, p.nanosec, true);
        rec.set(p.data, 8);
        parts.push(rec);
      }
      const total = parts.reduce((n, x) => n + x.length, 0);
      const out = new Uint8Array(total);
      let o = 0;
      for (const x of parts) {
        out.set(x, o);
        o += x.length;
      }
      return direct.decodeMessage("velodyne_msgs/msg/VelodyneScan", out);
    });
    assert.equal(a.length, 2);
    assert.deepEqual(a.map((c) => [c.stampNs, c.points]), b.map((c) => [c.stampNs, c.points]));
    assert.deepEqual(a[1]!.data, b[1]!.data);
    assert.equal(viaNebula.problems.total, 0);
  });

  it("a message cut inside a packet: the whole packets before it are decoded, the cut is counted and named", async function () {
    const dec = await createPacketDecoder({ sensor_model: "VLP32C", return_mode: "Strongest", calibration_file: "VLP32C.yaml" }, { baseDir: dir, topic: "/p", type: T });
    dec.decodeMessage(T, messages[0]!.subarray(0, 3000));
    assert.equal(dec.problems.counts.get("truncated-message"), 1);
    assert.match(dec.problems.first.get("truncated-message")!, /nebula_msgs\/msg\/NebulaPackets: message of 3000 bytes ends inside packet 2 of 10/);
  });

  it("NebulaPackets for an Ouster model: one-line error", async function () {
    writeFileSync(join(dir, "meta.json"), "{}");
    await assert.rejects(createPacketDecoder({ sensor_model: "OS-0-128", calibration_file: "meta.json" }, { baseDir: dir, topic: "/p", type: T }), (e: unknown) => {
      assert.ok(e instanceof LidarConfigError);
      assert.match(e.message, /^\/p: nebula_msgs\/msg\/NebulaPackets does not carry Ouster packets but sensor_model is OS-0-128$/);
      return true;
    });
  });
});
