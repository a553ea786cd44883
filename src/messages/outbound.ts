/**
 * What a pipeline stage emits: a message for the transport and/or the recorder.
 * CDR messages go to both unless marked `publish: false` (the Foxglove overlays, whose
 * foxglove_msgs types a ROS graph may not have); ros1 messages (ROS 1 types without a ROS 2
 * equivalent, met in conversion) are carried into the recording with their ROS 1 schema.
 */
export interface OutboundMessage {
  topic: string;
  /** ROS type `pkg/Type` (cdr), or the ROS 1 type (ros1). */
  schemaName: string;
  encoding: "cdr" | "ros1";
  data: Uint8Array;
  /**
   * MCAP log_time (ns, common clock). Inputs: their receive time. Derived messages: the time they
   * were produced, never before the newest input they derive from (see SuggestionStage).
   */
  logTime: bigint;
  /** The time the content refers to on the common clock (ns): MCAP publish_time. */
  publishTime: bigint;
  /** false: recorded only, not published on the transport. */
  publish?: false;
}
