/**
 * Driving events from VehicleTelemetry (CAN, ~100 Hz), streaming: hard braking, harsh
 * acceleration, sharp turn, stop, lane change and speeding, each with start, end and peak.
 *
 * Threshold events trigger on a level and release with hysteresis; their start is then placed
 * where the signal left its pre-event baseline (10 % of the way to the trigger level), since a
 * driver's braking begins well before the deceleration crosses a threshold, and their end where
 * the signal fell back halfway from the peak. Thresholds follow naturalistic-driving practice;
 * see src/suggest/README.md for the defaults chosen.
 */
import { z } from "zod";
import type { EventSuggestion } from "./types.js";

const G = 9.80665;

/** Seconds at the start of a curve over which its yaw rate (the new lane-change baseline) is read. */
const CURVE_BASELINE_S = 1;
/** Seconds of steady yaw rate that mark the end of a manoeuvre (the road's new curvature). */
const SETTLE_S = 1;

export const TelemetryEventConfigSchema = z.strictObject({
  hardBrakingG: z.number().positive().max(2).default(0.35).describe("Hard braking when longitudinal acceleration ≤ −hardBrakingG·g (naturalistic-driving studies use 0.3–0.45 g)."),
  harshAccelerationG: z.number().positive().max(2).default(0.3).describe("Harsh acceleration when longitudinal acceleration ≥ harshAccelerationG·g."),
  sharpTurnG: z.number().positive().max(2).default(0.3).describe("Sharp turn when |lateral acceleration| ≥ sharpTurnG·g (or the yaw-rate criterion)."),
  sharpTurnYawRate: z.number().positive().default(0.3).describe("Sharp turn when |yaw rate| ≥ this (rad/s) (or the lateral-acceleration criterion)."),
  minDurationS: z.number().nonnegative().default(0.25).describe("Shortest braking, acceleration or turn event (s)."),
  stopSpeed: z.number().positive().default(0.3).describe("Standstill below this speed (m/s)."),
  stopMinS: z.number().positive().default(1).describe("Shortest standstill reported as a stop (s)."),
  laneChangeYawRate: z.number().positive().default(0.02).describe("Yaw rate (rad/s, relative to the road's curvature) of each of a lane change's two opposite lobes."),
  laneChangeMinShift: z.number().positive().default(2).describe("Smallest lateral shift of a lane change (m)."),
  laneChangeMaxS: z.number().positive().default(8).describe("Longest lane change (s)."),
  speedLimit: z.number().nonnegative().default(0).describe("Speed limit (m/s) for speeding events; 0 disables them (a ROS 2 parameter cannot be null)."),
  speedingTolerance: z.number().nonnegative().default(1).describe("Speeding above speedLimit + this (m/s)."),
  speedingMinS: z.number().positive().default(3).describe("Shortest speeding event (s)."),
});
export type TelemetryEventConfig = z.infer<typeof TelemetryEventConfigSchema>;

export interface TelemetrySample {
  /** Common-clock time (ns). */
  tNs: bigint;
  speed: number;
  ax: number;
  ay: number;
  yawRate: number;
}

interface Threshold {
  name: "hard_braking" | "harsh_acceleration" | "sharp_turn";
  /** The signal, oriented so that larger = more of the event. */
  value: (s: TelemetrySample) => number;
  trigger: number;
  peak: (s: TelemetrySample) => number;
  state: { active: boolean; trigger: number; peakIdx: number; belowSince: number } | null;
}

const HISTORY_S = 30;

interface Lobe {
  sign: number;
  start: number;
  end: number;
  dpsi: number;
  shift: number;
  /** Road yaw rate (baseline) the lobe was measured against. */
  base: number;
}

export class TelemetryEventDetector {
  readonly #cfg: TelemetryEventConfig;
  readonly #samples: TelemetrySample[] = [];
  #t0: bigint | null = null;
  #ts: number[] = [];
  readonly #detectors: Threshold[];
  #stop: { since: number | null; active: boolean } = { since: null, active: false };
  #speeding: { since: number | null } = { since: null };
  #lobes: Lobe[] = [];
  #lobe: { sign: number; start: number; dpsi: number; base: number } | null = null;
  #yawBase: number | null = null;
  /**
   * A first lobe whose return lobe is read against the road after the manoeuvre: when the road's
   * curvature changes during a lane change (a curve ends or begins), the return lobe measured
   * against the curvature before it is distorted beyond recognition.
   */
  #pending: Lobe | null = null;
  /** Seconds of road the yaw-rate baseline has been read from. */
  #yawBaseSeenS = 0;
  #nextId = 1;

  constructor(config: Partial<TelemetryEventConfig> = {}) {
    this.#cfg = TelemetryEventConfigSchema.parse(config);
    const c = this.#cfg;
    this.#detectors = [
      { name: "hard_braking", value: (s) => -s.ax, trigger: c.hardBrakingG * G, peak: (s) => s.ax, state: null },
      { name: "harsh_acceleration", value: (s) => s.ax, trigger: c.harshAccelerationG * G, peak: (s) => s.ax, state: null },
      {
        name: "sharp_turn",
        // Normalised so that 1 is the trigger of whichever criterion is nearer.
        value: (s) => Math.max(Math.abs(s.ay) / (c.sharpTurnG * G), Math.abs(s.yawRate) / c.sharpTurnYawRate),
        trigger: 1,
        peak: (s) => s.yawRate,
        state: null,
      },
    ];
  }

  get config(): TelemetryEventConfig {
    return this.#cfg;
  }

  push(sample: TelemetrySample): EventSuggestion[] {
    this.#t0 ??= sample.tNs;
    const t = Number(sample.tNs - this.#t0) / 1e9;
    if (this.#ts.length > 0 && t <= this.#ts[this.#ts.length - 1]!) return []; // out of order or duplicate
    this.#samples.push(sample);
    this.#ts.push(t);
    const out: EventSuggestion[] = [];
    const i = this.#samples.length - 1;
    for (const d of this.#detectors) this.#threshold(d, i, out);
    this.#stopStep(i, out);
    this.#laneChangeStep(i, out);
    this.#pendingStep(i, out);
    this.#speedingStep(i, out);
    this.#trim();
    return out;
  }

  /** Closes events still open at the end of the drive. */
  finish(): EventSuggestion[] {
    const out: EventSuggestion[] = [];
    const last = this.#samples.length - 1;
    if (last < 0) return out;
    for (const d of this.#detectors) if (d.state?.active === true) this.#closeThreshold(d, last, out);
    if (this.#stop.active && this.#stop.since !== null) out.push(this.#stopEvent(this.#stop.since, last));
    if (this.#speeding.since !== null) this.#closeSpeeding(last, out);
    return out;
  }

  #smoothed(d: Threshold, i: number): number {
    // Causal 3-sample mean: suppresses single-sample CAN noise without delaying onsets much.
    let sum = 0, n = 0;
    for (let k = Math.max(0, i - 2); k <= i; k++, n++) sum += d.value(this.#samples[k]!);
    return sum / n;
  }

  #threshold(d: Threshold, i: number, out: EventSuggestion[]): void {
    const v = this.#smoothed(d, i);
    const release = 0.7 * d.trigger;
    if (d.state === null || !d.state.active) {
      if (v >= d.trigger) d.state = { active: true, trigger: i, peakIdx: i, belowSince: -1 };
      return;
    }
    const s = d.state;
    if (v > this.#smoothed(d, s.peakIdx)) s.peakIdx = i;
    if (v < release) {
      if (s.belowSince < 0) s.belowSince = i;
      if (this.#ts[i]! - this.#ts[s.belowSince]! >= 0.1) this.#closeThreshold(d, i, out);
    } else s.belowSince = -1;
  }

  #closeThreshold(d: Threshold, i: number, out: EventSuggestion[]): void {
    const s = d.state!;
    s.active = false;
    const ts = this.#ts;
    // Baseline: the signal between 1.5 s and 0.5 s before the trigger.
    let sum = 0, n = 0;
    for (let k = s.trigger; k >= 0 && ts[s.trigger]! - ts[k]! <= 1.5; k--) {
      if (ts[s.trigger]! - ts[k]! >= 0.5) {
        sum += this.#smoothed(d, k);
        n++;
      }
    }
    const base = n > 0 ? Math.min(sum / n, d.trigger * 0.5) : 0;
    const onsetLevel = base + 0.1 * (d.trigger - base);
    let start = s.trigger;
    while (start > 0 && this.#smoothed(d, start - 1) > onsetLevel && ts[s.trigger]! - ts[start - 1]! < 3) start--;
    // The smoothing delays by one sample; the first sample above the onset level marks the start.
    start = Math.max(0, start - 1);
    const peakV = this.#smoothed(d, s.peakIdx);
    const endLevel = base + 0.5 * (peakV - base);
    let end = s.peakIdx;
    while (end < i && this.#smoothed(d, end + 1) > endLevel) end++;
    if (ts[end]! - ts[start]! < this.#cfg.minDurationS) return;
    let peak = d.peak(this.#samples[s.peakIdx]!);
    for (let k = start; k <= end; k++) {
      const p = d.peak(this.#samples[k]!);
      if (Math.abs(p) > Math.abs(peak)) peak = p;
    }
    out.push(this.#event(d.name, start, end, peak, Math.min(0.99, 0.6 + 0.3 * Math.min(1, (peakV - d.trigger) / d.trigger + 0.3))));
  }

  #stopStep(i: number, out: EventSuggestion[]): void {
    const s = this.#samples[i]!;
    const st = this.#stop;
    if (s.speed < this.#cfg.stopSpeed) {
      st.since ??= i;
      if (!st.active && this.#ts[i]! - this.#ts[st.since]! >= this.#cfg.stopMinS) st.active = true;
    } else {
      if (st.active && st.since !== null) out.push(this.#stopEvent(st.since, i));
      st.since = null;
      st.active = false;
    }
  }

  /** A stop runs from the start of the deceleration that led to it until the vehicle pulls away. */
  #stopEvent(since: number, moving: number): EventSuggestion {
    const ts = this.#ts;
    // The braking that led here: its level a0 (the second before standstill), where it crossed
    // 70 % of a0, the baseline before that (cruise easing off may already decelerate), and the
    // start where the signal left the baseline by 10 % of the step, as for the threshold events.
    const ax = (k: number): number => {
      let sum = 0, n = 0;
      for (let j = Math.max(0, k - 2); j <= k; j++, n++) sum += this.#samples[j]!.ax;
      return sum / n;
    };
    let a0 = 0, n0 = 0;
    for (let k = since; k >= 0 && ts[since]! - ts[k]! <= 1; k--, n0++) a0 += this.#samples[k]!.ax;
    a0 = Math.min(-0.3, a0 / Math.max(1, n0));
    let cross = since;
    while (cross > 0 && ax(cross - 1) < 0.7 * a0 && ts[since]! - ts[cross - 1]! < 20) cross--;
    let base = 0, nb = 0;
    for (let k = cross; k >= 0 && ts[cross]! - ts[k]! <= 1.5; k--) {
      if (ts[cross]! - ts[k]! >= 0.5) {
        base += ax(k);
        nb++;
      }
    }
    base = nb > 0 ? Math.max(base / nb, 0.8 * a0) : 0;
    const level = base + 0.1 * (a0 - base);
    let start = cross;
    while (start > 0 && ax(start - 1) < level && ts[cross]! - ts[start - 1]! < 3) start--;
    start = Math.max(0, start - 1);
    let end = moving;
    // Pulling away began when the acceleration rose; back up to that moment.
    while (end > since && this.#samples[end - 1]!.ax > 0.2) end--;
    return this.#event("stop", start, end, 0, 0.9);
  }

  #laneChangeStep(i: number, out: EventSuggestion[]): void {
    const c = this.#cfg;
    const s = this.#samples[i]!;
    const dt = i > 0 ? this.#ts[i]! - this.#ts[i - 1]! : 0;
    // Yaw rate relative to the road's own curvature: a slow baseline, frozen during lobes.
    this.#yawBase ??= 0;
    const rr = s.yawRate - this.#yawBase;
    const sign = rr > c.laneChangeYawRate ? 1 : rr < -c.laneChangeYawRate ? -1 : 0;
    if (this.#lobe !== null && sign !== this.#lobe.sign) {
      const lobe = this.#lobe;
      this.#lobe = null;
      const dur = this.#ts[i]! - this.#ts[lobe.start]!;
      if (dur > 0.4 && dur < c.laneChangeMaxS / 2 && Math.abs(lobe.dpsi) > 0.03 && Math.abs(lobe.dpsi) < 0.5) {
        let shift = 0, psi = 0;
        for (let k = lobe.start + 1; k <= i; k++) {
          const h = this.#ts[k]! - this.#ts[k - 1]!;
          psi += (this.#samples[k]!.yawRate - lobe.base) * h;
          shift += this.#samples[k]!.speed * Math.sin(psi) * h;
        }
        this.#lobes.push({ sign: lobe.sign, start: lobe.start, end: i, dpsi: lobe.dpsi, shift, base: lobe.base });
        // Only against a baseline read from the road (not the 0 assumed before the first samples).
        if (!this.#pairLobes(out) && this.#pending === null && this.#yawBaseSeenS >= CURVE_BASELINE_S) this.#pending = this.#lobes[this.#lobes.length - 1]!;
      } else if (Math.abs(lobe.dpsi) > 0.03) this.#lobes = []; // a real turn in between; noise blips are ignored
    }
    if (this.#lobe !== null && sign === this.#lobe.sign && this.#ts[i]! - this.#ts[this.#lobe.start]! > c.laneChangeMaxS / 2) {
      // Too long for a lane change: the road itself began to curve where the lobe began. The
      // curve's yaw rate (the median over the lobe's first second) becomes the baseline, and the
      // samples since are read again against it, so a lane change made in the curve is still seen.
      const from = this.#lobe.start;
      const early: number[] = [];
      let k = from;
      for (; k < i && this.#ts[k]! - this.#ts[from]! <= CURVE_BASELINE_S; k++) early.push(this.#samples[k]!.yawRate);
      early.sort((a, b) => a - b);
      this.#lobe = null;
      this.#lobes = [];
      this.#yawBase = early[early.length >> 1]!;
      this.#yawBaseSeenS = CURVE_BASELINE_S;
      for (; k < i; k++) this.#laneChangeStep(k, out);
      this.#laneChangeStep(i, out);
      return;
    }
    if (sign !== 0) {
      if (this.#lobe === null) this.#lobe = { sign, start: i, dpsi: 0, base: this.#yawBase };
      this.#lobe.dpsi += rr * dt;
      // The manoeuvre ends when the heading is back: the second lobe has undone the first, even if
      // the road starts to curve right then (which would prolong the lobe).
      const first = this.#lobes[this.#lobes.length - 1];
      const lobe = this.#lobe;
      if (first !== undefined && first.sign === -lobe.sign && Math.abs(lobe.dpsi) >= 0.9 * Math.abs(first.dpsi) && this.#ts[i]! - this.#ts[lobe.start]! > 0.4) {
        this.#lobes.push({ sign: lobe.sign, start: lobe.start, end: i, dpsi: lobe.dpsi, shift: 0, base: lobe.base });
        const before = out.length;
        this.#pairLobes(out);
        if (out.length > before) this.#lobe = null;
        else this.#lobes.pop();
      }
    } else if (this.#lobes.length === 0 || this.#ts[i]! - this.#ts[this.#lobes[this.#lobes.length - 1]!.end]! > 1) {
      this.#yawBase += (s.yawRate - this.#yawBase) * Math.min(1, dt / 3);
      this.#yawBaseSeenS += dt;
    }
    // A lone lobe not followed by an opposite one within a second was a turn, not a lane change.
    if (this.#lobe === null && this.#lobes.length > 0 && this.#ts[i]! - this.#ts[this.#lobes[this.#lobes.length - 1]!.end]! > 1.0) this.#lobes = [];
  }

  #pairLobes(out: EventSuggestion[]): boolean {
    const c = this.#cfg;
    if (this.#lobes.length < 2) return false;
    const [a, b] = this.#lobes.slice(-2) as [Lobe, Lobe];
    const gap = this.#ts[b.start]! - this.#ts[a.end]!;
    const ratio = Math.abs(b.dpsi / a.dpsi);
    // A lane change turns away and back: opposite lobes of similar heading change, adjacent in time.
    // The lateral shift of the first lobe doubles over the pair (symmetric manoeuvre).
    const shift = Math.abs(a.shift) * 2;
    if (a.sign === -b.sign && gap < 1.0 && ratio > 0.5 && ratio < 2 && shift >= c.laneChangeMinShift && this.#ts[b.end]! - this.#ts[a.start]! <= c.laneChangeMaxS) {
      let peak = 0;
      for (let k = a.start; k <= b.end; k++) {
        const s = this.#samples[k]!;
        const lat = s.speed * s.yawRate;
        if (Math.abs(lat) > Math.abs(peak)) peak = lat;
      }
      out.push(this.#event("lane_change", a.start, b.end, peak, Math.min(0.95, 0.5 + shift / 8)));
      this.#lobes = [];
      if (this.#pending === a) this.#pending = null;
      return true;
    }
    return false;
  }

  /**
   * The pending first lobe, once the yaw rate has settled (steady for SETTLE_S after the lobe; kept
   * until a settled level explains it or laneChangeMaxS has passed):
   * the road's curvature before (the lobe's baseline) and after (the settled level) are known,
   * and a lane change returns the heading to the road's. If the curvature stepped once during the
   * manoeuvre, the step time τ is where the heading relative to that piecewise road comes back to
   * zero; the relative heading must then swing one way and back, with enough lateral shift.
   */
  #pendingStep(i: number, out: EventSuggestion[]): void {
    const a = this.#pending;
    if (a === null) return;
    const c = this.#cfg, ts = this.#ts, smp = this.#samples;
    const t = ts[i]!;
    if (t - ts[a.start]! > c.laneChangeMaxS + SETTLE_S) {
      this.#pending = null;
      return;
    }
    if (t - ts[a.end]! < SETTLE_S) return;
    // Steady: the window's older and newer halves agree (medians, robust to CAN noise), so a slow
    // flank or the flat top of a lobe is not taken for the road.
    let b = i;
    const steady: number[] = [];
    for (; b > a.end && t - ts[b]! <= SETTLE_S; b--) steady.push(smp[b]!.yawRate);
    if (t - ts[b]! < SETTLE_S) return;
    const half = steady.length >> 1;
    const median = (v: number[]): number => v.sort((p, q) => p - q)[v.length >> 1]!;
    const newer = median(steady.slice(0, half)), older = median(steady.slice(half));
    if (Math.abs(newer - older) > c.laneChangeYawRate / 5) return;
    const c1 = a.base, c2 = median(steady);
    const t0 = ts[a.start]!, t1 = ts[b]!;
    if (t1 - t0 > c.laneChangeMaxS) return;
    let integral = 0;
    for (let j = a.start + 1; j <= b; j++) integral += smp[j]!.yawRate * (ts[j]! - ts[j - 1]!);
    // ∫(yaw rate − road) = 0 with the road at c1 before τ and c2 after.
    const tau = Math.abs(c1 - c2) < 1e-4 ? t1 : t0 + (integral - c2 * (t1 - t0)) / (c1 - c2);
    if (tau < t0 - 0.05 || tau > t1 + 0.05) return;
    let psi = 0, shift = 0, maxPsi = 0, minPsi = 0;
    for (let j = a.start + 1; j <= b; j++) {
      const h = ts[j]! - ts[j - 1]!;
      psi += (smp[j]!.yawRate - (ts[j]! < tau ? c1 : c2)) * h;
      shift += smp[j]!.speed * Math.sin(psi) * h;
      maxPsi = Math.max(maxPsi, a.sign * psi);
      minPsi = Math.min(minPsi, a.sign * psi);
    }
    const oneSwing = maxPsi > 0.03 && maxPsi < 0.5 && minPsi > -0.3 * maxPsi && Math.abs(psi) < 0.3 * maxPsi;
    if (oneSwing && Math.abs(shift) >= c.laneChangeMinShift) {
      // The manoeuvre is where the yaw rate leaves the (piecewise) road: a curve that began before
      // it is not part of it.
      const off = (j: number): boolean => Math.abs(smp[j]!.yawRate - (ts[j]! < tau ? c1 : c2)) > c.laneChangeYawRate;
      let first = a.start, last = b;
      while (first < b && !off(first)) first++;
      while (last > first && !off(last)) last--;
      first = Math.max(a.start, first - 1);
      last = Math.min(b, last + 1);
      let peak = 0;
      for (let j = first; j <= last; j++) {
        const lat = smp[j]!.speed * smp[j]!.yawRate;
        if (Math.abs(lat) > Math.abs(peak)) peak = lat;
      }
      out.push(this.#event("lane_change", first, last, peak, Math.min(0.9, 0.45 + Math.abs(shift) / 8)));
      this.#lobes = [];
      this.#pending = null;
    }
  }

  #speedingStep(i: number, out: EventSuggestion[]): void {
    const limit = this.#cfg.speedLimit;
    if (limit === 0) return;
    const s = this.#samples[i]!;
    if (s.speed > limit + this.#cfg.speedingTolerance) this.#speeding.since ??= i;
    else if (this.#speeding.since !== null) this.#closeSpeeding(i, out);
  }

  #closeSpeeding(i: number, out: EventSuggestion[]): void {
    const since = this.#speeding.since!;
    this.#speeding.since = null;
    if (this.#ts[i]! - this.#ts[since]! < this.#cfg.speedingMinS) return;
    let peak = 0;
    for (let k = since; k <= i; k++) peak = Math.max(peak, this.#samples[k]!.speed);
    out.push(this.#event("speeding", since, i, peak, 0.95));
  }

  #event(name: EventSuggestion["category"], start: number, end: number, peak: number, confidence: number): EventSuggestion {
    return { kind: "event", trackId: this.#nextId++, category: name, confidence, source: "telemetry", startNs: this.#samples[start]!.tNs, endNs: this.#samples[end]!.tNs, peakValue: peak };
  }

  /** Drops history older than HISTORY_S unless an open event still refers to it. */
  #trim(): void {
    const n = this.#samples.length;
    if (n < 6000) return;
    const tNow = this.#ts[n - 1]!;
    let keepFrom = 0;
    while (keepFrom < n && tNow - this.#ts[keepFrom]! > HISTORY_S) keepFrom++;
    for (const d of this.#detectors) if (d.state?.active === true) keepFrom = Math.min(keepFrom, d.state.trigger - 300);
    if (this.#stop.since !== null) keepFrom = Math.min(keepFrom, this.#stop.since - 2000);
    if (this.#speeding.since !== null) keepFrom = Math.min(keepFrom, this.#speeding.since);
    if (this.#lobe !== null) keepFrom = Math.min(keepFrom, this.#lobe.start);
    for (const l of this.#lobes) keepFrom = Math.min(keepFrom, l.start);
    if (this.#pending !== null) keepFrom = Math.min(keepFrom, this.#pending.start);
    keepFrom = Math.max(0, keepFrom);
    if (keepFrom < 1000) return;
    this.#samples.splice(0, keepFrom);
    this.#ts.splice(0, keepFrom);
    for (const d of this.#detectors) {
      if (d.state !== null) {
        d.state.trigger -= keepFrom;
        d.state.peakIdx -= keepFrom;
        if (d.state.belowSince >= 0) d.state.belowSince -= keepFrom;
      }
    }
    if (this.#stop.since !== null) this.#stop.since -= keepFrom;
    if (this.#speeding.since !== null) this.#speeding.since -= keepFrom;
    if (this.#lobe !== null) this.#lobe.start -= keepFrom;
    const pending = this.#pending;
    for (const l of pending !== null && !this.#lobes.includes(pending) ? [...this.#lobes, pending] : this.#lobes) {
      l.start -= keepFrom;
      l.end -= keepFrom;
    }
  }
}
