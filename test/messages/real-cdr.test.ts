/**
 * CDR written by a real ROS 2 middleware (rosbag2 sqlite3 recordings of real sensors, see
 * ../shared/real-recordings/README.md): the codec decodes it, re-encodes it byte for byte, and the
 * stamp reader agrees. Checks our alignment and encapsulation handling against bytes nobody here wrote.
 * The packet types are not in the catalogue; their definitions are given here, as a user would
 * add them (velodyne_msgs from ros-drivers/velodyne, nebula_msgs from tier4/nebula, pandar_msgs
 * from tier4's Hesai driver); a wrong definition would make the layout walk end elsewhere.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { MessageCatalogue } from "../../src/messages/catalogue.js";
import { MessageCodec } from "../../src/messages/codec.js";
import { StampReader } from "../../src/messages/stamp.js";
import { toNs, type RosTime } from "../../src/messages/time.js";

const ROOT = join(process.env.SYNCBAG_REAL_RECORDINGS ?? join(import.meta.dirname, "../../../shared/real-recordings"), "rosbag2-sqlite3");

/** The part of sql.js (untyped, CommonJS) this test uses. */
interface SqlDatabase {
  prepare(sql: string): { step(): boolean; get(params: null, config: { useBigInt: boolean }): (bigint | Uint8Array)[]; free(): void };
  close(): void;
}
const initSqlJs = createRequire(import.meta.url)("sql.js") as () => Promise<{ Database: new (data: Uint8Array) => SqlDatabase }>;

/** [record time, CDR bytes] of every message, in record order. */
async function readMessages(folder: string): Promise<[bigint, Uint8Array][]> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(folder, readdirSync(folder).find((f) => f.endsWith(".db3"))!)));
  const statement = db.prepare("SELECT timestamp, data FROM messages ORDER BY timestamp");
  const rows: [bigint, Uint8Array][] = [];
  while (statement.step()) {
    const [time, data] = statement.get(null, { useBigInt: true });
    rows.push([time as bigint, data as Uint8Array]);
  }
  statement.free();
  db.close();
  return rows;
}

interface Recording {
  folder: string;
  type: string;
  definitions: [string, string][];
  frameId: string;
  /** Whether header stamps are within a second before the record time (false: replayed and re-recorded later). */
  liveRecorded: boolean;
  check(packet: { data: Uint8Array; size?: number }): void;
}

const RECORDINGS: Recording[] = [
  {
    folder: "velodyne-vlp16",
    type: "velodyne_msgs/msg/VelodyneScan",
    definitions: [
      ["velodyne_msgs/VelodyneScan", "std_msgs/Header header\nVelodynePacket[] packets\n"],
      ["velodyne_msgs/VelodynePacket", "builtin_interfaces/Time stamp\nuint8[1206] data\n"],
    ],
    frameId: "velodyne",
    liveRecorded: true,
    // VLP-16 data packets: 12 blocks each starting with the 0xFFEE flag.
    check: (p) => assert.deepEqual([p.data[0], p.data[1]], [0xff, 0xee]),
  },
  {
    folder: "hesai-qt128",
    type: "pandar_msgs/msg/PandarScan",
    definitions: [
      ["pandar_msgs/PandarScan", "std_msgs/Header header\nPandarPacket[] packets\n"],
      ["pandar_msgs/PandarPacket", "builtin_interfaces/Time stamp\nuint8[1500] data\nuint32 size\n"],
    ],
    frameId: "",
    liveRecorded: true,
    // QT128 UDP packets are 1127 bytes, starting with the 0xEEFF pre-header.
    check: (p) => {
      assert.equal(p.size, 1127);
      assert.deepEqual([p.data[0], p.data[1]], [0xee, 0xff]);
    },
  },
  {
    folder: "continental-ars548",
    type: "nebula_msgs/msg/NebulaPackets",
    definitions: [
      ["nebula_msgs/NebulaPackets", "std_msgs/Header header\nNebulaPacket[] packets\n"],
      ["nebula_msgs/NebulaPacket", "builtin_interfaces/Time stamp\nuint8[] data\n"],
    ],
    frameId: "front_center/radar_link",
    liveRecorded: false, // its record times are 15 days after the radar's stamps
    check: (p) => assert.ok(p.data.length > 1000),
  },
];

interface Scan {
  header: { stamp: RosTime; frame_id: string };
  packets: { stamp: RosTime; data: Uint8Array; size?: number }[];
}

describe("messages: CDR written by a real ROS 2 middleware (needs ../shared/real-recordings)", function () {
  before(function () {
    if (!existsSync(ROOT)) this.skip(); // reported as pending: the shared recordings are absent
  });

  for (const recording of RECORDINGS) {
    it(`${recording.folder}: decodes every ${recording.type}, re-encodes it byte for byte, stamps agree`, async () => {
      const rows = await readMessages(join(ROOT, recording.folder));
      assert.ok(rows.length >= 2);

      const catalogue = MessageCatalogue.standard();
      for (const [type, text] of recording.definitions) catalogue.addMsgText(type, text);
      const codec = new MessageCodec(catalogue);
      const stamps = new StampReader(catalogue).forType(recording.type);
      let previous = 0n;
      for (const [recorded, bytes] of rows) {
        assert.deepEqual([...bytes.subarray(0, 4)], [0, 1, 0, 0], "CDR_LE, no options");
        // The middleware pads the message to a multiple of 4 bytes; the walk ends before that padding.
        const end = codec.validate(recording.type, bytes);
        assert.ok(bytes.length - end >= 0 && bytes.length - end < 4 && bytes.length % 4 === 0, `walk ends at ${end} of ${bytes.length}`);

        const scan = codec.decode<Scan>(recording.type, bytes);
        assert.equal(scan.header.frame_id, recording.frameId);
        assert.ok(scan.packets.length > 0);
        for (const packet of scan.packets) recording.check(packet);
        // Packet stamps are within the scan's 0.1 s, header stamp within a second before it was recorded.
        const stamp = toNs(scan.header.stamp);
        for (const packet of scan.packets) assert.ok(Math.abs(Number(toNs(packet.stamp) - stamp)) < 2e8);
        const lag = recorded - stamp;
        if (recording.liveRecorded) assert.ok(lag > -1_000_000n && lag < 1_000_000_000n, `recorded ${lag} ns after the stamp`);
        assert.ok(stamp > previous, "stamps increase");
        previous = stamp;

        assert.equal(stamps.readStamp(bytes), stamp);
        assert.equal(stamps.readFrameId(bytes), scan.header.frame_id);
        assert.deepEqual(codec.encode(recording.type, scan), bytes.subarray(0, end), "re-encodes to the middleware's bytes");
      }
    });
  }
});
