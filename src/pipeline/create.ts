/**
 * Builds a running syncbag node from a validated configuration on any transport: the alignment
 * stage, the recorder (with the rig, alignment parameters and clock models as MCAP metadata)
 * and, when given, the suggestion stage.
 */
import type { AlignedFrameData } from "../align/types.js";
import { AlignmentStage } from "../align/stage.js";
import { McapRecorder } from "../record/recorder.js";
import { SuggestionStage } from "../suggest/stage.js";
import { softwareVersion } from "../record/schemas.js";
import { cameraInfoTopic } from "../transport/names.js";
import { LATCHED_QOS, type QosProfile, type RawMessage, type Transport } from "../transport/port.js";
import { LidarConfigError } from "../lidar-packets/index.js";
import { livePacketTopics, LivePacketDecoding, schemaTextWithPackets } from "../lidar-packets/live.js";
import { defaultSchemaProvider } from "../record/schemas.js";
import { NodeConfigError, type NodeConfig } from "./config.js";
import { SyncbagNode, type NodeInput } from "./node.js";
import type { SuggestionPort } from "./pipeline.js";

export interface CreateNodeOptions {
  transport: Transport;
  config: NodeConfig;
  suggestions?: SuggestionPort;
  /** Extra MCAP metadata records (e.g. the simulator's rig description). */
  metadata?: Record<string, Record<string, string>>;
  log?: (line: string) => void;
  onFrame?: (frame: AlignedFrameData) => void;
  /**
   * Whether this process decodes the lidar_packets topics into clouds (default true). With one
   * node per role only one may (else each publishes every sweep); the others still take the
   * packet topics as inputs, so the recording role records them.
   */
  decodePackets?: boolean;
}

export interface CreatedNode {
  node: SyncbagNode;
  alignment: AlignmentStage;
  recorder: McapRecorder | null;
  suggestions: SuggestionStage | null;
}

export async function createSyncbagNode(options: CreateNodeOptions): Promise<CreatedNode> {
  const { transport, config } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const alignment = new AlignmentStage({ config: config.align });
  const auto = config.sensor_qos.reliability === "auto";
  // auto: reliable until a publisher offers less (then the transport adapts), as rosbag2 requests.
  const sensorQos: QosProfile = {
    history: "keep_last",
    depth: config.sensor_qos.depth,
    reliability: auto ? "reliable" : config.sensor_qos.reliability === "reliable" ? "reliable" : "best_effort",
    durability: "volatile",
    ...(auto ? { adaptive: true } : {}),
  };
  const inputs: NodeInput[] = alignment.config.sensors.map((s) => ({ topic: s.topic, type: s.type, qos: sensorQos }));
  // Latched when every /tf_static publisher is (the usual static_transform_publisher); a volatile
  // one would otherwise never match a transient_local request, so the request adapts.
  inputs.push({ topic: "/tf_static", type: "tf2_msgs/TFMessage", qos: { ...LATCHED_QOS, depth: 100, adaptive: true } });
  for (const camera of alignment.config.sensors.filter((s) => s.modality === "camera")) {
    inputs.push({ topic: cameraInfoTopic(camera.topic), type: "sensor_msgs/CameraInfo", qos: sensorQos });
  }

  // Raw lidar packets decoded on the node's own transport into the cloud topic the lidar sensor
  // names. The packet topic is one of the node's inputs, so each packet message is recorded
  // unchanged (its CDR bytes, as for any topic) before it is decoded; one subscription serves both.
  const packets = config.lidar_packets.trim() !== "";
  if (packets) {
    let live: LivePacketDecoding | null = null;
    try {
      const topics = livePacketTopics(config.lidar_packets, transport);
      if (options.decodePackets !== false) live = await LivePacketDecoding.start(transport, topics, sensorQos, { subscribe: false });
      const decoder = live;
      for (const t of topics) {
        const after = decoder === null ? undefined : (raw: RawMessage): void => decoder.ingest(raw);
        const existing = inputs.find((input) => input.topic === t.topic);
        if (existing === undefined) inputs.push({ topic: t.topic, type: t.type, qos: sensorQos, ...(after === undefined ? {} : { after }) });
        else if (after !== undefined) existing.after = after;
      }
    } catch (error) {
      if (error instanceof LidarConfigError) throw new NodeConfigError(`lidar_packets: ${error.message.replace(/^lidar_packets: /, "")}`);
      throw error;
    }
    if (live !== null) {
      const decoder = live;
      transport.onShutdown(() => {
        for (const line of decoder.problemLines()) log(`syncbag: lidar packets ${line}`);
        decoder.close();
      });
    }
  }

  let recorder: McapRecorder | null = null;
  if (config.record_enabled) {
    const qosByTopic = new Map(inputs.map((input) => [input.topic, input.qos]));
    recorder = new McapRecorder({
      config: { ...config.record, outputDir: config.output_dir },
      metadata: {
        "syncbag.software": { name: "syncbag", version: softwareVersion(), transport: transport.name, node: alignment.config.nodeName, namespace: alignment.config.namespace },
        "syncbag.rig": Object.fromEntries(alignment.config.sensors.map((s) => [s.name, JSON.stringify({ topic: s.topic, type: s.type, modality: s.modality, frame_id: s.frameId })])),
        "syncbag.alignment": {
          reference: alignment.config.reference ?? alignment.config.sensors.find((s) => s.modality === "lidar")?.name ?? "",
          config: JSON.stringify(alignment.config),
          log_time: "receive time on the common (node) clock",
          publish_time: "corrected capture time: device stamp mapped to the common clock minus the sensor's constant latency",
        },
        "syncbag.clock_models": Object.fromEntries(
          alignment.config.sensors.map((s) => [s.name, JSON.stringify({ mode: s.clock.mode, latency_s: s.clock.latencyS ?? null, latency_source: s.clock.latencyS === undefined ? "unknown (estimated or calibrated)" : "configured" })]),
        ),
        ...options.metadata,
      },
      // Packet types are not in the standard catalogue: their definitions come with the decoders.
      ...(packets ? { schemaFor: defaultSchemaProvider(schemaTextWithPackets) } : {}),
      channelMetadata: (topic) => {
        const qos = qosByTopic.get(topic);
        return qos === undefined ? undefined : { subscription_qos: JSON.stringify(qos) };
      },
    });
    recorder.on("failure", (failure) => log(`syncbag: recording stopped: ${failure.message}`));
    await recorder.start();
  }

  let suggestions: SuggestionPort | undefined = options.suggestions;
  let suggestionStage: SuggestionStage | null = null;
  if (suggestions === undefined && config.suggest_enabled) {
    const ns = alignment.config.namespace;
    const nodeBase = `${ns === "/" || ns === "" ? "" : ns.replace(/\/$/, "")}/${alignment.config.nodeName}`;
    // A simulated clock is set by the simulator as it publishes, ahead of messages still queued for
    // the node: there, outputs are timed by the inputs they derive from (see SuggestionStageOptions.now).
    const now = transport.clock.kind === "simulated" ? undefined : (): bigint => transport.clock.now();
    suggestionStage = await SuggestionStage.create({ config: { ...config.suggest, nodeBase }, ...(now === undefined ? {} : { now }), log });
    suggestions = suggestionStage;
  }
  const node = new SyncbagNode({
    transport,
    inputs,
    alignment,
    ...(suggestions === undefined ? {} : { suggestions }),
    ...(recorder === null ? {} : { recorder }),
    log,
    ...(options.onFrame === undefined ? {} : { onFrame: options.onFrame }),
  });
  return { node, alignment, recorder, suggestions: suggestionStage };
}
