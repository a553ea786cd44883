/**
 * Zero-copy reading of the packet-scan messages drivers record (CDR, little- or big-endian):
 *   velodyne_msgs/msg/VelodyneScan: std_msgs/Header header, VelodynePacket[] packets
 *     VelodynePacket: builtin_interfaces/Time stamp, uint8[1206] data
 *   pandar_msgs/msg/PandarScan: std_msgs/Header header, PandarPacket[] packets
 *     PandarPacket: builtin_interfaces/Time stamp, uint8[1500] data, uint32 size (valid bytes of data)
 *   nebula_msgs/msg/NebulaPackets: std_msgs/Header header, NebulaPacket[] packets
 *     NebulaPacket: builtin_interfaces/Time stamp, uint8[] data (any vendor: the sensor_model says which)
 * Definitions as in ros-drivers/velodyne (ros2 branch) and tier4/nebula's pandar_msgs and
 * nebula_msgs (src/nebula_core/nebula_msgs/msg at 606ac41). Packets are
 * views into the message bytes: nothing is copied. A message cut short yields the packets it
 * holds whole and says where it ended (never reads past the buffer).
 */
export interface RawPacket {
  /** Packet stamp (s), as nebula's decoders take it. */
  seconds: number;
  /** stamp.sec alone (the upstream decoder tests pass only this to the Velodyne decoder). */
  sec: number;
  nanosec: number;
  data: Uint8Array;
}
export interface RawScan {
  stampNs: bigint;
  frameId: string;
  packets: RawPacket[];
  /** Set when the message ended before all its packets: what was missing. */
  truncated?: string;
}

export const PACKET_SCAN_TYPES = {
  "velodyne_msgs/msg/VelodyneScan": { family: "velodyne", dataBytes: 1206, hasSize: false },
  "pandar_msgs/msg/PandarScan": { family: "hesai", dataBytes: 1500, hasSize: true },
  // dataBytes −1: an unbounded uint8[] (length-prefixed), one UDP payload of any vendor.
  "nebula_msgs/msg/NebulaPackets": { family: "any", dataBytes: -1, hasSize: false },
} as const;
export type PacketScanType = keyof typeof PACKET_SCAN_TYPES;

export function isPacketScanType(type: string): type is PacketScanType {
  return Object.hasOwn(PACKET_SCAN_TYPES, normalize(type));
}
function normalize(type: string): string {
  return type.includes("/msg/") ? type : type.replace("/", "/msg/");
}

/** .msg texts for the converter's catalogue when a recording does not carry them. */
export const PACKET_MSG_DEFINITIONS: Record<string, string> = {
  "velodyne_msgs/msg/VelodynePacket": "builtin_interfaces/Time stamp\nuint8[1206] data\n",
  "velodyne_msgs/msg/VelodyneScan": "std_msgs/Header header\nVelodynePacket[] packets\n",
  "pandar_msgs/msg/PandarPacket": "builtin_interfaces/Time stamp\nuint8[1500] data\nuint32 size\n",
  "pandar_msgs/msg/PandarScan": "std_msgs/Header header\nPandarPacket[] packets\n",
  "nebula_msgs/msg/NebulaPacket": "builtin_interfaces/Time stamp\nuint8[] data\n",
  "nebula_msgs/msg/NebulaPackets": "std_msgs/Header header\nNebulaPacket[] packets\n",
};

/** Adds the packet types' definitions a catalogue lacks (a recording's own definitions win), so packets are recorded with their schema. */
export function addPacketDefinitions(catalogue: { has(type: string): boolean; addMsgText(type: string, text: string): void }): void {
  for (const [type, text] of Object.entries(PACKET_MSG_DEFINITIONS)) if (!catalogue.has(type)) catalogue.addMsgText(type, text);
}

export class ScanFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScanFormatError";
  }
}

export function readPacketScan(type: string, bytes: Uint8Array): RawScan {
  const spec = PACKET_SCAN_TYPES[normalize(type) as PacketScanType];
  if (spec === undefined) throw new ScanFormatError(`${type} is not a packet-scan type (supported: ${Object.keys(PACKET_SCAN_TYPES).join(", ")})`);
  if (bytes.length < 4 + 12) throw new ScanFormatError(`${type}: ${bytes.length} bytes, too short for a header`);
  const kind = bytes[1]!;
  if (bytes[0] !== 0 || (kind !== 0 && kind !== 1)) throw new ScanFormatError(`${type}: encapsulation ${bytes[0]} ${kind} is not plain CDR`);
  const le = kind === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // CDR alignment is relative to the byte after the 4-byte encapsulation header.
  let o = 4;
  const align4 = (): void => {
    o = 4 + ((o - 4 + 3) & ~3);
  };
  const need = (n: number): boolean => o + n <= bytes.length;
  const sec = view.getInt32(o, le), nsec = view.getUint32(o + 4, le);
  o += 8;
  const strLen = view.getUint32(o, le);
  o += 4;
  if (!need(strLen)) throw new ScanFormatError(`${type}: frame_id of ${strLen} bytes runs past the message's ${bytes.length} bytes`);
  const frameId = new TextDecoder().decode(bytes.subarray(o, o + Math.max(0, strLen - 1)));
  o += strLen;
  align4();
  const scan: RawScan = { stampNs: BigInt(sec) * 1_000_000_000n + BigInt(nsec), frameId, packets: [] };
  if (!need(4)) {
    scan.truncated = `${type}: message ends before its packet count`;
    return scan;
  }
  const count = view.getUint32(o, le);
  o += 4;
  for (let i = 0; i < count; i++) {
    align4();
    if (spec.dataBytes < 0) {
      if (!need(12)) {
        scan.truncated = `${type}: message of ${bytes.length} bytes ends inside packet ${i} of ${count}`;
        return scan;
      }
      const ps = view.getInt32(o, le), pn = view.getUint32(o + 4, le), len = view.getUint32(o + 8, le);
      o += 12;
      if (!need(len)) {
        scan.truncated = `${type}: message of ${bytes.length} bytes ends inside packet ${i} of ${count}`;
        return scan;
      }
      scan.packets.push({ seconds: ps + pn * 1e-9, sec: ps, nanosec: pn, data: bytes.subarray(o, o + len) });
      o += len;
      continue;
    }
    const whole = 8 + spec.dataBytes + (spec.hasSize ? 3 + 4 : 0);
    if (!need(whole - (spec.hasSize ? 3 : 0))) {
      scan.truncated = `${type}: message of ${bytes.length} bytes ends inside packet ${i} of ${count}`;
      return scan;
    }
    const ps = view.getInt32(o, le), pn = view.getUint32(o + 4, le);
    o += 8;
    let data = bytes.subarray(o, o + spec.dataBytes);
    o += spec.dataBytes;
    if (spec.hasSize) {
      align4();
      if (!need(4)) {
        scan.truncated = `${type}: message of ${bytes.length} bytes ends inside packet ${i} of ${count}`;
        return scan;
      }
      const size = view.getUint32(o, le);
      o += 4;
      data = data.subarray(0, Math.min(size, spec.dataBytes));
    }
    scan.packets.push({ seconds: ps + pn * 1e-9, sec: ps, nanosec: pn, data });
  }
  return scan;
}

/** Ouster packet messages: one UDP packet each, as ouster-ros records them. */
export const OUSTER_PACKET_TYPES = ["ouster_ros/PacketMsg", "ouster_ros/msg/PacketMsg", "ouster_sensor_msgs/msg/PacketMsg", "ouster_sensor_msgs/PacketMsg"];

export function isOusterPacketType(type: string): boolean {
  return OUSTER_PACKET_TYPES.includes(type);
}

/**
 * The packet bytes of an Ouster PacketMsg (`uint8[] buf`): ROS 1 serialization (ouster_ros, a
 * uint32 length then the bytes) or ROS 2 CDR (ouster_sensor_msgs: encapsulation, then the same).
 */
export function readOusterPacket(type: string, bytes: Uint8Array): Uint8Array {
  const ros2 = type.startsWith("ouster_sensor_msgs/") || type.includes("/msg/");
  const start = ros2 ? 4 : 0;
  if (ros2 && (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 1)) throw new ScanFormatError(`${type}: not little-endian plain CDR`);
  if (bytes.length < start + 4) throw new ScanFormatError(`${type}: ${bytes.length} bytes, too short for a packet length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(start, true);
  if (start + 4 + n > bytes.length) throw new ScanFormatError(`${type}: packet of ${n} bytes runs past the message's ${bytes.length} bytes`);
  return bytes.subarray(start + 4, start + 4 + n);
}
