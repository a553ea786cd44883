/** Small synthetic inputs for the suggester unit tests (no simulator needed). */
import { CAR_BELTLINE, CAR_CABIN_AFT, CAR_CABIN_SHARE, CAR_TUMBLEHOME } from "../../src/sim/world.js";
import type { PointCloudView } from "../../src/suggest/lidar.js";

export interface SynthBox {
  x: number;
  y: number;
  yaw: number;
  length: number;
  width: number;
  height: number;
  /** Lowest face return (m above ground): higher when the lower part is hidden behind something nearer. */
  visibleFrom?: number;
  /** "car": a body to the beltline and a shorter, inset cabin (as the simulator's cars); default for car-sized boxes, else "box". */
  shape?: "box" | "car";
}

/**
 * A cloud in base_link (mount at the origin): a ground that slopes up 5 % ahead (seen from
 * `groundFrom` m out), a 15 cm curb
 * at |y| > 6 m, the ego's own returns, and the faces of `boxes` (sides and top, 0.1 m spacing).
 */
export function syntheticCloud(boxes: SynthBox[], options: { slope?: number; curb?: number; seed?: number; groundFrom?: number; ground?: (x: number, y: number) => number; hidden?: (x: number, y: number) => boolean } = {}): PointCloudView {
  const slope = options.slope ?? 0.05, curb = options.curb ?? 0.15;
  // Deterministic noise (mulberry32), so a failure reproduces.
  let seed = options.seed ?? 1;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // `ground` replaces the default surface; `hidden` drops ground returns (an occluder's shadow).
  const ground = options.ground ?? ((x: number, y: number): number => Math.max(0, x) * slope + (Math.abs(y) > 6 ? curb : 0));
  const pts: number[] = [];
  // groundFrom: the range where the lowest beam first meets the ground (3 m unless set).
  for (let r = options.groundFrom ?? 3; r < 60; r += 0.25 + r * 0.01) {
    for (let a = -Math.PI; a < Math.PI; a += 0.004) {
      const x = r * Math.cos(a), y = r * Math.sin(a);
      const noise = (random() - 0.5) * 0.02;
      if (options.hidden?.(x, y) !== true) pts.push(x, y, ground(x, y) + noise);
    }
  }
  // The ego's own body (inside the default ego box).
  for (let x = -1; x < 3.8; x += 0.1) for (let z = 0.7; z < 1.5; z += 0.1) pts.push(x, 0.95, z);
  for (const b of boxes) {
    const c = Math.cos(b.yaw), s = Math.sin(b.yaw);
    const put = (u: number, v: number, h: number): void => {
      const x = b.x + c * u - s * v, y = b.y + s * u + c * v;
      pts.push(x, y, ground(b.x, b.y) + h);
    };
    // A part: sides from h0 to h1 over a footprint (centre u0, half length hl, half width hw), and its top.
    const part = (u0: number, hl: number, hw: number, h0: number, h1: number, top: (u: number, v: number) => boolean): void => {
      for (let h = h0; h <= h1; h += 0.1) {
        for (let u = u0 - hl; u <= u0 + hl; u += 0.1) {
          put(u, -hw, h);
          put(u, hw, h);
        }
        for (let v = -hw; v <= hw; v += 0.1) {
          put(u0 - hl, v, h);
          put(u0 + hl, v, h);
        }
      }
      for (let u = u0 - hl; u <= u0 + hl; u += 0.1) for (let v = -hw; v <= hw; v += 0.1) if (top(u, v)) put(u, v, h1);
    };
    const carShaped = (b.shape ?? (b.length >= 3.5 && b.length <= 5.8 && b.width >= 1.4 && b.width <= 2.3 && b.height >= 1.1 && b.height <= 2.05 ? "car" : "box")) === "car";
    if (!carShaped) {
      part(0, b.length / 2, b.width / 2, b.visibleFrom ?? 0.2, b.height, () => true);
      continue;
    }
    // As the simulator shapes cars (sim/world.ts actorParts): a body to the beltline, a shorter
    // cabin a little aft, set in from the sides.
    const belt = CAR_BELTLINE * b.height, cu = -CAR_CABIN_AFT * b.length, chl = (CAR_CABIN_SHARE * b.length) / 2, chw = b.width / 2 - CAR_TUMBLEHOME;
    part(0, b.length / 2, b.width / 2, b.visibleFrom ?? 0.2, belt, (u, v) => Math.abs(u - cu) > chl || Math.abs(v) > chw);
    part(cu, chl, chw, Math.max(belt, b.visibleFrom ?? 0.2), b.height, () => true);
  }
  const n = pts.length / 3;
  const data = new Uint8Array(n * 16);
  const view = new DataView(data.buffer);
  for (let i = 0; i < n; i++) {
    view.setFloat32(i * 16, pts[i * 3]!, true);
    view.setFloat32(i * 16 + 4, pts[i * 3 + 1]!, true);
    view.setFloat32(i * 16 + 8, pts[i * 3 + 2]!, true);
  }
  return { data, pointStep: 16, count: n, offsetX: 0, offsetY: 4, offsetZ: 8, littleEndian: true };
}

/** Angle difference modulo π (box headings are ambiguous by a half turn). */
export function axisError(a: number, b: number): number {
  const d = (((a - b) % Math.PI) + Math.PI) % Math.PI;
  return Math.min(d, Math.PI - d);
}
