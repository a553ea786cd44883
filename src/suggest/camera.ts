/**
 * 3D boxes → 2D boxes per camera: extrinsics from /tf_static (tf2_msgs/TFMessage, chained up to
 * base_link), intrinsics from CameraInfo (P, or K with plumb_bob / rational distortion of the
 * normalised coordinates). Each box is moved to the camera's capture time first (ego motion from
 * speed and yaw rate, object motion from its tracked velocity), its 8 corners (and the points where
 * its edges cross the near plane) projected, the hull clipped to the image; tiny and out-of-frame
 * boxes are dropped and the rest marked with the share hidden by nearer boxes.
 */
import { z } from "zod";
import type { Box2D, Box3D } from "./types.js";

export const CameraProjectionConfigSchema = z.strictObject({
  minSidePx: z.number().nonnegative().default(6).describe("Smallest kept box side after clipping to the image (px)."),
  nearPlane: z.number().positive().default(0.3).describe("Nearest depth projected (m)."),
  maxDepth: z.number().positive().default(120).describe("Farthest box centre projected (m)."),
});
export type CameraProjectionConfig = z.infer<typeof CameraProjectionConfigSchema>;

export interface Transform {
  /** Rotation matrix row-major (3×3) and translation: p_parent = R p_child + t. */
  r: number[];
  t: [number, number, number];
}

interface Quat {
  x: number;
  y: number;
  z: number;
  w: number;
}

export function quatToMatrix(q: Quat): number[] {
  const { x, y, z, w } = q;
  return [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w), 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w), 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)];
}

function compose(a: Transform, b: Transform): Transform {
  // a ∘ b: p = Ra (Rb p + tb) + ta.
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j] += a.r[i * 3 + k]! * b.r[k * 3 + j]!;
  const t: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) t[i] = a.r[i * 3]! * b.t[0] + a.r[i * 3 + 1]! * b.t[1] + a.r[i * 3 + 2]! * b.t[2] + a.t[i]!;
  return { r, t };
}

function invert(a: Transform): Transform {
  const r = [a.r[0]!, a.r[3]!, a.r[6]!, a.r[1]!, a.r[4]!, a.r[7]!, a.r[2]!, a.r[5]!, a.r[8]!];
  const t: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) t[i] = -(r[i * 3]! * a.t[0] + r[i * 3 + 1]! * a.t[1] + r[i * 3 + 2]! * a.t[2]);
  return { r, t };
}

/** Static transforms by child frame. */
export class StaticTransforms {
  readonly #edges = new Map<string, { parent: string; transform: Transform }>();

  add(msg: { transforms: { header: { frame_id: string }; child_frame_id: string; transform: { translation: { x: number; y: number; z: number }; rotation: Quat } }[] }): void {
    for (const tf of msg.transforms) {
      const { translation: p, rotation } = tf.transform;
      this.#edges.set(strip(tf.child_frame_id), { parent: strip(tf.header.frame_id), transform: { r: quatToMatrix(rotation), t: [p.x, p.y, p.z] } });
    }
  }

  /** child → root (p_root = T p_child), or undefined if the chain does not reach root. */
  lookup(root: string, child: string): Transform | undefined {
    let frame = strip(child);
    let acc: Transform = { r: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] };
    for (let depth = 0; depth < 32; depth++) {
      if (frame === strip(root)) return acc;
      const edge = this.#edges.get(frame);
      if (edge === undefined) return undefined;
      acc = compose(edge.transform, acc);
      frame = edge.parent;
    }
    return undefined;
  }

  /** The optical child of a camera body frame, if /tf_static has one. */
  opticalChild(frame: string): string | undefined {
    for (const [child, edge] of this.#edges) if (edge.parent === strip(frame) && child.includes("optical")) return child;
    return undefined;
  }
}

function strip(frame: string): string {
  return frame.startsWith("/") ? frame.slice(1) : frame;
}

export interface CameraIntrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  /** plumb_bob / rational_polynomial coefficients (k1, k2, p1, p2, k3, …); empty when rectified. */
  d: number[];
}

/** From sensor_msgs/CameraInfo: P when set (rectified image), otherwise K with D. */
export function intrinsicsFromCameraInfo(info: { width: number; height: number; k: ArrayLike<number>; p: ArrayLike<number>; d: ArrayLike<number>; distortion_model: string }): CameraIntrinsics | null {
  const p = Array.from(info.p), k = Array.from(info.k);
  const d = info.distortion_model === "plumb_bob" || info.distortion_model === "rational_polynomial" ? Array.from(info.d) : [];
  if (k.length === 9 && k[0]! > 0 && k[4]! > 0) return { width: info.width, height: info.height, fx: k[0]!, fy: k[4]!, cx: k[2]!, cy: k[5]!, d: d.some((x) => x !== 0) ? d : [] };
  if (p.length === 12 && p[0]! > 0 && p[5]! > 0) return { width: info.width, height: info.height, fx: p[0]!, fy: p[5]!, cx: p[2]!, cy: p[6]!, d: [] };
  return null;
}

export interface CameraView {
  name: string;
  /** Optical frame id (z forward, x right, y down). */
  frameId: string;
  intrinsics: CameraIntrinsics;
  /** base_link → optical (p_optical = T p_base). */
  baseToOptical: Transform;
}

export interface ProjectedObject {
  /** Index of the input box. */
  index: number;
  box: Box2D;
}

export interface MovingBox {
  box: Box3D;
  /** Velocity over ground in base_link axes at the lidar time (m/s). */
  vx: number;
  vy: number;
}

export function cameraView(name: string, frameId: string, intrinsics: CameraIntrinsics, tf: StaticTransforms): CameraView | null {
  const optical = frameId.includes("optical") ? frameId : tf.opticalChild(frameId);
  if (optical !== undefined) {
    const t = tf.lookup("base_link", optical);
    if (t !== undefined) return { name, frameId: optical, intrinsics, baseToOptical: invert(t) };
  }
  const body = tf.lookup("base_link", frameId);
  if (body === undefined) return null;
  // No optical frame published: the REP 103 body frame (x forward, z up) rotated to optical.
  const bodyToOptical: Transform = { r: [0, -1, 0, 0, 0, -1, 1, 0, 0], t: [0, 0, 0] };
  return { name, frameId: `${frameId}_optical`, intrinsics, baseToOptical: compose(bodyToOptical, invert(body)) };
}

/**
 * Projects boxes given in base_link at the lidar time into `camera` at dtS = camera time − lidar
 * time, with the ego moving at `speed` (m/s) and `yawRate` (rad/s) meanwhile.
 */
export function projectBoxes(boxes: readonly MovingBox[], camera: CameraView, dtS: number, ego: { speed: number; yawRate: number }, config: CameraProjectionConfig = CameraProjectionConfigSchema.parse({})): ProjectedObject[] {
  const { intrinsics: k, baseToOptical: T } = camera;
  const out: ProjectedObject[] = [];
  // Ego pose at camera time in the lidar-time base_link: heading dpsi, position (ex, ey).
  const dpsi = ego.yawRate * dtS;
  const ex = ego.speed * dtS * Math.cos(dpsi / 2), ey = ego.speed * dtS * Math.sin(dpsi / 2);
  const c = Math.cos(-dpsi), s = Math.sin(-dpsi);
  const corners: number[][] = [];
  boxes.forEach((mb, index) => {
    const b = mb.box;
    const bx = b.x + mb.vx * dtS - ex, by = b.y + mb.vy * dtS - ey;
    const cx = c * bx - s * by, cy = s * bx + c * by;
    const yaw = b.yaw - dpsi;
    const cyaw = Math.cos(yaw), syaw = Math.sin(yaw);
    corners.length = 0;
    for (const dx of [-0.5, 0.5]) for (const dy of [-0.5, 0.5]) for (const dz of [-0.5, 0.5]) {
      const lx = dx * b.length, ly = dy * b.width;
      const p = [cx + cyaw * lx - syaw * ly, cy + syaw * lx + cyaw * ly, b.z + dz * b.height];
      corners.push([T.r[0]! * p[0]! + T.r[1]! * p[1]! + T.r[2]! * p[2]! + T.t[0], T.r[3]! * p[0]! + T.r[4]! * p[1]! + T.r[5]! * p[2]! + T.t[1], T.r[6]! * p[0]! + T.r[7]! * p[1]! + T.r[8]! * p[2]! + T.t[2]]);
    }
    const centreZ = corners.reduce((a, p) => a + p[2]!, 0) / 8;
    const centre = corners.reduce((a, p) => [a[0]! + p[0]! / 8, a[1]! + p[1]! / 8, a[2]! + p[2]! / 8], [0, 0, 0]);
    if (centreZ > config.maxDepth) return;
    const near = config.nearPlane;
    const pts: number[][] = corners.filter((p) => p[2]! >= near);
    if (pts.length === 0) return;
    if (pts.length < 8) {
      // Edges of the box (corners differing in one bit) crossing the near plane.
      for (let i = 0; i < 8; i++) for (const bit of [1, 2, 4]) {
        const j = i ^ bit;
        if (j < i) continue;
        const a = corners[i]!, bb = corners[j]!;
        if ((a[2]! - near) * (bb[2]! - near) < 0) {
          const u = (near - a[2]!) / (bb[2]! - a[2]!);
          pts.push([a[0]! + u * (bb[0]! - a[0]!), a[1]! + u * (bb[1]! - a[1]!), near]);
        }
      }
    }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const p of pts) {
      const [u, v] = projectPoint(k, p[0]! / p[2]!, p[1]! / p[2]!);
      x0 = Math.min(x0, u);
      x1 = Math.max(x1, u);
      y0 = Math.min(y0, v);
      y1 = Math.max(y1, v);
    }
    const cx0 = Math.max(0, x0), cy0 = Math.max(0, y0), cx1 = Math.min(k.width, x1), cy1 = Math.min(k.height, y1);
    if (cx1 - cx0 < config.minSidePx || cy1 - cy0 < config.minSidePx) return;
    out.push({
      index,
      box: { camera: camera.name, frameId: camera.frameId, xMin: cx0, yMin: cy0, xMax: cx1, yMax: cy1, depth: Math.hypot(centre[0]!, centre[1]!, centre[2]!), occlusion: 0, truncated: cx0 > x0 || cy0 > y0 || cx1 < x1 || cy1 < y1 },
    });
  });
  markOcclusion(out.map((o) => o.box));
  return out;
}

function projectPoint(k: CameraIntrinsics, x: number, y: number): [number, number] {
  if (k.d.length >= 4) {
    const [k1 = 0, k2 = 0, p1 = 0, p2 = 0, k3 = 0] = k.d;
    const r2 = x * x + y * y;
    const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
    const xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
    const yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
    x = xd;
    y = yd;
  }
  return [k.fx * x + k.cx, k.fy * y + k.cy];
}

/** occlusion = share of each box covered by nearer boxes (sampled on a 10×10 grid). */
export function markOcclusion(boxes: Box2D[]): void {
  const order = [...boxes].sort((a, b) => a.depth - b.depth);
  for (let i = 0; i < order.length; i++) {
    const b = order[i]!;
    let covered = 0;
    for (let sx = 0; sx < 10; sx++) for (let sy = 0; sy < 10; sy++) {
      const x = b.xMin + ((sx + 0.5) / 10) * (b.xMax - b.xMin), y = b.yMin + ((sy + 0.5) / 10) * (b.yMax - b.yMin);
      for (let j = 0; j < i; j++) {
        const o = order[j]!;
        if (x >= o.xMin && x <= o.xMax && y >= o.yMin && y <= o.yMax) {
          covered++;
          break;
        }
      }
    }
    b.occlusion = covered / 100;
  }
}

export function iou2d(a: { xMin: number; yMin: number; xMax: number; yMax: number }, b: { xMin: number; yMin: number; xMax: number; yMax: number }): number {
  const w = Math.min(a.xMax, b.xMax) - Math.max(a.xMin, b.xMin), h = Math.min(a.yMax, b.yMax) - Math.max(a.yMin, b.yMin);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.xMax - a.xMin) * (a.yMax - a.yMin) + (b.xMax - b.xMin) * (b.yMax - b.yMin) - inter);
}
