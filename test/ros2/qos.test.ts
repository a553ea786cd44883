/**
 * QoS between syncbag and its publishers on a real ROS 2 graph: an incompatible publisher is
 * reported (one log line naming topic and policy, an ERROR on /diagnostics), not silently
 * unrecorded; `sensor_qos.reliability: auto` and /tf_static adapt to what the publishers offer
 * (rosbag2's rule) and record them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolateRosGraph, rosUnavailable } from "./env.js";
import { mcapFiles, readMcap, type McapContents } from "./mcap.js";
import { groupExited, run, start, type Proc } from "./procs.js";
import { DEEP_SENSOR_QOS, NODE_ENV, peerResult, ros2Suite, sampleBag, startPeer, writeParamsFile } from "./rig.js";

isolateRosGraph();
const unavailable = rosUnavailable();
const IMU = "/sensing/imu/imu_raw";
const GNSS = "/sensing/gnss/fix";

function countsByTopic(contents: McapContents): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of contents.messages) out[m.topic] = (out[m.topic] ?? 0) + 1;
  return out;
}

async function startNode(dir: string, reliability: string): Promise<{ node: Proc; out: string }> {
  const out = join(dir, "out");
  const params = writeParamsFile(dir, `${DEEP_SENSOR_QOS}\n  reliability: ${reliability}`);
  const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", params, "-p", `output_dir:=${out}`], { env: NODE_ENV });
  await node.waitFor(/syncbag node: running/, 60_000);
  return { node, out };
}

async function stop(node: Proc, out: string): Promise<McapContents> {
  node.signalGroup("SIGINT");
  await node.exited;
  await groupExited(node, 30_000);
  const files = mcapFiles(out);
  assert.equal(files.length, 1, node.output().slice(-2000));
  return readMcap(files[0]!);
}

/** The first /diagnostics array syncbag's subscription statuses are in, as `ros2 topic echo` prints it. */
async function subscriptionDiagnostics(topic: string): Promise<string> {
  const filter = `any(s.name == 'syncbag: subscription ${topic}' for s in m.status)`;
  const { code, output } = await run("ros2 topic echo", "ros2", ["topic", "echo", "--once", "--filter", filter, "/diagnostics", "diagnostic_msgs/msg/DiagnosticArray"], {
    timeoutMs: 30_000,
  });
  assert.equal(code, 0, output);
  // The status of that topic only: from its level line to the next status.
  const at = output.indexOf(`name: 'syncbag: subscription ${topic}'`);
  assert.ok(at > 0, output);
  const begin = output.lastIndexOf("- level:", at);
  const end = output.indexOf("- level:", at);
  return output.slice(begin, end < 0 ? undefined : end);
}

describe(`ROS 2: QoS between syncbag and its publishers${unavailable === null ? "" : ` — skipped: ${unavailable}`}`, function () {
  this.timeout(120_000);
  const work = ros2Suite(unavailable);

  it("a best-effort publisher against sensor_qos.reliability: reliable is reported in one line per topic (topic, RELIABILITY, requested vs offered) and as an ERROR on /diagnostics", async () => {
    const { node, out } = await startNode(work("mismatch"), "reliable");
    // /tf_static is reliable and matches: the peer waits for that one only, then publishes the
    // sensors best-effort, which syncbag's reliable subscriptions cannot match.
    const peer = startPeer(["--reliability", "best_effort", "--rate", "2", "--linger", "3"], ["/tf_static"]);
    const line = new RegExp(`QoS mismatch on ${IMU}: RELIABILITY: syncbag requests reliable, /bag_peer offers best_effort; its messages are not received`);
    await node.waitFor(line, 30_000);
    const status = await subscriptionDiagnostics(IMU);
    assert.match(status, /level: "\\x02"|level: b'\\x02'|level: 2/, `ERROR level:\n${status}`);
    assert.match(status, /message: 'QoS mismatch on \/sensing\/imu\/imu_raw: RELIABILITY/);
    assert.match(status, /key: incompatible_publishers\n\s+value: '1'/);
    await peerResult(peer);
    const contents = await stop(node, out);
    const output = node.output();
    assert.equal(output.split("\n").filter((l) => line.test(l)).length, 1, "one line for the one publisher");
    assert.match(output, new RegExp(`QoS mismatch on ${GNSS}: RELIABILITY`));
    assert.doesNotMatch(output, /QoS mismatch on \/tf_static/);
    assert.equal(countsByTopic(contents)[IMU] ?? 0, 0, "nothing received from the incompatible publisher (as reported)");
  });

  it("sensor_qos.reliability: auto re-subscribes best-effort when a best-effort publisher appears (rosbag2's rule) and records every message of both kinds of publisher", async () => {
    const { node, out } = await startNode(work("auto"), "auto");
    const peer = startPeer(["--best-effort-topics", [IMU, GNSS].join(","), "--rate", "2"]);
    const { published } = await peerResult(peer);
    const contents = await stop(node, out);
    assert.match(node.output(), new RegExp(`QoS mismatch on ${IMU}: RELIABILITY: .*re-subscribing best_effort/volatile`));
    const counts = countsByTopic(contents);
    for (const topic of sampleBag().sensorTopics) assert.equal(counts[topic] ?? 0, published[topic], `${topic}: recorded ${counts[topic] ?? 0} of ${published[topic]}`);
    assert.doesNotMatch(node.output(), /QoS mismatch on \/sensing\/lidar/, "reliable publishers keep the reliable subscription");
  });

  it("/tf_static from a volatile publisher (no latching) is received: the transient_local request adapts to the offer", async () => {
    const { node, out } = await startNode(work("tf-volatile"), "best_effort");
    const tf = "{transforms: [{header: {frame_id: base_link}, child_frame_id: imu_link, transform: {rotation: {w: 1.0}}}]}";
    const pub = start("ros2 topic pub", "ros2", ["topic", "pub", "-r", "5", "--qos-durability", "volatile", "--qos-reliability", "reliable", "/tf_static", "tf2_msgs/msg/TFMessage", tf]);
    await node.waitFor(/QoS mismatch on \/tf_static: DURABILITY: syncbag requests transient_local, \/\S+ offers volatile.*re-subscribing reliable\/volatile/, 30_000);
    // A few messages after the re-subscription.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    pub.signalGroup("SIGINT");
    await pub.exited;
    const contents = await stop(node, out);
    assert.ok((countsByTopic(contents)["/tf_static"] ?? 0) >= 3, `/tf_static recorded: ${countsByTopic(contents)["/tf_static"] ?? 0}`);
  });
});
