/**
 * Live lidar packet decoding on a real ROS 2 graph: an rclpy peer (peers/publish_bag.py, not
 * syncbag's transport) publishes the real VLP-16 packet recording in ../shared/lidar-packets as
 * velodyne_msgs/msg/VelodyneScan (the interface package in ros/, built by scripts/ci-ros2.sh) to a
 * syncbag node started with `ros2 run` (and as three role nodes by `ros2 launch`) and the
 * `lidar_packets` parameter. The MCAP must hold every packet message byte for byte, the clouds
 * `syncbag convert` decodes from the same bag on /velodyne_packets/points (each sweep once), and the
 * frames and suggestions of any lidar.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pipelineConverter } from "../../src/convert/pipeline-converter.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { PACKETS_ROOT, sensorJson } from "../lidar-packets/shared.js";
import { isolateRosGraph, rosUnavailable } from "./env.js";
import { asDelivered, digest, mcapFiles, readMcap, type McapMessage } from "./mcap.js";
import { groupExited, PEERS, start, type Proc } from "./procs.js";
import { NODE_ENV, peerResult, ros2Suite } from "./rig.js";

isolateRosGraph();
const FOLDER = "velodyne_vlp16";
const TOPIC = "/velodyne_packets";
const CLOUDS = `${TOPIC}/points`;

/** Why this suite cannot run here, or null: ROS 2 as the other suites need it, the packet interfaces, the recording. */
function unavailableHere(): string | null {
  const ros = rosUnavailable();
  if (ros !== null) return ros;
  if (!existsSync(join(PACKETS_ROOT, FOLDER, "sensor.json"))) return `../shared/lidar-packets/${FOLDER} is absent (${PACKETS_ROOT})`;
  const py = spawnSync("python3", ["-c", "import velodyne_msgs.msg"], { encoding: "utf8" });
  if (py.status !== 0) return "velodyne_msgs (ros/velodyne_msgs) is not built and sourced: run scripts/ci-ros2.sh and source the env.sh it prints";
  const rclnodejs = dirname(createRequire(import.meta.url).resolve("rclnodejs/package.json"));
  if (!existsSync(join(rclnodejs, "generated", "velodyne_msgs"))) return "rclnodejs has no velodyne_msgs bindings: run scripts/ci-ros2.sh (generate-ros-messages with the workspace sourced)";
  return null;
}
const unavailable = unavailableHere();

interface Cloud {
  width: number;
  data: Uint8Array;
  stampNs: bigint;
}
function cloudOf(m: McapMessage | Uint8Array): Cloud {
  const c = defaultCodec().decode("sensor_msgs/PointCloud2", m instanceof Uint8Array ? m : m.data) as { width: number; data: Uint8Array; header: { stamp: { sec: number; nanosec: number } } };
  return { width: c.width, data: Uint8Array.from(c.data), stampNs: BigInt(c.header.stamp.sec) * 1_000_000_000n + BigInt(c.header.stamp.nanosec) };
}

const json = (): ReturnType<typeof sensorJson> => sensorJson(FOLDER);
const bagDir = (): string => join(PACKETS_ROOT, FOLDER, json().bag.dir);
const calibration = (): string => join(PACKETS_ROOT, FOLDER, json().calibration_file);

/** The sweeps `syncbag convert --lidar-packet <entry>` writes from the same bag. */
async function convertedClouds(dir: string): Promise<Cloud[]> {
  const converted = join(dir, "converted.mcap");
  const source = await openRecording(bagDir());
  try {
    const { sensor_model, return_mode } = json();
    await pipelineConverter(
      source,
      { mcapPath: converted, reportPath: join(dir, "converted.report.json") },
      { drive: "vlp16", msgPaths: [], lidarPackets: { [TOPIC]: { sensor_model, calibration_file: calibration(), return_mode } } },
      () => {},
    );
  } finally {
    await source.close();
  }
  return readMcap(converted).messages.filter((m) => m.topic === CLOUDS).map(cloudOf);
}

/** The node's parameters: the packet entry, and the decoded cloud topic as its one lidar. */
function writeParams(dir: string): string {
  const { sensor_model, return_mode, frame_id } = json();
  const params = join(dir, "params.yaml");
  // The packet stamps are from 2023: arrival-time mode with a known latency aligns them at once.
  writeFileSync(
    params,
    [
      "/**:",
      "  ros__parameters:",
      `    lidar_packets: "${TOPIC}=${sensor_model},${calibration()},${return_mode}"`,
      "    sensor_qos:",
      "      reliability: reliable",
      "      depth: 100",
      "    align:",
      "      sensors:",
      "        lidar_top:",
      `          topic: ${CLOUDS}`,
      "          type: sensor_msgs/PointCloud2",
      "          modality: lidar",
      `          frameId: ${frame_id}`,
      "          clock:",
      "            mode: arrival",
      "            latencyS: 0.05",
      "",
    ].join("\n"),
  );
  return params;
}

/** The rclpy peer publishes the recording once the node listens; then the node is stopped (SIGINT to its group) and its MCAP read. */
async function publishAndRecord(node: Proc, out: string, running: RegExp[]): Promise<{ contents: ReturnType<typeof readMcap>; sent: Uint8Array[] }> {
  for (const pattern of running) await node.waitFor(pattern, 60_000);
  const peer = start("publish_bag.py", "python3", [join(PEERS, "publish_bag.py"), bagDir(), "--wait-subscribers", TOPIC]);
  const { published } = await peerResult(peer);
  assert.equal(published[TOPIC], json().bag.message_count, peer.output().slice(-2000));
  // The peer waited for the packets' acknowledgement; the last sweep then still travels from the
  // decoder back to the cloud subscriptions over DDS.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  node.signalGroup("SIGINT");
  await node.exited;
  await groupExited(node, 30_000);
  const files = mcapFiles(out);
  assert.equal(files.length, 1, node.output().slice(-3000));
  const contents = readMcap(files[0]!);
  assert.ok(contents.dataEnd, node.output().slice(-3000));
  const sent: Uint8Array[] = [];
  const source = await openRecording(bagDir());
  try {
    for await (const m of source.messages()) if (m.topic === TOPIC) sent.push(asDelivered(m.data));
  } finally {
    await source.close();
  }
  return { contents, sent };
}

/** Every packet message byte for byte (as DDS delivers the recording's CDR) with its schema, and each sweep convert decodes, once. */
function assertPacketsAndClouds(contents: ReturnType<typeof readMcap>, sent: Uint8Array[], expected: Cloud[], output: string, node = "syncbag"): void {
  const recordedPackets = contents.messages.filter((m) => m.topic === TOPIC);
  assert.deepEqual(recordedPackets.map((m) => digest(m.data)), sent.map(digest), `${TOPIC}: ${recordedPackets.length} recorded of ${sent.length} published, in order and byte-identical`);
  assert.equal(contents.channels.get(TOPIC)?.schemaName, "velodyne_msgs/VelodyneScan");
  assert.equal(contents.channels.get(TOPIC)?.schemaEncoding, "ros2msg");

  const live = contents.messages.filter((m) => m.topic === CLOUDS).map(cloudOf);
  assert.equal(live.length, expected.length, `${CLOUDS}: ${live.length} sweeps recorded, convert decodes ${expected.length}`);
  live.forEach((c, i) => {
    assert.equal(c.width, expected[i]!.width, `sweep ${i}: points`);
    assert.equal(c.stampNs, expected[i]!.stampNs, `sweep ${i}: header.stamp`);
    assert.ok(Buffer.from(c.data).equals(Buffer.from(expected[i]!.data)), `sweep ${i}: point bytes as convert decodes them`);
  });

  // Aligned (by the recording node's aligner) like any lidar; no packet counted as bad.
  const count = (topic: string): number => contents.messages.filter((m) => m.topic === topic).length;
  const topics = (): string => JSON.stringify(Object.fromEntries([...contents.channels.keys()].map((t) => [t, count(t)])));
  assert.ok(count(`/${node}/frames`) >= live.length - 1, `aligned frames: ${count(`/${node}/frames`)} for ${live.length} sweeps; recorded ${topics()}`);
  assert.doesNotMatch(output, /syncbag: lidar packets/);
  if (process.env.SYNCBAG_TEST_VERBOSE) console.log(`      ${recordedPackets.length} packet messages, ${live.length} sweeps (${live.map((c) => c.width).join(", ")} points), ${count(`/${node}/frames`)} frames, ${count(`/${node}/suggestions`)} suggestion messages`);
}

describe(`ROS 2: live lidar packet decoding, an rclpy peer publishing the real VLP-16 recording${unavailable === null ? "" : ` — skipped: ${unavailable}`}`, function () {
  this.timeout(180_000);
  const work = ros2Suite(unavailable);
  let expected: Cloud[] = [];
  before(async function () {
    if (unavailable !== null) return;
    expected = await convertedClouds(work("convert"));
    assert.ok(expected.length >= 2, `convert decodes ${expected.length} sweeps from the recording`);
  });

  it("ros2 run: every VelodyneScan recorded byte for byte, the sweeps syncbag convert decodes on /velodyne_packets/points, frames and suggestions", async () => {
    const dir = work("run");
    const out = join(dir, "out");
    const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", writeParams(dir), "-p", `output_dir:=${out}`], { env: NODE_ENV });
    const { contents, sent } = await publishAndRecord(node, out, [/syncbag node: running/]);
    assertPacketsAndClouds(contents, sent, expected, node.output());
    // The suggesters run on the decoded sweeps as on any lidar's.
    const suggestions = contents.messages.filter((m) => m.topic === "/syncbag/suggestions").length;
    assert.ok(suggestions > 0, `suggestions recorded: ${suggestions}`);
  });

  it("ros2 launch with split_nodes:=true: one node decodes, the record node records the packets and each sweep once", async () => {
    const dir = work("split");
    const out = join(dir, "out");
    const launch = start("ros2 launch (xml)", "ros2", ["launch", "syncbag", "syncbag.launch.xml", `params_file:=${writeParams(dir)}`, `output_dir:=${out}`, "split_nodes:=true"], { env: NODE_ENV });
    const roles = ["align", "record", "suggest"].map((role) => new RegExp(`syncbag node: running \\(${role}\\)`));
    const { contents, sent } = await publishAndRecord(launch, out, roles);
    assertPacketsAndClouds(contents, sent, expected, launch.output(), "syncbag_record");
  });
});
