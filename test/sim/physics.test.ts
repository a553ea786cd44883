import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { sweepTimeAtAzimuth } from "../../src/sim/lidar.js";
import { loadRig } from "../../src/sim/rig.js";
import { CLASS_COLORS, World } from "../../src/sim/world.js";
import type { ActorClass } from "../../src/sim/truth.js";
import { decode, poseAt, stampOf, testDrive } from "./fixture.js";

interface PointCloud2 {
  width: number;
  point_step: number;
  data: Uint8Array;
  fields: { name: string; offset: number }[];
}

/** True capture time of a message, looked up by its header stamp in the truth file. */
function captureOf(topic: string, stamp: bigint): bigint {
  const { truth } = testDrive();
  const t = truth.messages[topic]!;
  const i = t.stampNs.indexOf(stamp.toString());
  assert.ok(i >= 0, `stamp ${stamp} of ${topic} not in truth`);
  return BigInt(t.captureNs[i]!);
}

/** Does the segment p→q pass through the box (footprint pose, size, standing on z = 0)? Slab test. */
function segmentHitsBox(p: number[], q: number[], pose: { x: number; y: number; yaw: number }, size: { x: number; y: number; z: number }): boolean {
  const c = Math.cos(pose.yaw);
  const s = Math.sin(pose.yaw);
  const local = (v: number[]): number[] => [c * (v[0]! - pose.x) + s * (v[1]! - pose.y), -s * (v[0]! - pose.x) + c * (v[1]! - pose.y), v[2]!];
  const a = local(p);
  const b = local(q);
  const lo = [-size.x / 2, -size.y / 2, 0];
  const hi = [size.x / 2, size.y / 2, size.z];
  let t0 = 0;
  let t1 = 1;
  for (let k = 0; k < 3; k++) {
    const d = b[k]! - a[k]!;
    if (Math.abs(d) < 1e-12) {
      if (a[k]! < lo[k]! || a[k]! > hi[k]!) return false;
      continue;
    }
    let ta = (lo[k]! - a[k]!) / d;
    let tb = (hi[k]! - a[k]!) / d;
    if (ta > tb) [ta, tb] = [tb, ta];
    t0 = Math.max(t0, ta);
    t1 = Math.min(t1, tb);
    if (t0 > t1) return false;
  }
  return true;
}

/** Every return of the test drive's lidar in odom at its own firing time (z over the ground). */
function* lidarPointsInOdom(): Generator<{ ox: number; oy: number; z: number; t: bigint }> {
  const { drive, messages, truth } = testDrive();
  const lidar = drive.rig.lidar!;
  const ext = lidar.extrinsics;
  for (const m of messages.filter((x) => x.topic === lidar.topic)) {
    const cloud = decode<PointCloud2>(m);
    const capture = captureOf(m.topic, stampOf(m));
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    const off = Object.fromEntries(cloud.fields.map((f) => [f.name, f.offset]));
    for (let p = 0; p < cloud.width; p++) {
      const base = p * cloud.point_step;
      const x = view.getFloat32(base + off.x!, true);
      const y = view.getFloat32(base + off.y!, true);
      const z = view.getFloat32(base + off.z!, true) + ext.z;
      const t = capture + BigInt(view.getUint32(base + off.t!, true));
      // lidar → base_link → odom at the point's own firing time.
      const bx = ext.x + Math.cos(ext.yaw) * x - Math.sin(ext.yaw) * y;
      const by = ext.y + Math.sin(ext.yaw) * x + Math.cos(ext.yaw) * y;
      const ego = poseAt(truth.ego, t);
      yield { ox: ego.x + Math.cos(ego.yaw) * bx - Math.sin(ego.yaw) * by, oy: ego.y + Math.sin(ego.yaw) * bx + Math.cos(ego.yaw) * by, z, t };
    }
  }
}

/** The test drive's returns 0.3 m or more over the ground within 3 m of an actor of a class, in that actor's frame (|along|, |across|), with its size. */
function* returnsOnActors(cls: ActorClass): Generator<{ lx: number; ly: number; z: number; size: { x: number; y: number; z: number } }> {
  const actors = testDrive().truth.actors.filter((a) => a.class === cls);
  assert.ok(actors.length > 0, `the test drive has a ${cls}`);
  let poses: { x: number; y: number; yaw: number }[] = [], posesAt = -1n;
  for (const { ox, oy, z, t } of lidarPointsInOdom()) {
    if (z < 0.3) continue;
    // A column's beams fire at one time: its poses are looked up once.
    if (t !== posesAt) {
      poses = actors.map((c) => poseAt(c.track, t));
      posesAt = t;
    }
    for (const [k, actor] of actors.entries()) {
      const a = poses[k]!, dx = ox - a.x, dy = oy - a.y;
      if (Math.abs(dx) > 3 || Math.abs(dy) > 3) continue;
      yield { lx: Math.abs(Math.cos(a.yaw) * dx + Math.sin(a.yaw) * dy), ly: Math.abs(-Math.sin(a.yaw) * dx + Math.cos(a.yaw) * dy), z, size: actor.size };
    }
  }
}

describe("sim physics", function () {
  this.timeout(60_000);
  before(() => {
    testDrive();
  });

  it("puts the lidar points of each actor inside its true box", () => {
    const { drive, truth } = testDrive();
    let candidates = 0;
    let inside = 0;
    for (const { ox, oy, z, t } of lidarPointsInOdom()) {
      if (z < 0.2) continue; // ground and curbs
      let near = false;
      let inBox = false;
      for (const actor of truth.actors) {
        const a = poseAt(actor.track, t);
        const dx = ox - a.x;
        const dy = oy - a.y;
        const lx = Math.abs(Math.cos(a.yaw) * dx + Math.sin(a.yaw) * dy);
        const ly = Math.abs(-Math.sin(a.yaw) * dx + Math.cos(a.yaw) * dy);
        if (lx < actor.size.x / 2 + 0.6 && ly < actor.size.y / 2 + 0.6 && z < actor.size.z + 0.3) near = true;
        const tol = 0.1;
        if (lx <= actor.size.x / 2 + tol && ly <= actor.size.y / 2 + tol && z <= actor.size.z + tol) inBox = true;
      }
      if (!near) continue;
      // Poles and buildings next to an actor are not the actor (static structure is not in the truth file).
      const onStructure = drive.world.structure.some((b) => {
        const dx = ox - b.x;
        const dy = oy - b.y;
        return Math.abs(Math.cos(b.yaw) * dx + Math.sin(b.yaw) * dy) <= b.hl + 0.1 && Math.abs(-Math.sin(b.yaw) * dx + Math.cos(b.yaw) * dy) <= b.hw + 0.1 && z <= b.z1 + 0.1;
      });
      if (onStructure) continue;
      candidates++;
      if (inBox) inside++;
    }
    assert.ok(candidates > 300, `only ${candidates} points near actors`);
    assert.ok(inside / candidates > 0.97, `${inside}/${candidates} actor points inside their boxes`);
  });

  it("shapes a car as a body and a cabin set in from its sides: its side shows two depths", () => {
    // Returns on a car's side (within 0.35 m of it, in the middle of its length), split at its beltline.
    const below: number[] = [], above: number[] = [];
    for (const { lx, ly, z, size } of returnsOnActors("car")) {
      if (lx > size.x / 5 || ly < size.y / 2 - 0.35 || ly > size.y / 2 + 0.05) continue;
      if (z < 0.55 * size.z) below.push(size.y / 2 - ly);
      else if (z > 0.7 * size.z && z < size.z - 0.05) above.push(size.y / 2 - ly);
    }
    const median = (v: number[]): number => [...v].sort((p, q) => p - q)[v.length >> 1]!;
    assert.ok(below.length > 50 && above.length > 50, `${below.length} returns below the beltline, ${above.length} above`);
    assert.ok(median(below) < 0.03, `the body's side is the box's side (inset ${median(below).toFixed(3)} m)`);
    assert.ok(median(above) > 0.08 && median(above) < 0.2, `the cabin stands in from it (inset ${median(above).toFixed(3)} m)`);
  });

  it("shapes a cyclist as a thin bicycle under a round rider: returns above the saddle spread across, below it lie on the frame", () => {
    const frame: number[] = [], rider: number[] = [];
    for (const { lx, ly, z, size } of returnsOnActors("cyclist")) {
      if (lx > size.x / 2 || ly > size.y / 2) continue;
      if (z < 0.85) frame.push(ly);
      else if (z > 1.1) rider.push(ly);
    }
    assert.ok(frame.length >= 3 && rider.length > 20, `${frame.length} frame returns, ${rider.length} rider returns`);
    assert.ok(Math.max(...frame) <= 0.1, `the frame is thin (${Math.max(...frame).toFixed(2)} m off its line)`);
    assert.ok(Math.max(...rider) >= 0.15, `the rider is a body (${Math.max(...rider).toFixed(2)} m off the line)`);
  });

  it("leaves out scripted events at or after the drive's end (a rig's scenario outlives a short run)", () => {
    const base = loadRig("default");
    const rig = { ...base, scenario: { ...base.scenario, events: [{ kind: "hard_braking" as const, atS: 2 }, { kind: "sharp_turn" as const, atS: 8 }, { kind: "lane_change" as const, atS: 40 }] } };
    const world = new World({ rig, seed: 1, durationS: 8 });
    assert.deepEqual(world.events.map((e) => e.kind), ["hard_braking"]);
  });

  it("keeps buildings off the road through sharp turns (the ego never drives into a wall)", () => {
    const base = loadRig("default");
    for (const seed of [1, 3, 7]) {
      const rig = { ...base, scenario: { ...base.scenario, events: [{ kind: "sharp_turn" as const, atS: 5 }, { kind: "lane_change" as const, atS: 12 }, { kind: "sharp_turn" as const, atS: 18 }] } };
      const world = new World({ rig, seed, durationS: 30 });
      // Buildings are 6–24 m tall (tree crowns, also wide, are at most 5 m deep and hang over the road's edge above traffic).
      const buildings = world.structure.filter((b) => b.hl > 2 && b.hw > 2 && b.z1 - b.z0 >= 6);
      assert.ok(buildings.length > 5, `seed ${seed}: ${buildings.length} buildings`);
      let nearest = Infinity;
      for (let t = 0; t <= 30; t += 0.1) {
        const e = world.egoPose(t);
        for (const b of buildings) {
          const dx = e.x - b.x, dy = e.y - b.y;
          const u = Math.max(Math.abs(Math.cos(b.yaw) * dx + Math.sin(b.yaw) * dy) - b.hl, 0);
          const v = Math.max(Math.abs(-Math.sin(b.yaw) * dx + Math.cos(b.yaw) * dy) - b.hw, 0);
          nearest = Math.min(nearest, Math.hypot(u, v));
        }
      }
      // The ego drives at most in the outer lane: a lane's half width plus the sidewalk stays free.
      const free = world.scenario.road.laneWidth / 2 + world.scenario.road.sidewalkWidth;
      assert.ok(nearest >= free, `seed ${seed}: the ego passes ${nearest.toFixed(2)} m from a building`);
    }
  });

  it("stamps each lidar point with the sweep time at its azimuth", () => {
    const { drive, messages } = testDrive();
    const lidar = drive.rig.lidar!;
    const period = 1 / lidar.rateHz;
    const m = messages.find((x) => x.topic === lidar.topic)!;
    const cloud = decode<PointCloud2>(m);
    const view = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
    let worst = 0;
    for (let p = 0; p < cloud.width; p += 7) {
      const x = view.getFloat32(p * 24, true);
      const y = view.getFloat32(p * 24 + 4, true);
      const t = view.getUint32(p * 24 + 16, true) / 1e9;
      let d = Math.abs(sweepTimeAtAzimuth(lidar, Math.atan2(y, x)) - t);
      d = Math.min(d, period - d);
      worst = Math.max(worst, d);
    }
    assert.ok(worst < 2e-5, `worst sweep-time mismatch ${worst} s`);
  });

  it("draws each visible actor in its class colour where its box projects", () => {
    const { drive, messages, truth } = testDrive();
    let candidates = 0;
    let hits = 0;
    for (const cam of drive.rig.cameras.filter((c) => c.encoding === "rgb8")) {
      const fx = cam.width / 2 / Math.tan((cam.hfovDeg * Math.PI) / 360);
      const e = cam.extrinsics;
      for (const m of messages.filter((x) => x.topic === cam.topic)) {
        const img = decode<{ width: number; height: number; data: Uint8Array }>(m);
        const capture = captureOf(m.topic, stampOf(m));
        const ego = poseAt(truth.ego, capture);
        // Camera axes in odom: yaw of ego + camera, pitch about the camera's left axis (roll = 0).
        const yaw = ego.yaw + e.yaw;
        const [cp, sp] = [Math.cos(e.pitch), Math.sin(e.pitch)];
        const fwd = [Math.cos(yaw) * cp, Math.sin(yaw) * cp, -sp];
        const left = [-Math.sin(yaw), Math.cos(yaw), 0];
        const up = [Math.cos(yaw) * sp, Math.sin(yaw) * sp, cp];
        const cx = ego.x + Math.cos(ego.yaw) * e.x - Math.sin(ego.yaw) * e.y;
        const cy = ego.y + Math.sin(ego.yaw) * e.x + Math.cos(ego.yaw) * e.y;
        for (const actor of truth.actors) {
          const a = poseAt(actor.track, capture);
          const d = [a.x - cx, a.y - cy, actor.size.z / 2 - e.z];
          const Z = d[0]! * fwd[0]! + d[1]! * fwd[1]! + d[2]! * fwd[2]!;
          if (Z < 3 || Z > 50) continue;
          const u = fx * (-(d[0]! * left[0]! + d[1]! * left[1]!) / Z) + cam.width / 2;
          const v = fx * (-(d[0]! * up[0]! + d[1]! * up[1]! + d[2]! * up[2]!) / Z) + cam.height / 2;
          if (u < 5 || u > cam.width - 5 || v < 5 || v > cam.height - 5) continue;
          // Skip actors hidden behind another actor along the line of sight.
          const target = [a.x, a.y, actor.size.z / 2];
          const hidden = truth.actors.some((o) => o.id !== actor.id && segmentHitsBox([cx, cy, e.z], target, poseAt(o.track, capture), o.size));
          if (hidden) continue;
          candidates++;
          const i = (Math.floor(v) * img.width + Math.floor(u)) * 3;
          const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
          const c = CLASS_COLORS[actor.class as ActorClass];
          const C = [(c >> 16) & 255, (c >> 8) & 255, c & 255];
          const f = Math.max(r, g, b) / Math.max(...C);
          if (f > 0.5 && f < 1.05 && Math.abs(r - f * C[0]!) <= 10 && Math.abs(g - f * C[1]!) <= 10 && Math.abs(b - f * C[2]!) <= 10) hits++;
        }
      }
    }
    assert.ok(candidates >= 10, `only ${candidates} actors in view`);
    assert.ok(hits / candidates >= 0.9, `${hits}/${candidates} projected actor centres show the actor's colour`);
  });

  it("encodes JPEG cameras that decode to the configured size", () => {
    const { drive, messages } = testDrive();
    const cam = drive.rig.cameras.find((c) => c.encoding === "jpeg")!;
    const m = messages.find((x) => x.topic === cam.topic)!;
    const img = decode<{ format: string; data: Uint8Array }>(m);
    assert.equal(img.format, "jpeg");
    const pixels = jpeg.decode(img.data, { useTArray: true });
    assert.equal(pixels.width, cam.width);
    assert.equal(pixels.height, cam.height);
    // The top row is sky (light blue), the bottom row road or ground: not one flat colour.
    assert.ok(pixels.data[2]! > pixels.data[0]!, "sky should be blue-ish");
    const bottom = ((cam.height - 1) * cam.width + cam.width / 2) * 4;
    assert.ok(pixels.data[bottom + 2]! < 150, "bottom centre should be road, not sky");
  });

  it("raises audio band energy during siren and horn events", () => {
    const { drive, messages, truth } = testDrive();
    const audio = drive.rig.audio!;
    const goertzel = (x: Float64Array, f: number): number => {
      const w = (2 * Math.PI * f) / audio.sampleRate;
      const k = 2 * Math.cos(w);
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < x.length; i++) {
        const s0 = x[i]! + k * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      return s1 * s1 + s2 * s2 - k * s1 * s2;
    };
    const windows = (kind: string): [bigint, bigint][] =>
      truth.events
        .filter((e) => e.kind === kind)
        .map((e) => {
          const s = BigInt(e.startNs);
          const len = BigInt(e.endNs) - s;
          return [s + len / 4n, s + (3n * len) / 4n];
        });
    const siren = windows("siren_wail");
    const horn = windows("horn");
    assert.ok(siren.length === 1 && horn.length === 1);
    const within = (t: bigint, ws: [bigint, bigint][]): boolean => ws.some(([a, b]) => t >= a && t + 20_000_000n <= b);
    const near = (t: bigint, kind: string): boolean => truth.events.some((e) => e.kind === kind && t + 40_000_000n >= BigInt(e.startNs) && t <= BigInt(e.endNs) + 20_000_000n);
    const bands = { siren: [] as number[], sirenOff: [] as number[], horn: [] as number[], hornOff: [] as number[] };
    for (const m of messages.filter((x) => x.topic === audio.topic)) {
      const chunk = decode<{ data: Uint8Array; frames: number; channels: number }>(m);
      const pcm = new Int16Array(chunk.data.buffer.slice(chunk.data.byteOffset, chunk.data.byteOffset + chunk.data.byteLength));
      const x = new Float64Array(chunk.frames);
      for (let i = 0; i < chunk.frames; i++) x[i] = pcm[i * chunk.channels]! / 32768;
      const t = captureOf(m.topic, stampOf(m));
      let sirenE = 0;
      for (let f = 650; f <= 1550; f += 50) sirenE += goertzel(x, f);
      const hornE = goertzel(x, 440) + goertzel(x, 554);
      if (within(t, siren)) bands.siren.push(sirenE);
      else if (!near(t, "siren_wail") && !near(t, "horn")) bands.sirenOff.push(sirenE);
      if (within(t, horn)) bands.horn.push(hornE);
      else if (!near(t, "horn") && !near(t, "siren_wail")) bands.hornOff.push(hornE);
    }
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(bands.siren.length > 5 && bands.horn.length > 3 && bands.sirenOff.length > 20);
    const sirenRatio = mean(bands.siren) / mean(bands.sirenOff);
    const hornRatio = mean(bands.horn) / mean(bands.hornOff);
    assert.ok(sirenRatio > 20, `siren band energy ratio ${sirenRatio}`);
    assert.ok(hornRatio > 20, `horn band energy ratio ${hornRatio}`);
  });

  it("lets engine RPM in telemetry vary with driving (gear changes, braking)", () => {
    const { messages } = testDrive();
    const rpm = messages.filter((x) => x.topic === "/vehicle/telemetry").map((m) => decode<{ engine_rpm: number }>(m).engine_rpm);
    const min = Math.min(...rpm);
    const max = Math.max(...rpm);
    assert.ok(max - min > 300, `RPM range ${min}..${max}`);
  });
});

describe("sim engine sound", function () {
  this.timeout(60_000);

  it("plays the engine's firing frequency rpm/60·cylinders/2 at the true capture time", () => {
    const { drive, messages, truth } = testDrive();
    const audio = drive.rig.audio!;
    // Concatenate the audio by capture time (no audio drops in the test rig), 100 ms windows.
    const chunks = messages
      .filter((m) => m.topic === audio.topic)
      .map((m) => ({ t: captureOf(m.topic, stampOf(m)), pcm: decode<{ data: Uint8Array; channels: number; frames: number }>(m) }))
      .sort((a, b) => (a.t < b.t ? -1 : 1));
    const telemetry = messages
      .filter((m) => m.topic === "/vehicle/telemetry")
      .map((m) => ({ t: captureOf(m.topic, stampOf(m)), rpm: decode<{ engine_rpm: number }>(m).engine_rpm }))
      .sort((a, b) => (a.t < b.t ? -1 : 1));
    const rpmAt = (t: bigint): number => telemetry.reduce((best, x) => (abs(x.t - t) < abs(best.t - t) ? x : best)).rpm;
    const per = 5; // chunks per window
    let checked = 0;
    let good = 0;
    for (let w = 0; w + per <= chunks.length; w += per) {
      const t0 = chunks[w]!.t;
      const mid = t0 + 50_000_000n;
      if (truth.events.some((e) => mid + 100_000_000n >= BigInt(e.startNs) && mid - 100_000_000n <= BigInt(e.endNs))) continue; // sirens, horn, braking
      const x: number[] = [];
      for (const c of chunks.slice(w, w + per)) {
        const pcm = new Int16Array(c.pcm.data.buffer.slice(c.pcm.data.byteOffset, c.pcm.data.byteOffset + c.pcm.data.byteLength));
        for (let i = 0; i < c.pcm.frames; i++) x.push(pcm[i * c.pcm.channels]! / 32768);
      }
      // Strongest frequency between 15 and 200 Hz (Goertzel scan, 0.5 Hz steps).
      let bestF = 0;
      let bestP = -1;
      for (let f = 15; f <= 200; f += 0.5) {
        const k = 2 * Math.cos((2 * Math.PI * f) / audio.sampleRate);
        let s1 = 0;
        let s2 = 0;
        for (const v of x) {
          const s0 = v + k * s1 - s2;
          s2 = s1;
          s1 = s0;
        }
        const p = s1 * s1 + s2 * s2 - k * s1 * s2;
        if (p > bestP) {
          bestP = p;
          bestF = f;
        }
      }
      const expected = (rpmAt(mid) / 60) * (drive.rig.vehicle.cylinders / 2);
      checked++;
      if (Math.abs(bestF - expected) < 3) good++;
    }
    assert.ok(checked >= 5, `${checked} windows checked`);
    assert.ok(good / checked >= 0.8, `${good}/${checked} windows at the firing frequency`);
  });
});

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}
