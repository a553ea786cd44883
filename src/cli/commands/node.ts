/**
 * `syncbag node`: the ROS 2 node (what `ros2 run syncbag syncbag_node` and the launch files run).
 * Transport: rclnodejs when a ROS 2 environment is sourced and it loads, else in-process;
 * `--transport` forces one. Parameters: the params file, then ROS parameter overrides, all
 * validated by the node's zod schema. SIGINT/SIGTERM stop input and finalise the recording.
 */
import { reportFailure } from "../failure.js";
import type { Command } from "commander";
import { parseNodeConfig, NodeConfigSchema } from "../../pipeline/config.js";
import { createSyncbagNode } from "../../pipeline/create.js";
import { readParamsFile } from "../../pipeline/params-file.js";
import { describeParameterSchema, flattenParameters, unflattenParameters } from "../../transport/parameters.js";
import { openTransport, TransportKindSchema } from "../../transport/select.js";

interface NodeOptions {
  transport: string;
  role: string;
  paramsFile?: string;
  outputDir?: string;
  name: string;
  namespace: string;
}

const ROLES = ["all", "align", "record", "suggest"] as const;

/** `--params-file <f>` among the ROS arguments after `--` (as ros2 launch passes it). */
function paramsFileFromRosArgs(args: readonly string[]): string | undefined {
  const i = args.indexOf("--params-file");
  return i >= 0 ? args[i + 1] : undefined;
}

export function register(program: Command): void {
  program
    .command("node")
    .description(
      "Run the syncbag ROS 2 node: subscribe to the configured sensor topics without decoding them, align them on the common clock, publish ~/frames, ~/clock_state, /diagnostics and suggestions, record MCAP; services ~/pause ~/resume ~/split ~/snapshot; ROS arguments go after `--`",
    )
    .option("--transport <auto|inprocess|rclnodejs>", "transport; auto = rclnodejs when ROS 2 is sourced and loads, else in-process", "auto")
    .option("--role <all|align|record|suggest>", "what this process runs (split_nodes:=true in the launch file runs one role per node)", "all")
    .option("--params-file <file>", "ROS 2 params YAML (also read from the ROS arguments after --)")
    .option("--output-dir <dir>", "override output_dir")
    .option("--name <node>", "node name", "syncbag")
    .option("--namespace <ns>", "node namespace", "/")
    .allowExcessArguments(true)
    .argument("[rosArgs...]", "ROS arguments (after --), e.g. --ros-args -r __ns:=/car1")
    .action(async (rosArgs: string[], options: NodeOptions) => {
      try {
        await runNode(options, rosArgs);
      } catch (error) {
        reportFailure("node", error);
      }
    });
}

async function runNode(options: NodeOptions, rosArgs: string[]): Promise<void> {
  const kind = TransportKindSchema.parse(options.transport);
  if (!(ROLES as readonly string[]).includes(options.role)) throw new Error(`--role: expected one of ${ROLES.join(", ")}, got "${options.role}"`);
  const paramsFile = options.paramsFile ?? paramsFileFromRosArgs(rosArgs);
  const fromFile = paramsFile === undefined ? {} : await readParamsFile(paramsFile, options.name, options.namespace);
  // Fail on a bad file before any transport starts, naming the key.
  parseNodeConfig({ ...fromFile, ...(options.outputDir === undefined ? {} : { output_dir: options.outputDir }) });
  const description = describeParameterSchema(NodeConfigSchema);
  const flat = flattenParameters(fromFile);
  const choice = await openTransport({
    kind,
    nodeName: options.name,
    namespace: options.namespace,
    parameters: flat,
    parameterDescriptors: description.descriptors,
    dynamicParameterPrefixes: description.dynamic.map((d) => d.prefix),
    argv: rosArgs,
    handleSignals: true,
  });
  console.error(`syncbag node: transport ${choice.kind} (${choice.reason})`);
  const { transport } = choice;
  const config = parseNodeConfig({
    ...unflattenParameters(transport.parameters()),
    ...(options.outputDir === undefined ? {} : { output_dir: options.outputDir }),
  });
  const role = options.role;
  const { node } = await createSyncbagNode({
    transport,
    config: {
      ...config,
      record_enabled: config.record_enabled && (role === "all" || role === "record"),
      suggest_enabled: config.suggest_enabled && (role === "all" || role === "suggest"),
      align: { ...config.align, nodeName: options.name, namespace: options.namespace },
    },
  });
  transport.onShutdown(() => node.stop());
  node.start();
  console.error(`syncbag node: running (${role}); ${config.align.sensors.length} sensors; Ctrl-C finalises the recording`);
}
