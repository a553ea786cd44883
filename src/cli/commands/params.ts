/** `syncbag params`: the node's parameters, as the README table or as a params file for a simulated rig. */
import { describeParameterSchema, formatParameterTable } from "../../transport/parameters.js";
import { reportFailure } from "../failure.js";
import type { Command } from "commander";
import { stringify } from "yaml";
import { NodeConfigSchema } from "../../pipeline/config.js";

import { alignmentConfigForRig } from "../../pipeline/rig-config.js";
import { rigOption } from "./rig-option.js";

/** A ROS 2 params file for a simulated rig: sensors as a map by name (ROS parameters hold no list of maps). */
export function paramsYamlForRig(rigName: string): string {
  const align = alignmentConfigForRig(rigOption("params", rigName));
  const { sensors, ...rest } = align;
  const byName = Object.fromEntries((sensors ?? []).map(({ name, ...sensor }) => [name, sensor]));
  return stringify(withoutEmptyMaps({ "/**": { ros__parameters: { use_sim_time: false, output_dir: "bags/out", align: { ...rest, sensors: byName } } } }));
}

/**
 * Drops empty maps (and the maps they leave empty). `yaml` writes them flow-style (`clock: {}`),
 * which ROS's rcl_yaml_param_parser misreads: it nests the keys that follow under that map. An
 * empty map sets no parameter anyway, so leaving it out keeps the file's meaning.
 */
function withoutEmptyMaps(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const kept = withoutEmptyMaps(child);
    if (kept !== null && typeof kept === "object" && !Array.isArray(kept) && Object.keys(kept).length === 0) continue;
    out[key] = kept;
  }
  return out;
}

export function register(program: Command): void {
  program
    .command("params")
    .description("Print the node's parameters: a Markdown table generated from the zod schemas (--markdown), or a ROS 2 params file for a simulated rig (--rig)")
    .option("--markdown", "the parameter table (as in the README)")
    .option("--rig <name|file>", "a params YAML for this simulated rig")
    .action((options: { markdown?: boolean; rig?: string }) => {
      try {
        if (options.rig !== undefined) process.stdout.write(paramsYamlForRig(options.rig));
        else console.log(formatParameterTable(describeParameterSchema(NodeConfigSchema)));
      } catch (error) {
        reportFailure("params", error);
      }
    });
}
