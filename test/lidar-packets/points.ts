/** Reading decoded clouds back point by point (the 32-byte layout of src/lidar-packets/cloud.ts). */
import type { DecodedCloud } from "../../src/lidar-packets/cloud.js";

export interface Point {
  x: number;
  y: number;
  z: number;
  intensity: number;
  returnType: number;
  channel: number;
  azimuth: number;
  elevation: number;
  distance: number;
  timeNs: number;
}

export function points(cloud: DecodedCloud): Point[] {
  const v = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
  const out: Point[] = [];
  for (let i = 0; i < cloud.points; i++) {
    const o = i * 32;
    out.push({
      x: v.getFloat32(o, true), y: v.getFloat32(o + 4, true), z: v.getFloat32(o + 8, true),
      intensity: v.getUint8(o + 12), returnType: v.getUint8(o + 13), channel: v.getUint16(o + 14, true),
      azimuth: v.getFloat32(o + 16, true), elevation: v.getFloat32(o + 20, true), distance: v.getFloat32(o + 24, true),
      timeNs: v.getUint32(o + 28, true),
    });
  }
  return out;
}

export const rad = (deg: number): number => (deg * Math.PI) / 180;
