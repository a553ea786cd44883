/**
 * The long-run memory soak of the suggestion stage: `node --expose-gc --import tsx
 * test/suggest/soak.ts [seconds=600] [seed=5]`. Runs a simulated drive (default rig, its traffic
 * scaled to the drive's length, seeded random events) through the real AlignmentStage twice: once alone (the baseline: the simulator's
 * own truth grows with the drive), once with the SuggestionStage after it. Prints the heap after
 * a full GC every simulated minute for both, and the stage's counters; exits 1 when the stage's
 * heap grows by more than 20 MB between the second minute and the end (a leak: its buffers are
 * all bounded), or when it counted a malformed message or a plugin error.
 */
import { AlignmentStage } from "../../src/align/stage.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";
import { SuggestionStage } from "../../src/suggest/stage.js";

const seconds = Number(process.argv[2] ?? 600);
const seed = Number(process.argv[3] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("run with node --expose-gc --import tsx test/suggest/soak.ts");
  process.exit(2);
}

function heapMb(): number {
  gc!();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

// The rig's traffic counts are for a whole drive (placed along its route): scaled to the drive's
// length so the tracker has road users to follow throughout. (Vehicles that would meet the ego
// or each other at any time are not placed, so a long drive still gets fewer of them.)
const base = loadRig("default");
const k = Math.max(1, Math.round(seconds / 30));
const t = base.scenario.traffic;
const rig = { ...base, scenario: { ...base.scenario, traffic: { cars: t.cars * k, trucks: t.trucks * k, pedestrians: t.pedestrians * k, cyclists: t.cyclists * k } } };

function run(withSuggestions: boolean): { heap: number[]; stage: SuggestionStage | null; wallS: number } {
  const drive = simulateDrive({ rig, seed, durationS: seconds });
  const alignment = new AlignmentStage({ config: alignmentConfigForRig(drive.rig) });
  const stage = withSuggestions ? new SuggestionStage({ onSuggestions: () => {} }) : null;
  const heap: number[] = [];
  const started = performance.now();
  let nextMinuteNs = drive.startNs + 60_000_000_000n;
  for (const m of drive.messages()) {
    const raw = { topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs };
    const result = alignment.ingest(raw);
    if (stage !== null) {
      stage.onMessage(raw, result.corrected ?? raw.receiveTime);
      for (const frame of result.frames) stage.onFrame(frame);
    }
    if (m.receiveNs >= nextMinuteNs) {
      heap.push(heapMb());
      nextMinuteNs += 60_000_000_000n;
    }
  }
  if (stage !== null) {
    for (const frame of alignment.finish().frames) stage.onFrame(frame);
    stage.finish();
  }
  heap.push(heapMb());
  return { heap, stage, wallS: (performance.now() - started) / 1000 };
}

const baseline = run(false);
const suggest = run(true);
console.log("minute  heap MB alignment only  heap MB with suggestions  difference");
for (let i = 0; i < suggest.heap.length; i++) {
  const b = baseline.heap[i] ?? NaN, s = suggest.heap[i]!;
  console.log(`${String(i + 1).padStart(6)}  ${b.toFixed(1).padStart(22)}  ${s.toFixed(1).padStart(24)}  ${(s - b).toFixed(1).padStart(10)}`);
}
const c = suggest.stage!.counters;
console.log(`stage: ${c.frames} frames, ${c.objects} objects, ${c.events} events, ${c.malformed} malformed, ${c.pluginErrors} plugin errors; wall ${suggest.wallS.toFixed(0)} s (alignment alone ${baseline.wallS.toFixed(0)} s)`);
const diff = (i: number): number => suggest.heap[i]! - (baseline.heap[i] ?? 0);
const growth = suggest.heap.length > 2 ? diff(suggest.heap.length - 1) - diff(1) : 0;
console.log(`stage heap growth from minute 2 to the end: ${growth.toFixed(1)} MB (limit 20 MB)`);
process.exit(growth > 20 || c.malformed > 0 || c.pluginErrors > 0 ? 1 : 0);
