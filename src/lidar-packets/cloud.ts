/**
 * The cloud every packet decoder fills: points in nebula's PointXYZIRCAEDT layout (the one
 * tier4/nebula publishes), 32 bytes each, little-endian:
 *   x, y, z float32 at 0, 4, 8 · intensity uint8 at 12 · return_type uint8 at 13 · channel uint16
 *   at 14 · azimuth float32 (rad) at 16 · elevation float32 at 20 · distance float32 (m) at 24 ·
 *   time_stamp uint32 at 28 (ns after header.stamp; src/suggest/lidar.ts reads it as the point time).
 * Points are written straight into one growable buffer so that a sweep becomes a PointCloud2
 * with a single copy.
 */
export const POINT_STEP = 32;
const FLOAT32 = 7;
const UINT8 = 2;
const UINT16 = 4;
const UINT32 = 6;
export const CLOUD_FIELDS = [
  { name: "x", offset: 0, datatype: FLOAT32, count: 1 },
  { name: "y", offset: 4, datatype: FLOAT32, count: 1 },
  { name: "z", offset: 8, datatype: FLOAT32, count: 1 },
  { name: "intensity", offset: 12, datatype: UINT8, count: 1 },
  { name: "return_type", offset: 13, datatype: UINT8, count: 1 },
  { name: "channel", offset: 14, datatype: UINT16, count: 1 },
  { name: "azimuth", offset: 16, datatype: FLOAT32, count: 1 },
  { name: "elevation", offset: 20, datatype: FLOAT32, count: 1 },
  { name: "distance", offset: 24, datatype: FLOAT32, count: 1 },
  { name: "time_stamp", offset: 28, datatype: UINT32, count: 1 },
];

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("lidar-packets: a little-endian host is required");

/** nebula's ReturnType values (nebula_core_common/nebula_common.hpp). */
export const ReturnType = {
  UNKNOWN: 0, LAST: 1, FIRST: 2, STRONGEST: 3, FIRST_WEAK: 4, LAST_WEAK: 5, IDENTICAL: 6,
  SECOND: 7, SECONDSTRONGEST: 8, FIRST_STRONGEST: 9, LAST_STRONGEST: 10,
} as const;

/**
 * Sweep storage handed back by the consumer once it is done with a sweep (after encoding it:
 * PacketCloudDecoder.recycle), so that the next sweeps are written into memory already faulted in
 * and cached rather than fresh: fresh storage (zeroed, faulted in page by page, then collected)
 * was about 30 % of a VLS-128's and 20 % of an AT128's decoding time. Only storage this pool's
 * buffers handed out is taken back, once each; a handed-back sweep must not be read afterwards.
 */
export class StoragePool {
  readonly #lent = new WeakSet<ArrayBufferLike>();
  readonly #free: ArrayBuffer[] = [];

  /** Marks a sweep's storage as handed out. */
  lend(storage: Uint8Array): void {
    this.#lent.add(storage.buffer);
  }

  /** Takes a handed-out sweep's storage back; false (and nothing kept) for anything else or a second time. */
  give(data: Uint8Array): boolean {
    const buffer = data.buffer;
    if (!(buffer instanceof ArrayBuffer) || !this.#lent.has(buffer)) return false;
    this.#lent.delete(buffer);
    // A few are enough (one or two sweeps are in flight per buffer); the rest go to the collector.
    if (this.#free.length < 4) this.#free.push(buffer);
    return true;
  }

  /** Storage of at least `bytes` bytes: a handed-back one (its old bytes are overwritten before use), else fresh. */
  take(bytes: number): Uint8Array {
    while (this.#free.length > 0) {
      const buffer = this.#free.pop()!;
      if (buffer.byteLength >= bytes) return new Uint8Array(buffer);
    }
    return new Uint8Array(bytes);
  }
}

export class PointBuffer {
  #bytes: Uint8Array;
  #f32: Float32Array;
  #u32: Uint32Array;
  /** Points the storage holds. */
  #capacity: number;
  /** The capacity asked for at construction: the least a fresh storage gets. */
  readonly #initial: number;
  /** Points of the largest sweep handed over so far. */
  #largest = 0;
  size = 0;
  /** Where handed-over storage may come back from (none: fresh storage after every sweep). */
  readonly #pool: StoragePool | undefined;

  constructor(capacity = 1024, pool?: StoragePool) {
    this.#pool = pool;
    this.#initial = capacity;
    this.#capacity = capacity;
    this.#bytes = new Uint8Array(capacity * POINT_STEP);
    this.#f32 = new Float32Array(this.#bytes.buffer);
    this.#u32 = new Uint32Array(this.#bytes.buffer);
  }

  #grow(): void {
    const next = new Uint8Array(this.#bytes.length * 2);
    next.set(this.#bytes);
    this.#use(next);
  }

  #use(storage: Uint8Array): void {
    this.#bytes = storage;
    this.#capacity = storage.length / POINT_STEP;
    this.#f32 = new Float32Array(storage.buffer);
    this.#u32 = new Uint32Array(storage.buffer);
  }

  push(x: number, y: number, z: number, intensity: number, returnType: number, channel: number, azimuth: number, elevation: number, distance: number, timeNs: number): void {
    if (this.size >= this.#capacity) this.#grow();
    const w = this.size * 8;
    const f = this.#f32;
    f[w] = x;
    f[w + 1] = y;
    f[w + 2] = z;
    // Bytes 12..15 (intensity, return_type, channel) as one little-endian word: the masks are the
    // uint8/uint16 conversions the byte and half-word stores made.
    this.#u32[w + 3] = (intensity & 0xff) | ((returnType & 0xff) << 8) | ((channel & 0xffff) << 16);
    f[w + 4] = azimuth;
    f[w + 5] = elevation;
    f[w + 6] = distance;
    this.#u32[w + 7] = timeNs >>> 0;
    this.size++;
  }

  /**
   * Room for `n` more points, for a decoder that writes them itself: it writes point k (from
   * `size`) at words k·8.. of `f32`/`u32` in push()'s layout, then sets `size`. A packet's points
   * in one loop, without a call, a capacity test and a field store per point.
   */
  reserve(n: number): void {
    while (this.size + n > this.#capacity) this.#grow();
  }

  /** The storage as float32 and uint32 words (8 per point); valid until the next reserve()/push()/bytes(). */
  get f32(): Float32Array {
    return this.#f32;
  }

  get u32(): Uint32Array {
    return this.#u32;
  }

  /** Appends point i of `from` (raw copy). */
  pushFrom(from: PointBuffer, i: number): void {
    if (this.size >= this.#capacity) this.#grow();
    this.#bytes.set(from.#bytes.subarray(i * POINT_STEP, (i + 1) * POINT_STEP), this.size * POINT_STEP);
    this.size++;
  }

  pop(): void {
    if (this.size > 0) this.size--;
  }

  clear(): void {
    this.size = 0;
  }

  azimuth(i: number): number {
    return this.#f32[i * 8 + 4]!;
  }

  timeNs(i: number): number {
    return this.#u32[i * 8 + 7]!;
  }

  setTimeNs(i: number, ns: number): void {
    this.#u32[i * 8 + 7] = ns >>> 0;
  }

  x(i: number): number {
    return this.#f32[i * 8]!;
  }

  /**
   * Hands the points over (POINT_STEP bytes each) and empties the buffer, which goes on in storage
   * sized for the largest sweep so far (handed back to the pool if any, else fresh): a sweep
   * leaves without being copied (the copy of an 8 MB sweep into new memory cost more than
   * decoding a VLS-128's packets).
   */
  bytes(): Uint8Array {
    const out = this.#bytes.subarray(0, this.size * POINT_STEP);
    // Room for the largest sweep so far (+6 %), not the doubled capacity: a fresh storage is zeroed
    // and faulted in page by page, so every unused megabyte cost time (and stayed held by the
    // sweep). The largest, not the last: a short sweep (start, cut reset) must not make the next
    // full one grow twice.
    this.#largest = Math.max(this.#largest, this.size);
    const next = Math.max(this.#initial, Math.ceil(this.#largest * 1.0625)) * POINT_STEP;
    if (this.#pool === undefined) this.#use(new Uint8Array(next));
    else {
      this.#pool.lend(this.#bytes);
      this.#use(this.#pool.take(next));
    }
    this.size = 0;
    return out;
  }
}

/** One decoded sweep. `stampNs` is the time the driver stamps it with (see each decoder). */
export interface DecodedCloud {
  stampNs: bigint;
  frameId: string;
  points: number;
  /** POINT_STEP bytes per point, CLOUD_FIELDS layout. */
  data: Uint8Array;
}

/** The cloud as a sensor_msgs/PointCloud2 message value (encode it with the codec). */
export function pointCloud2(cloud: DecodedCloud): Record<string, unknown> {
  const sec = cloud.stampNs / 1_000_000_000n;
  return {
    header: { stamp: { sec: Number(sec), nanosec: Number(cloud.stampNs - sec * 1_000_000_000n) }, frame_id: cloud.frameId },
    height: 1,
    width: cloud.points,
    fields: CLOUD_FIELDS,
    is_bigendian: false,
    point_step: POINT_STEP,
    row_step: cloud.points * POINT_STEP,
    data: cloud.data,
    is_dense: true,
  };
}

/**
 * Problems with the input, counted by kind; the first occurrence of each keeps its one-line
 * description (the input and what was wrong), so a report can name it without flooding.
 */
export class PacketProblems {
  readonly counts = new Map<string, number>();
  readonly first = new Map<string, string>();

  add(kind: string, line: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (!this.first.has(kind)) this.first.set(kind, line);
  }

  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** One line per kind: "<count>× <first description>". */
  lines(): string[] {
    return [...this.counts].map(([kind, n]) => `${n}× ${this.first.get(kind) ?? kind}`);
  }
}
