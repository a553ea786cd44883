/**
 * Alignment cost per message: AlignmentStage.ingest (stamp read in place, clock model, aligner,
 * calibration, encoded outputs) over a pre-generated default-rig drive, against reading the
 * stamps alone in the same run. Target: ≤ 5 µs per message.
 */
import { AlignmentStage } from "../src/align/stage.js";
import { readStamp } from "../src/messages/stamp.js";
import { alignmentConfigForRig } from "../src/pipeline/rig-config.js";
import { simulateDrive } from "../src/sim/drive.js";
import { loadRig } from "../src/sim/rig.js";
import type { RawMessage } from "../src/transport/port.js";
import { report } from "./harness.js";

export default async function (): Promise<void> {
  const rig = loadRig("default");
  const messages: RawMessage[] = [];
  for (const m of simulateDrive({ rig, seed: 1, durationS: 30 })) messages.push({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
  const config = alignmentConfigForRig(rig);
  const sensorTopics = new Set(config.sensors!.map((s) => s.topic));
  const sensorMessages = messages.filter((m) => sensorTopics.has(m.topic));

  const stampsOnly = (): number => {
    const start = performance.now();
    let sum = 0n;
    for (const m of sensorMessages) sum += readStamp(m.type, m.data);
    if (sum === 0n) throw new Error("unreachable");
    return (performance.now() - start) / sensorMessages.length;
  };
  const aligned = (): number => {
    const stage = new AlignmentStage({ config });
    const start = performance.now();
    for (const m of messages) stage.ingest(m);
    stage.finish();
    // Per sensor message, like the baseline (the few /tf_static and camera_info messages ride along).
    return (performance.now() - start) / sensorMessages.length;
  };
  // The slowest single ingest: a calibration fit runs inside it (the transport callback waits).
  const slowest = (): { maxMs: number; medianUs: number } => {
    const stage = new AlignmentStage({ config });
    const durations = new Float64Array(messages.length);
    messages.forEach((m, i) => {
      const start = performance.now();
      stage.ingest(m);
      durations[i] = performance.now() - start;
    });
    durations.sort();
    return { maxMs: durations[durations.length - 1]!, medianUs: durations[durations.length >> 1]! * 1000 };
  };
  const median = (f: () => number, runs: number): number => {
    const values = Array.from({ length: runs }, f).sort((a, b) => a - b);
    return values[Math.floor(runs / 2)]!;
  };
  median(stampsOnly, 3);
  median(aligned, 1);
  const baselineMs = median(stampsOnly, 7);
  const subjectMs = median(aligned, 5);
  const subjectUs = subjectMs * 1000;
  report({
    name: `alignment per sensor message (${sensorMessages.length} sensor + ${messages.length - sensorMessages.length} other messages, 30 s default rig: clock models, frames, audio calibration, outputs)`,
    value: subjectUs,
    unit: "µs/msg",
    baseline: { name: "reading the stamps alone", value: baselineMs * 1000, unit: "µs/msg" },
    ratio: subjectMs / baselineMs,
    target: { text: "≤ 5 µs per message", met: subjectUs <= 5 },
  });
  const stall = slowest();
  report({
    name: "slowest single ingest over the 30 s drive (an audio-latency calibration fit)",
    value: stall.maxMs,
    unit: "ms",
    baseline: { name: "median ingest", value: stall.medianUs, unit: "µs" },
    ratio: (stall.maxMs * 1000) / stall.medianUs,
    target: { text: "≤ 20 ms (a sensor callback is never held noticeably)", met: stall.maxMs <= 20 },
  });
}
