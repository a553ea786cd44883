/**
 * Losses under load on a real ROS 2 graph: a publisher floods 1 MiB PointCloud2 with a one-deep
 * writer history into a two-deep syncbag reader, and syncbag's account at stop (taken from DDS,
 * dropped in its own queue, reported lost by DDS, recorded) is checked against the publisher's
 * count and the recorded files, so every message is accounted for on one side or the other.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { isolateRosGraph, rosUnavailable } from "./env.js";
import { mcapFiles, readMcap } from "./mcap.js";
import { groupExited, REPO, start, type Proc } from "./procs.js";
import { NODE_ENV, ros2Suite } from "./rig.js";

isolateRosGraph();
const unavailable = rosUnavailable();
const FLOOD = join(REPO, "bench", "ros2", "flood_pointcloud.py");
const TOPICS = ["/bench/points_a", "/bench/points_b"];
const POINT_BYTES = 1 << 20;

/** True when the serialized cloud holds flood_pointcloud.py's points: bytes 0..255 repeated, 1 MiB. */
function holdsPoints(cdr: Uint8Array): boolean {
  let start = -1;
  for (let at = 0; at + POINT_BYTES <= cdr.byteLength && start < 0; at++) if (cdr[at] === 0 && cdr[at + 1] === 1 && cdr[at + 255] === 255) start = at;
  if (start < 0) return false;
  for (let i = 0; i < POINT_BYTES; i++) if (cdr[start + i] !== (i & 255)) return false;
  return true;
}

/**
 * Starts syncbag (`ros2 run`) recording the two bench topics uncompressed into `<dir>/out` with a
 * reliable reader of `depth`, then floods them from an rclpy publisher; returns the node (still
 * running), the output folder and the publisher's count per topic.
 */
async function floodNode(dir: string, depth: number, flood: string[], env: NodeJS.ProcessEnv = {}): Promise<{ node: Proc; out: string; offered: Record<string, number> }> {
  const out = join(dir, "out");
  const params = join(dir, "params.yaml");
  const sensors = Object.fromEntries(TOPICS.map((topic, i) => [`bench_${i}`, { topic, type: "sensor_msgs/PointCloud2", modality: "lidar", frameId: "bench" }]));
  writeFileSync(
    params,
    stringify({ "/**": { ros__parameters: { output_dir: out, suggest_enabled: false, sensor_qos: { reliability: "reliable", depth }, record: { compression: "none" }, align: { sensors } } } }),
  );
  const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", params], { env: { ...NODE_ENV, ...env } });
  await node.waitFor(/syncbag node: running/, 60_000);
  const publisher = start("flood", "python3", [FLOOD, ...flood, "--subscribers", "1"], { env });
  assert.equal(await publisher.exited, 0, publisher.output());
  const offered = (JSON.parse(publisher.output().split("\n").find((l) => l.startsWith("{"))!) as { offered: Record<string, number> }).offered;
  return { node, out, offered };
}

describe(`ROS 2: every message accounted for under load${unavailable === null ? "" : ` — skipped: ${unavailable}`}`, function () {
  this.timeout(120_000);
  const work = ros2Suite(unavailable);

  it("syncbag's account at stop (taken, dropped in its queue, lost reported by DDS, recorded) matches the publisher's count and the files", async () => {
    const { node, out, offered } = await floodNode(work("losses"), 2, ["--mbps", "300", "--seconds", "1.5", "--depth", "1"]);
    node.signalGroup("SIGINT");
    await node.exited;
    await groupExited(node, 30_000);

    const files = mcapFiles(out);
    const inFiles = new Map<string, number>();
    for (const f of files) for (const m of readMcap(f).messages) inFiles.set(m.topic, (inFiles.get(m.topic) ?? 0) + 1);
    const lines: string[] = [];
    for (const topic of TOPICS) {
      const m = new RegExp(`syncbag node: at stop: ${topic}: (\\d+) taken from DDS, (\\d+) dropped in syncbag's queue, (\\d+) reported lost by DDS`).exec(node.output());
      assert.ok(m !== null, `syncbag's account of ${topic} at stop:\n${node.output().slice(-3000)}`);
      const [taken, dropped, reported] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const sent = offered[topic]!;
      assert.ok(taken <= sent, `${topic}: taken ${taken} ≤ offered ${sent}`);
      assert.ok(reported <= sent - taken, `${topic}: DDS-reported losses ${reported} ≤ the ${sent - taken} never taken`);
      assert.equal(inFiles.get(topic) ?? 0, taken - dropped, `${topic}: recorded = taken − dropped in syncbag's queue`);
      lines.push(`${topic}: offered ${sent}, taken ${taken}, dropped ${dropped}, recorded ${taken - dropped}, DDS-reported ${reported}`);
    }
    assert.match(node.output(), /syncbag node: at stop: recorder: \d+ recorded, 0 dropped at the write queue/);
    // What the load did, for the log of the run (the split varies with the machine's load).
    console.log(`      ${lines.join("\n      ")}`);
  });

  it("the installed large-message DDS settings (share/syncbag/launch/dds/cyclonedds.xml, as the README exports them) start Cyclone DDS in both processes, and every 1 MiB cloud is recorded byte for byte", async () => {
    const prefix = (process.env.AMENT_PREFIX_PATH ?? "").split(":").find((p) => existsSync(join(p, "share", "syncbag", "package.xml")));
    assert.ok(prefix !== undefined, "syncbag's install prefix on AMENT_PREFIX_PATH");
    const config = join(prefix, "share", "syncbag", "launch", "dds", "cyclonedds.xml");
    assert.ok(existsSync(config), `${config} is installed`);
    const { node, out, offered } = await floodNode(work("dds-config"), 100, ["--mbps", "40", "--seconds", "1"], { CYCLONEDDS_URI: `file://${config}` });
    node.signalGroup("SIGINT");
    await node.exited;
    await groupExited(node, 30_000);
    const payloads = new Map<string, Uint8Array[]>();
    for (const f of mcapFiles(out)) for (const m of readMcap(f).messages) if (TOPICS.includes(m.topic)) payloads.set(m.topic, [...(payloads.get(m.topic) ?? []), m.data]);
    for (const topic of TOPICS) {
      const got = payloads.get(topic) ?? [];
      assert.equal(got.length, offered[topic], `${topic}: recorded ${got.length} of ${offered[topic]} offered`);
      // The publisher's 1 MiB of points is bytes 0..255 repeated: each recorded cloud carries it whole.
      for (const [i, d] of got.entries()) assert.ok(holdsPoints(d), `${topic}: cloud ${i} (${d.byteLength} bytes) holds the 1 MiB of points intact`);
    }
  });
});
