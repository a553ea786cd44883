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


/**
 * A Velodyne single-return packet (1206 bytes) starting at `azimuth` (0.01°), 0.2° per block,
 * every one of the 32 returns of each block at raw distance 2500 with `intensity`; `productId` at
 * byte 1205 (0x22 VLP-16, 0x28 VLP-32C), strongest return (55) at byte 1204.
 */
export function velodynePacket(productId: number, azimuth: number, intensity = 40): Uint8Array {
  const p = new Uint8Array(1206);
  const v = new DataView(p.buffer);
  for (let b = 0; b < 12; b++) {
    v.setUint16(b * 100, 0xeeff, true);
    v.setUint16(b * 100 + 2, (azimuth + b * 20) % 36000, true);
    for (let k = 0; k < 32; k++) {
      v.setUint16(b * 100 + 4 + k * 3, 2500, true);
      p[b * 100 + 4 + k * 3 + 2] = intensity;
    }
  }
  p[1204] = 55;
  p[1205] = productId;
  return p;
}
