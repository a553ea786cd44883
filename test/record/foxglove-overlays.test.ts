/**
 * The suggestion stage's overlays, message by message (the replay test checks the recordings):
 * when a SceneUpdate is logged, what it replaces and deletes, and what its entities carry.
 */
import assert from "node:assert/strict";
import { defaultCodec } from "../../src/messages/codec.js";
import type { OutboundMessage } from "../../src/messages/outbound.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";
import { SuggestionStage } from "../../src/suggest/stage.js";

interface Entity {
  id: string;
  timestamp: { sec: number; nanosec: number };
  lifetime: { sec: number; nanosec: number };
  metadata: { key: string; value: string }[];
}
interface Update {
  deletions: { id: string; type: number; timestamp: { sec: number; nanosec: number } }[];
  entities: Entity[];
}

/** Feeds a simulated drive's messages to a stage (corrected time = receive time) and returns its SceneUpdates with the sweeps' receive times. */
function run(durationS: number, now?: (receiveNs: bigint) => bigint): { sweep: bigint; out: OutboundMessage }[] {
  const rig = loadRig("default");
  let current = 0n;
  const stage = new SuggestionStage(now === undefined ? {} : { now: () => now(current) });
  const scenes: { sweep: bigint; out: OutboundMessage }[] = [];
  for (const m of simulateDrive({ rig, seed: 2, durationS })) {
    current = m.receiveNs;
    for (const out of stage.onMessage({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs }, m.receiveNs)) {
      if (out.topic === stage.topics.scene) scenes.push({ sweep: m.receiveNs, out });
    }
  }
  return scenes;
}

describe("record/Foxglove overlays: SceneUpdate per sweep", function () {
  this.timeout(120_000);

  it("is logged when its sweep is processed (its receive time; the node clock when that is later), with lifetime 0, stable ids, deletions of ended tracks and the confidence", () => {
    const scenes = run(6);
    assert.ok(scenes.length >= 50, `${scenes.length} updates`);
    let previous = new Set<string>();
    let deleted = 0;
    let boxes = 0;
    for (const { sweep, out } of scenes) {
      assert.equal(out.logTime, sweep, "no node clock: logged at the sweep's receive time");
      assert.equal(out.encoding, "cdr");
      assert.equal(out.publish, false);
      const update = defaultCodec().decode<Update>(out.schemaName, out.data);
      const ids = new Set(update.entities.map((e) => e.id));
      assert.equal(ids.size, update.entities.length, "one entity per track");
      // Exactly the tracks shown before and gone now are deleted, by id.
      assert.deepEqual(new Set(update.deletions.map((d) => d.id)), new Set([...previous].filter((id) => !ids.has(id))));
      for (const d of update.deletions) assert.equal(d.type, 0);
      for (const e of update.entities) {
        assert.deepEqual(e.lifetime, { sec: 0, nanosec: 0 });
        // The track's confidence as the tracker gives it (its range is the tracker's contract).
        const confidence = e.metadata.find((k) => k.key === "confidence")?.value ?? "";
        assert.match(confidence, /^-?\d+\.\d{3}$/, `${e.id}: confidence ${confidence}`);
        assert.deepEqual(e.metadata.map((k) => k.key), ["category", "confidence", "track_id", "source", "speed"]);
      }
      deleted += update.deletions.length;
      boxes += ids.size;
      previous = ids;
    }
    assert.ok(boxes > 100 && deleted > 0, `${boxes} boxes, ${deleted} deletions over the drive`);
  });

  it("takes a live node clock when it is later than the sweep, never one that is earlier, and keeps each topic in order", () => {
    const late = run(1.5, (t) => t + 7_000_000n);
    for (const { sweep, out } of late) assert.equal(out.logTime, sweep + 7_000_000n);
    const early = run(1.5, () => 0n);
    for (const { sweep, out } of early) assert.equal(out.logTime, sweep);
    // A clock that jumps back later still gives non-decreasing log times.
    let calls = 0;
    const jumpy = run(1.5, (t) => (++calls % 2 === 0 ? t + 500_000_000n : t));
    for (let i = 1; i < jumpy.length; i++) assert.ok(jumpy[i]!.out.logTime >= jumpy[i - 1]!.out.logTime);
  });
});
