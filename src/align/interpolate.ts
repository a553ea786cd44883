/**
 * Telemetry values at a frame's reference time, from the two messages the aligner bracketed:
 * linear for scalars and vectors, slerp for orientations; never extrapolated (a single carried
 * message is returned as is, flagged STALE by the aligner).
 */
import { defaultCatalogue, normalizeTypeName } from "../messages/catalogue.js";
import { defaultCodec } from "../messages/codec.js";
import type { AlignedSampleData } from "./types.js";

export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

export function slerp(a: Quaternion, b: Quaternion, u: number): Quaternion {
  let dot = a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
  // The shorter way round: q and −q are the same rotation.
  const sign = dot < 0 ? -1 : 1;
  dot *= sign;
  let wa: number;
  let wb: number;
  if (dot > 0.9995) {
    wa = 1 - u;
    wb = u;
  } else {
    const theta = Math.acos(dot);
    const sin = Math.sin(theta);
    wa = Math.sin((1 - u) * theta) / sin;
    wb = Math.sin(u * theta) / sin;
  }
  const q = { x: wa * a.x + sign * wb * b.x, y: wa * a.y + sign * wb * b.y, z: wa * a.z + sign * wb * b.z, w: wa * a.w + sign * wb * b.w };
  const norm = Math.hypot(q.x, q.y, q.z, q.w);
  return { x: q.x / norm, y: q.y / norm, z: q.z / norm, w: q.w / norm };
}

const FLOATS = new Set(["float32", "float64"]);

/**
 * Blends two decoded messages of `type` field by field, guided by the definition: floats linear
 * (arrays of floats element-wise), geometry_msgs/Quaternion by slerp, nested messages recursively;
 * integers, enums, booleans, strings and headers come from the nearer message.
 */
function blend(type: string, a: Record<string, unknown>, b: Record<string, unknown>, u: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(u < 0.5 ? a : b) };
  for (const field of defaultCatalogue().get(type).definitions) {
    if (field.isConstant === true) continue;
    const va = a[field.name];
    const vb = b[field.name];
    if (FLOATS.has(field.type)) {
      if (!field.isArray && typeof va === "number" && typeof vb === "number") out[field.name] = va + (vb - va) * u;
      else if (field.isArray && Array.isArray(va) && Array.isArray(vb) && va.length === vb.length) out[field.name] = va.map((v: number, i) => v + ((vb[i] as number) - v) * u);
    } else if (field.isComplex === true && !field.isArray && field.type !== "std_msgs/Header" && va !== null && vb !== null && typeof va === "object" && typeof vb === "object") {
      out[field.name] = normalizeTypeName(field.type) === "geometry_msgs/Quaternion" ? slerp(va as Quaternion, vb as Quaternion, u) : blend(field.type, va as Record<string, unknown>, vb as Record<string, unknown>, u);
    }
  }
  return out;
}

/** The sample's value at `atNs` (decoded message shape), or null when the sample holds no message. */
export function interpolateSample(sample: AlignedSampleData, atNs: bigint): Record<string, unknown> | null {
  const codec = defaultCodec();
  const [first, second] = sample.messages;
  if (first === undefined) return null;
  const a = codec.decode<Record<string, unknown>>(first.type, first.data);
  const times = sample.correctedTimes;
  if (second === undefined || times === undefined || times.length < 2) return a;
  const span = Number(times[1]! - times[0]!);
  const u = span > 0 ? Math.min(1, Math.max(0, Number(atNs - times[0]!) / span)) : 0;
  return blend(first.type, a, codec.decode<Record<string, unknown>>(second.type, second.data), u);
}
