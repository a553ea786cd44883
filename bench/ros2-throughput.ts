/**
 * Throughput over real DDS: a separate rclpy process (bench/ros2/flood_pointcloud.py) offers
 * 1 MiB sensor_msgs/PointCloud2 on two reliable topics at each rate; syncbag (`ros2 run
 * syncbag syncbag_node` on the built JavaScript, as installed, recording uncompressed) and
 * `ros2 bag record -s mcap` subscribe in the same run. Each rate runs twice: with Cyclone DDS's
 * defaults and with launch/dds/cyclonedds.xml (the large-message settings syncbag ships) given
 * to all three processes. Prints, per rate and DDS configuration, where every offered message went:
 *   - publisher: messages offered (publish() calls; its writer history is keep_last, 100 deep by default);
 *   - DDS: offered − taken by syncbag = lost between the two processes (writer or reader history
 *     overwritten, keep_last). syncbag also counts DDS's message-lost events; Cyclone DDS raises
 *     none for these (measured), and rclnodejs's raw take carries no MessageInfo, so there are no
 *     publication sequence numbers to find the gaps with: this share is known only here, from the
 *     publisher's count;
 *   - syncbag: dropped in its delivery queues, at its write queue, recorded (from the node's
 *     "at stop" lines, checked against the file: recorded = taken − both drops);
 *   - ros2 bag record -s mcap: recorded (its own losses are not split further);
 *   - CPU seconds each process group used while the publisher ran (the machine's budget is
 *     cores × seconds): where the time goes when a rate cannot be kept.
 *
 *   source ~/syncbag_ws/env.sh && npm run build && npx tsx bench/ros2-throughput.ts [rates MiB/s, default 50,100,200] [seconds, default 20]
 *     [--reader-depth N: syncbag's reader history (sensor_qos.depth), default 100]
 *     [--writer-depth N: the publisher's writer history, default 100]
 *     [--dds default,shipped: the DDS configurations to run, default both]
 *     [--alone: also run each recorder by itself at each rate, for its capacity without the other]
 *     [--no-fsync: syncbag without its fdatasync after each timed flush (what durability costs at the disk's limit)]
 *     [--rosbag2-dir DIR: where `ros2 bag record` writes (default: beside syncbag's output, on the same disk).
 *      Two recorders at 200 MiB/s each ask 400 MiB/s of one disk; with DIR on another device (e.g.
 *      /dev/shm, a RAM disk: rosbag2's advantage) the run compares the recorders, not their share of the disk]
 *
 * Varying one history at a time tells which side of DDS overwrote what syncbag never took.
 *
 * Needs ROS 2 sourced with syncbag built (scripts/ci-ros2.sh). Not part of `npm run bench`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { McapIndexedReader } from "@mcap/core";
import { FileReadable } from "../src/record/file-readable.js";
import { stringify } from "yaml";
import { isolateRosGraph, rosUnavailable } from "../test/ros2/env.js";
import { mcapFiles } from "../test/ros2/mcap.js";
import { groupExited, killAll, start } from "../test/ros2/procs.js";
import { tempDir } from "../test/ros2/rig.js";

const FLOOD = fileURLToPath(new URL("./ros2/flood_pointcloud.py", import.meta.url));
const SHIPPED_DDS = fileURLToPath(new URL("../launch/dds/cyclonedds.xml", import.meta.url));
const BUILT = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const DDS_CONFIGS: Record<string, string | undefined> = { default: undefined, shipped: `file://${SHIPPED_DDS}` };

/** CPU seconds (user + system) used so far by every live process in the process group. */
function groupCpuSeconds(pgid: number): number {
  const tick = 100; // USER_HZ: /proc's clock ticks on Linux
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the parenthesised command name: state ppid pgrp … utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / tick;
}
const TOPICS = ["/bench/points_a", "/bench/points_b"];

async function messageCounts(path: string): Promise<Map<string, number>> {
  const handle = await open(path, "r");
  try {
    const readable = await FileReadable.of(handle);
    const reader = await McapIndexedReader.Initialize({ readable });
    const out = new Map<string, number>();
    for (const [id, n] of reader.statistics?.channelMessageCounts ?? []) {
      const topic = reader.channelsById.get(id)?.topic;
      if (topic !== undefined) out.set(topic, (out.get(topic) ?? 0) + Number(n));
    }
    return out;
  } finally {
    await handle.close();
  }
}

async function recorded(dir: string): Promise<number> {
  let n = 0;
  for (const file of mcapFiles(dir)) for (const [topic, count] of await messageCounts(file)) if (TOPICS.includes(topic)) n += count;
  return n;
}

type Recorders = "both" | "syncbag" | "rosbag2";

async function runRate(mibPerS: number, seconds: number, readerDepth: number, writerDepth: number, dds: string, recorders: Recorders, fsync: boolean, rosbagDir: string | undefined): Promise<string> {
  const { dir, cleanup } = tempDir(`bench-${mibPerS}`);
  const rosbagOut = rosbagDir === undefined ? join(dir, "rosbag2") : join(mkdtempSync(join(rosbagDir, "syncbag-bench-")), "rosbag2");
  const uri = DDS_CONFIGS[dds];
  const ddsEnv: NodeJS.ProcessEnv = uri === undefined ? {} : { CYCLONEDDS_URI: uri };
  try {
    const params = join(dir, "params.yaml");
    const sensors = Object.fromEntries(TOPICS.map((topic, i) => [`bench_${i}`, { topic, type: "sensor_msgs/PointCloud2", modality: "lidar", frameId: "bench" }]));
    writeFileSync(
      params,
      stringify({
        "/**": {
          ros__parameters: {
            output_dir: join(dir, "syncbag"),
            suggest_enabled: false,
            sensor_qos: { reliability: "reliable", depth: readerDepth },
            // fsync: syncbag's fdatasync after each timed flush (at most 0.5 s lost at a power cut); --no-fsync turns it off.
            record: { compression: "none", fsync },
            align: { sensors },
          },
        },
      }),
    );
    const withSyncbag = recorders !== "rosbag2", withRosbag = recorders !== "syncbag";
    const node = withSyncbag ? start("syncbag", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", params], { env: { ...ddsEnv, SYNCBAG_FROM_SOURCE: "0" } }) : null;
    const rosbag = withRosbag ? start("ros2 bag record", "ros2", ["bag", "record", "-s", "mcap", "-o", rosbagOut, ...TOPICS], { env: ddsEnv }) : null;
    await node?.waitFor(/syncbag node: running/, 60_000);
    await rosbag?.waitFor(/Recording\.\.\.|Listening for topics/, 60_000);
    const subscribers = (node === null ? 0 : 1) + (rosbag === null ? 0 : 1);
    const flood = start("flood", "python3", [FLOOD, "--mbps", String(mibPerS), "--seconds", String(seconds), "--subscribers", String(subscribers), "--depth", String(writerDepth)], { env: ddsEnv });
    await flood.waitFor(/flooding/, 60_000);
    const groups: Record<string, number> = { publisher: flood.child.pid! };
    if (node !== null) groups.syncbag = node.child.pid!;
    if (rosbag !== null) groups.rosbag2 = rosbag.child.pid!;
    const cpuBefore = Object.fromEntries(Object.entries(groups).map(([k, pgid]) => [k, groupCpuSeconds(pgid)]));
    // The result line comes once every message is acknowledged (or 10 s after the last).
    await flood.waitFor(/^\{.*\}$/m, (seconds + 120) * 1000);
    const cpu = Object.entries(groups)
      .map(([k, pgid]) => `${k} ${(groupCpuSeconds(pgid) - cpuBefore[k]!).toFixed(1)}`)
      .join(", ");
    const code = await flood.exited;
    const line = flood.output().split("\n").find((l) => l.startsWith("{"));
    if (code !== 0 || line === undefined) throw new Error(`publisher failed (${code}):\n${flood.output().slice(-2000)}`);
    const result = JSON.parse(line) as { offered: Record<string, number>; seconds: number; late: number };
    const offered = Object.values(result.offered).reduce((a, b) => a + b, 0);
    const recordersRunning = [node, rosbag].filter((p) => p !== null);
    for (const p of recordersRunning) p.signalGroup("SIGINT");
    for (const p of recordersRunning) {
      await p.exited;
      await groupExited(p, 60_000);
    }
    const achieved = offered / result.seconds;
    const pct = (n: number): string => `${((100 * n) / offered).toFixed(1)}%`;
    const who = recorders === "both" ? "" : `, ${recorders === "syncbag" ? "syncbag" : "ros2 bag record"} alone`;
    const lines = [
      `${mibPerS} MiB/s offered, DDS ${dds === "default" ? "defaults" : "launch/dds/cyclonedds.xml"}${who} (achieved ${achieved.toFixed(0)} MiB/s, ${result.late} sent late; histories: writer ${writerDepth}, syncbag's reader ${readerDepth}):`,
      `  publisher: ${offered} offered`,
    ];
    if (node !== null) {
      // syncbag's own account, printed at stop once its queues are drained.
      let taken = 0;
      let queueDrops = 0;
      let ddsReported = 0;
      for (const topic of TOPICS) {
        const m = new RegExp(`at stop: ${topic}: (\\d+) taken from DDS, (\\d+) dropped in syncbag's queue, (\\d+) reported lost by DDS`).exec(node.output());
        if (m === null) throw new Error(`syncbag printed no account for ${topic}:\n${node.output().slice(-2000)}`);
        taken += Number(m[1]);
        queueDrops += Number(m[2]);
        ddsReported += Number(m[3]);
      }
      const writeDrops = Number(/at stop: recorder: \d+ recorded, (\d+) dropped at the write queue/.exec(node.output())?.[1] ?? "NaN");
      const ours = await recorded(join(dir, "syncbag"));
      // Write drops are counted over every topic the recorder saw; on these runs only the bench topics carry load.
      const accounts = ours === taken - queueDrops - writeDrops ? "adds up" : `does not add up (the files hold ${ours})`;
      lines.push(
        `  DDS → syncbag: ${offered - taken} lost before syncbag took them (${pct(offered - taken)}; DDS reported ${ddsReported} of them as lost)`,
        `  syncbag: ${taken} taken, ${queueDrops} dropped in its delivery queues, ${writeDrops} at its write queue, ${ours} recorded (${pct(ours)}); ${accounts}`,
      );
    }
    if (rosbag !== null) {
      const theirs = await recorded(rosbagOut);
      lines.push(`  ros2 bag record -s mcap: ${theirs} recorded (${pct(theirs)}), ${offered - theirs} lost`);
    }
    lines.push(`  CPU seconds while publishing (${result.seconds.toFixed(1)} s × ${cpus().length} cores available): ${cpu}`);
    return lines.join("\n");
  } finally {
    await killAll();
    cleanup();
    if (rosbagDir !== undefined) rmSync(dirname(rosbagOut), { recursive: true, force: true });
  }
}

isolateRosGraph();
// "default" means Cyclone's own defaults, whatever this shell has configured.
delete process.env.CYCLONEDDS_URI;
const unavailable = rosUnavailable();
if (unavailable !== null) {
  console.error(`ros2-throughput: ${unavailable}`);
  process.exit(1);
}
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "reader-depth": { type: "string", default: "100" },
    "writer-depth": { type: "string", default: "100" },
    dds: { type: "string", default: "default,shipped" },
    alone: { type: "boolean", default: false },
    "no-fsync": { type: "boolean", default: false },
    "rosbag2-dir": { type: "string" },
  },
});
const rates = (positionals[0] ?? "50,100,200").split(",").map(Number);
const seconds = Number(positionals[1] ?? "20");
const readerDepth = Number(flags["reader-depth"]);
const writerDepth = Number(flags["writer-depth"]);
const configs = flags.dds.split(",");
for (const c of configs) {
  if (!(c in DDS_CONFIGS)) {
    console.error(`ros2-throughput: --dds ${c}: unknown DDS configuration (default, shipped)`);
    process.exit(1);
  }
}
if (!existsSync(BUILT)) {
  console.error(`ros2-throughput: ${BUILT} is missing: run \`npm run build\` (the bench runs syncbag as installed)`);
  process.exit(1);
}
const runs: Recorders[] = flags.alone ? ["both", "syncbag", "rosbag2"] : ["both"];
for (const rate of rates) for (const c of configs) for (const r of runs) console.log(await runRate(rate, seconds, readerDepth, writerDepth, c, r, !flags["no-fsync"], flags["rosbag2-dir"]));
