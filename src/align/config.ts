/**
 * Alignment configuration: the sensors, their clock models and tolerances, and how frames are
 * assembled. One schema for ROS parameters, YAML and CLI (the README's table comes from it).
 */
import { z } from "zod";
import { ClockConfigSchema } from "../clock/model.js";

export const ModalitySchema = z.enum(["lidar", "camera", "audio", "telemetry", "imu", "gnss", "odometry"]);
export type Modality = z.infer<typeof ModalitySchema>;

export const SensorConfigSchema = z
  .object({
    name: z.string().min(1).describe("Sensor name used in reports, diagnostics and AlignedSample.sensor."),
    topic: z.string().min(1).describe("Topic the sensor publishes on."),
    type: z.string().min(1).describe("ROS 2 message type, pkg/Type or pkg/msg/Type."),
    modality: ModalitySchema.describe("What the sensor is; decides how it is aligned."),
    frameId: z.string().default("").describe("Frame of the sensor (REP 105)."),
    clock: ClockConfigSchema.prefault({}).describe("Clock model of this sensor."),
    toleranceMs: z
      .number()
      .min(0)
      .optional()
      .describe("|residual| beyond which a sample is flagged OUT_OF_TOLERANCE (ms); default per modality."),
    cameraAzimuthRad: z
      .number()
      .optional()
      .describe("Camera only: azimuth of its optical axis in the lidar frame (rad, +left); the image is matched to when the sweep crosses it."),
  })
  .strict();
export type SensorConfig = z.infer<typeof SensorConfigSchema>;

export const AlignmentConfigSchema = z
  .object({
    nodeName: z.string().default("syncbag").describe("Node name: `~/` topics resolve under it."),
    namespace: z.string().default("/").describe("Node namespace."),
    sensors: z.array(SensorConfigSchema).default([]).describe("The sensors to align."),
    reference: z.string().optional().describe("Reference sensor name (default: the first lidar)."),
    lidarRotation: z.enum(["cw", "ccw"]).default("cw").describe("Reference lidar spin direction seen from above."),
    lidarStartAzimuthDeg: z.number().default(180).describe("Azimuth at which a sweep starts (deg, lidar frame, +left)."),
    lidarPeriodS: z.number().positive().default(0.1).describe("Reference lidar sweep period (s)."),
    audioWindowS: z.number().positive().max(10).default(0.1).describe("Audio window per frame, centred on the reference time (s)."),
    interpolationMaxGapS: z
      .number()
      .positive()
      .default(0.05)
      .describe("Telemetry: farthest a value may be carried from its message to the reference time when it cannot be interpolated (s)."),
    maxWaitS: z.number().positive().default(0.5).describe("Longest a frame waits for late sensors before it is emitted with MISSING samples (s)."),
    bufferS: z.number().positive().default(3).describe("Longest history kept per sensor (s); only what a frame can still choose is kept."),
    clockStatePeriodS: z.number().positive().default(1).describe("SensorClockState and /diagnostics period (s)."),
    engineCylinders: z
      .int()
      .min(1)
      .max(16)
      .default(4)
      .describe("Engine cylinders (4-stroke): the audio engine tone's firing frequency is rpm/60 · cylinders/2, used to calibrate the audio latency against RPM."),
    calibrateAudioLatency: z.boolean().default(true).describe("Estimate an unknown audio latency from engine-tone pitch vs CAN engine RPM."),
    minConfidence: z.number().min(0).max(1).default(0.5).describe("Below this clock-model confidence a sample is flagged CLOCK_UNCONVERGED."),
  })
  .strict();
export type AlignmentConfig = z.infer<typeof AlignmentConfigSchema>;
export type AlignmentConfigInput = z.input<typeof AlignmentConfigSchema>;

/** Default tolerance per modality (ms): half a typical period for cameras, tight for the rest. */
export function defaultToleranceMs(modality: Modality): number {
  switch (modality) {
    case "camera":
      return 40;
    case "lidar":
      return 50;
    case "audio":
      return 5;
    case "gnss":
      return 60;
    default:
      return 10;
  }
}

export class AlignmentConfigError extends Error {
  override name = "AlignmentConfigError";
}

export function parseAlignmentConfig(input: unknown): AlignmentConfig {
  const result = AlignmentConfigSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new AlignmentConfigError(`align.${issue.path.join(".")}: ${issue.message}`);
  }
  const config = result.data;
  const names = new Set<string>();
  for (const sensor of config.sensors) {
    if (names.has(sensor.name)) throw new AlignmentConfigError(`align.sensors: sensor name "${sensor.name}" is used twice`);
    names.add(sensor.name);
  }
  if (config.reference !== undefined && !names.has(config.reference))
    throw new AlignmentConfigError(`align.reference: "${config.reference}" is not one of the sensors (${[...names].join(", ")})`);
  return config;
}
