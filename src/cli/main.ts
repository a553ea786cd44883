#!/usr/bin/env node
/** The `syncbag` command. Each subcommand lives in ./commands/<name>.ts and registers itself here. */
import { setFlagsFromString } from "node:v8";
import { Command, CommanderError } from "commander";
import { debugStack, EXIT, oneLine, reportUsage, UsageError } from "./failure.js";
import { tuneMalloc } from "./malloc.js";

/**
 * V8 sizes its collection limits from the JS heap and counts ArrayBuffer memory against them.
 * syncbag's data live in Buffers (1 MiB clouds, 6 MB chunks) next to a ~25 MB heap, so by default
 * every ~25 MB of data started a full mark-compact: 70–80 of them in 10 s of 200 MiB/s over DDS
 * (9–12 CPU-s of the node's, most on V8's helper threads) and a quarter of a copy-only
 * conversion's time. A 256 MB initial heap sets those limits to about a second of the heaviest
 * stream: 17–23 mark-compacts, 6–7 CPU-s. Isolates made from here on (conversion workers, the
 * zstd and hashing threads) take it from this call; the main thread's heap exists before any
 * script runs, so the ROS launcher (scripts/ros-node.sh.in) passes the same flag to node itself.
 */
setFlagsFromString("--initial-heap-size=256");
tuneMalloc();

const program = new Command();
program
  .name("syncbag")
  .description("ROS 2 data node for autonomous-driving datasets: align sensors on one clock, record MCAP, suggest labels, convert fleets")
  .version("0.1.0")
  .showHelpAfterError()
  // Commander's own errors (unknown option, missing argument) throw here instead of exiting, so
  // they get the same exit status as every other usage error.
  .exitOverride();

// Subcommand registrations (one line each).
import { register as registerSim } from "./commands/sim.js";
registerSim(program);
import { register as registerConvert } from "./commands/convert.js";
registerConvert(program);
import { register as registerRecover } from "./commands/recover.js";
registerRecover(program);
import { register as registerInspect } from "./commands/inspect.js";
registerInspect(program);
import { register as registerStart } from "./commands/start.js";
registerStart(program);
import { register as registerEval } from "./commands/eval.js";
registerEval(program);
import { register as registerEvalLidar } from "./commands/eval-lidar.js";
registerEvalLidar(program);
import { register as registerExport } from "./commands/export.js";
registerExport(program);
import { register as registerNode } from "./commands/node.js";
registerNode(program);
import { register as registerParams } from "./commands/params.js";
registerParams(program);
import { register as registerWorker } from "./commands/worker.js";
registerWorker(program);
import { register as registerQueue } from "./commands/queue.js";
registerQueue(program);
import { register as registerLayout } from "./commands/layout.js";
registerLayout(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Already printed by commander; --help and --version end with 0.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (error instanceof UsageError) {
    reportUsage(error);
  } else {
    // A subcommand that let an error through: still one line.
    const command = program.args[0] ?? "";
    console.error(`syncbag${command === "" ? "" : ` ${command}`}: ${oneLine(error)}`);
    debugStack(error);
    process.exitCode = EXIT.failed;
  }
}
