/**
 * Bearings of sensor axes in base_link from /tf_static, for the aligner's camera azimuths. The
 * transform tree itself is the suggest layer's StaticTransforms (one implementation for both).
 */
import { StaticTransforms } from "../suggest/camera.js";

export { StaticTransforms };

/** Azimuth (rad, +left, about base_link z) of a frame's viewing axis: z for optical frames, x otherwise. */
export function frameAzimuth(tf: StaticTransforms, frame: string, root = "base_link"): number | null {
  const transform = tf.lookup(root, frame);
  if (transform === undefined) return null;
  const r = transform.r;
  const optical = /_optical(_frame)?$/.test(frame);
  // Row-major R maps child axes into root: the axis is R's column 2 (z) or column 0 (x).
  const [x, y] = optical ? [r[2]!, r[5]!] : [r[0]!, r[3]!];
  return Math.atan2(y, x);
}
