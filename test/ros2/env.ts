/**
 * What the ROS 2 suites need from the machine, and the DDS isolation every run uses.
 *
 * `rosUnavailable()` says why the suites cannot run here (null when they can): ROS 2 sourced,
 * `ros2` and rclpy usable, syncbag's ament package built and sourced, rclnodejs built with the
 * syncbag/* bindings. `scripts/ci-ros2.sh` prepares all of it.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { rclnodejsPreflight } from "../../src/transport/rclnodejs-preflight.js";
import { detectRosEnvironment } from "../../src/transport/select.js";

/**
 * Keeps this run's DDS traffic to itself: discovery on this host only, and a domain of its own
 * (from the process id) unless ROS_DOMAIN_ID is set, so concurrent runs on one machine never
 * see each other's nodes. Child processes (ros2 launch, peers) inherit it.
 */
export function isolateRosGraph(): void {
  process.env.ROS_AUTOMATIC_DISCOVERY_RANGE ??= "LOCALHOST";
  process.env.ROS_DOMAIN_ID ??= String(1 + (process.pid % 100));
}

let cached: string | null | undefined;

export function rosUnavailable(): string | null {
  if (cached !== undefined) return cached;
  cached = check();
  return cached;
}

function check(): string | null {
  const env = detectRosEnvironment();
  if (!env.sourced) return `${env.detail}; run scripts/ci-ros2.sh and source the env.sh it prints`;
  const prefixes = (process.env.AMENT_PREFIX_PATH ?? "").split(":");
  if (!prefixes.some((p) => existsSync(join(p, "share", "syncbag", "package.xml")))) {
    return "syncbag's ament package is not on AMENT_PREFIX_PATH: build it with colcon (scripts/ci-ros2.sh) and source its install/setup.bash";
  }
  const problem = rclnodejsPreflight();
  if (problem !== null) return problem;
  let rclnodejsDir: string;
  try {
    rclnodejsDir = dirname(createRequire(import.meta.url).resolve("rclnodejs/package.json"));
  } catch {
    return "rclnodejs is not installed: run scripts/ci-ros2.sh";
  }
  if (!existsSync(join(rclnodejsDir, "generated", "syncbag"))) {
    return "rclnodejs has no syncbag/* bindings: run `npx generate-ros-messages` with the workspace sourced";
  }
  const py = spawnSync("python3", ["-c", "import rclpy, rosbag2_py, syncbag.msg"], { encoding: "utf8" });
  if (py.status !== 0) return `rclpy, rosbag2_py or the syncbag Python messages do not import: ${py.stderr.trim().split("\n").pop() ?? ""}`;
  return null;
}
