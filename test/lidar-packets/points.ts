/** Test helpers: decoded clouds read back point by point (the 32-byte layout of src/lidar-packets/cloud.ts), packet messages built. */
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

/** CDR (little-endian) of a NebulaPackets message. */
export function nebulaPackets(frameId: string, packets: { sec: number; nanosec: number; data: Uint8Array }[]): Uint8Array {
  const parts: number[] = [0, 1, 0, 0];
  const pad = (): void => {
    while ((parts.length - 4) % 4 !== 0) parts.push(0);
  };
  const u32 = (v: number): void => {
    parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  };
  u32(packets[0]?.sec ?? 0);
  u32(packets[0]?.nanosec ?? 0);
  u32(frameId.length + 1);
  for (const ch of frameId) parts.push(ch.charCodeAt(0));
  parts.push(0);
  pad();
  u32(packets.length);
  for (const p of packets) {
    pad();
    u32(p.sec);
    u32(p.nanosec);
    u32(p.data.length);
    for (const b of p.data) parts.push(b);
  }
  return Uint8Array.from(parts);
}

