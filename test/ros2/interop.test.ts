/**
 * Interoperability with rosbag2, both ways: syncbag's recording read by `ros2 bag info` and
 * replayed by `ros2 bag play` to an rclpy subscriber; `ros2 bag record` recordings (mcap and
 * sqlite3 storage) converted by `syncbag convert` with every message kept.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isolateRosGraph, rosUnavailable } from "./env.js";
import { asDelivered, digestsByTopic, mcapFiles, readMcap } from "./mcap.js";
import { groupExited, PEERS, REPO, run, start } from "./procs.js";
import { NODE_ENV, peerResult, sampleBag, ros2Suite, startPeer, writeParamsFile } from "./rig.js";

isolateRosGraph();
const unavailable = rosUnavailable();

function bagTypes(): Map<string, string> {
  const bag = readMcap(join(REPO, "bags", "sample", "drive-compact-s7", "drive-compact-s7_0.mcap"));
  return new Map([...bag.channels].map(([topic, c]) => [topic, c.schemaName]));
}

describe(`ROS 2: rosbag2 interoperability${unavailable === null ? "" : ` — skipped: ${unavailable}`}`, function () {
  this.timeout(120_000);
  const work = ros2Suite(unavailable);

  it("syncbag's MCAP and its output folder: ros2 bag info reads both; ros2 bag play replays its sensor topics byte-identical to an rclpy subscriber", async () => {
    const dir = work("play");
    const out = join(dir, "out");
    const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", writeParamsFile(dir), "-p", `output_dir:=${out}`], { env: NODE_ENV });
    await node.waitFor(/syncbag node: running/, 60_000);
    await peerResult(startPeer(["--rate", "2"]));
    node.signalGroup("SIGINT");
    await node.exited;
    await groupExited(node, 30_000);
    const file = mcapFiles(out)[0]!;
    const recorded = readMcap(file);
    const sensors = sampleBag().sensorTopics;
    const counts = new Map(sensors.map((t) => [t, recorded.messages.filter((m) => m.topic === t).length]));

    const info = await run("ros2 bag info", "ros2", ["bag", "info", file]);
    assert.equal(info.code, 0, info.output);
    for (const topic of sensors) assert.match(info.output, new RegExp(`Topic: ${topic} \\| Type: [^|]+ \\| Count: ${counts.get(topic)} \\|`), `ros2 bag info lists ${topic}`);

    // The output folder too (metadata.yaml written at shutdown, as ros2 bag record does).
    const folder = await run("ros2 bag info", "ros2", ["bag", "info", out]);
    assert.equal(folder.code, 0, folder.output);
    for (const topic of sensors) assert.match(folder.output, new RegExp(`Topic: ${topic} \\| Type: [^|]+ \\| Count: ${counts.get(topic)} \\|`), `ros2 bag info <folder> lists ${topic}`);

    const types = bagTypes();
    const receiver = start("receive_raw.py", "python3", [join(PEERS, "receive_raw.py"), "--timeout", "60", ...sensors.flatMap((t) => ["--topic", `${t}:${types.get(t)}:${counts.get(t)}`])]);
    await receiver.waitFor(/receive_raw: subscribed/);
    const play = await run("ros2 bag play", "ros2", ["bag", "play", file, "--rate", "2", "--delay", "1", "--topics", ...sensors], { timeoutMs: 60_000 });
    assert.equal(play.code, 0, play.output);
    await receiver.exited;
    const line = receiver.output().split("\n").find((l) => l.startsWith("{"));
    assert.ok(line !== undefined, receiver.output());
    const received = new Map(Object.entries((JSON.parse(line) as { received: Record<string, string[]> }).received).map(([t, list]) => [t, [...list].sort()]));
    const expected = digestsByTopic(recorded.messages, new Set(sensors));
    for (const topic of sensors) assert.deepEqual(received.get(topic), expected.get(topic), `${topic}: replayed bytes equal the recorded ones`);
  });

  it("ros2 bag record -s mcap and -s sqlite3 of the rig, converted by syncbag convert with every message kept", async () => {
    const dir = work("record");
    const sensors = sampleBag().sensorTopics;
    const topics = ["/tf_static", ...sensors];
    const recorders = ["mcap", "sqlite3"].map((storage) => {
      const p = start(`ros2 bag record -s ${storage}`, "ros2", ["bag", "record", "-s", storage, "-o", join(dir, `rec_${storage}`), ...topics]);
      return p;
    });
    for (const r of recorders) await r.waitFor(/Recording\.\.\.|Listening for topics/, 30_000);
    // Each recorder subscribes to every topic before the drive starts.
    const { published } = await peerResult(startPeer(["--rate", "2", "--settle", "3"]));
    for (const r of recorders) r.signalGroup("SIGINT");
    for (const r of recorders) {
      await r.exited;
      await groupExited(r, 30_000);
    }
    const conv = join(dir, "converted");
    const convert = await run("syncbag convert", process.execPath, ["--import", "tsx", join(REPO, "src", "cli", "main.ts"), "convert", join(dir, "rec_mcap"), join(dir, "rec_sqlite3"), "-o", conv], { timeoutMs: 90_000 });
    assert.equal(convert.code, 0, convert.output);
    const outputs = readdirSync(conv).filter((f) => f.endsWith(".mcap"));
    assert.equal(outputs.length, 2, `one converted MCAP per recording: ${outputs.join(", ")}`);
    // syncbag convert keeps every message rosbag2 stored (its own count, from ros2 bag info; rosbag2
    // may itself miss a few of what was published when this machine is loaded), each one byte for
    // byte as the publisher sent it (as DDS delivered it).
    const sent = digestsByTopic(sampleBag().messages, new Set(sensors), asDelivered);
    for (const storage of ["mcap", "sqlite3"]) {
      const info = await run("ros2 bag info", "ros2", ["bag", "info", join(dir, `rec_${storage}`)]);
      assert.equal(info.code, 0, info.output);
      const name = outputs.find((f) => f.startsWith(`rec_${storage}`));
      assert.ok(name !== undefined, `a conversion of rec_${storage}: ${outputs.join(", ")}`);
      const contents = readMcap(join(conv, name));
      const converted = digestsByTopic(contents.messages, new Set(sensors));
      for (const topic of sensors) {
        const stored = Number(new RegExp(`Topic: ${topic} \\| Type: [^|]+ \\| Count: (\\d+) \\|`).exec(info.output)?.[1] ?? -1);
        assert.ok(stored >= 0.95 * published[topic]!, `rosbag2 (${storage}) recorded ${stored} of ${published[topic]} on ${topic}`);
        const kept = converted.get(topic) ?? [];
        assert.equal(kept.length, stored, `${name} ${topic}: ${kept.length} of the ${stored} messages rosbag2 stored`);
        const pool = new Map<string, number>();
        for (const d of sent.get(topic) ?? []) pool.set(d, (pool.get(d) ?? 0) + 1);
        for (const d of kept) {
          assert.ok((pool.get(d) ?? 0) > 0, `${name} ${topic}: a message whose bytes were never published`);
          pool.set(d, pool.get(d)! - 1);
        }
      }
    }
  });
});
