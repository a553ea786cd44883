/** What the proposer hands on: one object's boxes, class, confidence and the features it was judged by. */
import type { Box3D, ObjectClass } from "../types.js";

export interface Proposal {
  /** Box completed to the class prior (unseen sides grown away from the sensor). */
  box: Box3D;
  /** Box of the returns only (what the sensor saw). */
  visible: Box3D;
  category: ObjectClass;
  confidence: number;
  points: number;
  /** Mean firing time of its returns after the sweep start (s): when the object was seen. */
  dtS?: number;
  /**
   * Only the object's top was seen (its sides in a nearer object's shadow): the returns lie
   * somewhere on its roof, so unseen extents are added evenly around them, not away from the sensor.
   */
  topOnly?: boolean;
  /** What the classifier read from the returns (see clusterFeatures). */
  features?: ClusterFeatures;
  /**
   * One face whose end lies in a nearer object's shadow (see `truncatedFace`): its length was not
   * seen, so it cannot be told from a stretch of wall or hedge. It is evidence for a track, not a
   * suggestion by itself: a track is confirmed only once its object was seen whole.
   */
  truncated?: boolean;
  /** The factor of `confidence` that says how much of a vehicle's length was seen (see vetClass); the tracker votes on the class without it. */
  view?: number;
}

/** Per-cluster features (heights above the local ground). */
export interface ClusterFeatures {
  points: number;
  /** Horizontal range of the centroid (m). */
  range: number;
  top: number;
  bottom: number;
  /** Eigenvalue features of the 3D covariance of the returns, λ1 ≥ λ2 ≥ λ3 (Weinmann et al. 2015; Demantké et al. 2011). */
  linearity: number;
  planarity: number;
  scattering: number;
  /** |z| of the principal axis: 1 for a pole or a standing person, 0 for a horizontal line. */
  verticality: number;
  /** Mean distance (m) of the returns (cell centroids) from the nearest edge of the fitted rectangle: ~0 on a vehicle's faces, large in foliage. */
  edgeResidual: number;
  /** Standard deviation (m) of the returns across their main horizontal direction: a body's thickness as seen, ~range noise on a flat board or sign. */
  depth?: number;
  /** Share of the length seen whose highest return is within 0.35 m of the top (lidar.ts `#topShare`): 1 for a level top (a hedge), less for a rider over a bicycle. */
  topShare?: number;
  /**
   * No ground return was seen in front of its nearest part: it stands inside the zone under the
   * sensor's lowest beam (a car in the next lane), so its lowest return says nothing about whether
   * it stands on the ground.
   */
  bottomHidden?: boolean;
  /** Seen behind a building's façade (see visibility.ts `findFacades`): inside or beyond the building, where no road user is. */
  behindFacade?: boolean;
}

export const CLASS_PRIORS: Record<Exclude<ObjectClass, "unknown">, { length: number; width: number; height: number }> = {
  car: { length: 4.5, width: 1.85, height: 1.5 },
  truck: { length: 9.0, width: 2.5, height: 3.4 },
  pedestrian: { length: 0.6, width: 0.6, height: 1.75 },
  cyclist: { length: 1.8, width: 0.6, height: 1.7 },
};
