/**
 * Checks, before `import("rclnodejs")`, that its native addon can load. When the addon fails to
 * load, rclnodejs recompiles itself at import time (`node-gyp clean`, then a rebuild that needs
 * npx and the ROS 2 headers): that takes minutes, deletes the working build when it fails, and
 * hangs a node start. So syncbag checks the two things that make the addon load — it is built,
 * and the ROS 2 libraries it links are on the library path — and says what is missing instead.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";

/** The shared library every rclnodejs build links; present in every ROS 2 install. */
const RCL_LIBRARY = "librcl.so";

export interface PreflightOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves `rclnodejs/package.json`; default: from this module. */
  resolvePackageJson?: () => string;
  exists?: (path: string) => boolean;
}

/** Why loading rclnodejs would fail or rebuild it, or null when it should load (or is not installed: the import says so). */
export function rclnodejsPreflight(options: PreflightOptions = {}): string | null {
  const env = options.env ?? process.env;
  const exists = options.exists ?? existsSync;
  let packageJson: string;
  try {
    packageJson = (options.resolvePackageJson ?? (() => createRequire(import.meta.url).resolve("rclnodejs/package.json")))();
  } catch {
    return null;
  }
  const addon = join(dirname(packageJson), "build", "Release", "rclnodejs.node");
  if (!exists(addon)) {
    return `rclnodejs is installed but its native addon is not built (${addon} is missing): run \`npm rebuild rclnodejs\` in the syncbag folder with ROS 2 sourced (npm_config_yes=true; see scripts/ci-ros2.sh)`;
  }
  const paths = (env.LD_LIBRARY_PATH ?? "").split(delimiter).filter((p) => p !== "");
  if (!paths.some((p) => exists(join(p, RCL_LIBRARY)))) {
    return `the ROS 2 libraries (${RCL_LIBRARY}) are not on LD_LIBRARY_PATH, so rclnodejs's addon cannot load: source /opt/ros/<distro>/setup.bash in this shell`;
  }
  return null;
}
