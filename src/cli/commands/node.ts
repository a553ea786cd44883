/**
 * `syncbag node`: the ROS 2 node (what `ros2 run syncbag syncbag_node` and the launch files run).
 * Transport: rclnodejs when a ROS 2 environment is sourced and it loads, else in-process;
 * `--transport` forces one. Parameters: the params file, then ROS parameter overrides, all
 * validated by the node's zod schema. SIGINT/SIGTERM stop input and finalise the recording.
 */
import { EXIT, outputFolderProblem, parseOptions, reportFailure, UsageError } from "../failure.js";
import type { Command } from "commander";
import { z } from "zod";
import { parseNodeConfig, NodeConfigError, NodeConfigSchema } from "../../pipeline/config.js";
import { createSyncbagNode } from "../../pipeline/create.js";
import { parseRosArguments, readRosParameterSources } from "../../pipeline/params-file.js";
import { writeRosbag2Metadata } from "../../pipeline/rosbag2-metadata.js";
import { applyRuntimeParameters, runtimeRefusal } from "../../pipeline/runtime-params.js";
import { describeParameterSchema, flattenParameters, unflattenParameters } from "../../transport/parameters.js";
import type { ParameterValue } from "../../transport/port.js";
import { detectRosEnvironment, openTransport, TransportKindSchema } from "../../transport/select.js";

const ROLES = ["all", "align", "record", "suggest"] as const;

const NodeOptionsSchema = z.object({
  transport: z.enum(TransportKindSchema.options, { error: `expected one of ${TransportKindSchema.options.join(", ")}` }),
  role: z.enum(ROLES, { error: `expected one of ${ROLES.join(", ")}` }),
  paramsFile: z.string().min(1).optional(),
  outputDir: z
    .string()
    .min(1)
    .refine((dir) => outputFolderProblem(dir) === null, { error: (issue) => outputFolderProblem(String(issue.input)) ?? "not a usable folder" })
    .optional(),
  // ROS 2 names: letters, digits, underscores, not starting with a digit (rcl's validation).
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected a ROS node name (letters, digits, '_', not starting with a digit)"),
  namespace: z.string().regex(/^\/([A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*)?$/, "expected a ROS namespace such as / or /car1"),
});
type NodeOptions = z.infer<typeof NodeOptionsSchema>;

/** What a node without sensors would do (subscribe to nothing, record an empty file), refused at start-up like `ros2 bag record` without topics. */
const NO_SENSORS =
  "no sensors configured (align.sensors is empty): nothing to subscribe to or record. Give a params file with align.sensors.<name>.{topic,type,modality} (--params-file, or --ros-args --params-file; launch/params/sim_rig.yaml is an example, `syncbag params --rig default` writes one), or set them with -p after --ros-args";

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
    .action(async (rosArgs: string[], raw: Record<string, unknown>) => {
      try {
        await runNode(parseOptions("node", NodeOptionsSchema, raw), rosArgs);
      } catch (error) {
        // Every parameter problem on its own line, each naming the key and the value.
        if (error instanceof NodeConfigError) {
          for (const problem of error.problems) console.error(`syncbag node: ${problem}`);
          process.exitCode = EXIT.usage;
        } else reportFailure("node", error);
      }
    });
}

async function runNode(options: NodeOptions, rosArgs: string[]): Promise<void> {
  // Under ros2 launch, stdout/stderr are pipes to launch; if launch dies first, a log line must
  // not crash the node (EPIPE) while it finalises the recording.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  const kind = options.transport;
  // --params-file given to syncbag counts as the first ROS params file; the ROS arguments
  // (later files, -p) win over it, as in rcl.
  const argv = options.paramsFile === undefined ? rosArgs : ["--ros-args", "--params-file", options.paramsFile, "--", ...rosArgs];
  const ros = parseRosArguments(argv);
  const nodeName = ros.nodeName ?? options.name;
  const namespace = ros.namespace ?? options.namespace;
  const cliOverrides = options.outputDir === undefined ? {} : { output_dir: options.outputDir };
  const rosSourced = detectRosEnvironment().sourced;
  // Where rclnodejs will run, ROS parses the params files and -p (rcl_yaml_param_parser, as under
  // `ros2 launch`) and hands syncbag the overrides; syncbag reads them itself only for the
  // in-process transport. A bad file fails there before any transport starts, naming the key.
  const ownParse = kind === "inprocess" || (kind === "auto" && !rosSourced);
  const fromArgs = ownParse ? await readRosParameterSources(ros, nodeName, namespace) : {};
  if (ownParse) parseNodeConfig({ ...fromArgs, ...cliOverrides });
  const description = describeParameterSchema(NodeConfigSchema);
  // Bound once the node's stages exist; a change accepted before then is read at their start.
  const late: { applyChange?: (changed: Record<string, ParameterValue>) => void } = {};
  const choice = await openTransport({
    kind,
    nodeName: options.name,
    namespace: options.namespace,
    parameters: flattenParameters({ ...fromArgs, ...cliOverrides }),
    parameterDescriptors: description.descriptors,
    dynamicParameterPrefixes: description.dynamic.map((d) => d.prefix),
    validateParameterChange: (all, changed) => runTimeChangeRefusal(all, changed),
    applyParameterChange: (changed) => late.applyChange?.(changed),
    argv,
    handleSignals: true,
  });
  console.error(`syncbag node: transport ${choice.kind} (${choice.reason})`);
  const { transport } = choice;
  let config;
  try {
    config = parseNodeConfig({ ...unflattenParameters(transport.parameters()), ...cliOverrides });
  } catch (error) {
    await transport.shutdown().catch(() => undefined);
    throw error;
  }
  const role = options.role;
  if (config.align.sensors.length === 0) {
    await transport.shutdown();
    throw new UsageError("node", [NO_SENSORS]);
  }
  const { node, recorder, alignment, suggestions } = await createSyncbagNode({
    transport,
    config: {
      ...config,
      record_enabled: config.record_enabled && (role === "all" || role === "record"),
      suggest_enabled: config.suggest_enabled && (role === "all" || role === "suggest"),
      align: { ...config.align, nodeName: transport.nodeName ?? nodeName, namespace: transport.nodeNamespace ?? namespace },
    },
    // One decoder per graph: the align role (it ingests the clouds) or the single node.
    decodePackets: role === "all" || role === "align",
  });
  late.applyChange = (changed) => {
    // The whole configuration as ROS now holds it, validated (the set callback already did).
    const now = parseNodeConfig({ ...unflattenParameters(transport.parameters()), ...cliOverrides });
    const live = {
      align: alignment.config,
      ...(recorder === null ? {} : { record: recorder.config }),
      ...(suggestions === null ? {} : { suggest: suggestions.config }),
    };
    for (const line of applyRuntimeParameters(changed, now, live)) console.error(`syncbag node: parameter ${line}`);
  };
  transport.onShutdown(async () => {
    await node.stop();
    for (const line of node.lossSummary()) console.error(`syncbag node: at stop: ${line}`);
    // The folder as rosbag2 reads it (ros2 bag info/play <folder>), once the files are final.
    if (recorder === null) return;
    try {
      await writeRosbag2Metadata(recorder.stats().files);
    } catch (error) {
      console.error(`syncbag node: no rosbag2 metadata.yaml written: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  // The node's own timers do not hold the process (they are unref'd so tests end); on the
  // in-process transport nothing else would, and the process left after start-up with the
  // recording unfinalised. This holds it until SIGINT/SIGTERM shut the transport down (the
  // signal handlers then finalise the recording and exit).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  transport.onShutdown(() => clearInterval(keepAlive));
  node.start();
  console.error(`syncbag node: running (${role}); ${config.align.sensors.length} sensors; Ctrl-C finalises the recording`);
}

/**
 * `ros2 param set` at run time: a value the schema refuses is refused with the schema's message
 * (key, value, expectation); a valid value of a parameter the running stages read at each use
 * (runtime-params.ts) is accepted and applied; any other is refused saying why, since the node
 * built that part from it at start and would otherwise report a value it does not use.
 */
function runTimeChangeRefusal(all: Record<string, ParameterValue>, changed: readonly string[]): string | null {
  try {
    parseNodeConfig(unflattenParameters(all));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return runtimeRefusal(changed);
}
