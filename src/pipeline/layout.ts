/**
 * A Foxglove layout for a syncbag recording. Foxglove (and its fork Lichtblick) subscribe a
 * 3D topic only when a layout marks it visible, so without this file the boxes would stay
 * hidden. Built from the node's topics rather than shipped static, because topic names and
 * camera sets differ per rig.
 */
export interface LayoutInput {
  lidarTopics: string[];
  cameras: { name: string; imageTopic: string; infoTopic: string | null; annotationTopic: string }[];
  sceneTopic: string;
  telemetryTopic: string | null;
  clockStateTopic: string;
  fixedFrame: string;
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
      imageMode: {
        imageTopic: camera.imageTopic,
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
      title: "Vehicle telemetry",
      paths: ["speed", "longitudinal_acceleration", "lateral_acceleration", "yaw_rate"].map((field) => ({
        value: `${topic}.${field}`,
        enabled: true,
        timestampMethod: "headerStamp",
      })),
    };
    plotIds.push("Plot!telemetry");
  }
  configById["Plot!sync"] = {
    title: "Clock models: offset (s) per sensor",
    paths: [{ value: `${input.clockStateTopic}.offset`, enabled: true, timestampMethod: "receiveTime" }],
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
