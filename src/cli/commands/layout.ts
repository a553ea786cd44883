/**
 * `syncbag layout <file.mcap>`: a Foxglove / Lichtblick layout for an existing recording (a live
 * node's file, a converted drive), built from what the recording holds: its channels, and its
 * sensors as the recording's alignment configuration (metadata `syncbag.alignment`) names them, or
 * else as its clock-state channel does. `npm start` writes the same layout for its own drive.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { parseAlignmentConfig } from "../../align/config.js";
import { foxgloveLayout, layoutInputForRecording } from "../../pipeline/layout.js";
import { inspectMcap, type InspectReport } from "../../record/inspect.js";
import { inputFileProblem, reportFailure } from "../failure.js";

interface RecordingSensors {
  sensors: { name: string; topic: string }[];
  /** `<namespace>/<node name>`: the `~/` topics the overlays and clock states were written under. */
  nodeBase: string;
}

function recordingSensors(report: InspectReport): RecordingSensors {
  const text = report.metadata.find((m) => m.name === "syncbag.alignment")?.entries.config;
  if (text !== undefined) {
    const config = parseAlignmentConfig(JSON.parse(text));
    const ns = config.namespace === "" || config.namespace === "/" ? "" : `/${config.namespace.replace(/^\/|\/$/g, "")}`;
    return { sensors: config.sensors.map((s) => ({ name: s.name, topic: s.topic })), nodeBase: `${ns}/${config.nodeName}` };
  }
  const clockTopic = report.topics.find((t) => t.schemaName === "syncbag/SensorClockState")?.topic;
  return {
    sensors: report.alignment.clocks.map((c) => ({ name: c.sensor, topic: c.topic })),
    nodeBase: clockTopic?.replace(/\/clock_state$/, "") ?? "/syncbag",
  };
}

/** The layout of a recording, as the JSON object Foxglove imports. */
export async function layoutForRecording(file: string): Promise<Record<string, unknown>> {
  const report = await inspectMcap(file);
  const { sensors, nodeBase } = recordingSensors(report);
  if (sensors.length === 0) throw new Error(`${file}: names no sensors (no syncbag.alignment metadata and no clock states): not a syncbag recording`);
  return foxgloveLayout(layoutInputForRecording(report.topics, sensors, nodeBase));
}

export function register(program: Command): void {
  program
    .command("layout")
    .description("Write a Foxglove/Lichtblick layout for a syncbag recording (3D view with clouds and boxes, an image panel per camera with synced 2D boxes, telemetry and per-sensor clock plots)")
    .argument("<file>", "the .mcap file (a live node's recording or a converted drive)")
    .option("-o, --output <file>", "where to write the layout (default: <file without .mcap>.layout.json)")
    .action(async (file: string, options: { output?: string }) => {
      try {
        const problem = inputFileProblem(file);
        if (problem !== null) throw new Error(`${file}: ${problem}`);
        const out = options.output ?? `${file.replace(/(_\d+)?\.mcap$/, "")}.layout.json`;
        await writeFile(out, `${JSON.stringify(await layoutForRecording(file), null, 2)}\n`);
        console.log(`syncbag layout: ${out} (import it in Foxglove: Layouts → Import from file)`);
      } catch (error) {
        reportFailure("layout", error);
      }
    });
}
