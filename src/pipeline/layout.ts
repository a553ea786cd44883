/**
 * A Foxglove layout for a syncbag recording. Foxglove (and its fork Lichtblick) subscribe a
 * 3D topic only when a layout marks it visible, so without this file the boxes would stay
 * hidden. Built from the node's topics rather than shipped static, because topic names and
 * camera sets differ per rig.
 *
 * What a viewer reads from it:
 * - panel titles under `foxglovePanelTitle` (Foxglove) and `lichtblickPanelTitle` (Lichtblick);
 * - image panels in "sync annotations" mode: each image with the ImageAnnotations whose timestamp
 *   equals its header.stamp (syncbag stamps them so);
 * - plots place a value by its message's log time (`receiveTime`) or header.stamp. syncbag's log
 *   time is the receive time on the common clock; a header.stamp is the device's own clock (CAN
 *   runs 0.35 s off on the sim rig), and the corrected capture time (MCAP publish_time) is not
 *   selectable in either viewer: plots use log time;
 * - one clock-model series per sensor, by a message path filter on SensorClockState.sensor.
 */
import { cameraInfoTopic } from "../transport/names.js";

export interface LayoutInput {
  lidarTopics: string[];
  cameras: { name: string; imageTopic: string; infoTopic: string | null; annotationTopic: string }[];
  sceneTopic: string;
  telemetryTopic: string | null;
  clockStateTopic: string;
  /** Sensor names as configured (SensorClockState.sensor): one clock series each. */
  clockSensors: string[];
  fixedFrame: string;
}

/** The title keys Foxglove and Lichtblick read from a panel's config. */
function titled(title: string): Record<string, string> {
  return { foxglovePanelTitle: title, lichtblickPanelTitle: title };
}

/** A message path filter literal: a quoted string. */
function quoted(value: string): string {
  return JSON.stringify(value);
}

/**
 * The layout input for an existing recording (a converted drive, a node's file): from its channels
 * (topic and schema name) and its aligned sensors (name and topic, as ~/frames samples or the
 * syncbag.rig metadata name them). Overlay topics follow the node's `~/suggestions/…` names.
 */
export function layoutInputForRecording(
  channels: readonly { topic: string; schemaName: string }[],
  sensors: readonly { name: string; topic: string }[],
  nodeBase = "/syncbag",
  fixedFrame = "base_link",
): LayoutInput {
  const schemaOf = new Map(channels.map((c) => [c.topic, c.schemaName]));
  const ofType = (type: RegExp): string[] => channels.filter((c) => type.test(c.schemaName)).map((c) => c.topic);
  const cameras = sensors
    .filter((s) => /\/(Image|CompressedImage)$/.test(schemaOf.get(s.topic) ?? ""))
    .map((s) => {
      const info = cameraInfoTopic(s.topic);
      return { name: s.name, imageTopic: s.topic, infoTopic: schemaOf.has(info) ? info : null, annotationTopic: `${nodeBase}/suggestions/${s.name}/annotations` };
    });
  return {
    lidarTopics: ofType(/\/PointCloud2$/),
    cameras,
    sceneTopic: `${nodeBase}/suggestions/scene`,
    telemetryTopic: ofType(/\/VehicleTelemetry$/)[0] ?? null,
    clockStateTopic: `${nodeBase}/clock_state`,
    clockSensors: sensors.map((s) => s.name),
    fixedFrame,
  };
}

type SplitNode = string | { first: SplitNode; second: SplitNode; direction: "row" | "column"; splitPercentage?: number };

/** Lays panel ids out as a balanced binary split tree. */
function split(ids: string[], direction: "row" | "column"): SplitNode {
  if (ids.length === 1) return ids[0]!;
  const half = Math.ceil(ids.length / 2);
  const other = direction === "row" ? "column" : "row";
  return {
    first: split(ids.slice(0, half), other),
    second: split(ids.slice(half), other),
    direction,
    splitPercentage: (100 * half) / ids.length,
  };
}

export function foxgloveLayout(input: LayoutInput): Record<string, unknown> {
  const configById: Record<string, unknown> = {};
  const visible = (topics: string[]): Record<string, { visible: true }> => Object.fromEntries(topics.map((topic) => [topic, { visible: true }]));

  configById["3D!syncbag"] = {
    followTf: input.fixedFrame,
    topics: visible([...input.lidarTopics, input.sceneTopic, "/tf_static"]),
  };
  const imageIds = input.cameras.map((camera) => {
    const id = `Image!${camera.name}`;
    configById[id] = {
      ...titled(camera.name),
      imageMode: {
        imageTopic: camera.imageTopic,
        synchronize: true,
        ...(camera.infoTopic === null ? {} : { calibrationTopic: camera.infoTopic }),
        annotations: visible([camera.annotationTopic]),
      },
    };
    return id;
  });
  const plotIds: string[] = [];
  if (input.telemetryTopic !== null) {
    const topic = input.telemetryTopic;
    configById["Plot!telemetry"] = {
      ...titled("Vehicle telemetry (common clock)"),
      paths: ["speed", "longitudinal_acceleration", "lateral_acceleration", "yaw_rate"].map((field) => ({
        value: `${topic}.${field}`,
        label: field,
        enabled: true,
        timestampMethod: "receiveTime",
      })),
    };
    plotIds.push("Plot!telemetry");
  }
  configById["Plot!sync"] = {
    ...titled("Clock models: offset (s) per sensor"),
    paths: input.clockSensors.map((sensor) => ({ value: `${input.clockStateTopic}{sensor==${quoted(sensor)}}.offset`, label: sensor, enabled: true, timestampMethod: "receiveTime" })),
  };
  plotIds.push("Plot!sync");

  return {
    configById,
    globalVariables: {},
    userNodes: {},
    playbackConfig: { speed: 1 },
    layout: {
      first: { first: "3D!syncbag", second: split(plotIds, "column"), direction: "column", splitPercentage: 70 },
      second: split(imageIds.length > 0 ? imageIds : ["Plot!sync"], "column"),
      direction: "row",
      splitPercentage: 55,
    },
  };
}
