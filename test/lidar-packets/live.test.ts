/**
 * Live decoding on a transport (in-process here; the rclnodejs adapter has the same port): packet
 * messages published on a topic come out as sensor_msgs/PointCloud2 sweeps on <topic>/points,
 * the same sweeps conversion writes; a bad entry refuses to start with one line; bad packets are
 * counted, never thrown from the subscription.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCodec } from "../../src/messages/codec.js";
import { createPacketDecoder, LidarConfigError } from "../../src/lidar-packets/index.js";
import { LivePacketDecoding, lidarPacketsParameter } from "../../src/lidar-packets/live.js";
import { NodeConfigError, parseNodeConfig } from "../../src/pipeline/config.js";
import { createSyncbagNode } from "../../src/pipeline/create.js";
import { InProcessTransport } from "../../src/transport/inprocess.js";
import { DEFAULT_QOS } from "../../src/transport/port.js";
import { mcapFiles, readMcap } from "../ros2/mcap.js";
import { nebulaPackets, velodynePacket } from "./points.js";

const vlp32Packet = (azimuth: number): Uint8Array => velodynePacket(0x28, azimuth, 0);

describe("lidar-packets: live decoding on a transport", function () {
  const dir = mkdtempSync(join(tmpdir(), "syncbag-live-packets-"));
  const cal = join(dir, "VLP32C.yaml");
  writeFileSync(cal, `lasers:\n${Array.from({ length: 32 }, (_, i) => `  - {laser_id: ${i}, rot_correction: 0, vert_correction: ${((-25 + (40 * i) / 31) * Math.PI) / 180}, dist_correction: 0}`).join("\n")}\nnum_lasers: 32\ndistance_resolution: 0.004\n`);
  const T = "nebula_msgs/msg/NebulaPackets";
  const packets = Array.from({ length: 320 }, (_, i) => ({ sec: 100, nanosec: i * 1327100, data: vlp32Packet((i * 240) % 36000) }));
  const messages = Array.from({ length: 32 }, (_, m) => nebulaPackets("velodyne", packets.slice(m * 10, m * 10 + 10)));

  it("publishes <topic>/points: the sweeps conversion would write, byte for byte", async function () {
    const t = new InProcessTransport();
    const config = lidarPacketsParameter(`/velodyne_packets=VLP32C,${cal},Strongest`);
    const live = await LivePacketDecoding.start(t, [{ topic: "/velodyne_packets", type: T, config: config["/velodyne_packets"]! }], DEFAULT_QOS);
    const got: Uint8Array[] = [];
    t.subscribeRaw("/velodyne_packets/points", "sensor_msgs/PointCloud2", { ...DEFAULT_QOS, depth: 100 }, (m) => void got.push(m.data));
    const pub = t.advertise("/velodyne_packets", T, DEFAULT_QOS);
    for (const m of messages) {
      pub.publish(m);
      await t.flush();
    }
    const offline = await createPacketDecoder(config["/velodyne_packets"]!, { type: T });
    const expected = messages.flatMap((m) => offline.decodeMessage(T, m));
    assert.equal(got.length, 2);
    assert.deepEqual(live.sweeps(), { "/velodyne_packets": 2 });
    const codec = defaultCodec();
    for (let i = 0; i < 2; i++) {
      const cloud = codec.decode("sensor_msgs/PointCloud2", got[i]!) as { width: number; data: Uint8Array; header: { stamp: { sec: number; nanosec: number } } };
      assert.equal(cloud.width, expected[i]!.points);
      assert.deepEqual(Uint8Array.from(cloud.data), expected[i]!.data);
      assert.equal(BigInt(cloud.header.stamp.sec) * 1_000_000_000n + BigInt(cloud.header.stamp.nanosec), expected[i]!.stampNs);
    }
    // Bad bytes on the topic are counted, the subscription keeps going.
    pub.publish(Uint8Array.from([0, 1, 0, 0, 1, 2]));
    await t.flush();
    assert.match(live.problemLines()[0]!, /^\/velodyne_packets \(VLP32C\): 1× .*NebulaPackets: 6 bytes, too short for a header: message skipped$/);
    live.close();
    await t.shutdown();
  });

  it("a bad entry refuses to start with one line, nothing subscribed", async function () {
    const t = new InProcessTransport();
    assert.throws(() => lidarPacketsParameter("velodyne=VLP16"), (e: unknown) => e instanceof LidarConfigError && /^lidar_packets: velodyne=VLP16: expected <topic>=/.test(e.message));
    await assert.rejects(LivePacketDecoding.start(t, [{ topic: "/p", type: "sensor_msgs/msg/PointCloud2", config: { sensor_model: "VLP32C", calibration_file: cal } }]), /\/p: sensor_msgs\/msg\/PointCloud2 is not a lidar packet type syncbag decodes$/);
    await assert.rejects(LivePacketDecoding.start(t, [{ topic: "/p", type: T, config: { sensor_model: "VLS128", calibration_file: cal } }]), /calibration has 32 lasers but a VLS-128 has 128/);
    assert.deepEqual(t.topics().filter((x) => x.topic === "/p/points" || x.topic === "/p"), []);
    await t.shutdown();
  });

  /**
   * A node with the lidar_packets parameter for /velodyne_packets (its lidar the decoded cloud
   * topic) and `settings` on top, started, every packet message published to it. The publisher is
   * up before the node: its type (NebulaPackets) is taken from the graph.
   */
  const runPacketNode = async (t: InProcessTransport, settings: Record<string, unknown>): Promise<Awaited<ReturnType<typeof createSyncbagNode>>["node"]> => {
    const config = parseNodeConfig({
      suggest_enabled: false,
      ...settings,
      lidar_packets: `/velodyne_packets=VLP32C,${cal},Strongest`,
      align: { sensors: { lidar_top: { topic: "/velodyne_packets/points", type: "sensor_msgs/PointCloud2", modality: "lidar", frameId: "velodyne" } } },
    });
    const pub = t.advertise("/velodyne_packets", T, DEFAULT_QOS);
    const { node } = await createSyncbagNode({ transport: t, config, log: () => {} });
    node.start();
    for (const m of messages) {
      pub.publish(m);
      await t.flush();
    }
    return node;
  };

  it("the node's lidar_packets parameter: the node decodes the packet topic and ingests the clouds as its lidar", async function () {
    const t = new InProcessTransport();
    const node = await runPacketNode(t, { record_enabled: false });
    const lidar = node.status().subscriptions.find((s) => s.topic === "/velodyne_packets/points");
    assert.equal(lidar?.delivered, 2, JSON.stringify(node.status().subscriptions));
    assert.ok(node.status().pipeline.ingested >= 2);
    await node.stop();
    await t.shutdown();
  });

  it("the node records the packet messages unchanged (with their schema) next to the decoded clouds", async function () {
    const t = new InProcessTransport();
    const out = join(dir, "record");
    const node = await runPacketNode(t, { output_dir: out });
    await node.stop();
    await t.shutdown();
    const contents = readMcap(mcapFiles(out)[0]!);
    const recorded = contents.messages.filter((m) => m.topic === "/velodyne_packets");
    assert.equal(recorded.length, messages.length, "every packet message recorded");
    recorded.forEach((m, i) => assert.deepEqual(Uint8Array.from(m.data), messages[i], `packet message ${i} byte for byte`));
    assert.deepEqual(contents.channels.get("/velodyne_packets"), { messageEncoding: "cdr", schemaName: "nebula_msgs/NebulaPackets", schemaEncoding: "ros2msg" });
    assert.equal(contents.messages.filter((m) => m.topic === "/velodyne_packets/points").length, 2);
    // The packets are recorded before the sweeps they complete.
    const firstCloud = contents.messages.findIndex((m) => m.topic === "/velodyne_packets/points");
    assert.ok(contents.messages.slice(0, firstCloud).filter((m) => m.topic === "/velodyne_packets").length >= 1);
  });

  it("a bad lidar_packets parameter stops the node's start with one line naming it", async function () {
    const t = new InProcessTransport();
    const config = parseNodeConfig({ record_enabled: false, suggest_enabled: false, lidar_packets: "/p=HDL99,/x.yaml", align: { sensors: { l: { topic: "/p/points", type: "sensor_msgs/PointCloud2", modality: "lidar" } } } });
    await assert.rejects(createSyncbagNode({ transport: t, config, log: () => {} }), (e: unknown) => {
      assert.ok(e instanceof NodeConfigError);
      assert.match(e.message, /^lidar_packets: \/p=HDL99,\/x\.yaml: \/p: unknown lidar model 'HDL99'/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
    await t.shutdown();
  });
});

