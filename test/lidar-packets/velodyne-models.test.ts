/**
 * VLP-32C and VLS-128: no real recording with a reference cloud exists for them in
 * ../shared/lidar-packets, so each is checked against packets built here from the vendor layout
 * (1206 bytes, 12 blocks of 100: header, azimuth, 32 × (distance, intensity), return-mode byte 1204,
 * product id 1205) with known geometry, and against values worked by hand from the manuals' timing
 * tables and the ROS velodyne driver's formulas (rawdata.cc; nebula vlp32/vls128_decoder.cpp).
 */
import assert from "node:assert/strict";
import { parseVelodyneCalibration, VelodyneDecoder, type VelodyneModel } from "../../src/lidar-packets/velodyne.js";
import type { DecodedCloud } from "../../src/lidar-packets/cloud.js";
import { points, rad, type Point } from "./points.js";

// VLP-32C manual, laser table (elevation °, azimuth offset °); lasers 0, 1, 31 agree with the ROS
// driver's VeloView-VLP-32C.yaml (rot_correction is minus the azimuth offset, in rad).
const VLP32C_ELEVATION = [-25, -1, -1.667, -15.639, -11.31, 0, -0.667, -8.843, -7.254, 0.333, -0.333, -6.148, -5.333, 1.333, 0.667, -4, -4.667, 1.667, 1, -3.667, -3.333, 3.333, 2.333, -2.667, -3, 7, 4.667, -2.333, -2, 15, 10.333, -1.333];
const VLP32C_AZ_OFFSET = [1.4, -4.2, 1.4, -1.4, 1.4, -1.4, 4.2, -1.4, 1.4, -4.2, 1.4, -1.4, 4.2, -1.4, 4.2, -1.4, 1.4, -4.2, 1.4, -4.2, 4.2, -1.4, 1.4, -1.4, 1.4, -1.4, 1.4, -4.2, 4.2, -1.4, 1.4, -1.4];

interface LaserYaml {
  elevationDeg: number;
  azOffsetDeg: number;
  /** Calibration fields replacing the defaults (all corrections 0). */
  fields?: Record<string, number | boolean>;
}
function calibrationYaml(lasers: LaserYaml[], resolution: number): string {
  const rows = lasers.map((l, i) => {
    const f: Record<string, number | boolean> = {
      laser_id: i, rot_correction: -rad(l.azOffsetDeg), vert_correction: rad(l.elevationDeg), dist_correction: 0, dist_correction_x: 0, dist_correction_y: 0,
      focal_distance: 0, focal_slope: 0, vert_offset_correction: 0, ...l.fields,
    };
    return `  - {${Object.entries(f).map(([k, v]) => `${k}: ${String(v)}`).join(", ")}}`;
  });
  return `lasers:\n${rows.join("\n")}\nnum_lasers: ${lasers.length}\ndistance_resolution: ${resolution}\n`;
}
const vlp32Lasers = (fields: (i: number) => Record<string, number | boolean> | undefined = () => undefined): LaserYaml[] =>
  VLP32C_ELEVATION.map((e, i) => ({ elevationDeg: e, azOffsetDeg: VLP32C_AZ_OFFSET[i]!, fields: fields(i) }));
/** VLS-128: elevations spread over its −25°..+15° field, no azimuth offsets (a made-up but valid calibration). */
const vlsLasers = (): LaserYaml[] => Array.from({ length: 128 }, (_, i) => ({ elevationDeg: -25 + (40 * i) / 127, azOffsetDeg: 0 }));

interface PacketSpec {
  /** Azimuth (0.01°) of each block. */
  azimuth: (block: number) => number;
  header: (block: number) => number;
  distance: (block: number, j: number) => number;
  intensity?: (block: number, j: number) => number;
  mode?: number;
  product: number;
}
function packet(s: PacketSpec): Uint8Array {
  const p = new Uint8Array(1206);
  const v = new DataView(p.buffer);
  for (let b = 0; b < 12; b++) {
    v.setUint16(b * 100, s.header(b), true);
    v.setUint16(b * 100 + 2, s.azimuth(b) % 36000, true);
    for (let j = 0; j < 32; j++) {
      v.setUint16(b * 100 + 4 + j * 3, s.distance(b, j), true);
      p[b * 100 + 4 + j * 3 + 2] = s.intensity?.(b, j) ?? 40;
    }
  }
  p[1204] = s.mode ?? 55;
  p[1205] = s.product;
  return p;
}

function decoder(model: VelodyneModel, yaml: string, returnMode: "Strongest" | "Dual" = "Strongest"): VelodyneDecoder {
  return new VelodyneDecoder({ model, returnMode, frameId: "velodyne", calibration: parseVelodyneCalibration(yaml, "test.yaml") });
}

/** Decodes `n` packets (packet i from `make(i)`, stamped t0 + i·dt); returns every sweep. */
function run(dec: VelodyneDecoder, n: number, make: (i: number) => Uint8Array, dt: number, t0 = 1000): DecodedCloud[] {
  const out: DecodedCloud[] = [];
  for (let i = 0; i < n; i++) {
    const c = dec.decode(make(i), t0 + i * dt);
    if (c !== undefined) out.push(c);
  }
  return out;
}

/** Where a point should be: the ROS driver's model without offsets (x forward at azimuth 0, y = −sin). */
function expected(distance: number, elevationDeg: number, azimuthDeg: number): { x: number; y: number; z: number } {
  const xy = distance * Math.cos(rad(elevationDeg));
  return { x: xy * Math.cos(rad(azimuthDeg)), y: -xy * Math.sin(rad(azimuthDeg)), z: distance * Math.sin(rad(elevationDeg)) };
}

function near(p: Point, e: { x: number; y: number; z: number }, tol: number, what: string): void {
  const d = Math.hypot(p.x - e.x, p.y - e.y, p.z - e.z);
  assert.ok(d < tol, `${what}: (${p.x}, ${p.y}, ${p.z}) is ${d} m from (${e.x}, ${e.y}, ${e.z})`);
}

describe("lidar-packets: Velodyne VLP-32C (no real reference: synthetic packets, hand-worked values)", function () {
  // 0.2° per block (600 rpm at 55.296 µs per block ≈ 0.199°), 12 blocks per packet.
  const vlp32 = (start: number, extra?: Partial<PacketSpec>): Uint8Array =>
    packet({ azimuth: (b) => start + b * 20, header: () => 0xeeff, distance: () => 2500, product: 0x28, ...extra });

  it("one packet: every laser at 10 m lands where its elevation and corrected azimuth put it", function () {
    const dec = decoder("VLP32C", calibrationYaml(vlp32Lasers(), 0.004));
    // Sweep 1 ends at the wrap; the next packets fill sweep 2, returned at its own wrap.
    const sweeps = run(dec, 320, (i) => vlp32((i * 240) % 36000), 0.0013271);
    assert.ok(sweeps.length >= 2);
    const sweep = sweeps[1]!;
    // 150 packets per turn × 12 blocks × 32 lasers; VLP-32 moves no points to the next sweep at scan_phase 0.
    assert.equal(sweep.points, 150 * 12 * 32);
    const pts = points(sweep);
    // The sweep's first packet starts at azimuth 2.40° (the wrap packet 358.4°..0.6° closed sweep 1).
    const first = pts.slice(0, 32 * 12);
    for (let k = 0; k < first.length; k++) {
      const p = first[k]!, block = Math.floor(k / 32), j = k % 32;
      // Azimuth within a block: + Δ · 2.304 µs · j / 55.296 µs (nebula's per-channel rule), minus the offset correction
      // (rot_correction = −offset), rounded to 0.01°.
      // Block 11's Δ is 0 (nebula assumes nothing about the next packet); rounding to 0.01° moves a point ≤ 0.9 mm at 10 m.
      const az = (240 + block * 20 + ((block === 11 ? 0 : 20) * 2.304 * j) / 55.296 + VLP32C_AZ_OFFSET[j]! * 100) / 100;
      near(p, expected(10, VLP32C_ELEVATION[j]!, az), 1e-3, `block ${block} laser ${j}`);
      assert.ok(Math.abs(p.distance - 10) < 1e-6);
    }
    // Hand-worked: laser 0 (−25°, +1.4°) in block 0: azimuth 2.40 + 1.40 = 3.80°; x = 10 cos25° cos3.8° = 9.04315.
    assert.ok(Math.abs(first[0]!.x - 9.04315) < 1e-4, String(first[0]!.x));
    assert.ok(Math.abs(first[0]!.z - -4.22618) < 1e-4, String(first[0]!.z));
    // Rings: rank of elevation, lowest (laser 0, −25°) ring 0, highest (laser 29, +15°) ring 31.
    assert.equal(first[0]!.channel, 0);
    assert.equal(first[29]!.channel, 31);
  });

  it("firing times: 55.296 µs per block, lasers fire in pairs 2.304 µs apart (manual §9.5): laser 31 of block 11 at 642.816 µs", function () {
    const dec = decoder("VLP32C", calibrationYaml(vlp32Lasers(), 0.004));
    const sweeps = run(dec, 320, (i) => vlp32((i * 240) % 36000), 0.0013271);
    const pts = points(sweeps[1]!);
    // First packet of the sweep is stamped with the sweep: its times are the table's.
    // (The table is float32 as nebula keeps it: ±1 ns.)
    assert.ok(Math.abs(pts[11 * 32 + 31]!.timeNs - 642816) <= 1, String(pts[11 * 32 + 31]!.timeNs));
    assert.equal(pts[0 * 32 + 1]!.timeNs, 0); // laser 1 fires with laser 0
    assert.ok(Math.abs(pts[3 * 32 + 2]!.timeNs - (3 * 55296 + 2304)) <= 1);
    // A later packet: its time after the sweep's stamp plus the table.
    assert.ok(Math.abs(pts[12 * 32 + 5]!.timeNs - (1327100 + 2 * 2304)) <= 2, String(pts[12 * 32 + 5]!.timeNs));
    assert.equal(sweeps[1]!.stampNs, BigInt(Math.round((1000 + 151 * 0.0013271) * 1e9)));
  });

  it("the ROS driver's full laser model: vertical/horizontal offsets, two-point distance correction, intensity focus", function () {
    const fields = (i: number): Record<string, number> | undefined =>
      i === 7 ? { vert_offset_correction: 0.1, horiz_offset_correction: 0.05 } : i === 4 ? { focal_slope: 1, max_intensity: 200 } : undefined;
    const dec = decoder("VLP32C", calibrationYaml(vlp32Lasers(fields), 0.004));
    const sweeps = run(dec, 320, (i) => vlp32((i * 240) % 36000), 0.0013271);
    const pts = points(sweeps[1]!);
    // Laser 7 (−8.843°, −1.4°) at 2.40° + 0.2° · 7/24 − 1.40° = 1.0583° → 1.06°:
    // xy = d cosθ − vo sinθ; x = xy cosα + ho sinα; y = −(xy sinα − ho cosα); z = d sinθ + vo cosθ.
    const th = rad(-8.843), al = rad(1.06);
    const xy = 10 * Math.cos(th) - 0.1 * Math.sin(th);
    near(pts[7]!, { x: xy * Math.cos(al) + 0.05 * Math.sin(al), y: -(xy * Math.sin(al) - 0.05 * Math.cos(al)), z: 10 * Math.sin(th) + 0.1 * Math.cos(th) }, 2e-5, "laser 7 with offsets");
    // Laser 4, intensity 40 at raw distance 2500, focal distance 0, slope 1:
    // 40 + |256 − 256 (1 − 2500/65535)²| = 40 + 19.16 = 59 (truncated into the uint8).
    assert.equal(pts[4]!.intensity, 59);
    assert.equal(pts[5]!.intensity, 40);
  });

  it("two-point correction: at |x| = 25.04 m the x correction is the laser's dist_correction, at 2.4 m dist_correction_x", function () {
    // Laser 5 (0°, −1.4°) seen near azimuth 0: xx = the driver's x ≈ 0 → y direction; use a return along the driver's y (our x).
    const dec = decoder("VLP32C", calibrationYaml(vlp32Lasers((i) => (i === 5 ? { two_pt_correction_available: true, dist_correction: 0.1, dist_correction_x: 0.05, dist_correction_y: 0.02 } : undefined)), 0.004));
    // Raw 6235 × 4 mm + 0.1 = 25.04 m.
    const sweeps = run(dec, 320, (i) => vlp32((i * 240) % 36000, { distance: (_b, j) => (j === 5 ? 6235 : 2500) }), 0.0013271);
    const p = points(sweeps[1]!)[5]!;
    const d = 6235 * 0.004 + 0.1;
    assert.ok(Math.abs(p.distance - d) < 1e-5);
    // yy ≈ d (the driver's y, our x): corr_y = (0.1 − 0.02)(yy − 1.93)/(25.04 − 1.93) + 0.02 − 0.1 ≈ 0 at yy = 25.04.
    // Laser 5 (0°, −1.4°): 2.40° + 0.2° · 5/24 − 1.40° = 1.0417° → 1.04°.
    const al = rad(1.04);
    const yy = d * Math.cos(al);
    const corrY = ((0.1 - 0.02) * (yy - 1.93)) / (25.04 - 1.93) + 0.02 - 0.1;
    const xx = d * Math.sin(al);
    const corrX = ((0.1 - 0.05) * (xx - 2.4)) / (25.04 - 2.4) + 0.05 - 0.1;
    near(p, { x: (d + corrY) * Math.cos(al), y: -(d + corrX) * Math.sin(al), z: 0 }, 2e-5, "two-point corrected");
  });

  it("dual return: the second of two identical returns is dropped, types follow distance and intensity", function () {
    const dec = decoder("VLP32C", calibrationYaml(vlp32Lasers(), 0.004), "Dual");
    // Block pairs share an azimuth; odd blocks hold the other return: laser 0 differs (far, weaker), laser 1 identical.
    const dual = (start: number): Uint8Array =>
      packet({ azimuth: (b) => start + Math.floor(b / 2) * 20, header: () => 0xeeff, distance: (b, j) => (b % 2 && j === 0 ? 3000 : 2500), intensity: (b, j) => (b % 2 && j === 0 ? 10 : 40), mode: 57, product: 0x28 });
    const sweeps = run(dec, 700, (i) => dual((i * 120) % 36000), 0.0013271);
    const all = points(sweeps[1]!);
    const l0 = all.filter((p) => p.channel === 0).slice(0, 2);
    assert.deepEqual(l0.map((p) => [Math.round(p.distance * 1000) / 1000, p.returnType]), [[10, 9], [12, 5]]); // FIRST_STRONGEST, LAST_WEAK
    // Laser 1 (identical in both returns) appears once per block pair, as IDENTICAL.
    const ring1 = VLP32C_ELEVATION.filter((e) => e < -1).length;
    const l1 = all.slice(0, 198).filter((p) => p.channel === ring1);
    assert.equal(l1.length, 6);
    assert.ok(l1.every((p) => p.returnType === 6));
    // 300 packets per turn (1.2° each) × 6 pairs × (32 + the second return of laser 0).
    assert.equal(all.length, 300 * 6 * 33);
    // Dual mode: a block pair is one firing sequence (block index x/2).
    assert.ok(Math.abs(all[33 * 2 + 1]!.timeNs - (2 * 55296)) <= 1, String(all[33 * 2 + 1]!.timeNs));
  });

  it("packets of another model are refused by their product id; a 16-laser calibration by its laser count", function () {
    const dec = decoder("VLP32C", calibrationYaml(vlp32Lasers(), 0.004));
    assert.equal(dec.decode(vlp32(0, { product: 0x22 }), 1), undefined);
    assert.match(dec.problems.first.get("model")!, /product id 0x22 \(a VLP-32C sends 0x28\)/);
    assert.throws(() => decoder("VLP32C", calibrationYaml(vlp32Lasers().slice(0, 16), 0.004)), /calibration has 16 lasers but a VLP-32C has 32/);
    const bad = decoder("VLP32C", calibrationYaml(vlp32Lasers(), 0.004));
    bad.decode(vlp32(0, { header: (b) => (b === 3 ? 0xddff : 0xeeff) }), 1);
    assert.match(bad.problems.first.get("bad-block")!, /block 3 has header 0xddff/);
  });
});

describe("lidar-packets: Velodyne VLS-128 (no real reference: synthetic packets, hand-worked values)", function () {
  const BANKS = [0xeeff, 0xddff, 0xccff, 0xbbff];
  // A packet holds 3 firing sequences × 4 banks; 0.19° per 53.3 µs sequence (≈ 600 rpm).
  const vls = (seq0: number, extra?: Partial<PacketSpec>): Uint8Array =>
    packet({ azimuth: (b) => (seq0 + Math.floor(b / 4)) * 19, header: (b) => BANKS[b % 4]!, distance: () => 2500, product: 0xa1, ...extra });
  const packetsPerTurn = 36000 / 19 / 3;

  it("every laser at 10 m (4 mm units) on its elevation; azimuth interpolated by firing group on the block before an azimuth change", function () {
    const dec = decoder("VLS128", calibrationYaml(vlsLasers(), 0.004));
    const sweeps = run(dec, 1400, (i) => vls(i * 3 + 1), 0.00016);
    assert.ok(sweeps.length >= 2);
    const pts = points(sweeps[1]!);
    // One turn ± a packet: 1894.7 sequences × 128 lasers.
    assert.ok(Math.abs(pts.length - packetsPerTurn * 384) < 3 * 384, `${pts.length} points`);
    for (const p of pts.slice(0, 2000)) {
      const laser = Math.round(((Math.asin(p.z / p.distance) * 180) / Math.PI + 25) * (127 / 40)) + 0; // + 0: no −0
      assert.ok(Math.abs(p.distance - 10) < 1e-5);
      assert.equal(p.channel, laser, "ring = laser (elevations increase with laser id)");
      near(p, expected(10, -25 + (40 * laser) / 127, (p.azimuth * 180) / Math.PI), 2e-5, `laser ${laser}`);
    }
    // The sweep is one turn: azimuths from just after 0° to just before 360°.
    const az = pts.map((p) => (p.azimuth * 180) / Math.PI);
    assert.ok(Math.min(...az.slice(0, 5000)) < 1 && Math.max(...az.slice(-5000)) > 359);
  });

  it("hand-worked azimuths: bank 4 (block 3) gets + Δ · 2.665/53.3 · (group + group/8); banks 1–3 none (their next block has the same azimuth)", function () {
    const dec = decoder("VLS128", calibrationYaml(vlsLasers(), 0.004));
    const sweeps = run(dec, 1400, (i) => vls(i * 3 + 1), 0.00016);
    // The first sweep starts with the first packet (later ones start with the points carried over from the cut).
    const pts = points(sweeps[0]!);
    // Its first points come from that packet, bank by bank: block 3 holds lasers 96..127.
    const block3 = pts.slice(96, 128);
    const base = (block3[0]!.azimuth * 180) / Math.PI; // laser 96: group 12 → + 19 × 0.05 × 13 = 12.35 → 12 (0.01°)
    const blockAz = Math.round(base * 100) - 12;
    // laser 127: group 15 → 19 × 0.05 × (15 + 1) = 15.2 → 15.
    assert.equal(Math.round(((block3[31]!.azimuth * 180) / Math.PI) * 100) - blockAz, 15);
    assert.equal(Math.round(((pts[5]!.azimuth * 180) / Math.PI) * 100), blockAz, "bank 1: no interpolation");
  });

  it("firing times (manual timing table, p. 64): 53.3 µs per sequence, 2.665 µs per group of 8, a maintenance slot after group 8, −8.7 µs", function () {
    const dec = decoder("VLS128", calibrationYaml(vlsLasers(), 0.004));
    const sweeps = run(dec, 1400, (i) => vls(i * 3 + 1), 0.00016);
    const pts = points(sweeps[0]!);
    // First packet of the sweep (stamped with it): laser 0 of sequence 0 fired 8.7 µs before the packet time → clamped 0.
    assert.equal(pts[0]!.timeNs, 0);
    // Laser 40 (bank 2, group 5): 5 × 2.665 − 8.7 = 4.625 µs.
    assert.ok(Math.abs(pts[40]!.timeNs - 4625) <= 1, String(pts[40]!.timeNs));
    // Laser 127 of sequence 2 (block 11): 2 × 53.3 + 16 × 2.665 − 8.7 = 140.54 µs.
    assert.ok(Math.abs(pts[11 * 32 + 31]!.timeNs - 140540) <= 1, String(pts[11 * 32 + 31]!.timeNs));
    // Laser 64 (group 8 → slot 9): 9 × 2.665 − 8.7 = 15.285 µs.
    assert.ok(Math.abs(pts[64]!.timeNs - 15285) <= 1, String(pts[64]!.timeNs));
  });

  it("Strongest packets with Dual configured: the same cloud, times included, as with Strongest configured; the count says the times do not depend on it", function () {
    const yaml = calibrationYaml(vlsLasers(), 0.004);
    const asDual = decoder("VLS128", yaml, "Dual"), asStrongest = decoder("VLS128", yaml, "Strongest");
    const a = run(asDual, 700, (i) => vls(i * 3 + 1), 0.00016), b = run(asStrongest, 700, (i) => vls(i * 3 + 1), 0.00016);
    assert.equal(a.length, 1);
    assert.equal(b.length, 1);
    assert.equal(a[0]!.points, b[0]!.points);
    assert.deepEqual(a[0]!.data, b[0]!.data, "x, y, z, types and per-point times byte for byte");
    assert.equal(asStrongest.problems.total, 0);
    assert.equal(asDual.problems.first.size, 1);
    assert.match(asDual.problems.first.get("return-mode-mismatch")!, /return mode 55, configured Dual \(57\): decoded as the packet says, its point times do not depend on the mode/);
  });

  it("a block naming no bank ends the packet (counted); a VLP-16's packets are refused by product id", function () {
    const dec = decoder("VLS128", calibrationYaml(vlsLasers(), 0.004));
    dec.decode(vls(0, { header: (b) => (b === 5 ? 0x1234 : BANKS[b % 4]!) }), 1);
    assert.match(dec.problems.first.get("bad-block")!, /VLS-128 packet block 5 has header 0x1234/);
    dec.decode(vls(3, { product: 0x22 }), 1.001);
    assert.match(dec.problems.first.get("model")!, /product id 0x22 \(a VLS-128 sends 0xa1\)/);
    assert.throws(() => decoder("VLS128", calibrationYaml(vlp32Lasers(), 0.004)), /calibration has 32 lasers but a VLS-128 has 128/);
  });
});
