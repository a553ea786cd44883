/**
 * Class and confidence of a cluster: its size against the class priors (`classify`,
 * `classifyOriented`), then the physical tests of `vetClass` over per-cluster features — ground
 * contact, heights, and the eigenvalue features of the returns' 3D covariance (linearity,
 * planarity, scattering; Weinmann et al. 2015, Demantké et al. 2011).
 */
import type { ObjectClass } from "../types.js";
import { CLASS_PRIORS, type Proposal } from "./proposal.js";
import { VGAP_SLOPE } from "./sensor.js";

/** Eigenvalues (descending) and the principal eigenvector of a symmetric 3×3 matrix (Smith 1961, trigonometric). */
export function eigen3(a: number, b: number, c: number, d: number, e: number, f: number): { l1: number; l2: number; l3: number; vz: number } {
  // Matrix [[a, d, e], [d, b, f], [e, f, c]].
  const p1 = d * d + e * e + f * f;
  const q = (a + b + c) / 3;
  const p2 = (a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2 * p1;
  const p = Math.sqrt(p2 / 6);
  if (p < 1e-12) return { l1: q, l2: q, l3: q, vz: 0 };
  const b11 = (a - q) / p, b22 = (b - q) / p, b33 = (c - q) / p, b12 = d / p, b13 = e / p, b23 = f / p;
  const r = (b11 * (b22 * b33 - b23 * b23) - b12 * (b12 * b33 - b23 * b13) + b13 * (b12 * b23 - b22 * b13)) / 2;
  const phi = r <= -1 ? Math.PI / 3 : r >= 1 ? 0 : Math.acos(r) / 3;
  const l1 = q + 2 * p * Math.cos(phi), l3 = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3), l2 = 3 * q - l1 - l3;
  // Principal eigenvector: a cross product of two rows of (M − l1 I).
  const r1 = [a - l1, d, e], r2 = [d, b - l1, f];
  let vx = r1[1]! * r2[2]! - r1[2]! * r2[1]!, vy = r1[2]! * r2[0]! - r1[0]! * r2[2]!, vz = r1[0]! * r2[1]! - r1[1]! * r2[0]!;
  let norm = Math.hypot(vx, vy, vz);
  if (norm < 1e-12) {
    const r3 = [e, f, c - l1];
    vx = r1[1]! * r3[2]! - r1[2]! * r3[1]!;
    vy = r1[2]! * r3[0]! - r1[0]! * r3[2]!;
    vz = r1[0]! * r3[1]! - r1[1]! * r3[0]!;
    norm = Math.hypot(vx, vy, vz);
  }
  return { l1, l2, l3, vz: norm > 1e-12 ? Math.abs(vz) / norm : 0 };
}

/** Lowest return (m above the local ground) of a road user seen whole: wheels and feet reach the ground band. */
const GROUND_CONTACT = 0.5;
/** Fewest returns a road-user suggestion needs (the labelling convention's visibility floor: fewer cannot be checked by an annotator either). */
const MIN_EVIDENCE = 5;
/**
 * A person's highest return (m above the local ground) is at least a six-year-old's height. Heads
 * lie near the sensor's horizon, where spinning lidars space their beams most densely (0.1–0.4°),
 * so the highest return is within centimetres of the real top out to 50 m. On the real sweeps the
 * shorter "people" were bollards, posts, bushes and car corners (false pedestrians 40 → 35, none
 * found lost; `eval-lidar --detail`). For the same reason it is at most PERSON_MAX_TOP, the tallest
 * people with a hat: taller upright blobs were posts, trunks and sign poles (real sweeps: false
 * pedestrians 21 → 17, none found lost; the simulator's street 0.69 / 0.53 → 0.71 / 0.77 precision,
 * the bare street unchanged, now that riders and cars are shaped as they are). A rider's floor
 * (1.4 m) waits: the real sweeps hold one cyclist.
 */
const PERSON_MIN_TOP = 1.2;
const PERSON_MAX_TOP = 2.1;
/**
 * A person has a body: seen from any side the returns spread across their main horizontal
 * direction by the body's curvature, arms and legs (σ 0.06–0.12 m on the real sweeps' people; a
 * bare 0.4 m cylinder's visible arc alone gives 0.045), a flat sign, board or wall piece by the
 * range noise alone (σ ≈ 0.02 m for the HDL-64, VLP-32C and Pandar64). On the real sweeps the
 * flat "people" were posts with signs and fence or wall pieces (false pedestrians 33 → 28, none
 * found lost; `eval-lidar --detail`).
 */
const PERSON_MIN_DEPTH = 0.03;
/**
 * A car is not a flat sheet: seen from its side, its cabin stands in from its body (tumblehome,
 * ~0.1 m each side) and the roof, bonnet or a corner usually shows too, so its returns spread
 * across their main horizontal direction by more than range noise (σ ≈ 0.02 m on the HDL-64,
 * VLP-32C and Pandar64); a wall's, fence's or board's face does not. On the real sweeps every
 * matched car spreads 0.23 m or more; on the simulator's street, with its cars shaped so
 * (sim/world.ts actorParts), the wall and fence pieces read as cars spread 0.01–0.05 m.
 * A face no longer than a car is wide (CAR_END_FACE) may be its rear or front seen square-on at
 * range, where only the bumper and boot lid are hit: flat, and still a car.
 */
const CAR_MIN_DEPTH = 0.06;
const CAR_END_FACE = 2.1;
/**
 * Seen along more than its width, a car's highest returns (within 0.35 m of its top, `topShare`)
 * cover at most this share of the length seen: its cabin is shorter than its body (saloons ~0.45,
 * hatchbacks and SUVs 0.6–0.75, vans and pickups up to ~0.85); a hedge's, wall's or fence's top is
 * level along all of it. On the real sweeps no matched car is above it; on the simulator's street
 * the hedge pieces named cars were.
 */
const CAR_TOP_SHARE_MAX = 0.9;
/**
 * A cyclist seen along more than a rider's width (CYCLIST_END_VIEW) shows the rider above the
 * bicycle: head and shoulders over a part of the length seen, at most CYCLIST_TOP_SHARE_MAX of it
 * (0.3 from the side, more obliquely; the real sweeps' one cyclist, at 47 m, 0.75). A hedge, a
 * bush or a car's front cut to a bicycle's length has a level top (real sweeps: 10 of 29 false
 * cyclists at 0.83–1.0).
 */
const CYCLIST_END_VIEW = 1.0;
const CYCLIST_TOP_SHARE_MAX = 0.8;
/** A truck is told from a wall or hedge by showing more than a car can: longer than any car, or a rear face of a truck's width and height. */
export const TRUCK_MIN_LENGTH = 5.2;
/**
 * A truck seen compactly (both visible sides under TRUCK_MIN_LENGTH: a cab's corner) still shows
 * two faces whose diagonal is longer than they are tall, so its returns' principal axis lies
 * nearer the horizontal than the vertical (|z| of the axis under cos 45°). A compact, tall blob
 * whose axis stands upright is a tree, a bush or a kiosk.
 */
const COMPACT_TRUCK_MAX_VERTICALITY = Math.SQRT1_2;
/**
 * The smallest vehicle of each class (m, length and width): the shortest cars (city two-seaters
 * 2.5–2.7 m long, kei cars 1.48 m wide) and the shortest trucks and buses, less one step of the
 * completion's search. A vehicle box that the sensor's free space keeps smaller (fit.ts: the
 * completion stops where the sensor saw through) is no such vehicle: a piece of hedge, a post, a
 * kiosk the size of a cab.
 */
const VEHICLE_MIN: Record<"car" | "truck", { length: number; width: number }> = { car: { length: 2.3, width: 1.25 }, truck: { length: 4.0, width: 1.8 } };
/** Confidence of a vehicle seen along none of its length, rising to 1 when seen along its class's length. */
const VIEW_FLOOR = 0.35;

/**
 * The shape tests that keep walls, hedges, trees, poles, cones and barriers out of the road-user
 * classes. Each is a physical property of the class, not a fitted value:
 * - a road user stands on the ground: its lowest return lies within GROUND_CONTACT of it (unless
 *   only its top was seen over a nearer object, or it stands where the sensor's lowest beam never
 *   reached the ground in front of it), so foliage, awnings and signs are refused;
 * - a road user is not inside a building: nothing seen through a façade's glass or under its
 *   upper floors (visibility.ts `findFacades`) is named;
 * - MIN_EVIDENCE returns at least;
 * - a vehicle's box, completed only where the sensor did not see past it, reaches the smallest
 *   of its class (VEHICLE_MIN);
 * - a car is no taller than carMaxTop (config), not a flat sheet longer than a car is wide
 *   (CAR_MIN_DEPTH, CAR_END_FACE), and seen along its length not level-topped (CAR_TOP_SHARE_MAX);
 * - a truck shows more than a car could: a visible length over TRUCK_MIN_LENGTH with two faces
 *   (an L: width ≥ 1.8 m), or one flat face of a truck's width (2.1–2.9 m) seen square-on;
 *   foliage (scattering — the smallest covariance eigenvalue over the largest — above 0.2) is not a truck,
 *   nor a compact tall blob whose returns' principal axis stands upright (COMPACT_TRUCK_MAX_VERTICALITY);
 * - a pedestrian stands upright (the returns' principal axis within ~45° of vertical), is
 *   thicker than a pole (visible length ≥ 0.3 m), has a body's depth, not a board's
 *   (PERSON_MIN_DEPTH), and is at least a child's height (PERSON_MIN_TOP) and at most the tallest
 *   person's (PERSON_MAX_TOP);
 * - a cyclist is an upright or along-track pattern 0.9–2.1 m high, and a rider has a body's
 *   depth as a pedestrian does (PERSON_MIN_DEPTH: a board, a sign or a wall piece of a bicycle's
 *   length is flat).
 * What fails becomes `unknown` with its visible box (never grown to a prior it failed), and the
 * confidence of what passes is scaled by how well the evidence fits (see the README).
 */
export function vetClass(p: Proposal, carMaxTop = 2.05): void {
  const f = p.features;
  if (f === undefined || p.category === "unknown") return;
  const long = Math.max(p.visible.length, p.visible.width), short = Math.min(p.visible.length, p.visible.width);
  let ok = f.points >= MIN_EVIDENCE && f.behindFacade !== true && (p.topOnly === true || f.bottomHidden === true || f.bottom <= Math.max(GROUND_CONTACT, 0.25 + VGAP_SLOPE * f.range));
  // Seen along more than `endView`, a level top over more than `share` of the length (a hedge, a wall).
  const levelTop = (endView: number, share: number): boolean => long > endView && f.topShare !== undefined && f.topShare > share;
  // A body's depth across its main direction (a person's, a rider's), not a board's.
  const bodied = f.depth === undefined || f.depth >= PERSON_MIN_DEPTH;
  if (p.category === "car" || p.category === "truck") ok &&= Math.max(p.box.length, p.box.width) >= VEHICLE_MIN[p.category].length && Math.min(p.box.length, p.box.width) >= VEHICLE_MIN[p.category].width;
  if (p.category === "car") ok &&= f.top <= carMaxTop && (f.depth === undefined || f.depth >= CAR_MIN_DEPTH || long <= CAR_END_FACE) && !levelTop(CAR_END_FACE, CAR_TOP_SHARE_MAX);
  if (p.category === "truck") {
    const lShape = long <= 13 && ((long >= TRUCK_MIN_LENGTH && (short >= 1.8 || f.top >= 2.8)) || (short >= 1.8 && f.top >= 2.8 && f.verticality < COMPACT_TRUCK_MAX_VERTICALITY));
    const rearFace = short < 0.8 && long >= 2.1 && long <= 2.9 && f.planarity + f.linearity > 0.9;
    ok &&= (lShape || rearFace) && f.scattering < 0.2;
  }
  if (p.category === "pedestrian") ok &&= f.verticality >= 0.7 && long >= 0.3 && f.top >= PERSON_MIN_TOP && f.top <= PERSON_MAX_TOP && bodied;
  if (p.category === "cyclist") ok &&= f.top >= 0.9 && f.top <= 2.1 && bodied && !levelTop(CYCLIST_END_VIEW, CYCLIST_TOP_SHARE_MAX);
  if (!ok) {
    p.category = "unknown";
    p.box = { ...p.visible };
    p.confidence = 0.5;
    return;
  }
  // Evidence: returns (saturating at 4× the floor), and for a vehicle how much of its length was
  // seen: a short piece of a face is as often a hedge's, a wall's or a kerbside shrub's as a car's.
  const evidence = Math.min(1, 0.6 + (0.4 * (f.points - MIN_EVIDENCE)) / (3 * MIN_EVIDENCE));
  const prior = p.category === "car" || p.category === "truck" ? CLASS_PRIORS[p.category].length : 0;
  const seen = prior > 0 ? Math.min(1, VIEW_FLOOR + ((1 - VIEW_FLOOR) * long) / prior) : 1;
  const base = Math.max(0.01, Math.min(0.99, p.confidence * evidence));
  p.confidence = Math.max(0.01, Math.min(0.99, p.confidence * evidence * seen));
  if (prior > 0) p.view = p.confidence / base;
}

/**
 * Class from extents along and across a known heading (a moving track): a face seen
 * square-on across the direction of travel is a rear or front, so its extent is the width.
 */
export function classifyOriented(along: number, across: number, height: number): { category: ObjectClass; confidence: number } {
  const score = (v: number, lo: number, hi: number, soft: number): number => (v >= lo && v <= hi ? 1 : Math.max(0, 1 - Math.min(Math.abs(v - lo), Math.abs(v - hi)) / soft));
  const fits: [ObjectClass, number][] = [
    ["pedestrian", score(height, 1.2, 2.1, 0.3) * score(along, 0.1, 1.0, 0.3) * score(across, 0.1, 1.0, 0.3)],
    ["cyclist", score(height, 1.2, 2.1, 0.3) * score(along, 0.1, 2.2, 0.3) * score(across, 0.1, 1.0, 0.3) * (along > 1.0 ? 1 : 0.6)],
    ["car", score(height, 1.0, 2.3, 0.3) * score(along, 0.1, 5.8, 0.6) * score(across, 1.35, 2.3, 0.3)],
    ["truck", score(height, 2.5, 4.1, 0.2) * score(along, 0.1, 13, 1.5) * score(across, 1.9, 3.0, 0.4)],
  ];
  fits.sort((a, b) => b[1] - a[1]);
  const [best, second] = fits;
  if (best![1] < 0.3) return { category: "unknown", confidence: 1 - best![1] };
  return { category: best![0], confidence: Math.min(0.99, 0.5 + 0.5 * best![1] * (0.5 + best![1] - second![1])) };
}

/** Class from visible length, width and height (m), with a confidence in 0..1. */
export function classify(length: number, width: number, height: number): { category: ObjectClass; confidence: number } {
  const fits: [ObjectClass, number][] = [];
  const score = (v: number, lo: number, hi: number, soft: number): number => (v >= lo && v <= hi ? 1 : Math.max(0, 1 - Math.min(Math.abs(v - lo), Math.abs(v - hi)) / soft));
  // Visible extents can be short (one side seen), so length and width have wide lower bounds.
  fits.push(["pedestrian", score(height, 1.2, 2.1, 0.3) * score(length, 0.1, 1.0, 0.3) * score(width, 0.1, 1.0, 0.3)]);
  fits.push(["cyclist", score(height, 1.2, 2.1, 0.3) * score(length, 1.05, 2.2, 0.3) * score(width, 0.1, 1.0, 0.3)]);
  fits.push(["car", score(height, 1.0, 2.3, 0.3) * score(length, 1.3, 5.8, 0.6) * score(width, 0.1, 2.3, 0.3)]);
  fits.push(["truck", score(height, 2.5, 4.1, 0.2) * score(length, 2.0, 13, 1.5) * score(width, 0.1, 3.0, 0.4)]);
  // One face seen square-on (a thin line 1.3–2.3 m long) is a car's rear or a cyclist's side:
  // height decides (cars are lower than a rider on a bicycle).
  if (width < 0.5 && length >= 1.3 && length <= 2.3 && height >= 1.0 && height <= 2.1) {
    const car = fits.find((f) => f[0] === "car")!, cyclist = fits.find((f) => f[0] === "cyclist")!;
    if (height < 1.62) cyclist[1] *= 0.3;
    else car[1] *= 0.3;
  }
  fits.sort((a, b) => b[1] - a[1]);
  const [best, second] = fits;
  if (best![1] < 0.3) return { category: "unknown", confidence: 1 - best![1] };
  const margin = best![1] - second![1];
  return { category: best![0], confidence: Math.min(0.99, 0.5 + 0.5 * best![1] * (0.5 + margin)) };
}
