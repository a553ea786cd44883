/**
 * Seeded stamp series with the simulator's clock semantics (src/sim/clockmodel.ts), without
 * payloads, so a 10-minute drive costs milliseconds: device stamp = capture + offset + drift·t
 * (+ each step once capture ≥ its time), receive = capture + latency + jitter (exponential, capped
 * at 8× its mean), or 1.05–1.8 periods later when reordered; dropped messages never arrive.
 * Messages come in receive order, as a recorder sees them.
 */
export interface SeriesOptions {
  rateHz: number;
  seconds: number;
  offsetS: number;
  driftPpm: number;
  latencyS: number;
  jitterS: number;
  reorderRate?: number;
  dropRate?: number;
  steps?: { atS: number; stepS: number }[];
  seed: number;
}

export interface SeriesMessage {
  captureNs: bigint;
  stampNs: bigint;
  receiveNs: bigint;
  /**
   * After a backward step, a message delayed (jitter + reordering) by more than the step lies
   * above the new line by less than on the old one: nothing in (stamp, receive) says which
   * side of the step it was captured on.
   */
  ambiguous: boolean;
}

export function uniformSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const START_NS = 1_700_000_000_000_000_000n;

export function stampSeries(o: SeriesOptions): SeriesMessage[] {
  const uniform = uniformSource(o.seed);
  const out: SeriesMessage[] = [];
  const period = 1 / o.rateHz;
  const phase = uniform() * period;
  const steps = o.steps ?? [];
  for (let i = 0; phase + i * period < o.seconds; i++) {
    const t = phase + i * period;
    const uDrop = uniform();
    const uJitter = uniform();
    const uReorder = uniform();
    const uDelay = uniform();
    if (uDrop < (o.dropRate ?? 0)) continue;
    let device = t + o.offsetS + o.driftPpm * 1e-6 * t;
    for (const step of steps) if (t >= step.atS) device += step.stepS;
    const jitter = Math.min(8 * o.jitterS, -o.jitterS * Math.log(1 - uJitter));
    const delay = jitter + (uReorder < (o.reorderRate ?? 0) ? period * (1.05 + 0.75 * uDelay) : 0);
    const ambiguous = steps.some((step) => step.stepS < 0 && t < step.atS && t >= step.atS + step.stepS - delay && delay > -step.stepS);
    const captureNs = START_NS + BigInt(Math.round(t * 1e9));
    out.push({ captureNs, stampNs: START_NS + BigInt(Math.round(device * 1e9)), receiveNs: captureNs + BigInt(Math.round((o.latencyS + delay) * 1e9)), ambiguous });
  }
  // Unique stamps, as the simulator promises (a backward step can repeat one).
  const seen = new Set<bigint>();
  for (const m of out) {
    while (seen.has(m.stampNs)) m.stampNs += 1n;
    seen.add(m.stampNs);
  }
  return out.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
}
