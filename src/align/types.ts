/**
 * Contract between the aligner and its consumers (recorder, suggesters, eval):
 * an aligned frame as TypeScript data, before it is encoded as syncbag/AlignedFrame.
 */
import type { RawMessage } from "../transport/port.js";

/** Bit flags, identical to the constants in msg/AlignedSample.msg. */
export const SampleFlag = {
  OUT_OF_TOLERANCE: 1,
  INTERPOLATED: 2,
  EXTRAPOLATION_REFUSED: 4,
  CLOCK_UNCONVERGED: 8,
  MISSING: 16,
  STALE: 32,
} as const;

export interface AlignedSampleData {
  sensor: string;
  topic: string;
  type: string;
  /** header.stamp as the device wrote it (device clock, ns). */
  stampNs: bigint;
  /** The stamp mapped to the common clock (ns). */
  correctedNs: bigint;
  receiveNs: bigint;
  /** correctedNs − the time this sensor was wanted at (s); signed. */
  residualS: number;
  /** OR of SampleFlag. */
  flags: number;
  /**
   * The raw message(s) this sample stands for: one for lidar/camera; the two bracketing
   * messages for an interpolated telemetry value; the chunks covering the window for audio.
   */
  messages: RawMessage[];
  /** Corrected time of each of `messages` (ns), e.g. the two brackets of an interpolated value. */
  correctedTimes?: bigint[];
  /** Audio only: first sample index (within messages[0]) and number of samples in the window. */
  sampleStart?: number;
  sampleCount?: number;
}

export interface AlignedFrameData {
  /** Reference time on the common clock (ns). */
  referenceNs: bigint;
  referenceSensor: string;
  /** Monotonic frame counter. */
  sequence: number;
  samples: AlignedSampleData[];
}
