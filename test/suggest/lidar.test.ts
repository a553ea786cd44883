import assert from "node:assert/strict";
import { classify, fitCluster, growBox, LidarProposalConfigSchema, LidarProposer, mountFromTransform, pointCloudView, vetClass, type PointCloudView, type Proposal } from "../../src/suggest/lidar.js";
import { quatToMatrix } from "../../src/suggest/camera.js";
import { bevIoU } from "../../src/suggest/eval.js";
import { axisError, syntheticCloud } from "./synthetic.js";

const mount = { x: 0, y: 0, z: 0, yaw: 0 };

describe("suggest/lidar: proposals", () => {
  it("says which places a sweep saw only something nearer in front of (a track's hiding place)", () => {
    // A truck's side 8 m away, 9 m long, across the bearing of a parked car at (15, -9).
    const truck = { x: 6, y: -5, yaw: 0, length: 9, width: 2.5, height: 3.2 };
    const proposer = new LidarProposer();
    proposer.propose(syntheticCloud([truck]), mount);
    assert.equal(proposer.hidden(15, -9, 2.4, mount), true, "behind the truck");
    assert.equal(proposer.hidden(15, 9, 2.4, mount), false, "the other side: no return nearer on its bearings");
    assert.equal(proposer.hidden(6, -5, 1, mount), false, "the truck itself is not behind itself");
  });

  it("finds a car and a pedestrian on a sloped road with a curb, and nothing on the ground, the curb or the ego", () => {
    const car = { x: 14, y: -2, yaw: 0.3, length: 4.5, width: 1.8, height: 1.5 };
    const ped = { x: 9, y: 7.5, yaw: 0, length: 0.5, width: 0.5, height: 1.75 };
    const proposals = new LidarProposer().propose(syntheticCloud([car, ped]), mount);
    const named = proposals.filter((p) => p.category !== "unknown");
    assert.equal(named.length, 2, JSON.stringify(named.map((p) => [p.category, p.box.x, p.box.y])));
    const c = named.find((p) => p.category === "car");
    assert.ok(c, "car found");
    assert.ok(Math.hypot(c.box.x - car.x, c.box.y - car.y) < 0.4, `car centre ${c.box.x},${c.box.y}`);
    assert.ok(axisError(c.box.yaw, car.yaw) < 0.08, `car yaw ${c.box.yaw}`);
    assert.ok(bevIoU(c.box, { ...car, z: 0 }) > 0.7);
    const p = named.find((q) => q.category === "pedestrian");
    assert.ok(p && Math.hypot(p.box.x - ped.x, p.box.y - ped.y) < 0.3);
  });

  it("without the slope-following ground, the sloped road itself becomes obstacles (the test can fail)", () => {
    const flat = new LidarProposer({ maxGroundSlope: 0.001, groundRegions: false }).propose(syntheticCloud([], { slope: 0.05 }), mount);
    assert.ok(flat.length > 0, "a ground model that cannot follow slopes sees obstacles");
    const robust = new LidarProposer().propose(syntheticCloud([], { slope: 0.05 }), mount);
    assert.equal(robust.length, 0);
  });

  it("takes the ground rising behind a wall for ground (region-wise pass), where the radial follower cannot pick it up again", () => {
    // A 1.4 m wall 10 m ahead across ±4 m; behind it, in its shadow, no ground returns for 6 m, then
    // a lawn rising at 12 % (a forecourt, an embankment), with a car standing on it.
    const lawn = (x: number): number => (x > 12 ? 0.12 * (x - 12) : 0);
    const shadow = (x: number, y: number): boolean => x > 10 && x < 16 && Math.abs(y) < (4 * x) / 10;
    const wall = { x: 10, y: 0, yaw: Math.PI / 2, length: 8, width: 0.2, height: 1.4 };
    const car = { x: 26, y: 1, yaw: 0, length: 4.5, width: 1.8, height: 1.5 };
    const cloud = syntheticCloud([wall, car], { ground: (x) => lawn(x), hidden: shadow });
    const onLawn = (ps: Proposal[]): Proposal[] => ps.filter((p) => p.box.x > 16 && p.box.x < 60 && Math.abs(p.box.y) < (4 * p.box.x) / 10 && Math.hypot(p.box.x - car.x, p.box.y - car.y) > 3);
    const radialOnly = new LidarProposer({ groundRegions: false }).propose(cloud, mount);
    assert.ok(onLawn(radialOnly).length > 0, "the radial follower alone leaves the risen lawn as obstacles (the test can fail)");
    const proposals = new LidarProposer().propose(cloud, mount);
    assert.deepEqual(onLawn(proposals).map((p) => `${p.category} ${p.box.x.toFixed(1)},${p.box.y.toFixed(1)}`), []);
    const found = proposals.find((p) => p.category === "car" && Math.hypot(p.box.x - car.x, p.box.y - car.y) < 1);
    assert.ok(found !== undefined, `the car on the lawn is still found: ${proposals.map((p) => `${p.category} ${p.box.x.toFixed(1)},${p.box.y.toFixed(1)}`).join("; ")}`);
  });

  it("takes no reflection from below the road for ground: the car behind it stays a car", () => {
    // Returns 2.5 m under the road 10.5 m ahead, across the car's bearings (a beam mirrored by a
    // wet patch or a car body, as on KITTI 000003 and PandaSet 000500, where they lay 2.6–10 m down).
    const car = { x: 14, y: -1, yaw: 0, length: 4.2, width: 1.7, height: 1.55 };
    // The car hides the road behind it (its shadow, out to 30 m), as a real car does.
    const shadow = (x: number, y: number): boolean => x > 11.9 && y / x > -2.0 / 11.9 && y / x < 0.1 / 11.9 && x < 30;
    const base = syntheticCloud([car], { slope: 0, hidden: shadow });
    const extra: number[] = [];
    for (let y = -2.0; y <= 0.01; y += 0.05) extra.push(11.2, y, -2.5);
    const data = new Uint8Array(base.data.byteLength + (extra.length / 3) * 16);
    data.set(base.data);
    const view = new DataView(data.buffer);
    for (let k = 0; k < extra.length / 3; k++) for (let a = 0; a < 3; a++) view.setFloat32(base.data.byteLength + k * 16 + a * 4, extra[k * 3 + a]!, true);
    const cloud = { ...base, data, count: base.count + extra.length / 3 };
    // Exactly the car, as one car, and nothing else named.
    const justTheCar = (ps: Proposal[]): boolean => {
      const named = ps.filter((p) => p.category !== "unknown");
      return named.length === 1 && named[0]!.category === "car" && bevIoU(named[0]!.box, { ...car, z: 0 }) > 0.5;
    };
    const describe = (ps: Proposal[]): string => ps.map((p) => `${p.category} ${p.box.x.toFixed(1)},${p.box.y.toFixed(1)} ${p.box.length.toFixed(1)}×${p.box.width.toFixed(1)}×${p.box.height.toFixed(1)}`).join("; ");
    const trusting = new LidarProposer({ belowGroundStep: 1000 }).propose(cloud, mount);
    assert.ok(!justTheCar(trusting), `taken as ground, the reflections sink the ground under the car and it falls apart (the test can fail): ${describe(trusting)}`);
    const proposals = new LidarProposer().propose(cloud, mount);
    assert.ok(justTheCar(proposals), describe(proposals));
  });

  it("levels a pitched and rolled lidar by its full /tf_static rotation: the same boxes as a level one", () => {
    const car = { x: 14, y: -2, yaw: 0.3, length: 4.5, width: 1.8, height: 1.5 };
    const ped = { x: 9, y: 7.5, yaw: 0, length: 0.5, width: 0.5, height: 1.75 };
    const level = syntheticCloud([car, ped]);
    // A lidar 1.8 m up, 1.2 m forward, pitched down 4°, rolled 2.5°, yawed 0.4 rad: base_link ← lidar.
    const [roll, pitch, yaw] = [0.044, 0.07, 0.4];
    const q = { x: Math.sin(roll / 2) * Math.cos(pitch / 2) * Math.cos(yaw / 2) - Math.cos(roll / 2) * Math.sin(pitch / 2) * Math.sin(yaw / 2), y: Math.cos(roll / 2) * Math.sin(pitch / 2) * Math.cos(yaw / 2) + Math.sin(roll / 2) * Math.cos(pitch / 2) * Math.sin(yaw / 2), z: Math.cos(roll / 2) * Math.cos(pitch / 2) * Math.sin(yaw / 2) - Math.sin(roll / 2) * Math.sin(pitch / 2) * Math.cos(yaw / 2), w: Math.cos(roll / 2) * Math.cos(pitch / 2) * Math.cos(yaw / 2) + Math.sin(roll / 2) * Math.sin(pitch / 2) * Math.sin(yaw / 2) };
    const r = quatToMatrix(q), t: [number, number, number] = [1.2, 0.1, 1.8];
    // The same returns as the tilted sensor reports them: p_lidar = Rᵀ (p_base − t).
    const data = new Uint8Array(level.data);
    const dv = new DataView(data.buffer);
    for (let i = 0; i < level.count; i++) {
      const bx = dv.getFloat32(i * 16, true) - t[0], by = dv.getFloat32(i * 16 + 4, true) - t[1], bz = dv.getFloat32(i * 16 + 8, true) - t[2];
      dv.setFloat32(i * 16, r[0]! * bx + r[3]! * by + r[6]! * bz, true);
      dv.setFloat32(i * 16 + 4, r[1]! * bx + r[4]! * by + r[7]! * bz, true);
      dv.setFloat32(i * 16 + 8, r[2]! * bx + r[5]! * by + r[8]! * bz, true);
    }
    const tilted = { ...level, data };
    const named = (ps: Proposal[]): Proposal[] => ps.filter((p) => p.category !== "unknown").sort((a, b) => a.box.x - b.box.x);
    const want = named(new LidarProposer().propose(level, mount));
    const mountFull = mountFromTransform({ r, t });
    const got = named(new LidarProposer().propose(tilted, mountFull));
    assert.deepEqual(got.map((p) => p.category), want.map((p) => p.category));
    for (const [i, p] of got.entries()) {
      assert.ok(Math.hypot(p.box.x - want[i]!.box.x, p.box.y - want[i]!.box.y) < 0.05, `${p.category} at ${p.box.x},${p.box.y} vs ${want[i]!.box.x},${want[i]!.box.y}`);
      assert.ok(axisError(p.box.yaw, want[i]!.box.yaw) < 0.03);
      assert.ok(bevIoU(p.box, want[i]!.box) > 0.95);
    }
    // Read as yaw only (the old mount), the 4° pitch tilts the road by 1.4 m at 20 m: the boxes differ.
    const yawOnly = named(new LidarProposer().propose(tilted, { x: t[0], y: t[1], z: t[2], yaw: mountFull.yaw }));
    const same = yawOnly.length === want.length && yawOnly.every((p, i) => p.category === want[i]!.category && bevIoU(p.box, want[i]!.box) > 0.95);
    assert.ok(!same, "ignoring roll and pitch must change the result (the test can fail)");
  });

  it("names no compact tall blob with an upright axis a truck (a kiosk, a clipped tree); a truck's compact corner stays one", () => {
    // What vetClass sees of each (a real sensor's two faces): visible extents, heights, covariance shape.
    const proposal = (long: number, short: number, top: number, verticality: number): Proposal => {
      const visible = { x: 20, y: 3, z: top / 2, yaw: 0, length: long, width: short, height: top };
      return { box: { ...visible, length: 9, width: 2.5 }, visible, category: "truck", confidence: 0.9, points: 200, features: { points: 200, range: 20, top, bottom: 0.3, linearity: 0.7, planarity: 0.2, scattering: 0.08, verticality, edgeResidual: 0.3 } };
    };
    const blob = proposal(2.3, 2.1, 3.9, 0.95), corner = proposal(3.3, 2.4, 3.3, 0.55);
    vetClass(blob);
    vetClass(corner);
    assert.equal(blob.category, "unknown");
    assert.equal(corner.category, "truck");
  });

  it("names no flat sheet longer than a car is wide a car (a wall's, fence's or board's face), nor a flat board a cyclist; a flat end face stays a car", () => {
    const proposal = (long: number, short: number, depth: number): Proposal => {
      const visible = { x: 15, y: -6, z: 0.75, yaw: 0, length: long, width: short, height: 1.5 };
      return { box: { ...visible, length: 4.5, width: 1.85 }, visible, category: "car", confidence: 0.9, points: 80, features: { points: 80, range: 16, top: 1.5, bottom: 0.3, linearity: 0.9, planarity: 0.08, scattering: 0.01, verticality: 0.2, edgeResidual: 0.02, depth } };
    };
    const fence = proposal(4.2, 0.15, 0.02), side = proposal(4.2, 0.4, 0.09), rear = proposal(1.8, 0.15, 0.02);
    for (const p of [fence, side, rear]) vetClass(p);
    assert.equal(fence.category, "unknown");
    assert.equal(side.category, "car");
    assert.equal(rear.category, "car");
    // A board of a bicycle's length is no cyclist either; a rider's body has depth.
    const cyclist = (depth: number): Proposal => {
      const visible = { x: 12, y: 4, z: 0.85, yaw: 0, length: 1.6, width: 0.2, height: 1.7 };
      return { box: { ...visible, length: 1.8, width: 0.6 }, visible, category: "cyclist", confidence: 0.8, points: 60, features: { points: 60, range: 12.6, top: 1.7, bottom: 0.3, linearity: 0.6, planarity: 0.35, scattering: 0.01, verticality: 0.5, edgeResidual: 0.02, depth } };
    };
    const board = cyclist(0.015), rider = cyclist(0.1);
    vetClass(board);
    vetClass(rider);
    assert.equal(board.category, "unknown");
    assert.equal(rider.category, "cyclist");
  });

  it("names no level-topped piece a car or a cyclist (a hedge cut by the shadows of parked cars); a cabin over a body, a rider over a bicycle stay", () => {
    const vet = (category: "car" | "cyclist", long: number, topShare: number): string => {
      const visible = { x: 14, y: 5, z: 0.8, yaw: 0, length: long, width: 0.7, height: 1.6 };
      const p: Proposal = { box: { ...visible, ...(category === "car" ? { length: Math.max(long, 4.5), width: 1.85 } : {}) }, visible, category, confidence: 0.9, points: 120, features: { points: 120, range: 15, top: 1.6, bottom: 0.3, linearity: 0.7, planarity: 0.2, scattering: 0.05, verticality: 0.3, edgeResidual: 0.1, depth: 0.15, topShare } };
      vetClass(p);
      return p.category;
    };
    assert.equal(vet("car", 4.2, 1.0), "unknown", "a hedge piece of a car's length");
    assert.equal(vet("car", 4.2, 0.55), "car", "a car's side: the cabin over half its length");
    assert.equal(vet("car", 1.9, 1.0), "car", "a car's rear seen square-on shows no profile");
    assert.equal(vet("cyclist", 1.6, 1.0), "unknown", "a bush of a bicycle's length");
    assert.equal(vet("cyclist", 1.6, 0.4), "cyclist", "a rider over the bicycle");
    assert.equal(vet("cyclist", 0.8, 1.0), "cyclist", "a cyclist seen from behind shows no profile");
  });

  it("names no upright blob taller than the tallest person a pedestrian (a post, a trunk); a person stays one", () => {
    const upright = (top: number): string => {
      const visible = { x: 20, y: -6, z: top / 2, yaw: 0, length: 0.6, width: 0.5, height: top };
      const p: Proposal = { box: { ...visible }, visible, category: "pedestrian", confidence: 0.9, points: 60, features: { points: 60, range: 21, top, bottom: 0.3, linearity: 0.8, planarity: 0.1, scattering: 0.05, verticality: 0.98, edgeResidual: 0.05, depth: 0.09 } };
      vetClass(p);
      return p.category;
    };
    assert.equal(upright(1.8), "pedestrian");
    assert.equal(upright(2.25), "unknown");
  });

  it("masks the ego box (configurable)", () => {
    const none = new LidarProposer({ egoBox: { xMin: 0, xMax: 0, yMin: 0, yMax: 0 } }).propose(syntheticCloud([]), mount);
    assert.ok(none.some((p) => p.visible.x > -1.5 && p.visible.x < 4 && Math.abs(p.visible.y) < 1.5), "ego returns are clustered when not masked");
    const masked = new LidarProposer().propose(syntheticCloud([]), mount);
    assert.ok(!masked.some((p) => p.visible.x > -1.5 && p.visible.x < 4 && Math.abs(p.visible.y) < 1.5));
  });

  it("classifies by size and shape", () => {
    assert.equal(classify(4.4, 1.8, 1.5).category, "car");
    assert.equal(classify(8.5, 2.5, 3.4).category, "truck");
    assert.equal(classify(0.6, 0.5, 1.75).category, "pedestrian");
    assert.equal(classify(1.8, 0.6, 1.75).category, "cyclist");
    assert.equal(classify(20, 8, 4).category, "unknown");
  });

  it("grows a one-sided view away from the sensor", () => {
    // A car's rear face 10 m ahead: the rest of the car is further ahead.
    const grown = growBox({ x: 10, y: 0, z: 0.75, yaw: 0, length: 0.3, width: 1.8, height: 1.5 }, { length: 4.5, width: 1.85 }, 0, 0);
    assert.ok(Math.abs(grown.x - 12.1) < 0.01, `centre ${grown.x}`);
    assert.equal(grown.length, 4.5);
  });

  it("grows a tracked view by the proposer's rule: away from a sensor off the origin, and only up to where the sensor saw through", () => {
    // A car's rear face 10 m ahead of a sensor at (100, 50) (the tracker's odom frame), heading +x.
    const rear = { x: 110, y: 50, z: 0.75, yaw: 0, length: 0.3, width: 1.8, height: 1.5 };
    const blind = growBox(rear, { length: 4.5, width: 1.85 }, 100, 50);
    assert.ok(Math.abs(blind.x - 112.1) < 0.01 && blind.length === 4.5, `grown away from the sensor: ${JSON.stringify(blind)}`);
    // The road seen past x = 112 (free space): the box stops there instead of reaching 114.35.
    const seen = growBox(rear, { length: 4.5, width: 1.85 }, 100, 50, false, (x) => x > 112);
    assert.ok(seen.x + seen.length / 2 <= 112.01, `stops at the free space: ends at ${(seen.x + seen.length / 2).toFixed(2)}`);
    assert.ok(Math.abs(seen.length - 4.5) < 0.01 && seen.x - seen.length / 2 < 109, `the rest of the length goes to the near end, hidden: ${JSON.stringify(seen)}`);
    // Seen only from the top (in a nearer object's shadow): evenly around the returns.
    const top = growBox(rear, { length: 4.5, width: 1.85 }, 100, 50, true);
    assert.ok(Math.abs(top.x - 110) < 1e-9 && top.length === 4.5);
  });

  it("completes a vehicle seen only from behind along the line of sight, not sideways", () => {
    // The rear faces of a car 12 m ahead in the lane and of a truck 20 m ahead in the next lane.
    const pts: number[] = [];
    for (let v = -0.92; v <= 0.92; v += 0.05) for (let h = 0.3; h <= 1.45; h += 0.1) pts.push(12, v, h);
    for (let v = -1.22; v <= 1.22; v += 0.05) for (let h = 0.5; h <= 3.3; h += 0.1) pts.push(20, -3.5 + v, h);
    const n = pts.length / 3, data = new Uint8Array(n * 12), view = new DataView(data.buffer);
    pts.forEach((value, i) => view.setFloat32(i * 4, value, true));
    const proposals = new LidarProposer().propose({ data, pointStep: 12, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, mount);
    const car = proposals.find((p) => p.category === "car"), truck = proposals.find((p) => p.category === "truck");
    assert.ok(car && truck, JSON.stringify(proposals.map((p) => [p.category, p.box])));
    assert.ok(axisError(car.box.yaw, 0) < 0.1 && Math.abs(car.box.x - 14.25) < 0.3, `car ${JSON.stringify(car.box)}`);
    assert.ok(bevIoU(car.box, { x: 14.25, y: 0, z: 0, yaw: 0, length: 4.5, width: 1.85, height: 1.5 }) > 0.7);
    assert.ok(axisError(truck.box.yaw, 0) < 0.1 && bevIoU(truck.box, { x: 24.5, y: -3.5, z: 0, yaw: 0, length: 9, width: 2.5, height: 3.4 }) > 0.7, `truck ${JSON.stringify(truck.box)}`);
  });

  it("keeps a far vehicle only its upper beams reached, drops a high floating sign", () => {
    const pts: number[] = [];
    for (let a = -Math.PI; a < Math.PI; a += 0.004) for (let r = 5; r < 38; r += 1.5) pts.push(r * Math.cos(a), r * Math.sin(a), 0);
    // A car's rear at 41 m hit by two rings (as simulated): the lower one passes for ground.
    for (let v = -0.9; v <= 0.9; v += 0.25) pts.push(41.3, v, 0.37, 41.3, v, 1.39);
    for (let v = -1.5; v <= 1.5; v += 0.25) for (const h of [2.8, 3.2]) pts.push(30, 12 + v, h); // a sign 2.8 m up
    const n = pts.length / 3, data = new Uint8Array(n * 12), view = new DataView(data.buffer);
    pts.forEach((value, i) => view.setFloat32(i * 4, value, true));
    const proposals = new LidarProposer().propose({ data, pointStep: 12, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, mount);
    assert.ok(proposals.some((p) => Math.abs(p.visible.x - 41.3) < 0.5 && Math.abs(p.visible.y) < 0.5), JSON.stringify(proposals.map((p) => p.visible)));
    assert.ok(!proposals.some((p) => Math.abs(p.visible.y - 12) < 2), "the sign is not an object");
  });

  it("keeps a car seen only by its roof over the car in front, centred on the roof; drops a sign or a roof line nothing hides", () => {
    // Sensor 1.9 m up. A car follows 12 m behind; 30 m behind, a second car whose front and sides
    // are in the first one's shadow (the line over its roof descends to 0.9 m at 30 m): only one
    // beam grazes its roof, a 1.75 m line of returns at 1.5 m (as on simulated seed 6).
    const roofOnly = (withNearCar: boolean, height: number): ReturnType<LidarProposer["propose"]> => {
      const pts: number[] = [];
      for (let a = -Math.PI; a < Math.PI; a += 0.004) for (let r = 5; r < 45; r += 1.5) pts.push(r * Math.cos(a), r * Math.sin(a), -1.9);
      if (withNearCar) {
        for (let h = 0.3; h <= 1.5; h += 0.15) for (let v = -0.95; v <= 0.95; v += 0.1) pts.push(-9.8, v, h - 1.9);
        for (let u = -14.4; u <= -9.8; u += 0.2) for (let v = -0.95; v <= 0.95; v += 0.2) pts.push(u, v, 1.5 - 1.9);
      }
      for (let v = 0.77; v <= 2.53; v += 0.195) pts.push(-30.3, v, height - 1.9);
      const n = pts.length / 3, data = new Uint8Array(n * 12), view = new DataView(data.buffer);
      pts.forEach((value, i) => view.setFloat32(i * 4, value, true));
      return new LidarProposer().propose({ data, pointStep: 12, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, { x: 0, y: 0, z: 1.9, yaw: 0 });
    };
    const behind = (list: ReturnType<LidarProposer["propose"]>): typeof list => list.filter((p) => p.visible.x < -25);
    const [car] = behind(roofOnly(true, 1.5));
    assert.ok(car !== undefined, "the roof-only car is kept");
    assert.equal(car.category, "car");
    assert.equal(car.topOnly, true);
    // Its returns lie somewhere on its roof: the box is centred on them, not grown away from the sensor.
    assert.ok(Math.abs(car.box.x + 30.3) < 0.3 && car.box.length > 4, JSON.stringify(car.box));
    assert.deepEqual(behind(roofOnly(true, 2.6)), [], "a sign 2.6 m up behind a car is not an object");
    assert.deepEqual(behind(roofOnly(false, 1.5)), [], "returns 1.5 m up with nothing hiding what is below them are not an object");
  });

  it("reads a car parked against a street tree's trunk and under its crown as a car, and the tree as nothing named", () => {
    // The trunk touches the car's side and reaches into the crown: car, trunk and crown are one
    // cluster 4.6 m tall, which no road user fits. Read again without the runs that reach above a
    // road user, the car stands alone (without that re-read it comes out `unknown`).
    const car = { x: 14, y: -8, yaw: 0, length: 4.5, width: 1.8, height: 1.5 };
    const trunk = { x: 14.5, y: -9.2, yaw: 0, length: 0.3, width: 0.3, height: 4.6 };
    const crown = { x: 14.5, y: -9.2, yaw: 0, length: 4, width: 3.5, height: 4.6, visibleFrom: 2.6 };
    const proposals = new LidarProposer().propose(syntheticCloud([car, trunk, crown]), mount);
    const named = proposals.filter((p) => p.category !== "unknown");
    assert.deepEqual(named.map((p) => p.category), ["car"], JSON.stringify(proposals.map((p) => [p.category, p.box.x.toFixed(1), p.box.y.toFixed(1), p.features?.top.toFixed(1)])));
    assert.ok(bevIoU(named[0]!.box, { ...car, z: 0 }) > 0.7, `car box ${JSON.stringify(named[0]!.box)}`);
    assert.ok(named[0]!.features!.top < 1.8, "the car's own height, not the tree's");
  });

  it("reads a car under a low sign or crown as a car, not as the compact truck they make of it together", () => {
    // A sign panel (or a crown's edge) hangs 0.4 m over the car's far side, from 1.9 to 3.2 m:
    // within one beam gap of the roof, so car and panel are one cluster of a car's length and a
    // truck cab's height. A cab's walls reach its top; here the lower layer read alone is a car
    // (without that re-read: a 9 m "truck"; the simulator's trucks and the real sweeps' compact
    // truck, whose walls reach their tops, stay trucks).
    const car = { x: 16, y: -7, yaw: 0, length: 4.2, width: 1.8, height: 1.5 };
    const panel = { x: 16, y: -6, yaw: 0, length: 3.6, width: 0.1, height: 3.2, visibleFrom: 1.9 };
    const proposals = new LidarProposer().propose(syntheticCloud([car, panel]), mount);
    const named = proposals.filter((p) => p.category !== "unknown");
    assert.deepEqual(named.map((p) => p.category), ["car"], JSON.stringify(proposals.map((p) => [p.category, p.box.x.toFixed(1), p.box.y.toFixed(1), p.features?.top.toFixed(1)])));
    assert.ok(bevIoU(named[0]!.box, { ...car, z: 0 }) > 0.7, `car box ${JSON.stringify(named[0]!.box)}`);
    assert.ok(named[0]!.features!.top < 1.8, "the car's own height, not the panel's");
  });

  it("keeps a car in the next lane whose lower body is under the sensor's lowest beam; refuses a like shape clear of the ground in view", () => {
    // A roof-mounted lidar sees the ground only from ~4.5 m out: a car 2.4 m to the side shows
    // no return below 0.65 m. Where the ground in front of it was seen, a body that high is
    // foliage or an awning, not a car.
    const beside = { x: 1.5, y: -3.3, yaw: 0, length: 4.5, width: 1.8, height: 1.5, visibleFrom: 0.65 };
    const near = new LidarProposer().propose(syntheticCloud([beside], { groundFrom: 4.5 }), mount).filter((p) => p.category !== "unknown");
    assert.deepEqual(near.map((p) => p.category), ["car"], "the car beside the ego is named");
    assert.ok(bevIoU(near[0]!.box, { ...beside, z: 0 }) > 0.6, `car box ${JSON.stringify(near[0]!.box)}`);
    const clear = { ...beside, x: 10, y: -4, visibleFrom: 0.8 };
    const far = new LidarProposer().propose(syntheticCloud([clear], { groundFrom: 4.5 }), mount);
    assert.equal(far.filter((p) => p.category !== "unknown").length, 0, "0.8 m clear of the ground in plain view: not a car");
    assert.ok(far.some((p) => p.category === "unknown" && Math.hypot(p.box.x - clear.x, p.box.y - clear.y) < 1), "still reported as unknown");
  });

  it("names nothing seen through a building's glass front; keeps people in front of it and under a row of street trees", () => {
    // A façade 20 m long and 8 m tall whose ground floor is glass (returns from 3 m up only): the
    // sensor sees a person-sized shape inside. A row of tree crowns is as long but as wide as its crowns.
    const facade = { x: 12, y: -12, yaw: 0, length: 20, width: 0.3, height: 8, visibleFrom: 3 };
    const inside = { x: 12, y: -15, yaw: 0, length: 0.5, width: 0.5, height: 1.75 };
    const front = { x: 8, y: -9, yaw: 0, length: 0.5, width: 0.5, height: 1.75 };
    const crowns = { x: 12, y: 12, yaw: 0, length: 20, width: 4, height: 6.5, visibleFrom: 3.2 };
    const under = { x: 14, y: 13.5, yaw: 0, length: 0.5, width: 0.5, height: 1.75 };
    const cloud = syntheticCloud([facade, inside, front, crowns, under]);
    const people = new LidarProposer().propose(cloud, mount).filter((p) => p.category === "pedestrian");
    const near = (b: { x: number; y: number }): boolean => people.some((p) => Math.hypot(p.box.x - b.x, p.box.y - b.y) < 0.5);
    assert.ok(near(front), "the person in front of the façade");
    assert.ok(near(under), "the person under the street trees");
    assert.ok(!near(inside), `nothing named inside the building: ${JSON.stringify(people.map((p) => [p.box.x.toFixed(1), p.box.y.toFixed(1)]))}`);
    // The same shape with no façade in front of it is a person (so the test can fail).
    const open = new LidarProposer().propose(syntheticCloud([inside]), mount).filter((p) => p.category === "pedestrian");
    assert.equal(open.length, 1);
  });

  it("names a person by the body's depth, not a flat board or sign of a person's size", () => {
    // Both 1.7 m tall and 0.4 m across at 15 m: the person's returns follow the body's curve
    // (a 0.2 m radius arc facing the sensor), the board's lie on a plane.
    const pts: number[] = [];
    for (let a = -Math.PI; a < Math.PI; a += 0.004) for (let r = 4; r < 40; r += 1) pts.push(r * Math.cos(a), r * Math.sin(a), 0);
    for (let z = 0.2; z <= 1.7; z += 0.1) {
      for (let t = -1.3; t <= 1.3; t += 0.2) pts.push(15 - 0.2 * Math.cos(t), 3 + 0.2 * Math.sin(t), z);
      for (let v = -0.2; v <= 0.2; v += 0.05) pts.push(15, -3 + v, z);
    }
    const n = pts.length / 3, data = new Uint8Array(n * 12), view = new DataView(data.buffer);
    pts.forEach((value, i) => view.setFloat32(i * 4, value, true));
    const proposals = new LidarProposer().propose({ data, pointStep: 12, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, mount);
    const at = (y: number): Proposal | undefined => proposals.find((p) => Math.hypot(p.visible.x - 15, p.visible.y - y) < 0.6);
    assert.equal(at(3)?.category, "pedestrian", `person: ${JSON.stringify(at(3)?.features)}`);
    assert.equal(at(-3)?.category, "unknown", `board: ${JSON.stringify(at(-3)?.features)}`);
  });

  it("keeps a car passed at a shallow angle whole (its side's returns spread along the line of sight), people side by side apart", () => {
    // The car ahead-right (as on simulated seed 16): its rear face square-on, its left side seen 8°
    // off the line of sight, where each ring leaves a return every ~0.5 m (two or three cells).
    const truth = { x: 13.3, y: -4.2, z: 0.75, yaw: -0.11, length: 4.6, width: 1.9, height: 1.5 };
    const c = Math.cos(truth.yaw), sn = Math.sin(truth.yaw);
    const at = (u: number, v: number): [number, number] => [truth.x + c * u - sn * v, truth.y + sn * u + c * v];
    const pts: number[] = [];
    for (let a = -Math.PI; a < Math.PI; a += 0.004) for (let r = 4; r < 40; r += 1) pts.push(r * Math.cos(a), r * Math.sin(a), 0);
    for (let z = 0.15; z <= 1.45; z += 0.13) for (let v = -0.95; v <= 0.95; v += 0.07) pts.push(...at(-2.3, v), z);
    for (let u = -1.9, k = 0; u <= 2.3; u += 0.52, k++) for (const z of [0.2, 0.5, 0.8, 1.1]) pts.push(...at(u, 0.95), z + 0.07 * k);
    // Two people side by side across the line of sight, 0.8 m apart (bodies 0.3 m across, 0.2 m deep).
    for (const py of [4, 4.8]) for (let z = 0.3; z <= 1.7; z += 0.2) for (const dx of [-0.1, 0.1]) for (const dy of [-0.15, 0.15]) pts.push(12 + dx, py + dy, z);
    const n = pts.length / 3, data = new Uint8Array(n * 12), view = new DataView(data.buffer);
    pts.forEach((value, i) => view.setFloat32(i * 4, value, true));
    const proposals = new LidarProposer().propose({ data, pointStep: 12, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true }, mount);
    const onCar = proposals.filter((p) => bevIoU(p.box, truth) > 0 || Math.hypot(p.visible.x - truth.x, p.visible.y - truth.y) < 3);
    assert.equal(onCar.length, 1, JSON.stringify(onCar.map((p) => [p.category, p.visible])));
    assert.equal(onCar[0]!.category, "car");
    assert.ok(bevIoU(onCar[0]!.box, truth) > 0.6, `IoU ${bevIoU(onCar[0]!.box, truth)}`);
    const people = proposals.filter((p) => Math.abs(p.visible.x - 12) < 1 && p.visible.y > 3);
    assert.deepEqual(people.map((p) => p.category), ["pedestrian", "pedestrian"]);
  });

  it("joins a following truck whose side's rear is seen at the sweep's start and its front at the end", () => {
    // A truck 31 m behind on a curve (heading −0.16 rad) at 12 m/s; the sweep starts straight
    // behind and turns clockwise (as the simulated sensor). Left of the seam the rear part of its
    // left side is hit first; right of it the side's front part and the front face, one sweep
    // period later and 1.2 m on. The two parts see different faces: their nearest ranges differ
    // by 3.7 m, not by the truck's motion (moved by that, the front lands mid-truck).
    const period = 0.1, v = 12, yaw = -0.16, cx = -31.1, cy = -0.9, L = 9, W = 2.5;
    const c = Math.cos(yaw), s = Math.sin(yaw);
    const pts: number[] = [];
    const at = (x: number, y: number, z: number, moving: boolean): void => {
      const t = (((Math.PI - Math.atan2(y, x)) % (2 * Math.PI)) / (2 * Math.PI)) * period;
      pts.push(moving ? x + v * t * c : x, moving ? y + v * t * s : y, z, t);
    };
    for (let a = -Math.PI + 0.002; a < Math.PI; a += 0.004) for (let r = 4; r < 45; r += 1) at(r * Math.cos(a), r * Math.sin(a), 0, false);
    for (let z = 0.3; z <= 3.3; z += 0.35) {
      for (let u = -L / 2; u <= L / 2; u += 0.3) {
        // Right of the seam the side is seen at a grazing angle: a return every metre or so.
        const x = cx + c * u - s * (W / 2), y = cy + s * u + c * (W / 2);
        if (y > 0 || Math.round(u / 0.3) % 3 === 0) at(x, y, z, true);
      }
      for (let w = -W / 2; w <= W / 2; w += 0.17) at(cx + c * (L / 2) - s * w, cy + s * (L / 2) + c * w, z, true);
    }
    const n = pts.length / 4, data = new Uint8Array(n * 16), view = new DataView(data.buffer);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) view.setFloat32(i * 16 + 4 * k, pts[4 * i + k]!, true);
      view.setUint32(i * 16 + 12, Math.round(pts[4 * i + 3]! * 1e9), true);
    }
    const proposals = new LidarProposer().propose({ data, pointStep: 16, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, offsetT: 12, littleEndian: true }, mount);
    const truth = { x: cx, y: cy, z: 0, yaw, length: L, width: W, height: 3.4 };
    const near = proposals.filter((p) => p.visible.x < -20 && p.visible.x > -40 && Math.abs(p.visible.y) < 4);
    assert.equal(near.length, 1, JSON.stringify(near.map((p) => [p.category, p.visible])));
    assert.equal(near[0]!.category, "truck");
    assert.ok(bevIoU(near[0]!.box, truth) > 0.7, `box ${JSON.stringify(near[0]!.box)} IoU ${bevIoU(near[0]!.box, truth)}`);
  });

  it("keeps the upper part of a car hidden behind one in the next lane apart from it", () => {
    // Oncoming cars in adjacent lanes, 1.5 m apart: the far one's lower beams are hidden, its upper
    // returns float on the near one's bearing, but the two would not fit in one vehicle.
    const nearCar = { x: 9, y: 6.9, yaw: Math.PI, length: 4.6, width: 1.9, height: 1.5 };
    const farCar = { x: 11.6, y: 10.3, yaw: Math.PI, length: 4.6, width: 1.9, height: 1.5, visibleFrom: 1.0 };
    const proposals = new LidarProposer().propose(syntheticCloud([nearCar, farCar], { slope: 0 }), mount);
    const near = proposals.find((p) => bevIoU(p.box, { ...nearCar, z: 0 }) > 0.5);
    assert.ok(near, JSON.stringify(proposals.map((p) => [p.category, p.box])));
    assert.equal(near.category, "car");
    assert.ok(near.visible.width < 2.3 && near.visible.length < 5, `near car alone: ${JSON.stringify(near.visible)}`);
  });

  it("reads the heading of a thin face seen at an angle (a far car's rear), not the nearest axis", () => {
    // The rear of a car 36 m ahead heading −0.25 rad: a 1.8 m line of cell centroids at 1.32 rad.
    for (const face of [1.32, 0.3, -0.2]) {
      const n = 8, xs = new Float64Array(n), ys = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const d = -0.9 + (1.8 * k) / (n - 1);
        xs[k] = 35 + d * Math.cos(face);
        ys[k] = -4 + d * Math.sin(face);
      }
      const p = fitCluster(xs, ys, n, 1.5, 0.25)!;
      const off = Math.abs(Math.sin(2 * (p.visible.yaw - face))) / 2; // heading error modulo 90°
      assert.ok(off < 0.04, `face at ${face}: fitted ${p.visible.yaw.toFixed(3)}`);
    }
  });

  it("completes a vehicle only where the sensor did not see past it: a short car keeps its length, a length hidden at the near end goes there", () => {
    // A 3.3 m car's near side (cell centroids along x at y = 5, and a little depth), sensor at the origin.
    const side = (): [Float64Array, Float64Array, number] => {
      const xs: number[] = [], ys: number[] = [];
      for (let x = 8; x <= 11.25 + 1e-9; x += 0.25) for (const y of [5, 5.25]) {
        xs.push(x);
        ys.push(y);
      }
      return [Float64Array.from(xs), Float64Array.from(ys), xs.length];
    };
    const [xs, ys, n] = side();
    const extent = (p: Proposal): [number, number] => [p.box.x - p.box.length / 2, p.box.x + p.box.length / 2];
    // No free space known: grown to the prior away from the sensor, as before.
    const blind = fitCluster(xs, ys, n, 1.5, 0.25)!;
    assert.equal(blind.category, "car");
    assert.ok(Math.abs(blind.box.length - 4.5) < 0.01 && extent(blind)[0] < 8.1, `grown away: ${JSON.stringify(blind.box)}`);
    // The road seen beyond both ends (the sensor saw past x < 7.8 and x > 11.45): the car is as long as seen.
    const shortCar = fitCluster(xs, ys, n, 1.5, 0.25, false, (x) => x < 7.8 || x > 11.45)!;
    assert.ok(shortCar.box.length < 3.9, `a car seen whole keeps its length: ${shortCar.box.length.toFixed(2)}`);
    assert.ok(Math.abs(shortCar.box.width - 1.85) < 0.01, "its far side, hidden behind the near one, is completed");
    // Only the far end seen past (the near end in a nearer car's shadow): the missing length goes to the near end.
    const hidden = fitCluster(xs, ys, n, 1.5, 0.25, false, (x) => x > 11.45)!;
    assert.ok(Math.abs(hidden.box.length - 4.5) < 0.01 && extent(hidden)[1] < 11.4 && extent(hidden)[0] < 7.0, `grown toward the hidden end: ${JSON.stringify(hidden.box)}`);
  });

  it("names no vehicle whose box the free space keeps smaller than the smallest of its class", () => {
    // A compact view (a corner) and the box its completion reached.
    const proposal = (category: "car" | "truck", length: number, width: number): Proposal => {
      const visible = { x: 20, y: 3, z: 0.8, yaw: 0, length: Math.min(length, 2.6), width: Math.min(width, 1.9), height: category === "car" ? 1.6 : 3.3 };
      return { box: { ...visible, length, width }, visible, category, confidence: 0.9, points: 150, features: { points: 150, range: 20, top: visible.height, bottom: 0.3, linearity: 0.5, planarity: 0.4, scattering: 0.05, verticality: 0.3, edgeResidual: 0.1, depth: 0.3, topShare: 0.5 } };
    };
    const vet = (p: Proposal): string => (vetClass(p), p.category);
    assert.equal(vet(proposal("car", 1.1, 0.4)), "unknown", "a post-sized box is no car");
    assert.equal(vet(proposal("car", 4.3, 1.85)), "car");
    assert.equal(vet(proposal("car", 2.6, 1.5)), "car", "a city two-seater");
    assert.equal(vet(proposal("truck", 2.7, 2.5)), "unknown", "a truck's prior the free space cut to 2.7 m");
    assert.equal(vet(proposal("truck", 9, 2.5)), "truck");
  });

  it("joins a moving car split by the sweep's seam into one car at the sweep start's position", () => {
    // A 10 Hz sweep starting straight behind and turning counter-clockwise; a car follows 12.75 m
    // behind at 11.5 m/s (the ego stands). Its front face's right half is seen at the start of the
    // sweep, its left half at the end, 1.15 m nearer: two half-faces, not touching.
    const period = 0.1, v = 11.5, front = -12.75;
    const pts: number[] = [];
    const at = (x: number, y: number, z: number, moving: boolean): void => {
      const a = Math.atan2(y, x);
      const t = ((a + Math.PI) / (2 * Math.PI)) * period;
      pts.push(moving ? x + v * t : x, y, z, t);
    };
    for (let a = -Math.PI + 0.002; a < Math.PI; a += 0.004) for (let r = 4; r < 40; r += 1) at(r * Math.cos(a), r * Math.sin(a), 0, false);
    for (let y = -0.92; y <= 0.92; y += 0.08) for (let z = 0.3; z <= 1.5; z += 0.15) at(front, y + 0.01, z, true);
    const n = pts.length / 4, data = new Uint8Array(n * 16), view = new DataView(data.buffer);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) view.setFloat32(i * 16 + 4 * k, pts[4 * i + k]!, true);
      view.setUint32(i * 16 + 12, Math.round(pts[4 * i + 3]! * 1e9), true);
    }
    const cloud = { data, pointStep: 16, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true };
    const truth = { x: front - 2.25, y: 0, z: 0, yaw: 0, length: 4.5, width: 1.85, height: 1.5 };
    const near = (ps: ReturnType<LidarProposer["propose"]>) => ps.filter((p) => p.visible.x < -10 && p.visible.x > -20 && Math.abs(p.visible.y) < 2);
    // Without firing times the seam cannot be told: the two halves stay apart (the test can fail).
    const blind = near(new LidarProposer().propose({ ...cloud, offsetT: undefined }, mount));
    assert.ok(blind.length >= 2 || !blind.some((p) => p.category === "car" && bevIoU(p.box, truth) > 0.5), JSON.stringify(blind.map((p) => [p.category, p.visible])));
    const seen = near(new LidarProposer().propose({ ...cloud, offsetT: 12 }, mount));
    assert.equal(seen.length, 1, JSON.stringify(seen.map((p) => [p.category, p.visible])));
    assert.equal(seen[0]!.category, "car");
    assert.ok(bevIoU(seen[0]!.box, truth) > 0.7, `box ${JSON.stringify(seen[0]!.box)}`);
    // Both halves see the front face: the late one moved back by the car's motion exactly.
    assert.ok(Math.abs(seen[0]!.visible.x - front) < 0.1, `front face at ${seen[0]!.visible.x}, not ${front}`);
    assert.ok(seen[0]!.dtS! < 0.02, `timed by the part seen first: ${seen[0]!.dtS}`);
  });

  it("reads per-point time as the common drivers write it (ns uint32 t, negative float32 s time, absolute float64 s timestamp)", () => {
    // One cloud, its firing times (0 … 0.1 s by azimuth) written four ways; the ego drives at
    // 15 m/s, so deskewing moves every box: all three encodings must move them alike.
    const base = syntheticCloud([{ x: 12, y: -3, yaw: 0.2, length: 4.5, width: 1.8, height: 1.5 }, { x: -8, y: 4, yaw: 0, length: 4.5, width: 1.8, height: 1.5 }], { slope: 0 });
    const n = base.count, step = 24;
    const cloudWith = (write: (view: DataView, o: number, tS: number) => void): PointCloudView => {
      const data = new Uint8Array(n * step), view = new DataView(data.buffer), src = new DataView(base.data.buffer);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 3; k++) view.setFloat32(i * step + 4 * k, src.getFloat32(i * base.pointStep + 4 * k, true), true);
        const tS = ((Math.PI - Math.atan2(view.getFloat32(i * step + 4, true), view.getFloat32(i * step, true))) / (2 * Math.PI)) * 0.1;
        write(view, i * step + 16, tS);
      }
      return { data, pointStep: step, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, offsetT: 16, littleEndian: true };
    };
    const motion = { speed: 15, yawRate: 0.1 };
    const propose = (cloud: PointCloudView): string[] => new LidarProposer().propose(cloud, mount, motion).filter((p) => p.category === "car").map((p) => `${p.box.x.toFixed(3)},${p.box.y.toFixed(3)}`).sort();
    const ns = propose({ ...cloudWith((v, o, t) => v.setUint32(o, Math.round(t * 1e9), true)), timeType: 6 });
    const velodyne = propose({ ...cloudWith((v, o, t) => v.setFloat32(o, t - 0.1, true)), timeType: 7 });
    const hesai = propose({ ...cloudWith((v, o, t) => v.setFloat64(o, 1_700_000_000.25 + t, true)), timeType: 8 });
    const none = propose({ ...cloudWith(() => {}), offsetT: undefined });
    assert.equal(ns.length, 2, ns.join(" "));
    assert.deepEqual(velodyne, ns);
    assert.deepEqual(hesai, ns);
    assert.notDeepEqual(none, ns, "without times nothing is deskewed (the test can tell)");
  });

  it("finds the time field by the drivers' names and refuses fields that do not fit a point", () => {
    const fields = (extra: { name: string; offset: number; datatype: number }[]) => [{ name: "x", offset: 0, datatype: 7 }, { name: "y", offset: 4, datatype: 7 }, { name: "z", offset: 8, datatype: 7 }, ...extra];
    const msg = (f: { name: string; offset: number; datatype: number }[], step = 24) => ({ fields: f, is_bigendian: false, point_step: step, width: 2, height: 1, data: new Uint8Array(2 * step) });
    assert.deepEqual([pointCloudView(msg(fields([{ name: "time", offset: 16, datatype: 7 }])))!.offsetT, pointCloudView(msg(fields([{ name: "time", offset: 16, datatype: 7 }])))!.timeType], [16, 7]);
    assert.equal(pointCloudView(msg(fields([{ name: "timestamp", offset: 16, datatype: 8 }])))!.timeType, 8);
    assert.equal(pointCloudView(msg(fields([{ name: "offset_time", offset: 12, datatype: 6 }])))!.offsetT, 12);
    assert.equal(pointCloudView(msg(fields([{ name: "timestamp", offset: 20, datatype: 8 }])))!.offsetT, undefined, "a float64 at 20 overruns a 24-byte point");
    assert.equal(pointCloudView(msg(fields([]), 8)), null, "z at 8 overruns an 8-byte point");
    assert.equal(pointCloudView(msg([{ name: "x", offset: 0, datatype: 8 }, { name: "y", offset: 8, datatype: 8 }, { name: "z", offset: 16, datatype: 8 }])), null, "float64 coordinates are refused, not misread");
  });

  it("refuses a bad configuration naming the key", () => {
    assert.throws(() => LidarProposalConfigSchema.parse({ cellSize: -1 }), /cellSize/);
  });
});
