/**
 * A sensor's clock fitted with hindsight over a whole record: the smoother to model.ts's filter.
 *
 * Input: every message's device time t (stamp, s from an origin) and d = receive − stamp (s), in
 * receive order. As in model.ts, d = latency + jitter − clock error with jitter ≥ 0, so the clock
 * error is bounded by the LOWER envelope of (t, d) (Moon, Skelly & Towsley, "Estimation and
 * removal of clock skew from network delay measurements", INFOCOM 1999: the skew is the slope of
 * the line under all points with the least total gap). A filter must decide from the past alone;
 * with the whole record in hand:
 *
 * 1. Steps are change points of the delay floor. Messages are grouped in blocks of receive time;
 *    each block's floor is its smallest d. A step at a block boundary moves the median floor of
 *    the next `contextBlocks` blocks away from that of the previous ones, by more than what the
 *    floors' own scatter explains (a median ignores a reordered or stalled block). The largest such
 *    move within its neighbourhood is a change point.
 * 2. One drift for the whole record (it is the oscillator's, a step does not change it), one
 *    intercept per segment: minimise Σ (d − a_seg − b·t) subject to every point on or above its
 *    segment's line. For a fixed slope each a_seg is the minimum of d − b·t over the segment's
 *    lower hull, and the total gap is convex in b: a golden-section search over b.
 * 3. Exactly where the residuals break: each message near a change point goes to the segment of
 *    the two whose line it lies on or above with the smaller residual. A message after a forward
 *    step lies below the old line (negative latency: impossible), one before a backward step
 *    below the new line, so the split is exact whenever the step exceeds the jitter and
 *    reordering delay of the messages at the boundary. Then the fit is repeated.
 *
 * A point below its neighbourhood's median floor by more than the step threshold that is not part
 * of a step (a glitch: negative latency) is left out of the fit and counted.
 */

export interface SmootherOptions {
  /** Smallest step looked for (s); the threshold also grows with the floors' scatter. */
  minStepS?: number;
  /** Receive-time block (s) whose minimum is a floor sample. */
  blockS?: number;
  /** Blocks on each side whose median floors are compared at a candidate change point. */
  contextBlocks?: number;
  /**
   * Scale of the zero-mean Gaussian prior on the drift (ppm; quartz oscillators are specified at
   * ±20–100 ppm). It only matters when a record is too short to pin the drift: the likelihood of
   * a long record outweighs it.
   */
  driftPriorPpm?: number;
}

export interface SmoothedSegment {
  /** d on the floor at device time t (s from the origin) is intercept + slope·t. */
  intercept: number;
  /** Messages assigned to the segment. */
  count: number;
  /** Receive time (s from the origin) of its first and last message. */
  firstReceiveS: number;
  lastReceiveS: number;
}

export interface SmoothedClock {
  slope: number;
  segments: SmoothedSegment[];
  /** Segment index of every message, in input order. */
  segmentOf: Uint16Array;
  /** Points left out of the fit as impossible (below the floor, not a step). */
  outliers: number;
  /** The step threshold used (s). */
  thresholdS: number;
}

const GOLDEN = (Math.sqrt(5) - 1) / 2;

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
}

/**
 * Fits the floor d = a_seg + b·t over n messages (t: device time, d: receive − device, both s).
 * `t` and `d` may be longer than n (growable buffers); only the first n entries are read.
 */
export function smoothClock(t: Float64Array, d: Float64Array, n: number, options: SmootherOptions = {}): SmoothedClock {
  const minStepS = options.minStepS ?? 0.004;
  const blockS = options.blockS ?? 0.5;
  const context = options.contextBlocks ?? 4;
  const driftPrior = (options.driftPriorPpm ?? 100) * 1e-6;
  const segmentOf = new Uint16Array(n);
  if (n === 0) return { slope: 0, segments: [], segmentOf, outliers: 0, thresholdS: minStepS };
  const r0 = t[0]! + d[0]!;
  // 1. Block floors by receive time.
  let blocks = 1;
  for (let i = 0; i < n; i++) blocks = Math.max(blocks, Math.floor((t[i]! + d[i]! - r0) / blockS) + 1);
  const floor = new Float64Array(blocks).fill(Infinity);
  const blockOf = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const b = Math.max(0, Math.floor((t[i]! + d[i]! - r0) / blockS));
    blockOf[i] = b;
    if (d[i]! < floor[b]!) floor[b] = d[i]!;
  }
  const filled: number[] = [];
  for (let b = 0; b < blocks; b++) if (floor[b] !== Infinity) filled.push(b);
  // Scatter of the floors around their neighbourhood (robust: MAD), which sets the threshold.
  const deviations: number[] = [];
  const local: number[] = new Array<number>(filled.length);
  for (let p = 0; p < filled.length; p++) {
    const neighbours = filled.slice(Math.max(0, p - context), p + context + 1).map((b) => floor[b]!);
    local[p] = median(neighbours);
    deviations.push(Math.abs(floor[filled[p]!]! - local[p]!));
  }
  const sigma = 1.4826 * median(deviations);
  const thresholdS = Math.max(minStepS, 8 * (Number.isFinite(sigma) ? sigma : 0));
  // Change points, largest first: a shift of the median floor beyond the threshold; once a cut is
  // taken the medians of the others stop at it, so a second step close to a first is still seen.
  const shiftAt = (p: number, lo: number, hi: number): number => {
    const left = filled.slice(Math.max(lo, p - context), p).map((b) => floor[b]!);
    const right = filled.slice(p, Math.min(hi, p + context)).map((b) => floor[b]!);
    return left.length === 0 || right.length === 0 ? 0 : Math.abs(median(right) - median(left));
  };
  const bounds = (cuts: number[], p: number): [number, number] => {
    let lo = 0;
    let hi = filled.length;
    for (const c of cuts) {
      if (c < p) lo = Math.max(lo, c);
      else if (c > p) hi = Math.min(hi, c);
    }
    return [lo, hi];
  };
  let taken: number[] = []; // positions in `filled`
  for (;;) {
    let bestP = -1;
    let best = thresholdS;
    for (let p = 1; p < filled.length; p++) {
      if (taken.includes(p)) continue;
      const shift = shiftAt(p, ...bounds(taken, p));
      if (shift > best) {
        best = shift;
        bestP = p;
      }
    }
    if (bestP < 0) break;
    taken.push(bestP);
  }
  // A window that straddled a second step misplaces a cut or adds one: each cut moves to its best
  // place nearby (between its neighbours), and goes if no shift there passes the threshold.
  taken.sort((a, b) => a - b);
  for (let round = 0; round < 5; round++) {
    let changed = false;
    for (let i = 0; i < taken.length; i++) {
      const others = taken.filter((_, j) => j !== i);
      const [lo, hi] = bounds(others, taken[i]!);
      let bestP = -1;
      let best = thresholdS;
      for (let p = Math.max(1, lo + 1, taken[i]! - context); p < Math.min(hi, taken[i]! + context + 1); p++) {
        const shift = shiftAt(p, lo, hi);
        if (shift > best) {
          best = shift;
          bestP = p;
        }
      }
      if (bestP !== taken[i]) {
        changed = true;
        if (bestP < 0) {
          taken = others;
          i--;
        } else taken[i] = bestP;
      }
    }
    if (!changed) break;
  }
  const cuts = taken.sort((a, b) => a - b).map((p) => filled[p]!);
  // Glitches: below the local median floor by more than the threshold, where no step is.
  const outlier = new Uint8Array(n);
  let outliers = 0;
  const localOfBlock = new Float64Array(blocks).fill(NaN);
  for (let p = 0; p < filled.length; p++) localOfBlock[filled[p]!] = local[p]!;
  const nearCut = (b: number): boolean => cuts.some((c) => Math.abs(b - c) <= context);
  for (let i = 0; i < n; i++) {
    const b = blockOf[i]!;
    if (d[i]! < localOfBlock[b]! - thresholdS && !nearCut(b)) {
      outlier[i] = 1;
      outliers++;
    }
  }
  // Initial assignment by block.
  for (let i = 0, k = 0; i < n; i++) {
    k = 0;
    while (k < cuts.length && blockOf[i]! >= cuts[k]!) k++;
    segmentOf[i] = k;
  }
  // The block holding a step holds messages of both sides: the first fit leaves the blocks next
  // to each cut out, and the split below assigns them.
  const unsure = Uint8Array.from(outlier);
  for (let i = 0; i < n; i++) if (cuts.some((c) => blockOf[i] === c || blockOf[i] === c - 1)) unsure[i] = 1;
  // A segment that would be left with none (two steps a block apart) keeps its own.
  const sure = new Uint8Array(cuts.length + 1);
  for (let i = 0; i < n; i++) if (unsure[i] === 0) sure[segmentOf[i]!] = 1;
  for (let i = 0; i < n; i++) if (sure[segmentOf[i]!] === 0 && outlier[i] === 0) unsure[i] = 0;
  let fit = jointFit(t, d, n, segmentOf, cuts.length + 1, unsure, driftPrior);
  // 3. Exact split at each change point, then refit; a cut the data do not support is dropped
  // and the rest refitted, until every cut stands.
  for (;;) {
    for (let round = 0; round < 2 && cuts.length > 0; round++) {
      for (let k = 0; k < cuts.length; k++) splitAt(t, d, n, blockOf, cuts[k]!, context + 1, k, fit, segmentOf);
      fit = jointFit(t, d, n, segmentOf, cuts.length + 1, outlier, driftPrior);
    }
    const weakest = weakestCut(t, d, n, segmentOf, outlier, fit, thresholdS);
    if (weakest < 0) break;
    cuts.splice(weakest, 1);
    for (let i = 0; i < n; i++) if (segmentOf[i]! > weakest) segmentOf[i]!--;
    fit = jointFit(t, d, n, segmentOf, cuts.length + 1, outlier, driftPrior);
  }
  const segments: SmoothedSegment[] = fit.intercepts.map((intercept) => ({ intercept, count: 0, firstReceiveS: Infinity, lastReceiveS: -Infinity }));
  for (let i = 0; i < n; i++) {
    const s = segments[segmentOf[i]!]!;
    const r = t[i]! + d[i]!;
    s.count++;
    s.firstReceiveS = Math.min(s.firstReceiveS, r);
    s.lastReceiveS = Math.max(s.lastReceiveS, r);
  }
  return { slope: fit.slope, segments, segmentOf, outliers, thresholdS };
}

/**
 * Assigns the messages near a change point (receive blocks within `reach` of it) to segment k or
 * k + 1. The step happened at one instant T of the common clock: before it a message belongs to
 * k and its time on k's line is before T, after it to k + 1 with its time on that line at or
 * after T; and a message lies on or above its segment's line (latency is never negative). T is
 * chosen for the least total residual, a residual below a line counting a hundredfold; a message
 * both sides of T allow goes to the line it costs less on.
 * After a forward step (stamps jump ahead) the two readings of a message fall on the same side of
 * T, so the split is exact whatever the jitter; after a backward one only a message delayed by
 * more than the step itself can be misplaced.
 */
function splitAt(t: Float64Array, d: Float64Array, n: number, blockOf: Uint32Array, cut: number, reach: number, k: number, fit: JointFit, segmentOf: Uint16Array): void {
  const near: number[] = [];
  for (let i = 0; i < n; i++) if (Math.abs(blockOf[i]! - cut) <= reach && (segmentOf[i] === k || segmentOf[i] === k + 1)) near.push(i);
  if (near.length === 0) return;
  const a = fit.intercepts[k]!;
  const b = fit.intercepts[k + 1]!;
  // Capture times (s, up to a common constant) on each line, and the residuals.
  const ca = near.map((i) => t[i]! + a + fit.slope * t[i]!);
  const cb = near.map((i) => t[i]! + b + fit.slope * t[i]!);
  const ea = near.map((i) => d[i]! - (a + fit.slope * t[i]!));
  const eb = near.map((i) => d[i]! - (b + fit.slope * t[i]!));
  const candidates = [...ca, ...cb, Infinity].sort((x, y) => x - y);
  // Cost of a message on a line: its residual (the least-gap criterion), a hundredfold when below
  // it (a latency shorter than the floor: only the fit's own noise allows a little of that).
  const cost = (e: number): number => (e >= 0 ? e : -100 * e);
  // On neither side of T on either line: contradicts T outright.
  const contradiction = 1;
  let bestT = Infinity;
  let bestCost = Infinity;
  for (const T of candidates) {
    let total = 0;
    for (let j = 0; j < near.length; j++) {
      const canA = ca[j]! < T;
      const canB = cb[j]! >= T;
      total += canA && canB ? Math.min(cost(ea[j]!), cost(eb[j]!)) : canA ? cost(ea[j]!) : canB ? cost(eb[j]!) : contradiction;
    }
    if (total < bestCost) {
      bestT = T;
      bestCost = total;
    }
  }
  for (let j = 0; j < near.length; j++) {
    const canA = ca[j]! < bestT;
    const canB = cb[j]! >= bestT;
    const toA = canA && canB ? cost(ea[j]!) <= cost(eb[j]!) : canA ? true : canB ? false : cost(ea[j]!) <= cost(eb[j]!);
    segmentOf[near[j]!] = toA ? k : k + 1;
  }
}

/**
 * The cut least supported, or −1 when all stand. Jitter is one-sided with scale μ (the median
 * residual over ln 2, for exponential delays), so n messages all at least Δ above a line happen
 * by chance with probability e^(−nΔ/μ): a backward step (the floor rises by Δ) is supported by the
 * n messages after it, a forward one (it drops) by the n before it. A cut needs nΔ/μ ≥ 20 and
 * Δ above the threshold.
 */
function weakestCut(t: Float64Array, d: Float64Array, n: number, segmentOf: Uint16Array, outlier: Uint8Array, fit: JointFit, thresholdS: number): number {
  const cuts = fit.intercepts.length - 1;
  if (cuts === 0) return -1;
  const residuals: number[] = [];
  const counts = new Array<number>(fit.intercepts.length).fill(0);
  for (let i = 0; i < n; i++) {
    if (outlier[i] === 1) continue;
    counts[segmentOf[i]!]!++;
    residuals.push(d[i]! - (fit.intercepts[segmentOf[i]!]! + fit.slope * t[i]!));
  }
  const mu = Math.max(1e-6, median(residuals) / Math.LN2);
  let weakest = -1;
  let weakestEvidence = Infinity;
  for (let k = 0; k < cuts; k++) {
    const step = fit.intercepts[k + 1]! - fit.intercepts[k]!;
    const support = step > 0 ? counts[k + 1]! : counts[k]!;
    const evidence = Math.abs(step) < thresholdS ? 0 : (support * Math.abs(step)) / mu;
    if (evidence < 20 && evidence < weakestEvidence) {
      weakest = k;
      weakestEvidence = evidence;
    }
  }
  return weakest;
}

/** Minimum of a convex function on [lo, hi] by golden-section search. */
function goldenMin(f: (x: number) => number, lo: number, hi: number): number {
  let x1 = hi - GOLDEN * (hi - lo);
  let x2 = lo + GOLDEN * (hi - lo);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let k = 0; k < 80 && hi - lo > 1e-12; k++) {
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - GOLDEN * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + GOLDEN * (hi - lo);
      f2 = f(x2);
    }
  }
  return 0.5 * (lo + hi);
}

interface JointFit {
  slope: number;
  intercepts: number[];
}

/**
 * One slope, one intercept per segment, every (non-outlier) point on or above its line, least
 * total gap. Each segment is reduced to its lower convex hull; for a slope b the intercept is the
 * hull's minimum of d − b·t, and the gap Σ n_k (mean d_k − b·mean t_k − a_k(b)) is convex in b.
 */
function jointFit(t: Float64Array, d: Float64Array, n: number, segmentOf: Uint16Array, segments: number, outlier: Uint8Array, driftPrior: number): JointFit {
  const members: number[][] = Array.from({ length: segments }, () => []);
  for (let i = 0; i < n; i++) if (outlier[i] === 0) members[segmentOf[i]!]!.push(i);
  const hulls: { t: number[]; d: number[]; count: number; meanT: number; meanD: number }[] = [];
  for (const list of members) {
    if (list.length === 0) {
      hulls.push({ t: [], d: [], count: 0, meanT: 0, meanD: 0 });
      continue;
    }
    list.sort((a, b) => t[a]! - t[b]! || d[a]! - d[b]!);
    const ht: number[] = [];
    const hd: number[] = [];
    let sumT = 0;
    let sumD = 0;
    for (const i of list) {
      const ti = t[i]!;
      const di = d[i]!;
      sumT += ti;
      sumD += di;
      if (ht.length > 0 && ht[ht.length - 1] === ti) {
        if (di >= hd[hd.length - 1]!) continue;
        ht.pop();
        hd.pop();
      }
      while (ht.length >= 2) {
        const k = ht.length;
        const cross = (ht[k - 1]! - ht[k - 2]!) * (di - hd[k - 2]!) - (hd[k - 1]! - hd[k - 2]!) * (ti - ht[k - 2]!);
        if (cross <= 0) {
          ht.pop();
          hd.pop();
        } else break;
      }
      ht.push(ti);
      hd.push(di);
    }
    hulls.push({ t: ht, d: hd, count: list.length, meanT: sumT / list.length, meanD: sumD / list.length });
  }
  const interceptAt = (h: (typeof hulls)[number], b: number): number => {
    // Minimum of d − b·t over a convex chain: binary search for the edge whose slope passes b.
    let lo = 0;
    let hi = h.t.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const edge = (h.d[mid + 1]! - h.d[mid]!) / (h.t[mid + 1]! - h.t[mid]!);
      if (edge < b) lo = mid + 1;
      else hi = mid;
    }
    return h.d[lo]! - b * h.t[lo]!;
  };
  const gap = (b: number): number => {
    let total = 0;
    for (const h of hulls) if (h.count > 0) total += h.count * (h.meanD - b * h.meanT - interceptAt(h, b));
    return total;
  };
  // Only a record spanning more than a point pins the slope; ±0.1% covers any real oscillator.
  let span = 0;
  for (const h of hulls) if (h.t.length > 1) span += h.t[h.t.length - 1]! - h.t[0]!;
  let slope = 0;
  if (span > 0) {
    // Exponential delays: −log-likelihood = gap/μ (+ const), minimised by the least-gap line
    // (Moon et al.); μ is estimated as the mean gap there. Then the MAP slope with the drift prior.
    slope = goldenMin(gap, -1e-3, 1e-3);
    let count = 0;
    for (const h of hulls) count += h.count;
    const mu = Math.max(1e-7, gap(slope) / Math.max(1, count));
    if (driftPrior > 0) slope = goldenMin((b) => gap(b) / mu + (b * b) / (2 * driftPrior * driftPrior), -1e-3, 1e-3);
  }
  const intercepts = hulls.map((h) => (h.t.length > 0 ? interceptAt(h, slope) : NaN));
  // A segment without points (every one an outlier) takes its neighbour's line.
  for (let k = 0; k < intercepts.length; k++) if (Number.isNaN(intercepts[k]!)) intercepts[k] = intercepts[k - 1] ?? intercepts.find((x) => !Number.isNaN(x)) ?? 0;
  return { slope, intercepts };
}
