/**
 * One entry point for every packet family: a PacketCloudDecoder takes packet-scan messages
 * (velodyne_msgs/VelodyneScan, pandar_msgs/PandarScan, CDR bytes as recorded) and returns the
 * sweeps they complete. Which decoder, and with what calibration, comes from a LidarPacketConfig
 * (per topic: parameter or a file beside the recording, see README.md).
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { PacketProblems, type DecodedCloud } from "./cloud.js";
import { HESAI_MODELS, HesaiDecoder, parseHesaiCalibration, type HesaiModel } from "./hesai.js";
import { parseHesaiCorrection } from "./hesai-correction.js";
import { OusterDecoder, parseOusterMetadata } from "./ouster.js";
import { isOusterPacketType, PACKET_SCAN_TYPES, readOusterPacket, readPacketScan, ScanFormatError, type PacketScanType } from "./scan-msgs.js";
import { LidarConfigError, parseVelodyneCalibration, VelodyneDecoder, type VelodyneModel } from "./velodyne.js";

export { LidarConfigError } from "./velodyne.js";
export { pointCloud2, type DecodedCloud } from "./cloud.js";
export { isOusterPacketType, isPacketScanType, PACKET_MSG_DEFINITIONS } from "./scan-msgs.js";

export const VELODYNE_MODELS = ["VLP16", "VLP32C", "VLP32", "VLS128"] as const;
/** Ouster: the metadata's prod_line (OS-0-128, OS-1-64, …) with the RNG15_RFL8_NIR8 profile. */
const isOusterModel = (model: string): boolean => /^OS-?(DOME|0|1|2)-(32|64|128)/.test(model);
export const SUPPORTED_MODELS: readonly string[] = [...VELODYNE_MODELS, ...Object.keys(HESAI_MODELS), "OS-0/1/2-32/64/128 (Ouster, RNG15_RFL8_NIR8)"];

/** Per packet topic: the sensor, its calibration file and the driver parameters (nebula's names). */
export const LidarPacketConfig = z.object({
  sensor_model: z.string(),
  return_mode: z.string().default("Dual"),
  /** Calibration file (Velodyne .yaml / Hesai .csv, AT128 .dat / Ouster metadata .json); relative paths are resolved against `baseDir`. */
  calibration_file: z.string(),
  frame_id: z.string().optional(),
  /** Topic the decoded cloud is written to; default `<packet topic>/points`. */
  cloud_topic: z.string().optional(),
  min_range: z.number().optional(),
  max_range: z.number().optional(),
  cut_angle: z.number().optional(),
  scan_phase: z.number().optional(),
  cloud_min_angle: z.number().optional(),
  cloud_max_angle: z.number().optional(),
  dual_return_distance_threshold: z.number().optional(),
  /**
   * Velodyne only: packet time given to the decoder. `stamp` (default, as nebula's ROS wrapper) or
   * `stamp-sec` (whole seconds only, as nebula's decoder test feeds it; the reference clouds need it).
   */
  packet_time: z.enum(["stamp", "stamp-sec"]).default("stamp"),
});
export type LidarPacketConfig = z.input<typeof LidarPacketConfig>;

export interface PacketCloudDecoder {
  readonly model: string;
  readonly problems: PacketProblems;
  /** Decodes one recorded packet-scan message; sweeps it completes, in order. Never throws on bad bytes (counts them). */
  decodeMessage(type: string, bytes: Uint8Array): DecodedCloud[];
  /**
   * Hands a sweep's storage back once the caller is done with it (encoded, copied): later sweeps
   * are written into it instead of fresh memory. The sweep's data must not be used afterwards.
   * Anything else (a sweep of another decoder, a second time) is ignored.
   */
  recycle(cloud: DecodedCloud): void;
}

const FAMILY_OF_TYPE: Record<string, "velodyne" | "hesai" | "any"> = Object.fromEntries(Object.entries(PACKET_SCAN_TYPES).map(([k, v]) => [k, v.family]));

/** Builds the decoder for a topic; throws LidarConfigError (one line, naming the file/model) when it cannot. */
export async function createPacketDecoder(input: LidarPacketConfig, options: { baseDir?: string; topic?: string; type?: string } = {}): Promise<PacketCloudDecoder> {
  const where = options.topic !== undefined ? `${options.topic}: ` : "";
  const parsed = LidarPacketConfig.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LidarConfigError(`${where}lidar packet parameter '${issue.path.join(".")}': ${issue.message}`);
  }
  const cfg = parsed.data;
  const path = isAbsolute(cfg.calibration_file) || options.baseDir === undefined ? cfg.calibration_file : join(options.baseDir, cfg.calibration_file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new LidarConfigError(`${where}calibration file ${path} cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const text = new TextDecoder().decode(bytes);
  const velodyne = (VELODYNE_MODELS as readonly string[]).includes(cfg.sensor_model);
  const hesai = Object.hasOwn(HESAI_MODELS, cfg.sensor_model);
  const ouster = isOusterModel(cfg.sensor_model);
  if (ouster) return ousterDecoder(cfg, text, path, where, options.type);
  if (!velodyne && !hesai) throw new LidarConfigError(`${where}unknown lidar model '${cfg.sensor_model}' (supported: ${SUPPORTED_MODELS.join(", ")})`);
  const family = velodyne ? "velodyne" : "hesai";
  if (options.type !== undefined) {
    const typeFamily = FAMILY_OF_TYPE[options.type.includes("/msg/") ? options.type : options.type.replace("/", "/msg/")];
    if (typeFamily === undefined) throw new LidarConfigError(`${where}${options.type} is not a packet type syncbag decodes (${Object.keys(PACKET_SCAN_TYPES).join(", ")})`);
    if (typeFamily !== family && typeFamily !== "any") throw new LidarConfigError(`${where}${options.type} carries ${typeFamily} packets but sensor_model is ${cfg.sensor_model}`);
  }
  try {
    if (velodyne) {
      const dec = new VelodyneDecoder({
        model: cfg.sensor_model as VelodyneModel, returnMode: cfg.return_mode === "Dual" ? "Dual" : cfg.return_mode === "Last" ? "Last" : "Strongest",
        frameId: cfg.frame_id ?? "velodyne", calibration: parseVelodyneCalibration(text, path),
        ...(cfg.scan_phase !== undefined ? { scanPhase: cfg.scan_phase } : {}),
        ...(cfg.min_range !== undefined ? { minRange: cfg.min_range } : {}),
        ...(cfg.max_range !== undefined ? { maxRange: cfg.max_range } : {}),
        ...(cfg.cloud_min_angle !== undefined ? { cloudMinAngle: cfg.cloud_min_angle } : {}),
        ...(cfg.cloud_max_angle !== undefined ? { cloudMaxAngle: cfg.cloud_max_angle } : {}),
      });
      const wholeSeconds = cfg.packet_time === "stamp-sec";
      return {
        model: cfg.sensor_model,
        problems: dec.problems,
        recycle: (cloud) => void dec.storage.give(cloud.data),
        decodeMessage(type, bytes) {
          const out: DecodedCloud[] = [];
          for (const p of packetsOf(type, bytes, dec.problems)) {
            const cloud = dec.decode(p.data, wholeSeconds ? p.sec : p.seconds);
            if (cloud !== undefined) out.push(cloud);
          }
          return out;
        },
      };
    }
    const dec = new HesaiDecoder({
      model: cfg.sensor_model as HesaiModel, returnMode: cfg.return_mode, frameId: cfg.frame_id ?? "hesai", calibration: HESAI_MODELS[cfg.sensor_model as HesaiModel].angles === "correction" ? parseHesaiCorrection(bytes, path) : parseHesaiCalibration(text, path),
      ...(cfg.cut_angle !== undefined ? { cutAngle: cfg.cut_angle } : {}),
      ...(cfg.cloud_min_angle !== undefined ? { cloudMinAngle: cfg.cloud_min_angle } : {}),
      ...(cfg.cloud_max_angle !== undefined ? { cloudMaxAngle: cfg.cloud_max_angle } : {}),
      ...(cfg.min_range !== undefined ? { minRange: cfg.min_range } : {}),
      ...(cfg.max_range !== undefined ? { maxRange: cfg.max_range } : {}),
      ...(cfg.dual_return_distance_threshold !== undefined ? { dualReturnDistanceThreshold: cfg.dual_return_distance_threshold } : {}),
    });
    return {
      model: cfg.sensor_model,
      problems: dec.problems,
      recycle: (cloud) => void dec.storage.give(cloud.data),
      decodeMessage(type, bytes) {
        const out: DecodedCloud[] = [];
        for (const p of packetsOf(type, bytes, dec.problems)) out.push(...dec.decode(p.data));
        return out;
      },
    };
  } catch (error) {
    if (error instanceof LidarConfigError) throw new LidarConfigError(`${where}${error.message}`);
    throw error;
  }
}

function ousterDecoder(cfg: z.infer<typeof LidarPacketConfig>, text: string, path: string, where: string, type: string | undefined): PacketCloudDecoder {
  if (type !== undefined && !isOusterPacketType(type)) throw new LidarConfigError(`${where}${type} does not carry Ouster packets but sensor_model is ${cfg.sensor_model}`);
  let meta;
  try {
    meta = parseOusterMetadata(text, path);
  } catch (error) {
    if (error instanceof LidarConfigError) throw new LidarConfigError(`${where}${error.message}`);
    throw error;
  }
  if (meta.prodLine !== cfg.sensor_model) throw new LidarConfigError(`${where}${path} is the metadata of an ${meta.prodLine}, sensor_model is ${cfg.sensor_model} (calibration for another model?)`);
  const dec = new OusterDecoder(meta, cfg.frame_id ?? "os_sensor");
  return {
    model: cfg.sensor_model,
    problems: dec.problems,
    recycle: (cloud) => void dec.storage.give(cloud.data),
    decodeMessage(msgType, bytes) {
      try {
        return dec.decode(readOusterPacket(msgType, bytes));
      } catch (error) {
        if (!(error instanceof ScanFormatError)) throw error;
        dec.problems.add("bad-message", `${error.message}: message skipped`);
        return [];
      }
    },
  };
}

function packetsOf(type: string, bytes: Uint8Array, problems: PacketProblems): ReturnType<typeof readPacketScan>["packets"] {
  try {
    const scan = readPacketScan(type as PacketScanType, bytes);
    if (scan.truncated !== undefined) problems.add("truncated-message", `${scan.truncated}: the packets it holds whole were decoded`);
    return scan.packets;
  } catch (error) {
    if (error instanceof ScanFormatError) {
      problems.add("bad-message", `${error.message}: message skipped`);
      return [];
    }
    throw error;
  }
}
