/**
 * The sweep as the proposer reads it: a PointCloud2's fields located once (x, y, z, and a per-point
 * time as the common drivers write it), the lidar's mount from /tf_static, the ego's motion.
 */
export interface PointCloudView {
  /** Raw point bytes (PointCloud2.data). */
  data: Uint8Array;
  pointStep: number;
  count: number;
  offsetX: number;
  offsetY: number;
  offsetZ: number;
  /** Offset of the per-point time field, if any (see timeType). */
  offsetT?: number;
  /**
   * PointField datatype of that field: 6 uint32 (default: Ouster `t`, Livox `offset_time`),
   * 5 int32, 7 float32 (Velodyne `time`, often negative), 8 float64 (Hesai, RoboSense absolute
   * `timestamp`). Its unit (s, ms, µs or ns) and origin are read from the sweep itself.
   */
  timeType?: number;
  littleEndian: boolean;
}

/**
 * The lidar's mounting in base_link, as /tf_static gives it: translation, yaw, and the full
 * rotation (row-major 3×3, p_base = R p_lidar + t) when the sensor is rolled or pitched. Without
 * `rotation` the mount is level (yaw only).
 */
export interface LidarMount {
  x: number;
  y: number;
  z: number;
  yaw: number;
  rotation?: readonly number[];
}

/** A mount from a base_link ← lidar transform (rotation row-major, translation): the full rotation is kept. */
export function mountFromTransform(t: { r: readonly number[]; t: readonly [number, number, number] }): LidarMount {
  return { x: t.t[0], y: t.t[1], z: t.t[2], yaw: Math.atan2(t.r[3]!, t.r[0]!), rotation: [...t.r] };
}

/** base_link ← lidar rotation of a mount (row-major 3×3). */
export function mountRotation(mount: LidarMount): readonly number[] {
  if (mount.rotation !== undefined && mount.rotation.length === 9) return mount.rotation;
  const c = Math.cos(mount.yaw), s = Math.sin(mount.yaw);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}

export interface EgoMotion {
  /** Forward speed (m/s) and yaw rate (rad/s) during the sweep. */
  speed: number;
  yawRate: number;
}

/** PointField datatypes a per-point time can have, by name in the common drivers. */
const TIME_FIELDS = ["t", "time", "offset_time", "timestamp", "time_stamp"];
const TIME_TYPES = new Set([5, 6, 7, 8]);

/**
 * Per-point time (s after the sweep's first return) from whatever the driver wrote: the field's
 * raw values are rebased on their minimum (a relative `time` may be negative, a `timestamp`
 * absolute), and their unit is taken from the sweep's span — a sweep lasts well under a second,
 * so a span over 1 is in ms, over 1e3 in µs, over 1e6 in ns.
 */
export function timeReader(view: DataView, cloud: PointCloudView, n: number): (offset: number) => number {
  const le = cloud.littleEndian, off = cloud.offsetT!, step = cloud.pointStep;
  const type = cloud.timeType ?? 6;
  const raw = type === 6 ? (o: number): number => view.getUint32(o, le)
    : type === 5 ? (o: number): number => view.getInt32(o, le)
    : type === 7 ? (o: number): number => view.getFloat32(o, le)
    : (o: number): number => view.getFloat64(o, le);
  let min = Infinity, max = -Infinity;
  for (let i = 0, o = off; i < n; i++, o += step) {
    const v = raw(o);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max >= min)) return () => 0;
  const span = max - min;
  const scale = span <= 1 ? 1 : span <= 1e3 ? 1e-3 : span <= 1e6 ? 1e-6 : 1e-9;
  return (o) => (raw(o) - min) * scale;
}

/** A PointCloud2 (decoded by the codec; `data` is a view) as a PointCloudView, or null without x/y/z. */
export function pointCloudView(msg: {
  fields: { name: string; offset: number; datatype: number }[];
  is_bigendian: boolean;
  point_step: number;
  width: number;
  height: number;
  data: Uint8Array;
}): PointCloudView | null {
  // Each field read must lie inside a point (a malformed cloud is refused, not read past its end).
  const fits = (x: { offset: number; datatype: number }): boolean => x.offset >= 0 && x.offset + (x.datatype === 8 ? 8 : 4) <= msg.point_step;
  const f = (name: string): number | undefined => {
    const field = msg.fields.find((x) => x.name === name && x.datatype === 7);
    return field !== undefined && fits(field) ? field.offset : undefined;
  };
  const ox = f("x"), oy = f("y"), oz = f("z");
  if (ox === undefined || oy === undefined || oz === undefined) return null;
  const t = TIME_FIELDS.map((name) => msg.fields.find((x) => x.name === name && TIME_TYPES.has(x.datatype) && fits(x))).find((x) => x !== undefined);
  const count = Math.min(msg.width * msg.height, Math.floor(msg.data.byteLength / Math.max(1, msg.point_step)));
  return {
    data: msg.data, pointStep: msg.point_step, count, offsetX: ox, offsetY: oy, offsetZ: oz, littleEndian: !msg.is_bigendian,
    ...(t !== undefined ? { offsetT: t.offset, timeType: t.datatype } : {}),
  };
}
