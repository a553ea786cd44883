/**
 * The confidence a lidar suggestion is published with (LabelSuggestion.confidence, the SceneUpdate
 * metadata, the exports), calibrated on real sweeps so that an annotation tool's threshold means
 * what it says: of the suggestions published at about 0.3, about 3 in 10 are right.
 *
 * The proposer's and tracker's own confidence is a fit score (how well the returns match the
 * class's shape and size, and how much of the object was seen). It ranks a class's boxes well
 * (car AP 0.42 at recall 0.53 on the shared real sweeps) but is not a probability: on those sweeps
 * pedestrians at a mean 0.90 were right 26 % of the time, cyclists at 0.71 5 % of the time.
 * Each class's raw confidence is scaled by one factor: its share of right boxes on the real
 * sweeps (Laplace-smoothed, (right + 1) / (boxes + 2), as Zadrozny & Elkan 2001 smooth sparse
 * calibration bins) over its mean raw confidence there — a per-class form of temperature
 * scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"), one parameter per class
 * because 12–100 boxes per class carry no more. The ranking within a class is unchanged (AP too).
 * `syncbag eval-lidar <folder>` prints the factors a labelled folder gives (these are
 * ../shared/real-labelled-lidar's) and the expected calibration error of the four classes pooled:
 * raw 0.336, published 0.070 (in-sample), 0.159 leave-one-dataset-out (each rig scored with
 * factors fitted on the other rigs: what to expect on a rig not seen; 2026-12-07).
 * The simulator's suggestions are right far more often (pedestrians 96 %); they are published
 * with the same factors, which are about real streets.
 */
import type { ObjectClass } from "./types.js";

/** Per class: published = raw × factor (`fitConfidenceScale` on ../shared/real-labelled-lidar, 2026-12-07). */
export const CONFIDENCE_SCALE: Readonly<Record<ObjectClass, number>> = { car: 0.79, truck: 0.41, pedestrian: 0.31, cyclist: 0.13, unknown: 1 };

/** Published confidences stay inside (0, 1): no suggestion is certain, none worthless. */
const FLOOR = 0.01, CEILING = 0.99;

export function calibrated(category: string, raw: number, scale: Readonly<Record<string, number>> = CONFIDENCE_SCALE): number {
  const k = Object.hasOwn(scale, category) ? scale[category]! : 1;
  return Math.min(CEILING, Math.max(FLOOR, raw * k));
}

/** The factor for one class from (raw confidence, right) pairs: Laplace-smoothed share right over mean raw confidence; 1 with no boxes. */
export function fitConfidenceScale(pairs: readonly (readonly [number, boolean])[]): number {
  if (pairs.length === 0) return 1;
  let right = 0, sum = 0;
  for (const [c, ok] of pairs) {
    sum += c;
    if (ok) right++;
  }
  return (right + 1) / (pairs.length + 2) / (sum / pairs.length);
}
