/**
 * Bad input never crashes a decoder nor yields a cloud silently built from it: truncated packets
 * and messages, packets of another model, an unknown model, calibration for another model, packets
 * out of order — each is counted under its kind with one line naming the input and the fault.
 * Synthetic VLP-16 packets (manual §9 layout) need no shared data; the Hesai cases read
 * ../shared/lidar-packets and skip without it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HesaiDecoder, parseHesaiCalibration } from "../../src/lidar-packets/hesai.js";
import { createPacketDecoder, LidarConfigError } from "../../src/lidar-packets/index.js";
import { readPacketScan } from "../../src/lidar-packets/scan-msgs.js";
import { VelodyneDecoder, parseVelodyneCalibration } from "../../src/lidar-packets/velodyne.js";
import { velodynePacket } from "./points.js";
import { available, bagMessages, PACKETS_ROOT } from "./shared.js";

/** VLP-16 calibration as the ROS driver ships it: lasers alternate -15°, +1°, -13°, +3°, … */
function vlp16Yaml(lasers = 16): string {
  const rows = Array.from({ length: lasers }, (_, i) => {
    const deg = i % 2 === 0 ? -15 + i : 1 + (i - 1);
    return `  - {dist_correction: 0.0, dist_correction_x: 0.0, dist_correction_y: 0.0, focal_distance: 0.0, focal_slope: 0.0, laser_id: ${i}, rot_correction: 0.0, vert_correction: ${(deg * Math.PI) / 180}, vert_offset_correction: 0.0}`;
  });
  return `lasers:\n${rows.join("\n")}\nnum_lasers: ${lasers}\ndistance_resolution: 0.002\n`;
}

/** A VLP-16 packet: every return at 5 m (2 mm units). */
const vlp16Packet = (azimuth: number): Uint8Array => velodynePacket(0x22, azimuth);

function newVlp16(): VelodyneDecoder {
  return new VelodyneDecoder({ model: "VLP16", returnMode: "Strongest", frameId: "velodyne", calibration: parseVelodyneCalibration(vlp16Yaml(), "synthetic.yaml") });
}

/** Decodes a full synthetic turn and more; returns the sweeps. */
function spin(dec: VelodyneDecoder, packets: number, start = 0, t0 = 100): { points: number }[] {
  const out: { points: number }[] = [];
  for (let i = 0; i < packets; i++) {
    const cloud = dec.decode(vlp16Packet(start + i * 240), t0 + i * 0.001327);
    if (cloud !== undefined) out.push(cloud);
  }
  return out;
}

describe("lidar-packets: bad input is counted and named, never a crash", function () {
  it("a synthetic VLP-16 turn decodes (the baseline the faults below are compared with)", function () {
    const dec = newVlp16();
    const sweeps = spin(dec, 400);
    assert.ok(sweeps.length >= 2, `expected at least two sweeps, got ${sweeps.length}`);
    // 150 packets per turn × 12 blocks × 32 returns, minus what lies in [359°, 360°) (cloud_max_angle 360 keeps all).
    assert.ok(sweeps[1]!.points > 50000, `sweep of ${sweeps[1]!.points} points`);
    assert.equal(dec.problems.total, 0);
  });

  it("truncated packets: counted as 'truncated' with their length, skipped, later packets still decode", function () {
    const dec = newVlp16();
    assert.equal(dec.decode(vlp16Packet(0).subarray(0, 600), 1), undefined);
    assert.equal(dec.problems.counts.get("truncated"), 1);
    assert.match(dec.problems.first.get("truncated")!, /velodyne packet of 600 bytes \(a VLP-16 data packet has 1206\)/);
    assert.ok(spin(dec, 400).length >= 2);
    assert.equal(dec.problems.total, 1);
  });

  it("a truncated VelodyneScan message: the whole packets before the cut decode, the cut is named", async function () {
    const dir = mkdtempSync(join(tmpdir(), "syncbag-packets-"));
    writeFileSync(join(dir, "cal.yaml"), vlp16Yaml());
    const dec = await createPacketDecoder({ sensor_model: "VLP16", return_mode: "Strongest", calibration_file: "cal.yaml" }, { baseDir: dir });
    // CDR: encapsulation, header (stamp, frame_id "v"), 3 packets of (stamp, uint8[1206]).
    const parts: number[] = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x76, 0, 0, 0, 3, 0, 0, 0];
    // Each packet: stamp, 1206 bytes, then 2 bytes of padding so the next stamp is 4-aligned (CDR).
    for (let i = 0; i < 3; i++) parts.push(1, 0, 0, 0, 0, 0, 0, 0, ...vlp16Packet(i * 240), ...(i < 2 ? [0, 0] : []));
    const whole = new Uint8Array(parts);
    const scan = readPacketScan("velodyne_msgs/msg/VelodyneScan", whole);
    assert.equal(scan.packets.length, 3);
    assert.equal(scan.truncated, undefined);
    const cut = whole.subarray(0, whole.length - 500);
    assert.deepEqual(dec.decodeMessage("velodyne_msgs/msg/VelodyneScan", cut), []);
    assert.equal(dec.problems.counts.get("truncated-message"), 1);
    assert.match(dec.problems.lines()[0]!, /ends inside packet 2 of 3/);
    dec.decodeMessage("velodyne_msgs/msg/VelodyneScan", whole.subarray(0, 10));
    assert.equal(dec.problems.counts.get("bad-message"), 1);
  });

  it("packets of another model (VLS-128 product id, unknown return mode) are refused, not decoded as VLP-16", function () {
    const dec = newVlp16();
    const vls = vlp16Packet(0);
    vls[1205] = 0xa1;
    assert.equal(dec.decode(vls, 1), undefined);
    const odd = vlp16Packet(240);
    odd[1204] = 0x99;
    assert.equal(dec.decode(odd, 1.001), undefined);
    assert.deepEqual([...dec.problems.counts.keys()].sort(), ["model", "return-mode"]);
    // A packet in another return mode than configured is decoded as it says, and counted.
    const dual = vlp16Packet(480);
    dual[1204] = 57;
    dec.decode(dual, 1.002);
    assert.match(dec.problems.first.get("return-mode-mismatch")!, /return mode 57, configured Strongest \(55\)/);
    assert.match(dec.problems.first.get("model")!, /product id 0xa1 \(a VLP-16 sends 0x22\)/);
  });

  it("unknown model and calibration for another model: one-line LidarConfigError naming them", async function () {
    const dir = mkdtempSync(join(tmpdir(), "syncbag-packets-"));
    writeFileSync(join(dir, "vlp32.yaml"), vlp16Yaml(32));
    writeFileSync(join(dir, "hesai.csv"), "Laser id,Elevation,Azimuth\n" + Array.from({ length: 40 }, (_, i) => `${i + 1},${15 - i},0`).join("\n"));
    const refuse = async (config: Parameters<typeof createPacketDecoder>[0], re: RegExp, type?: string): Promise<void> => {
      await assert.rejects(createPacketDecoder(config, { baseDir: dir, topic: "/lidar/packets", ...(type ? { type } : {}) }), (e: unknown) => {
        assert.ok(e instanceof LidarConfigError, String(e));
        assert.ok(!e.message.includes("\n"), "one line");
        assert.match(e.message, re);
        return true;
      });
    };
    await refuse({ sensor_model: "HDL99", calibration_file: "vlp32.yaml" }, /^\/lidar\/packets: unknown lidar model 'HDL99' \(supported: VLP16, VLP32C, VLP32, VLS128, Pandar40P, .*PandarQT128, .*OS-0\/1\/2-32\/64\/128 \(Ouster, RNG15_RFL8_NIR8\)\)$/);
    await refuse({ sensor_model: "VLP16", calibration_file: "vlp32.yaml" }, /calibration has 32 lasers but a VLP-16 has 16/);
    await refuse({ sensor_model: "Pandar64", calibration_file: "hesai.csv" }, /calibration has 40 lasers but a Pandar64 has 64/);
    await refuse({ sensor_model: "VLP16", calibration_file: "hesai.csv" }, /not a Velodyne calibration/);
    await refuse({ sensor_model: "Pandar40P", calibration_file: "vlp32.yaml" }, /no 'laser id,elevation,azimuth' rows/);
    await refuse({ sensor_model: "Pandar40P", calibration_file: "missing.csv" }, /calibration file .*missing\.csv cannot be read/);
    await refuse({ sensor_model: "Pandar40P", calibration_file: "hesai.csv" }, /velodyne_msgs\/VelodyneScan carries velodyne packets but sensor_model is Pandar40P/, "velodyne_msgs/VelodyneScan");
  });

  it("VLP-16 packets out of order: counted with both stamps, no crash", function () {
    const dec = newVlp16();
    spin(dec, 200);
    dec.decode(vlp16Packet(0), 50);
    assert.equal(dec.problems.counts.get("out-of-order"), 1);
    assert.match(dec.problems.first.get("out-of-order")!, /stamped 50\.000000 s after one stamped 100\.26/);
  });

  describe("Hesai (needs ../shared/lidar-packets)", function () {
    before(function () {
      if (!available()) {
        console.log(`    ../shared/lidar-packets absent (${PACKETS_ROOT}): skipped`);
        this.skip();
      }
    });

    async function packets(folder: string): Promise<Uint8Array[]> {
      const out: Uint8Array[] = [];
      for await (const m of bagMessages(folder)) for (const p of readPacketScan(m.type, m.data).packets) out.push(p.data);
      return out;
    }
    const cal = (folder: string, file: string): ReturnType<typeof parseHesaiCalibration> => parseHesaiCalibration(readFileSync(join(PACKETS_ROOT, folder, file), "utf8"), file);

    it("Pandar64 packets given to a Pandar40P decoder, and truncated QT128 packets: counted, no cloud", async function () {
      const dec40 = new HesaiDecoder({ model: "Pandar40P", returnMode: "Dual", frameId: "hesai", calibration: cal("hesai_pandar40p", "Pandar40P.csv") });
      const p64 = await packets("hesai_pandar64");
      for (const p of p64.slice(0, 50)) assert.deepEqual(dec40.decode(p), []);
      assert.equal(dec40.problems.counts.get("truncated"), 50, dec40.problems.lines().join("; "));
      const padded = p64.slice(0, 5).map((p) => Uint8Array.from([...p, ...new Uint8Array(100)]));
      for (const p of padded) assert.deepEqual(dec40.decode(p), []);
      assert.equal(dec40.problems.counts.get("model"), 5, dec40.problems.lines().join("; "));
      const dec64 = new HesaiDecoder({ model: "Pandar64", returnMode: "Dual", frameId: "hesai", calibration: cal("hesai_pandar64", "Pandar64.csv") });
      const qt = await packets("hesai_qt128");
      for (const p of qt.slice(0, 20)) assert.deepEqual(dec64.decode(Uint8Array.from([...p, ...new Uint8Array(100)])), []);
      assert.match(dec64.problems.lines().join("; "), /packet header says \d+ lasers × \d+ blocks, a Pandar64 sends 64 × 6 \(packets of another model\?\)/);
      const decQt = new HesaiDecoder({ model: "PandarQT128", returnMode: "LastStrongest", frameId: "hesai", calibration: cal("hesai_qt128", "PandarQT128.csv") });
      for (const p of qt.slice(0, 20)) decQt.decode(p.subarray(0, 1000));
      assert.equal(decQt.problems.counts.get("truncated"), 20);
      assert.match(decQt.problems.first.get("truncated")!, /PandarQT128 packet of 1000 bytes \(at least 1095 expected\)/);
    });

    it("Pandar40P packets out of order: counted; the sweeps made from them are flagged by the count, not passed as clean", async function () {
      const ps = await packets("hesai_pandar40p");
      const dec = new HesaiDecoder({ model: "Pandar40P", returnMode: "Dual", frameId: "hesai", calibration: cal("hesai_pandar40p", "Pandar40P.csv") });
      // Swap every 7th packet with its successor, and replay a stretch from the previous turn.
      const shuffled = [...ps];
      for (let i = 0; i + 1 < shuffled.length; i += 7) [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
      shuffled.splice(800, 0, ...ps.slice(300, 340));
      let sweeps = 0;
      for (const p of shuffled) sweeps += dec.decode(p).length;
      const ooo = dec.problems.counts.get("out-of-order") ?? 0;
      assert.ok(ooo >= Math.floor(ps.length / 7), `${ooo} out-of-order packets counted`);
      assert.match(dec.problems.first.get("out-of-order")!, /Pandar40P packet time \d+ ns is before the previous packet's \d+ ns/);
      assert.ok(sweeps >= 1);
    });
  });
});
