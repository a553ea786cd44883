/**
 * SuggestConfigSchema: every suggester option in one place (ROS parameters, YAML and CLI flags
 * all go through it). A bad value is refused with the key, the value and what was expected.
 */
import { z } from "zod";
import { AudioEventConfigSchema } from "./audio.js";
import { CameraProjectionConfigSchema } from "./camera.js";
import { LidarProposalConfigSchema } from "./lidar.js";
import { TelemetryEventConfigSchema } from "./telemetry.js";
import { TrackerConfigSchema } from "./tracker.js";

export const SuggestConfigSchema = z.strictObject({
  /** Topics resolve under this node name: `<nodeBase>/suggestions`, … */
  nodeBase: z.string().min(1).default("/syncbag").describe("Node name the ~/suggestions topics resolve under."),
  boxFrameId: z.string().min(1).default("base_link").describe("Frame of the published 3D boxes."),
  lidar: LidarProposalConfigSchema.prefault({}).describe("Lidar proposals: ground, ego box, clustering."),
  tracker: TrackerConfigSchema.prefault({}).describe("Multi-object tracking."),
  camera: CameraProjectionConfigSchema.prefault({}).describe("3D → 2D box projection."),
  audio: AudioEventConfigSchema.prefault({}).describe("Siren and horn detection."),
  telemetry: TelemetryEventConfigSchema.prefault({}).describe("Driving events from CAN telemetry."),
  enable: z
    .strictObject({
      lidar: z.boolean().default(true).describe("3D boxes and tracks from the lidar."),
      camera: z.boolean().default(true).describe("2D boxes projected into every camera."),
      audio: z.boolean().default(true).describe("Siren and horn events."),
      telemetry: z.boolean().default(true).describe("Driving events from telemetry."),
    })
    .prefault({})
    .describe("Turn modalities on or off."),
  /**
   * How long a sweep may wait for ego motion (odometry or telemetry) that covers its time before it
   * is processed with the pose extrapolated, measured on the corrected times of later inputs: the
   * message-filter rule of tf2_ros (hold a message until the transform at its stamp is known), so
   * the boxes do not depend on whether odometry or the sweep reached the node first.
   */
  egoWaitS: z.number().min(0).max(5).default(0.3).describe("Longest a sweep waits for ego motion covering its time (s of later inputs); then the pose is extrapolated."),
  /** Publish unconfirmed tracks too (raw proposals), e.g. for debugging. */
  publishTentative: z.boolean().default(false).describe("Also publish tracks not yet confirmed."),
  plugins: z
    .array(z.strictObject({ module: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}) }))
    .default([])
    .describe("Suggester plugin modules (path or package) with their options."),
});
export type SuggestConfig = z.infer<typeof SuggestConfigSchema>;
export type SuggestConfigInput = z.input<typeof SuggestConfigSchema>;

export class SuggestConfigError extends Error {
  override name = "SuggestConfigError";
}

export function parseSuggestConfig(input: unknown): SuggestConfig {
  const result = SuggestConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.join(".");
  let value: unknown = input;
  for (const key of issue.path) value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
  throw new SuggestConfigError(`suggest.${path || "(root)"}: got ${JSON.stringify(value) ?? String(value)}; ${issue.message}`);
}
