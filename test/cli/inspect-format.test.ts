/** Issue 17 item 13: inspect's clock table keeps its columns aligned whatever the sensor names. */
import assert from "node:assert/strict";
import { formatInspectReport, type ClockSummary, type InspectReport } from "../../src/record/inspect.js";

function clock(sensor: string, offsetS: number, latencySource: string): ClockSummary {
  return { sensor, topic: `/${sensor}`, mode: sensor.length > 20 ? "calibrated" : "estimate", offsetS, driftPpm: -12.5, latencyS: 0.03, latencySource, confidence: 0.9, samplesUsed: 1200, stepsDetected: 0, stamp: 0n };
}

describe("cli/inspect-format: the alignment table", function () {
  it("aligns every column for short and long sensor names", () => {
    const report: InspectReport = {
      path: "x.mcap",
      bytes: 1,
      profile: "ros2",
      library: "syncbag",
      readVia: "summary",
      warnings: [],
      messages: 0,
      startTime: null,
      endTime: null,
      durationS: 0,
      topics: [],
      compression: {},
      chunks: null,
      metadata: [],
      attachments: [],
      alignment: {
        metadata: [],
        clocks: [clock("can", -0.4, "configured"), clock("sensing_lidar_front_left_velodyne_vls128", 12.25, "calibrated (engine tone)"), clock("imu", 0.05, "none")],
        clockStateErrors: 0,
      },
    };
    const lines = formatInspectReport(report).split("\n");
    // The header and one row per clock follow "alignment:" (other alignment lines may come after).
    const at = lines.indexOf("alignment:");
    const table = lines.slice(at + 1, at + 5);
    assert.equal(table.length, 4, lines.join("\n"));
    for (const sensor of ["can", "sensing_lidar_front_left_velodyne_vls128", "imu"]) assert.ok(table.some((row) => row.startsWith(`  ${sensor} `)), table.join("\n"));
    assert.match(table[0]!, /^ {2}sensor +mode +offset ms +drift ppm/);
    // Right-aligned numbers end in the same column on every row; left-aligned text starts in one.
    const ends = (label: string, value: (row: string) => string): number[] => table.slice(1).map((row) => row.indexOf(value(row)) + value(row).length).concat(table[0]!.indexOf(label) + label.length);
    const offsets = ["-400.000", "12250.000", "50.000"];
    assert.equal(new Set(ends("offset ms", (row) => offsets.find((o) => row.includes(` ${o} `))!)).size, 1, table.join("\n"));
    const starts = table.map((row) => row.search(/ (estimate|calibrated|mode) /));
    assert.equal(new Set(starts).size, 1, table.join("\n"));
  });
});
