/**
 * What a ROS user does with a running syncbag node, with ROS's own tools: parameters from params
 * files and -p (parsed by ROS, as under ros2 launch), `ros2 param get/set`, use_sim_time with
 * /clock, the Trigger services, ~/status and /diagnostics with `ros2 topic echo`.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paramsYamlForRig } from "../../src/cli/commands/params.js";
import { flattenParameters } from "../../src/transport/parameters.js";
import { parse } from "yaml";
import { isolateRosGraph, rosUnavailable } from "./env.js";
import { mcapFiles, readMcap } from "./mcap.js";
import { groupExited, PEERS, run, start, type Proc } from "./procs.js";
import { NODE_ENV, peerResult, sampleBag, ros2Suite, startPeer, writeParamsFile } from "./rig.js";

isolateRosGraph();
const unavailable = rosUnavailable();

async function ros2(args: string[], timeoutMs = 30_000): Promise<string> {
  const { code, output } = await run(`ros2 ${args.slice(0, 2).join(" ")}`, "ros2", args, { timeoutMs });
  assert.equal(code, 0, `ros2 ${args.join(" ")} exited ${code}:\n${output}`);
  return output;
}

/** The parameters an rclpy node reads from these ROS arguments (ROS's YAML parser). */
async function rosReads(args: string[]): Promise<Record<string, unknown>> {
  const { code, output } = await run("list_params.py", "python3", [join(PEERS, "list_params.py"), "syncbag", "--ros-args", ...args]);
  assert.equal(code, 0, output);
  return JSON.parse(output.split("\n").find((l) => l.startsWith("{"))!) as Record<string, unknown>;
}

describe(`ROS 2: parameters, services and status of a running syncbag node${unavailable === null ? "" : ` — skipped: ${unavailable}`}`, function () {
  this.timeout(120_000);
  const temp = ros2Suite(unavailable);
  const work = (): string => temp("node");

  it("ROS's parser reads every generated params file (each built-in rig) as syncbag's own reader does", async () => {
    const dir = work();
    for (const rig of ["default", "sample-compact", "sample-faulty", "sample-step", "standard"]) {
      const text = paramsYamlForRig(rig);
      assert.doesNotMatch(text, /\{\}|\[\]/, `${rig}: no flow-style empty collections`);
      const file = join(dir, `${rig}.yaml`);
      writeFileSync(file, text);
      const ours = flattenParameters((parse(text) as { "/**": { ros__parameters: Record<string, unknown> } })["/**"].ros__parameters);
      const theirs = await rosReads(["--params-file", file]);
      delete theirs.use_sim_time; // rclpy declares these itself
      delete theirs.start_type_description_service;
      delete ours.use_sim_time;
      assert.deepEqual(Object.keys(theirs).sort(), Object.keys(ours).sort(), `${rig}: parameter names as ROS reads them`);
    }
  });

  it("params files and -p as ROS merges them, ros2 param get/set (schema message, read-only), ~/split ~/snapshot ~/pause ~/resume, ~/status and /diagnostics", async () => {
    const dir = work();
    const params = writeParamsFile(dir);
    // A later, node-specific file (what ros2 launch writes for output_dir:=) wins over the
    // first file's /** section, and over a -p in the global section: ROS's rule, checked below
    // against an rclpy node given the same arguments.
    const second = join(dir, "second.yaml");
    const out = join(dir, "second-out");
    writeFileSync(second, `/syncbag:\n  ros__parameters:\n    output_dir: ${out}\n    record:\n      compression: lz4\n`);
    const args = ["--params-file", params, "--params-file", second, "-p", "record.compression:=none", "-p", "record.snapshotSeconds:=30", "-p", "align.maxWaitS:=0.7"];
    const reference = await rosReads(args);
    const node = start("ros2 run", "ros2", ["run", "syncbag", "syncbag_node", "--ros-args", ...args], { env: NODE_ENV });
    await node.waitFor(/syncbag node: running/, 60_000);

    for (const name of ["output_dir", "record.compression", "record.snapshotSeconds", "align.maxWaitS"]) {
      const got = /value is: (.*)/.exec(await ros2(["param", "get", "/syncbag", name]))?.[1]?.trim();
      const expected = reference[name];
      if (typeof expected === "number") assert.equal(Number(got), expected, `${name}: ${got}, as rclpy reads it (${expected})`);
      else assert.equal(got, String(expected), `${name}: as rclpy reads it`);
    }
    assert.equal(reference.output_dir, out);
    assert.equal(reference["record.compression"], "lz4");

    const bad = await ros2(["param", "set", "/syncbag", "record.compression", "bogus"]);
    assert.match(bad, /Setting parameter failed: record\.compression: Invalid option: expected one of "zstd"\|"lz4"\|"none" \(got "bogus"\)/);
    const notPositive = await ros2(["param", "set", "/syncbag", "align.lidarPeriodS", "0.0"]);
    assert.match(notPositive, /Setting parameter failed: align\.lidarPeriodS: Too small: expected number to be >0/);
    const valid = await ros2(["param", "set", "/syncbag", "record.compression", "zstd"]);
    assert.match(valid, /Setting parameter failed: record\.compression cannot change while the node runs: a file's compressor is made when it is opened; restart the node with the new value/);
    const readOnly = await ros2(["param", "set", "/syncbag", "qos_overrides./sensing/imu/imu_raw.subscription.depth", "5"]);
    assert.match(readOnly, /Setting parameter failed: .*read-?only/i);

    const peer = startPeer(["--rate", "2"]);
    const { published } = await peerResult(peer);
    const status = async (): Promise<{ transport: string; subscriptions: { topic: string; delivered: number }[] }> =>
      JSON.parse(/data: '(.*)'\s*\n---/.exec(await ros2(["topic", "echo", "--once", "--full-length", "/syncbag/status", "std_msgs/msg/String"]))![1]!) as {
        transport: string;
        subscriptions: { topic: string; delivered: number }[];
      };
    /** IMU messages the node has taken from DDS (acknowledged by DDS is not yet taken by the node). */
    const imuTaken = async (n: number): Promise<void> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const now = await status();
        assert.equal(now.transport, "rclnodejs");
        const taken = now.subscriptions.find((x) => x.topic === "/sensing/imu/imu_raw")?.delivered ?? 0;
        if (taken === n) return;
        assert.ok(taken < n && Date.now() < deadline, `~/status: ${taken} IMU messages delivered, expected ${n}`);
      }
    };
    await imuTaken(published["/sensing/imu/imu_raw"]!);
    // /diagnostics carries two arrays from the node (the aligner's sensor statuses and the
    // subscriptions' health), as diagnostic_updater users do, on timers of their own: an echo's
    // first message is either, and eight echoes in a row once all caught the subscriptions' (CI).
    // The echo's filter (ros2 topic echo --filter, evaluated before --once) waits for the sensors'.
    const sensors = await ros2(["topic", "echo", "--once", "--filter", "any(s.name.endswith(': lidar_top') for s in m.status)", "/diagnostics", "diagnostic_msgs/msg/DiagnosticArray"]);
    assert.match(sensors, /name: 'syncbag: lidar_top'/);
    assert.match(await ros2(["topic", "echo", "--once", "--filter", "any(': subscription ' in s.name for s in m.status)", "/diagnostics", "diagnostic_msgs/msg/DiagnosticArray"]), /name: 'syncbag: subscription \/sensing\/lidar\/top\/points'/);

    const call = async (service: string): Promise<string> => ros2(["service", "call", `/syncbag/${service}`, "std_srvs/srv/Trigger"]);
    assert.match(await call("pause"), /success=True, message='recording paused'/);
    const pausedPeer = await peerResult(startPeer(["--rate", "4", "--node-name", "paused_peer"]));
    await imuTaken(published["/sensing/imu/imu_raw"]! + pausedPeer.published["/sensing/imu/imu_raw"]!);
    assert.match(await call("resume"), /success=True, message='recording resumed'/);
    assert.match(await call("split"), new RegExp(`success=True, message='now writing ${out}/syncbag_1\\.mcap'`));
    const snapshot = await call("snapshot");
    assert.match(snapshot, /success=True, message='snapshot of \d+ messages written to /);

    node.signalGroup("SIGINT");
    await node.exited;
    await groupExited(node, 30_000);
    const files = mcapFiles(out).filter((f) => !f.includes("snapshot"));
    assert.equal(files.length, 2, `split: two files in ${out}`);
    assert.ok(existsSync(join(out, "syncbag_snapshot_0.mcap")) || mcapFiles(out).some((f) => f.includes("snapshot")));
    const recorded = files.map((f) => readMcap(f));
    for (const contents of recorded) assert.ok(contents.dataEnd);
    const imuRecorded = recorded.flatMap((c) => c.messages).filter((m) => m.topic === "/sensing/imu/imu_raw").length;
    assert.equal(imuRecorded, published["/sensing/imu/imu_raw"], `while paused (${pausedPeer.published["/sensing/imu/imu_raw"]} more sent) nothing is recorded`);
  });

  it("a bad value given through ROS (-p) refuses the start with one line naming the key and value, and the node exits", async () => {
    const dir = work();
    const { code, output } = await run(
      "ros2 run",
      "ros2",
      ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", writeParamsFile(dir), "-p", "record.compression:=bogus", "-p", `output_dir:=${join(dir, "out")}`],
      { env: NODE_ENV, timeoutMs: 60_000 },
    );
    assert.notEqual(code, 0);
    assert.match(output, /^syncbag node: record\.compression: Invalid option: expected one of "zstd"\|"lz4"\|"none" \(got "bogus"\)$/m);
    assert.doesNotMatch(output, /\n\s+at /, "no stack trace");
  });

  it("use_sim_time:=true follows /clock: log times are the publisher's simulated time", async () => {
    const dir = work();
    const out = join(dir, "out");
    const node: Proc = start(
      "ros2 run",
      "ros2",
      ["run", "syncbag", "syncbag_node", "--ros-args", "--params-file", writeParamsFile(dir), "-p", `output_dir:=${out}`, "-p", "use_sim_time:=true"],
      { env: NODE_ENV },
    );
    await node.waitFor(/syncbag node: running/, 60_000);
    assert.match(await ros2(["param", "get", "/syncbag", "use_sim_time"]), /Boolean value is: True/);
    await peerResult(startPeer(["--clock"]));
    node.signalGroup("SIGINT");
    await node.exited;
    await groupExited(node, 30_000);
    const contents = readMcap(mcapFiles(out)[0]!);
    const bag = sampleBag().messages;
    const first = bag[0]!.logTime;
    const last = bag[bag.length - 1]!.logTime;
    const sensors = contents.messages.filter((m) => m.topic === "/sensing/imu/imu_raw");
    // The count only shows the recording is not empty of sensor data: what this test checks is
    // the time domain. (Exact counts are the launch test's; on a loaded CI host DDS may lose some
    // of a 2x-speed replay even with the deep queue.)
    const imuPublished = bag.filter((m) => m.topic === "/sensing/imu/imu_raw").length;
    assert.ok(sensors.length >= imuPublished / 2, `IMU recorded ${sensors.length} of ${imuPublished} published`);
    for (const m of sensors) assert.ok(m.logTime >= first && m.logTime <= last + 1_000_000_000n, `log time ${m.logTime} within the simulated drive [${first}, ${last}]`);
  });
});
