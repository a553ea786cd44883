/**
 * What a pipeline stage emits: a message for the transport and/or the recorder.
 * CDR messages go to both; protobuf (Foxglove schema) messages go to the recorder only,
 * since ROS 2 topics carry CDR; ros1 messages (ROS 1 types without a ROS 2 equivalent, met in
 * conversion) are carried into the recording with their ROS 1 schema.
 */
export interface OutboundMessage {
  topic: string;
  /** ROS type `pkg/Type` for cdr, fully-qualified protobuf name (e.g. `foxglove.SceneUpdate`) for protobuf. */
  schemaName: string;
  encoding: "cdr" | "protobuf" | "ros1";
  data: Uint8Array;
  /** Node-clock time of emission (ns): MCAP log_time. */
  logTime: bigint;
  /** The time the content refers to on the common clock (ns): MCAP publish_time. */
  publishTime: bigint;
}
