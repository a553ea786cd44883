import assert from "node:assert/strict";
import { Tracker, TrackerConfigSchema } from "../../src/suggest/tracker.js";
import type { Proposal } from "../../src/suggest/lidar.js";

function det(x: number, y: number, category: Proposal["category"] = "car"): Proposal {
  const box = { x, y, z: 0.75, yaw: 0, length: 4.5, width: 1.85, height: 1.5 };
  return { box, visible: { ...box, length: 1.8, width: 0.3 }, category, confidence: 0.9, points: 100 };
}

describe("suggest/tracker", () => {
  it("keeps ids stable for two crossing-lane cars, estimates velocity, confirms and retires with hysteresis", () => {
    const tracker = new Tracker();
    const ids = new Map<string, Set<number>>([["a", new Set()], ["b", new Set()]]);
    let confirmedAt = -1;
    let last: ReturnType<Tracker["update"]> = [];
    for (let k = 0; k < 40; k++) {
      const t = k * 0.1;
      // a: 10 m/s along x in lane y=0; b: oncoming at −8 m/s in lane y=3.5; they pass each other.
      const noise = (): number => (Math.sin(k * 12.9898) * 43758.5453) % 0.1;
      last = tracker.update(t, [det(10 * t + noise(), noise()), det(40 - 8 * t - noise(), 3.5 + noise())]);
      if (confirmedAt < 0 && last.length === 2) confirmedAt = k;
      for (const track of last) ids.get(track.box.y < 1.75 ? "a" : "b")!.add(track.id);
    }
    assert.equal(confirmedAt, 2, "confirmed on the third hit");
    assert.equal(ids.get("a")!.size, 1);
    assert.equal(ids.get("b")!.size, 1);
    const a = last.find((t) => t.box.y < 1.75)!;
    const b = last.find((t) => t.box.y > 1.75)!;
    assert.ok(Math.abs(a.vx - 10) < 0.5 && Math.abs(b.vx + 8) < 0.5, `velocities ${a.vx} ${b.vx}`);
    // Heading follows the velocity: the oncoming car faces −x.
    assert.ok(Math.abs(Math.abs(b.box.yaw) - Math.PI) < 0.2);
    // Misses: kept through maxMisses, gone after.
    const maxMisses = TrackerConfigSchema.parse({}).maxMisses;
    for (let k = 40; k < 40 + maxMisses; k++) assert.deepEqual(tracker.update(k * 0.1, []), [], "a coasting track is not published");
    assert.equal(tracker.tracks.length, 2);
    tracker.update((40 + maxMisses) * 0.1, []);
    assert.equal(tracker.tracks.length, 0);
  });

  it("keeps a car's id through a 0.8 s occlusion (a longer coast than a few frames)", () => {
    const tracker = new Tracker();
    const ids = new Set<number>();
    for (let k = 0; k < 40; k++) {
      const hidden = k >= 15 && k < 23;
      const out = tracker.update(k * 0.1, hidden ? [] : [det(5 + 12 * k * 0.1, 0)]);
      if (hidden) assert.equal(out.length, 0);
      else if (k >= 2) for (const t of out) ids.add(t.id);
    }
    assert.equal(ids.size, 1, `ids ${[...ids]}`);
  });

  it("holds a parked car's id while something nearer hides it (3 s), and publishes it again after as many sightings as a new track", () => {
    const { maxMisses, confirmHits } = TrackerConfigSchema.parse({});
    // A parked car at (12, -7); from 1.0 s to 4.0 s a truck passes between it and the sensor.
    const run = (hiddenSays: boolean, moving = false): { ids: Set<number>; publishedAt: number[] } => {
      const tracker = new Tracker();
      const ids = new Set<number>(), publishedAt: number[] = [];
      for (let k = 0; k < 60; k++) {
        const hiddenNow = k >= 10 && k < 40;
        const x = moving ? 12 + 0.5 * k : 12;
        const out = tracker.update(k * 0.1, hiddenNow ? [] : [det(x, -7)], { x: 0, y: 0 }, { hidden: () => hiddenSays && hiddenNow, seen: () => false });
        for (const t of out) {
          ids.add(t.id);
          if (k >= 40) publishedAt.push(k);
        }
      }
      return { ids, publishedAt };
    };
    const held = run(true);
    assert.equal(held.ids.size, 1, `one id through the occlusion (${[...held.ids]})`);
    assert.equal(held.publishedAt[0], 40 + confirmHits - 1, "published again on its third sighting, not its first");
    // Missing without anything in front of it: retired after maxMisses, a new id after.
    assert.ok(30 > maxMisses);
    assert.equal(run(false).ids.size, 2);
    // Moving at 5 m/s: where it went while hidden is a guess; not held.
    assert.equal(run(true, true).ids.size, 2);
  });

  it("keeps a tracked car's speed while only its roof is seen, the same beam grazing it at one range", () => {
    // Pulling away at 3 m/s; from 27.75 m to 32.25 m only the beam that reaches the roof's height
    // at 30 m sees it: every frame puts the returns at 30 m wherever the car is.
    const view = (x: number, topOnly: boolean): Proposal => {
      const p = det(x, 0);
      return topOnly ? { ...p, visible: { ...p.box, length: 0.3, width: 1.8 }, topOnly: true } : { ...p, visible: { ...p.box, length: 4.5, width: 1.8 } };
    };
    const tracker = new Tracker();
    const ids = new Set<number>();
    let last: ReturnType<Tracker["update"]> = [];
    for (let k = 0; k < 58; k++) {
      const x = 15 + 0.3 * k;
      const topOnly = x >= 27.75 && x <= 32.25;
      last = tracker.update(k * 0.1, [view(topOnly ? 30 : x, topOnly)]);
      if (k >= 2) {
        assert.equal(last.length, 1, `published at ${x.toFixed(2)} m`);
        ids.add(last[0]!.id);
      }
    }
    const car = last[0]!;
    assert.equal(ids.size, 1);
    assert.ok(Math.abs(car.vx - 3) < 0.3 && Math.abs(car.box.x - 32.1) < 0.5, `after the roof-only views: x ${car.box.x}, vx ${car.vx}`);
  });

  it("lets a vehicle's view take over the person-sized track its first returns made (an oncoming car's front)", () => {
    // Oncoming at 9 m/s: at range only a sliver of its front is seen (person-sized); from 0.6 s on,
    // the whole car, its box centred 2.25 m behind the front.
    const tracker = new Tracker();
    const ids = new Set<number>();
    let firstCar = -1;
    for (let k = 0; k < 12; k++) {
      const front = 35 - 0.9 * k;
      const whole = k >= 6;
      const d: Proposal = whole
        ? { ...det(front + 2.25, 3), visible: { x: front + 2.25, y: 3, z: 0.75, yaw: 0, length: 4.5, width: 1.85, height: 1.5 } }
        : { ...det(front, 3, "pedestrian"), visible: { x: front, y: 3, z: 0.75, yaw: 0, length: 0.3, width: 0.5, height: 1.3 } };
      for (const t of tracker.update(k * 0.1, [d])) {
        ids.add(t.id);
        if (t.category === "car" && firstCar < 0) firstCar = k;
      }
    }
    assert.equal(firstCar, 6, "the car is published from its first whole view");
    assert.equal(ids.size, 1, `one id: ${[...ids]}`);
  });

  it("keeps a person's track when a car first seen beside them covers where they stand", () => {
    const tracker = new Tracker();
    let person = -1;
    for (let k = 0; k < 10; k++) {
      const walker: Proposal = { ...det(10 + 0.12 * k, 1.95, "pedestrian"), visible: { x: 10 + 0.12 * k, y: 1.95, z: 0.9, yaw: 0, length: 0.5, width: 0.5, height: 1.75 } };
      // From 0.5 s a car pulls up alongside; its box (with the 0.3 m margin) reaches the person.
      const dets = k >= 5 ? [walker, det(10.6, 3.1)] : [walker];
      const out = tracker.update(k * 0.1, dets);
      const p = out.find((t) => Math.abs(t.box.y - 1.95) < 0.3);
      if (k === 4) person = p!.id;
      if (k > 4) {
        assert.equal(p?.id, person, `frame ${k}: ${JSON.stringify(out.map((t) => [t.id, t.category, t.box.y]))}`);
        assert.equal(p?.category, "pedestrian");
      }
    }
  });

  it("follows a well-seen truck turning at 45 m closely (its many returns trusted as near ones)", () => {
    const tracker = new Tracker();
    let x = 40, y = -3, yaw = 0, worst = 0;
    for (let k = 0; k < 50; k++) {
      if (k > 0) {
        yaw += (k >= 20 ? 0.35 : 0) * 0.1;
        x += 10 * Math.cos(yaw) * 0.1;
        y += 10 * Math.sin(yaw) * 0.1;
      }
      const box = { x, y, z: 1.7, yaw, length: 9, width: 2.5, height: 3.4 };
      const out = tracker.update(k * 0.1, [{ box, visible: { ...box }, category: "truck", confidence: 0.9, points: 60 }], { x: k, y: 0 });
      if (k >= 25) worst = Math.max(worst, Math.hypot(out[0]!.box.x - x, out[0]!.box.y - y));
    }
    assert.ok(worst < 0.5, `worst position error in the turn ${worst.toFixed(2)} m`);
  });

  it("takes a person-sized object riding at 3.3 m/s (a slow cyclist) for a cyclist seen from behind, and sizes it so", () => {
    const tracker = new Tracker();
    let last: ReturnType<Tracker["update"]> = [];
    for (let k = 0; k < 30; k++) {
      // A cyclist's rear: as narrow and as short as a pedestrian, but faster than people walk or jog.
      const x = -15 - 3.3 * k * 0.1 + (Math.sin(k * 7.1) * 0.05);
      const box = { x, y: -5, z: 0.85, yaw: 0, length: 0.6, width: 0.6, height: 1.7 };
      last = tracker.update(k * 0.1, [{ box, visible: { ...box }, category: "pedestrian", confidence: 0.7, points: 20 }]);
    }
    assert.equal(last.length, 1);
    assert.equal(last[0]!.category, "cyclist");
    assert.ok(last[0]!.box.length > 1.4, `length ${last[0]!.box.length}`);
  });

  it("does not confirm a one-frame ghost", () => {
    const tracker = new Tracker();
    tracker.update(0, [det(20, 5)]);
    for (let k = 1; k < 5; k++) assert.deepEqual(tracker.update(k * 0.1, []), []);
    assert.equal(tracker.tracks.length, 0);
  });
});
