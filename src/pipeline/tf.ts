/**
 * Static extrinsics from /tf_static: enough of a transform tree to express a sensor's axis in
 * base_link (for the aligner's camera azimuths). Rotations only; translations do not change a
 * far object's bearing enough to matter at the sweep's angular speed.
 */
interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

interface TransformStamped {
  header: { frame_id: string };
  child_frame_id: string;
  transform: { rotation: Quaternion };
}

export class StaticTransforms {
  readonly #parents = new Map<string, { parent: string; rotation: Quaternion }>();

  /** Adds the transforms of a decoded tf2_msgs/TFMessage. */
  add(message: { transforms: TransformStamped[] }): void {
    for (const t of message.transforms) this.#parents.set(strip(t.child_frame_id), { parent: strip(t.header.frame_id), rotation: t.transform.rotation });
  }

  get size(): number {
    return this.#parents.size;
  }

  /** A vector given in `frame`, expressed in `target` (null when the chain does not reach it). */
  rotate(vector: [number, number, number], frame: string, target = "base_link"): [number, number, number] | null {
    let v = vector;
    let current = strip(frame);
    for (let hops = 0; current !== target; hops++) {
      const link = this.#parents.get(current);
      if (link === undefined || hops > 32) return null;
      v = rotate(link.rotation, v);
      current = link.parent;
    }
    return v;
  }

  /** Azimuth (rad, +left, about base_link z) of a frame's axis: x for bodies, z for optical frames. */
  azimuth(frame: string, target = "base_link"): number | null {
    const axis: [number, number, number] = frame.endsWith("_optical_frame") || frame.endsWith("_optical") ? [0, 0, 1] : [1, 0, 0];
    const v = this.rotate(axis, frame, target);
    return v === null ? null : Math.atan2(v[1], v[0]);
  }
}

function strip(frame: string): string {
  return frame.startsWith("/") ? frame.slice(1) : frame;
}

function rotate(q: Quaternion, v: [number, number, number]): [number, number, number] {
  // v' = q v q*, expanded.
  const { x, y, z, w } = q;
  const [vx, vy, vz] = v;
  const tx = 2 * (y * vz - z * vy);
  const ty = 2 * (z * vx - x * vz);
  const tz = 2 * (x * vy - y * vx);
  return [vx + w * tx + (y * tz - z * ty), vy + w * ty + (z * tx - x * tz), vz + w * tz + (x * ty - y * tx)];
}
