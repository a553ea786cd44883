/**
 * `syncbag convert` of a recording of a model without a real recording here (VLS-128 packets in
 * nebula_msgs/NebulaPackets, built from the vendor layout): the packets are kept byte for byte,
 * the decoded cloud topic appears beside them with one sweep per turn, and the pipeline aligns it
 * into frames like any lidar. Needs nothing from ../shared.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapWriter } from "@mcap/core";
import { FileWritable } from "../../src/convert/file-writable.js";
import { pipelineConverter } from "../../src/convert/pipeline-converter.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { nebulaPackets } from "./points.js";

const SCHEMA = [
  "std_msgs/Header header\nNebulaPacket[] packets",
  "MSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id",
  "MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec",
  "MSG: nebula_msgs/NebulaPacket\nbuiltin_interfaces/Time stamp\nuint8[] data",
].join("\n" + "=".repeat(80) + "\n") + "\n";

const T0 = 1_700_000_000;
/** VLS-128 packet i: 3 sequences of 0.19° (600 rpm), 53.3 µs each; a 2 m wide wall at 8 m ahead, 20 m elsewhere. */
function vlsPacket(i: number): Uint8Array {
  const p = new Uint8Array(1206);
  const v = new DataView(p.buffer);
  for (let b = 0; b < 12; b++) {
    const az = ((i * 3 + (b >> 2)) * 19) % 36000;
    v.setUint16(b * 100, [0xeeff, 0xddff, 0xccff, 0xbbff][b % 4]!, true);
    v.setUint16(b * 100 + 2, az, true);
    const wall = az < 700 || az > 35300;
    for (let k = 0; k < 32; k++) {
      v.setUint16(b * 100 + 4 + k * 3, wall ? 2000 : 5000, true);
      p[b * 100 + 4 + k * 3 + 2] = 60;
    }
  }
  p[1204] = 55;
  p[1205] = 0xa1;
  return p;
}

describe("lidar-packets: converting a VLS-128 NebulaPackets recording (synthetic, no ../shared needed)", function () {
  this.timeout(120_000);

  const dir = mkdtempSync(join(tmpdir(), "syncbag-vls-convert-"));

  it("packets kept, <topic>/points with one sweep per turn, aligned into frames", async function () {
    const path = join(dir, "vls128.mcap");
    const handle = await open(path, "w");
    const writable = new FileWritable(handle);
    const writer = new McapWriter({ writable });
    await writer.start({ profile: "ros2", library: "syncbag-test" });
    const schemaId = await writer.registerSchema({ name: "nebula_msgs/msg/NebulaPackets", encoding: "ros2msg", data: new TextEncoder().encode(SCHEMA) });
    const channelId = await writer.registerChannel({ topic: "/lidar/packets", schemaId, messageEncoding: "cdr", metadata: new Map() });
    // 1.5 s at 6254 packets/s, one message per 0.1 s (625 packets), as nebula's driver publishes them.
    const perMessage = 625;
    const sent: Uint8Array[] = [];
    for (let m = 0; m < 15; m++) {
      const packets = Array.from({ length: perMessage }, (_, k) => {
        const i = m * perMessage + k;
        const ns = Math.round(i * 159900); // 3 × 53.3 µs per packet
        return { sec: T0 + Math.floor(ns / 1e9), nanosec: ns % 1e9, data: vlsPacket(i) };
      });
      const data = nebulaPackets("vls128", packets);
      sent.push(data);
      const last = packets[packets.length - 1]!;
      const logTime = BigInt(last.sec) * 1_000_000_000n + BigInt(last.nanosec) + 2_000_000n;
      await writer.addMessage({ channelId, sequence: m, logTime, publishTime: logTime, data });
    }
    await writer.end();
    await writable.flush();
    await handle.close();
    writeFileSync(join(dir, "VLS128.yaml"), `lasers:\n${Array.from({ length: 128 }, (_, i) => `  - {laser_id: ${i}, rot_correction: 0, vert_correction: ${((-25 + (40 * i) / 127) * Math.PI) / 180}, dist_correction: 0}`).join("\n")}\nnum_lasers: 128\ndistance_resolution: 0.004\n`);

    const source = await openRecording(path);
    const out = join(dir, "out.mcap");
    const report = await pipelineConverter(source, { mcapPath: out, reportPath: join(dir, "out.report.json") }, { drive: "vls", msgPaths: [], lidarPackets: { "/lidar/packets": { sensor_model: "VLS128", return_mode: "Strongest", calibration_file: join(dir, "VLS128.yaml") } } }, () => {});
    await source.close();

    const byTopic = new Map<string, Uint8Array[]>();
    const result = await openRecording(out);
    for await (const m of result.messages()) {
      if (!byTopic.has(m.topic)) byTopic.set(m.topic, []);
      byTopic.get(m.topic)!.push(m.data);
    }
    await result.close();
    assert.deepEqual(byTopic.get("/lidar/packets"), sent, "packets recorded byte for byte");
    // 1.5 s at 10 Hz: one sweep per turn (the last still open).
    const clouds = byTopic.get("/lidar/packets/points") ?? [];
    assert.ok(clouds.length >= 13 && clouds.length <= 15, `${clouds.length} sweeps`);
    assert.ok((report.frames ?? 0) >= 12, `${report.frames} aligned frames`);
    assert.ok(report.sensors.some((s) => s.topic === "/lidar/packets/points" && s.count === clouds.length), JSON.stringify(report.sensors));
    assert.ok(!report.warnings.some((w) => w.includes("/lidar/packets")), report.warnings.join("; "));
  });

  it("without an entry: carried, and the warning does not assume lidar (nebula carries radar packets too)", async function () {
    const source = await openRecording(join(dir, "vls128.mcap"));
    const report = await pipelineConverter(source, { mcapPath: join(dir, "plain.mcap"), reportPath: join(dir, "plain.report.json") }, { drive: "plain", msgPaths: [] }, () => {});
    await source.close();
    assert.ok(report.warnings.some((w) => /^\/lidar\/packets: nebula packets \(nebula_msgs\/(msg\/)?NebulaPackets, lidar or radar\) carried but not decoded: for lidar packets add an entry/.test(w)), report.warnings.join("; "));
  });
});

