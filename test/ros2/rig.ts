/**
 * The simulated rig the ROS 2 suites publish: the committed sample drive (bags/sample, a rosbag2
 * MCAP the simulator wrote), sent over DDS by an rclpy peer (peers/publish_bag.py), with the
 * params file the CLI generates for its rig, written as ROS reads it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { paramsYamlForRig } from "../../src/cli/commands/params.js";
import { readMcap, type McapMessage } from "./mcap.js";
import { killAll, PEERS, REPO, start, stillRunning, type Proc } from "./procs.js";

export const SAMPLE_BAG = join(REPO, "bags", "sample", "drive-compact-s7");
export const SAMPLE_RIG = "sample-compact";

export interface SampleBag {
  messages: McapMessage[];
  topics: string[];
  /** Topics the sensors publish (all but the latched /tf_static). */
  sensorTopics: string[];
}

let bag: SampleBag | undefined;
export function sampleBag(): SampleBag {
  if (bag !== undefined) return bag;
  const contents = readMcap(join(SAMPLE_BAG, "drive-compact-s7_0.mcap"));
  const topics = [...contents.channels.keys()];
  bag = { messages: contents.messages, topics, sensorTopics: topics.filter((t) => t !== "/tf_static") };
  return bag;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `syncbag-ros2-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The hooks every ROS 2 suite needs, registered in the calling describe: skip where ROS 2 is
 * unavailable, kill every process group a test started, remove the temporary folders, and fail
 * if any process outlived the suite. Returns a maker of temporary folders removed at the end.
 */
export function ros2Suite(unavailable: string | null): (name: string) => string {
  const temps: (() => void)[] = [];
  before(function () {
    if (unavailable !== null) this.skip();
  });
  afterEach(async () => {
    await killAll();
  });
  after(async () => {
    await killAll();
    for (const cleanup of temps.splice(0)) cleanup();
    assert.deepEqual(stillRunning(), []);
  });
  return (name) => {
    const { dir, cleanup } = tempDir(name);
    temps.push(cleanup);
    return dir;
  };
}

/**
 * A reader history deep enough for the whole drive: DDS drops what the node has not taken yet
 * once the history is full, and the suites count every message (a 2-core CI box stalls).
 */
export const DEEP_SENSOR_QOS = "sensor_qos:\n  depth: 5000";

/** The generated params file for the sample rig, plus `extra` lines under ros__parameters (block style). */
export function writeParamsFile(dir: string, extra = DEEP_SENSOR_QOS): string {
  const path = join(dir, "params.yaml");
  let text = paramsYamlForRig(SAMPLE_RIG);
  if (extra !== "") text = text.replace("  ros__parameters:\n", `  ros__parameters:\n${extra.replace(/^/gm, "    ")}\n`);
  writeFileSync(path, text);
  return path;
}

export interface PeerResult {
  published: Record<string, number>;
  died?: boolean;
}

/** Starts the rclpy peer publishing the sample drive once the given topics have subscribers. */
export function startPeer(args: readonly string[] = [], waitFor: readonly string[] = sampleBag().sensorTopics): Proc {
  return start("publish_bag.py", "python3", [join(PEERS, "publish_bag.py"), SAMPLE_BAG, "--wait-subscribers", waitFor.join(","), ...args]);
}

export async function peerResult(peer: Proc): Promise<PeerResult> {
  const code = await peer.exited;
  const line = peer.output().split("\n").find((l) => l.startsWith("{"));
  assert.ok(line !== undefined, `the peer printed no result (exit ${code}):\n${peer.output().slice(-2000)}`);
  return JSON.parse(line) as PeerResult;
}

/** Environment for syncbag's node wrappers: run the sources under test, not a possibly older dist/. */
export const NODE_ENV = { SYNCBAG_FROM_SOURCE: "1" };
