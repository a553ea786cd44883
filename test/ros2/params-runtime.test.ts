/**
 * `ros2 param set` on a running syncbag node: parameters the running stages read at each use are
 * accepted and applied (shown by what the recording then does); the others are refused with the
 * reason; invalid values are refused with the schema's message.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isolateRosGraph, rosUnavailable } from "./env.js";
import { mcapFiles, readMcap } from "./mcap.js";
import { groupExited, run, start } from "./procs.js";
import { NODE_ENV, peerResult, ros2Suite, startPeer, writeParamsFile } from "./rig.js";

isolateRosGraph();
const unavailable = rosUnavailable();

async function ros2(args: string[]): Promise<string> {
  const { code, output } = await run(`ros2 ${args.slice(0, 2).join(" ")}`, "ros2", args, { timeoutMs: 30_000 });
  assert.equal(code, 0, `ros2 ${args.join(" ")} exited ${code}:\n${output}`);
  return output;
}

describe(`ROS 2: parameters changed at run time with ros2 param set${unavailable === null ? "" : ` — skipped: ${unavailable}`}`, function () {
  this.timeout(120_000);
  const work = ros2Suite(unavailable);

  it("record.splitDurationS set while running splits the recording from then on; output_dir and a sensor topic are refused with the reason; a bad value with the schema's message", async () => {
    const dir = work("runtime");
    const out = join(dir, "out");
    const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", writeParamsFile(dir), "-p", `output_dir:=${out}`], { env: NODE_ENV });
    await node.waitFor(/syncbag node: running/, 60_000);

    assert.match(await ros2(["param", "set", "/syncbag", "record.splitDurationS", "1.0"]), /Set parameter successful/);
    await node.waitFor(/syncbag node: parameter record\.splitDurationS = 1 \(was 0\), applied checked at every message/, 10_000);
    assert.match(await ros2(["param", "get", "/syncbag", "record.splitDurationS"]), /Double value is: 1\.0/);
    assert.match(await ros2(["param", "set", "/syncbag", "align.clockStatePeriodS", "0.5"]), /Set parameter successful/);
    await node.waitFor(/syncbag node: parameter align\.clockStatePeriodS = 0\.5 \(was 1\)/, 10_000);

    const elsewhere = await ros2(["param", "set", "/syncbag", "output_dir", join(dir, "elsewhere")]);
    assert.match(elsewhere, /Setting parameter failed: output_dir cannot change while the node runs: the recording's folder is opened at start; restart the node with the new value/);
    const topic = await ros2(["param", "set", "/syncbag", "align.sensors.lidar_top.topic", "/elsewhere/points"]);
    assert.match(topic, /Setting parameter failed: align\.sensors\.lidar_top\.topic cannot change while the node runs: the topics and clock models are set up at start/);
    const negative = await ros2(["param", "set", "/syncbag", "record.splitDurationS", "-1.0"]);
    assert.match(negative, /Setting parameter failed: record\.splitDurationS: Too small: expected number to be >=0 \(got -1\)/);
    assert.match(await ros2(["param", "get", "/syncbag", "record.splitDurationS"]), /Double value is: 1\.0/, "a refused value leaves the parameter as it was");

    // The 4 s drive, recorded with 1 s splits: the change is in effect.
    const { published } = await peerResult(startPeer());
    node.signalGroup("SIGINT");
    await node.exited;
    await groupExited(node, 30_000);
    const files = mcapFiles(out);
    assert.ok(files.length >= 3, `1 s splits of a 4 s drive: ${files.length} file(s)`);
    const imu = files.map((f) => readMcap(f).messages.filter((m) => m.topic === "/sensing/imu/imu_raw").length).reduce((a, b) => a + b, 0);
    assert.equal(imu, published["/sensing/imu/imu_raw"], "every IMU message recorded across the split files");
  });
});
