/**
 * Label suggestions as TypeScript data, mirroring msg/LabelSuggestion.msg and msg/Box2D.msg
 * (times as bigint ns on the common clock; encoded to CDR by output.ts).
 */
export type ObjectClass = "car" | "truck" | "pedestrian" | "cyclist" | "unknown";
export const OBJECT_CLASSES: readonly ObjectClass[] = ["car", "truck", "pedestrian", "cyclist", "unknown"];

export type EventName = "siren" | "horn" | "hard_braking" | "harsh_acceleration" | "sharp_turn" | "stop" | "lane_change" | "speeding";

export type SuggestionSource = "lidar" | "camera" | "audio" | "telemetry" | "plugin";

export interface Box2D {
  camera: string;
  frameId: string;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  /** Camera to box centre (m). */
  depth: number;
  /** Share of the box hidden by nearer boxes (0..1). */
  occlusion: number;
  truncated: boolean;
}

export interface Box3D {
  /** Centre (m) in frameId. */
  x: number;
  y: number;
  z: number;
  /** Heading about +z (rad). */
  yaw: number;
  /** Length (along heading), width, height (m). */
  length: number;
  width: number;
  height: number;
}

export interface ObjectSuggestion {
  kind: "object";
  trackId: number;
  category: ObjectClass | string;
  confidence: number;
  source: SuggestionSource;
  frameId: string;
  box: Box3D;
  /** Velocity over ground in frameId axes (m/s). */
  velocity: { x: number; y: number; z: number };
  boxes2d: Box2D[];
  /** Frame time on the common clock (ns). */
  timeNs: bigint;
}

export interface EventSuggestion {
  kind: "event";
  trackId: number;
  category: EventName | string;
  confidence: number;
  source: SuggestionSource;
  startNs: bigint;
  endNs: bigint;
  /** Peak of the defining signal, SI units (m/s², rad/s, m/s, m); 0 when none. */
  peakValue: number;
  /** Optional refinement (e.g. siren "wail"/"yelp"). */
  subtype?: string;
}

export type Suggestion = ObjectSuggestion | EventSuggestion;
