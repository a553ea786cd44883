/**
 * syncbag on a real ROS 2 graph, started the way users start it (`ros2 launch`, `ros2 run`),
 * recording the sample drive an independent rclpy process publishes over DDS. Each run is
 * stopped with a signal and its MCAP read back with @mcap/core.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { asDelivered, digestsByTopic, indexedMessageCount, mcapFiles, readMcap, type McapContents } from "./mcap.js";
import { isolateRosGraph, rosUnavailable } from "./env.js";
import { groupExited, start, type Proc } from "./procs.js";
import { NODE_ENV, peerResult, sampleBag, ros2Suite, startPeer, writeParamsFile, type PeerResult } from "./rig.js";

isolateRosGraph();
const unavailable = rosUnavailable();
const BEST_EFFORT = ["/sensing/imu/imu_raw", "/sensing/gnss/fix"];

function countsByTopic(contents: McapContents): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of contents.messages) out[m.topic] = (out[m.topic] ?? 0) + 1;
  return out;
}

/** Every published message recorded once, byte for byte (as DDS delivers it), per topic. */
function assertRecordedExactly(contents: McapContents, published: PeerResult["published"]): void {
  const counts = countsByTopic(contents);
  for (const [topic, n] of Object.entries(published)) assert.equal(counts[topic] ?? 0, n, `${topic}: recorded ${counts[topic] ?? 0} of ${n} published`);
  const bag = sampleBag();
  const topics = new Set(Object.keys(published));
  const recorded = digestsByTopic(contents.messages, topics);
  const sent = digestsByTopic(bag.messages, topics, asDelivered);
  const differing = [...topics].filter((t) => JSON.stringify(recorded.get(t) ?? []) !== JSON.stringify(sent.get(t) ?? []));
  assert.deepEqual(differing, [], "topics whose recorded bytes differ from the published CDR");
}

async function stopAndRead(proc: Proc, signal: NodeJS.Signals, group: boolean, dir: string): Promise<{ code: number; contents: McapContents; file: string }> {
  if (group) proc.signalGroup(signal);
  else proc.signal(signal);
  const code = await proc.exited;
  // The nodes too: ros2 launch/run may exit before them (SIGTERM), which must still finalise.
  await groupExited(proc, 30_000);
  const files = mcapFiles(dir);
  assert.equal(files.length, 1, `one MCAP in ${dir}: ${readdirSync(dir).join(", ")}\n${proc.output().slice(-3000)}`);
  const contents = readMcap(files[0]!);
  assert.ok(contents.dataEnd, `${files[0]} has no DataEnd record: the recording was not finalised\n${proc.output().slice(-3000)}`);
  assert.equal(await indexedMessageCount(files[0]!), contents.messages.length, "the indexed reader sees every message");
  return { code, contents, file: files[0]! };
}

describe(`ROS 2: syncbag started by ros2 launch / ros2 run, rclpy peers over DDS${unavailable === null ? "" : ` — skipped: ${unavailable}`}`, function () {
  this.timeout(90_000);
  const work = ros2Suite(unavailable);
  const workDir = (name: string): { dir: string; out: string; params: string } => {
    const dir = work(name);
    return { dir, out: join(dir, "out"), params: writeParamsFile(dir) };
  };

  it("syncbag.launch.py: every message (reliable and best-effort publishers, /tf_static latched before start) byte-identical, corrected times, frames, suggestions; Ctrl-C to the process group finalises the file", async () => {
    const { out, params } = workDir("launch-py");
    // The peer publishes /tf_static (transient local) before syncbag exists, then waits for it.
    const peer = startPeer(["--best-effort-topics", BEST_EFFORT.join(",")]);
    const launch = start("ros2 launch", "ros2", ["launch", "syncbag", "syncbag.launch.py", `params_file:=${params}`, `output_dir:=${out}`], { env: NODE_ENV });
    await launch.waitFor(/syncbag node: running/, 60_000);
    const { published } = await peerResult(peer);
    assert.ok(Object.values(published).reduce((a, b) => a + b, 0) > 1900, "the peer published the drive");
    const { code, contents } = await stopAndRead(launch, "SIGINT", true, out);
    assert.equal(code, 0, launch.output().slice(-2000));
    assert.doesNotMatch(launch.output(), /exiting without finishing/);

    assertRecordedExactly(contents, published);
    for (const topic of BEST_EFFORT) assert.ok(published[topic]! > 0);
    assert.equal(countsByTopic(contents)["/tf_static"], 1, "the latched /tf_static published before syncbag started");
    // Corrected capture times: publish_time is the device stamp mapped onto the receive clock,
    // so it precedes the receive time (log_time) by about the sensor's latency (110 ms lidar).
    const lidar = contents.messages.filter((m) => m.topic === "/sensing/lidar/top/points").slice(10);
    const lags = lidar.map((m) => Number(m.logTime - m.publishTime) / 1e6).sort((a, b) => a - b);
    const median = lags[lags.length >> 1]!;
    assert.ok(median > 80 && median < 180, `lidar receive − corrected capture, median ${median.toFixed(1)} ms (configured latency 115 ms)`);
    const counts = countsByTopic(contents);
    assert.ok((counts["/syncbag/frames"] ?? 0) >= 30, `aligned frames recorded: ${counts["/syncbag/frames"] ?? 0}`);
    assert.ok((counts["/syncbag/suggestions"] ?? 0) > 0, `suggestions recorded: ${JSON.stringify(counts)}`);
  });
  it("syncbag.launch.xml with split_nodes:=true: three nodes, the recorder keeps every sensor message; SIGTERM to ros2 launch finalises the file", async () => {
    const { out, params } = workDir("launch-xml");
    const peer = startPeer();
    const launch = start("ros2 launch (xml)", "ros2", ["launch", "syncbag", "syncbag.launch.xml", `params_file:=${params}`, `output_dir:=${out}`, "split_nodes:=true"], { env: NODE_ENV });
    for (const role of ["align", "record", "suggest"]) await launch.waitFor(new RegExp(`syncbag node: running \\(${role}\\)`), 60_000);
    const { published } = await peerResult(peer);
    // ros2 launch itself exits 143 on SIGTERM without stopping its nodes; they notice the orphaning.
    const { contents } = await stopAndRead(launch, "SIGTERM", false, out);
    assertRecordedExactly(contents, published);
  });

  it("ros2 run: a publisher dying mid-run does not stop the recording (a second one is recorded after it); SIGTERM to ros2 run finalises", async () => {
    const { out, params } = workDir("run-term");
    const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", params, "-p", `output_dir:=${out}`], { env: NODE_ENV });
    await node.waitFor(/syncbag node: running/, 60_000);
    const dying = await peerResult(startPeer(["--die-after", "1.5", "--node-name", "dying_peer"]));
    assert.equal(dying.died, true);
    const { published } = await peerResult(startPeer(["--node-name", "second_peer"]));
    // ros2 run dies on SIGTERM (exit 143) without passing it on; the node notices the orphaning.
    const { contents } = await stopAndRead(node, "SIGTERM", false, out);
    assert.match(node.output(), /parent process \d+ exited without stopping this node/);
    const counts = countsByTopic(contents);
    for (const [topic, n] of Object.entries(published)) {
      if (topic === "/tf_static") continue;
      assert.equal(counts[topic], n + (dying.published[topic] ?? 0), `${topic}: both publishers' messages recorded`);
    }
  });

  it("ros2 run: Ctrl-C to the process group (SIGINT reaching ros2 run and the node) finalises the file", async () => {
    const { out, params } = workDir("run-int");
    const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", params, "-p", `output_dir:=${out}`], { env: NODE_ENV });
    await node.waitFor(/syncbag node: running/, 60_000);
    const { published } = await peerResult(startPeer());
    const { contents } = await stopAndRead(node, "SIGINT", true, out);
    assert.doesNotMatch(node.output(), /exiting without finishing/);
    assertRecordedExactly(contents, published);
  });
});
