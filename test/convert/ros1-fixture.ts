/**
 * A minimal ROS 1 bag v2.0 writer for tests (chunked, none or lz4): bag header padded to 4 KiB,
 * chunks holding connection and message-data records, index-data records after each chunk, then
 * connection and chunk-info records at index_pos — the layout `rosbag record` produces.
 */
import { writeFile } from "node:fs/promises";
import { parse } from "@foxglove/rosmsg";
import { MessageWriter } from "@foxglove/rosmsg-serialization";
import { compressFrameSync } from "lz4-napi";

const enc = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}
function time(ns: bigint): Uint8Array {
  return concat([u32(Number(ns / 1_000_000_000n)), u32(Number(ns % 1_000_000_000n))]);
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
function fieldsBytes(fields: [string, Uint8Array][]): Uint8Array {
  return concat(fields.flatMap(([k, v]) => [u32(k.length + 1 + v.byteLength), enc.encode(`${k}=`), v]));
}
function record(fields: [string, Uint8Array][], data: Uint8Array): Uint8Array {
  const header = fieldsBytes(fields);
  return concat([u32(header.byteLength), header, u32(data.byteLength), data]);
}
const op = (n: number): Uint8Array => new Uint8Array([n]);

export const ROS1_IMU_DEFINITION = `Header header
geometry_msgs/Quaternion orientation
float64[9] orientation_covariance
geometry_msgs/Vector3 angular_velocity
float64[9] angular_velocity_covariance
geometry_msgs/Vector3 linear_acceleration
float64[9] linear_acceleration_covariance
================================================================================
MSG: std_msgs/Header
uint32 seq
time stamp
string frame_id
================================================================================
MSG: geometry_msgs/Quaternion
float64 x
float64 y
float64 z
float64 w
================================================================================
MSG: geometry_msgs/Vector3
float64 x
float64 y
float64 z
`;

export interface Ros1Connection {
  topic: string;
  type: string;
  definition: string;
}
export interface Ros1Message {
  conn: number;
  time: bigint;
  data: Uint8Array;
}

export function ros1Serialize(definition: string, message: unknown): Uint8Array {
  return new MessageWriter(parse(definition)).writeMessage(message);
}

export async function writeRos1Bag(path: string, connections: Ros1Connection[], messages: Ros1Message[], options: { compression: "none" | "lz4"; perChunk: number }): Promise<void> {
  const connRecord = (id: number): Uint8Array => {
    const c = connections[id]!;
    const header = fieldsBytes([
      ["topic", enc.encode(c.topic)],
      ["type", enc.encode(c.type)],
      ["md5sum", enc.encode("*")],
      ["message_definition", enc.encode(c.definition)],
    ]);
    return record([["op", op(7)], ["conn", u32(id)], ["topic", enc.encode(c.topic)]], header);
  };
  const body: Uint8Array[] = [];
  const chunkInfos: Uint8Array[] = [];
  let position = 13 + 4096;
  const written = new Set<number>();
  for (let start = 0; start < messages.length; start += options.perChunk) {
    const batch = messages.slice(start, start + options.perChunk);
    const inner: Uint8Array[] = [];
    let offset = 0;
    const index = new Map<number, { time: bigint; offset: number }[]>();
    for (const m of batch) {
      if (!written.has(m.conn)) {
        written.add(m.conn);
        const c = connRecord(m.conn);
        inner.push(c);
        offset += c.byteLength;
      }
      const r = record([["op", op(2)], ["conn", u32(m.conn)], ["time", time(m.time)]], m.data);
      index.set(m.conn, [...(index.get(m.conn) ?? []), { time: m.time, offset }]);
      inner.push(r);
      offset += r.byteLength;
    }
    const raw = concat(inner);
    const data = options.compression === "lz4" ? new Uint8Array(compressFrameSync(Buffer.from(raw))) : raw;
    const chunk = record([["op", op(5)], ["compression", enc.encode(options.compression)], ["size", u32(raw.byteLength)]], data);
    const indexRecords = [...index].map(([conn, entries]) =>
      record([["op", op(4)], ["ver", u32(1)], ["conn", u32(conn)], ["count", u32(entries.length)]], concat(entries.flatMap((e) => [time(e.time), u32(e.offset)]))),
    );
    const times = batch.map((m) => m.time);
    const counts = [...index].map(([conn, entries]) => concat([u32(conn), u32(entries.length)]));
    chunkInfos.push(
      record(
        [["op", op(6)], ["ver", u32(1)], ["chunk_pos", u64(position)], ["start_time", time(times.reduce((a, b) => (b < a ? b : a)))], ["end_time", time(times.reduce((a, b) => (b > a ? b : a)))], ["count", u32(index.size)]],
        concat(counts),
      ),
    );
    for (const part of [chunk, ...indexRecords]) {
      body.push(part);
      position += part.byteLength;
    }
  }
  const indexPos = position;
  const tail = concat([...connections.map((_, i) => connRecord(i)), ...chunkInfos]);
  const headerFields = fieldsBytes([["op", op(3)], ["index_pos", u64(indexPos)], ["conn_count", u32(connections.length)], ["chunk_count", u32(chunkInfos.length)]]);
  const padding = 4096 - 4 - headerFields.byteLength - 4;
  const bagHeader = concat([u32(headerFields.byteLength), headerFields, u32(padding), new Uint8Array(padding).fill(0x20)]);
  await writeFile(path, concat([enc.encode("#ROSBAG V2.0\n"), bagHeader, ...body, tail]));
}
