/**
 * Decoded sweeps against the reference clouds of ../shared/lidar-packets by the upstream rule
 * (tier4/nebula's decoder tests): every packet of every bag message is decoded in order; a sweep
 * completed while processing the message whose bag timestamp names the PCD is compared with it:
 * same point count, and x, y, z equal point by point as float32 (nebula's Velodyne test allows
 * 4 ULPs, its Hesai test none; we require bit equality for both).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createPacketDecoder } from "../../src/lidar-packets/index.js";
import { available, bagMessages, PACKETS_ROOT, readPcdXyz, referencePath, sensorJson, ulps } from "./shared.js";

const KNOWN = ["velodyne_vlp16", "hesai_pandar40p", "hesai_pandar64", "hesai_qt128"];
/**
 * Every Velodyne/Hesai folder of ../shared/lidar-packets with a reference cloud, so that a sensor
 * added in the same layout (sensor.json, bag, PCD, calibration) is checked by the same rule
 * without editing this file; the four known ones when the folder is absent (they then skip).
 */
function sensors(): string[] {
  if (!existsSync(PACKETS_ROOT)) return KNOWN;
  return readdirSync(PACKETS_ROOT)
    .filter((f) => existsSync(join(PACKETS_ROOT, f, "sensor.json")))
    .filter((f) => {
      try {
        const json = sensorJson(f);
        return (json.vendor === "Velodyne" || json.vendor === "Hesai") && typeof json.reference?.file === "string" && existsSync(referencePath(f));
      } catch {
        return false;
      }
    })
    .sort();
}
const SENSORS = sensors();

describe("lidar-packets: decoded sweeps equal the vendor driver's reference clouds (needs ../shared/lidar-packets)", function () {
  this.timeout(120_000);
  before(function () {
    if (!available()) {
      console.log(`    ../shared/lidar-packets absent (${PACKETS_ROOT}): skipped`);
      this.skip();
    }
  });

  for (const folder of SENSORS) {
    it(`${folder}: same count, x/y/z bit-equal as float32`, async function () {
      const json = sensorJson(folder);
      const params = json.upstream_test_params;
      const decoder = await createPacketDecoder(
        {
          sensor_model: json.sensor_model,
          return_mode: json.return_mode,
          calibration_file: json.calibration_file,
          frame_id: json.frame_id,
          min_range: params["min_range"] as number,
          max_range: params["max_range"] as number,
          cloud_min_angle: params["cloud_min_angle"] as number,
          cloud_max_angle: params["cloud_max_angle"] as number,
          ...(json.vendor === "Velodyne" ? { scan_phase: params["scan_phase"] as number, packet_time: "stamp-sec" as const } : { cut_angle: params["cut_angle"] as number, dual_return_distance_threshold: params["dual_return_distance_threshold"] as number }),
        },
        { baseDir: join(PACKETS_ROOT, folder), topic: json.bag.topic, type: json.bag.message_type },
      );
      const ref = readPcdXyz(referencePath(folder));
      assert.equal(ref.count, json.reference.point_count, "reference PCD point count vs sensor.json");
      const refName = json.reference.file.replace(/\.pcd$/, "");
      let compared = 0, sweeps = 0, messages = 0;
      for await (const m of bagMessages(folder)) {
        messages++;
        for (const cloud of decoder.decodeMessage(m.type, m.data)) {
          sweeps++;
          if (String(m.logTime) !== refName) continue;
          compared++;
          assert.equal(cloud.points, ref.count, `${folder}: decoded ${cloud.points} points, reference has ${ref.count}`);
          const v = new DataView(cloud.data.buffer, cloud.data.byteOffset, cloud.data.byteLength);
          let unequal = 0, worst = 0, first = -1;
          for (let i = 0; i < cloud.points; i++) {
            const d = [v.getFloat32(i * 32, true), v.getFloat32(i * 32 + 4, true), v.getFloat32(i * 32 + 8, true)];
            const r = [ref.x[i]!, ref.y[i]!, ref.z[i]!];
            for (let k = 0; k < 3; k++) {
              if (d[k] !== r[k]) {
                unequal++;
                worst = Math.max(worst, ulps(d[k]!, r[k]!));
                if (first < 0) first = i;
              }
            }
          }
          assert.equal(unequal, 0, `${folder}: ${unequal} coordinates differ (first at point ${first}, worst ${worst} ULP)`);
        }
      }
      assert.equal(messages, json.bag.message_count);
      assert.ok(compared >= 1, `${folder}: no sweep was completed in message ${refName} (${sweeps} sweeps in all)`);
      assert.equal(decoder.problems.total, 0, decoder.problems.lines().join("; "));
    });
  }
});
