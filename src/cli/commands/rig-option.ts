/** `--rig <name|file>` of sim, start and params: a bad rig is a usage error naming every problem. */
import { loadRig, RigConfigError, type RigConfig } from "../../sim/rig.js";
import { UsageError } from "../failure.js";

export function rigOption(command: string, value: string): RigConfig {
  try {
    return loadRig(value);
  } catch (error) {
    if (!(error instanceof RigConfigError)) throw error;
    const [head, ...details] = error.message.split("\n").map((line) => line.trim());
    throw new UsageError(command, details.length === 0 ? [`--rig: ${head}`] : details.map((d) => `--rig ${head!.replace(/: invalid rig$/, "")}: ${d}`));
  }
}
