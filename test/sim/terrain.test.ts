/**
 * The sloped, uneven ground beside the simulated street (src/sim/terrain.ts): the street stays the
 * plane z = 0, the ground beyond the sidewalks rises and falls, a lidar's returns lie on it (level
 * and tilted mounts), and what stands there stands on it.
 */
import assert from "node:assert/strict";
import { LidarModel, POINT_STEP } from "../../src/sim/lidar.js";
import { Prng } from "../../src/sim/prng.js";
import { loadRig, type RigConfig } from "../../src/sim/rig.js";
import { TERRAIN_LIMIT } from "../../src/sim/terrain.js";
import { World } from "../../src/sim/world.js";
import { groundOnlyRig } from "./fixture.js";

/** Each return of a sweep in odom (x, y, z), taken through the ego pose at its firing time and the mount. */
function sweepInOdom(rig: RigConfig, world: World, t0: number): { x: number; y: number; z: number }[] {
  const lidar = rig.lidar!;
  const { data, points } = new LidarModel(lidar).sweep(world, t0, world.structure, Prng.stream(1, "terrain-test"));
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const e = lidar.extrinsics;
  const [cr, sr, cp, sp, cy, sy] = [Math.cos(e.roll), Math.sin(e.roll), Math.cos(e.pitch), Math.sin(e.pitch), Math.cos(e.yaw), Math.sin(e.yaw)];
  const out: { x: number; y: number; z: number }[] = [];
  for (let i = 0; i < points; i++) {
    const lx = dv.getFloat32(i * POINT_STEP, true), ly = dv.getFloat32(i * POINT_STEP + 4, true), lz = dv.getFloat32(i * POINT_STEP + 8, true);
    const tNs = dv.getUint32(i * POINT_STEP + 16, true);
    // base_link ← lidar: Rz(yaw)·Ry(pitch)·Rx(roll), then the mount offset (REP 103).
    const y1 = cr * ly - sr * lz, z1 = sr * ly + cr * lz;
    const x2 = cp * lx + sp * z1, z2 = -sp * lx + cp * z1;
    const bx = cy * x2 - sy * y1 + e.x, by = sy * x2 + cy * y1 + e.y, bz = z2 + e.z;
    const pose = world.egoPose(t0 + tNs / 1e9);
    const c = Math.cos(pose.yaw), s = Math.sin(pose.yaw);
    out.push({ x: pose.x + c * bx - s * by, y: pose.y + s * bx + c * by, z: bz });
  }
  return out;
}

describe("sim: sloped, uneven ground beside the street", function () {
  this.timeout(120_000);

  it("keeps the street the plane z = 0 and slopes the ground beyond the sidewalks, within its limit", () => {
    const rig = loadRig("default");
    const world = new World({ rig, seed: 4, durationS: 20 });
    const terrain = world.terrain!;
    assert.ok(terrain !== null, "the default street has sloped ground beside it");
    const road = world.road;
    const sc = rig.scenario.road;
    const back = road.halfWidth + 0.3 + sc.parkingWidth + sc.sidewalkWidth + 0.5;
    let street = 0, highest = 0;
    for (let s = 0; s < 200; s += 3) {
      for (let d = -back + 1; d <= back - 1; d += 0.5) {
        const p = road.at(s, d);
        assert.equal(terrain.heightAt(p.x, p.y), 0, `street at s=${s}, d=${d}`);
        street++;
      }
      for (const side of [-1, 1]) {
        const p = road.at(s, side * (back + 25));
        highest = Math.max(highest, Math.abs(terrain.heightAt(p.x, p.y)));
      }
    }
    assert.ok(street > 1000);
    assert.ok(highest > 0.8 && highest <= TERRAIN_LIMIT, `ground 25 m beyond the sidewalk: up to ${highest.toFixed(2)} m`);
    // Level ground exactly as before where asked for.
    const flat = new World({ rig: { ...rig, scenario: { ...rig.scenario, structure: { ...rig.scenario.structure, terrainSlope: 0, terrainBumps: 0 } } }, seed: 4, durationS: 20 });
    assert.equal(flat.terrain, null);
  });

  for (const [name, extrinsics] of [["level", {}], ["tilted (roll 5.7°, pitch −6.9°)", { roll: 0.1, pitch: -0.12, yaw: 0.3 }]] as const) {
    it(`a ${name} lidar's returns lie on the ground where it slopes (within 5 cm)`, () => {
      const rig = groundOnlyRig("terrain-only", extrinsics, 0, { terrain: true, radius: 80 });
      const world = new World({ rig, seed: 2, durationS: 6 });
      let off = 0, sloped = 0, worst = 0;
      for (const t0 of [0.5, 3.0, 5.0]) {
        for (const p of sweepInOdom(rig, world, t0)) {
          const h = world.terrain!.heightAt(p.x, p.y);
          if (h === 0) continue;
          off++;
          if (Math.abs(h) > 0.3) sloped++;
          worst = Math.max(worst, Math.abs(p.z - h));
        }
      }
      assert.ok(sloped > 1000, `${sloped} returns on ground more than 0.3 m off the street's plane (${off} off the street)`);
      assert.ok(worst < 0.05, `a return ${worst.toFixed(3)} m off the ground`);
    });
  }

  it("stands hedges, walls and buildings on it: their base at or below the ground under them", () => {
    const rig = loadRig("default");
    const world = new World({ rig, seed: 4, durationS: 20 });
    const terrain = world.terrain!;
    let raised = 0;
    for (const b of world.structure) {
      if (b.z1 - b.z0 < 0.5 || b.hl < 1) continue;
      const centre = terrain.heightAt(b.x, b.y);
      if (centre === 0) continue;
      raised++;
      assert.ok(b.z0 <= centre + 1e-6, `a box at (${b.x.toFixed(1)}, ${b.y.toFixed(1)}) floats: base ${b.z0.toFixed(2)} over ground ${centre.toFixed(2)}`);
    }
    assert.ok(raised > 3, `${raised} boxes on sloped ground`);
  });
});
