/**
 * The port every syncbag node talks through. Adapters: in-process (embedded default) and
 * rclnodejs (ROS 2). Messages cross it serialized (CDR bytes, encapsulation header included),
 * exactly as an rclnodejs raw subscription hands them over, so nothing is decoded on the way in.
 *
 * Times are nanoseconds on the node clock as bigint (epoch ns do not fit in a double).
 */

/** QoS as a ROS user configures it; adapters map it to their own notion. */
export interface QosProfile {
  /** keep_last keeps `depth` messages per subscriber queue; keep_all is bounded by `depth` too here. */
  history: "keep_last" | "keep_all";
  depth: number;
  reliability: "reliable" | "best_effort";
  durability: "volatile" | "transient_local";
  /**
   * Request what the publishers offer, as rosbag2's recorder does: reliable only if every
   * publisher is reliable, transient_local only if every one is (this profile while none
   * publishes); re-subscribed when an incompatible publisher appears. Adapters without DDS
   * QoS negotiation ignore it.
   */
  adaptive?: boolean;
}

/** rclcpp's SensorDataQoS: best effort, keep last 5. */
export const SENSOR_DATA_QOS: QosProfile = { history: "keep_last", depth: 5, reliability: "best_effort", durability: "volatile" };
/** Reliable, keep last 10: rclcpp's default. */
export const DEFAULT_QOS: QosProfile = { history: "keep_last", depth: 10, reliability: "reliable", durability: "volatile" };
/** For /tf_static, CameraInfo-like state and our own state topics: late joiners get the last value. */
export const LATCHED_QOS: QosProfile = { history: "keep_last", depth: 1, reliability: "reliable", durability: "transient_local" };

/** One serialized message as received. */
export interface RawMessage {
  topic: string;
  /** ROS 2 type name, `pkg/msg/Type` normalised to `pkg/Type`. */
  type: string;
  /** CDR bytes including the 4-byte encapsulation header. Never modified by syncbag. */
  data: Uint8Array;
  /** Node-clock time the message was handed to syncbag (ns). */
  receiveTime: bigint;
}

export type RawMessageHandler = (message: RawMessage) => void;

/** What the middleware reported about a subscription (DDS status events), where it reports it. */
export interface SubscriptionHealth {
  /** The QoS requested now (after adapting to the publishers' offers). */
  readonly qos: QosProfile;
  /** Publishers DDS refused to match because their offered QoS is incompatible (running total). */
  readonly incompatiblePublishers: number;
  /** The policy DDS named in the last incompatibility (RELIABILITY, DURABILITY, ...), else null. */
  readonly incompatiblePolicy: string | null;
  /** The standing incompatibility in one line (topic, policy, requested vs offered); null when none or adapted away. */
  readonly incompatibleDetail: string | null;
  /** Times the subscription was re-made to match its publishers' offers (adaptive QoS). */
  readonly adaptations: number;
  /** Messages DDS reported lost before the reader got them (message-lost status, running total). */
  readonly lostInDds: number;
}

export interface Subscription {
  readonly topic: string;
  readonly type: string;
  /** Messages discarded because this subscriber's queue was full (history depth exceeded). */
  readonly dropped: number;
  /** Messages delivered to the handler. */
  readonly delivered: number;
  /** Middleware status (rclnodejs: DDS incompatible-QoS and message-lost events); absent in-process. */
  readonly health?: SubscriptionHealth;
  close(): void;
}

export interface RawPublisher {
  readonly topic: string;
  readonly type: string;
  /** Publish CDR bytes (encapsulation header included). */
  publish(data: Uint8Array): void;
  close(): void;
}

/** The node clock: system time, or ROS time driven by /clock or a simulator. */
export interface NodeClock {
  readonly kind: "system" | "ros" | "simulated";
  /** Current time (ns). */
  now(): bigint;
}

export type ParameterValue = boolean | number | string | bigint | boolean[] | number[] | string[];

/** std_srvs/Trigger response. */
export interface TriggerResult {
  success: boolean;
  message: string;
}
export type TriggerHandler = () => TriggerResult | Promise<TriggerResult>;

export interface TopicInfo {
  topic: string;
  type: string;
}

export interface Transport {
  /** Adapter name, e.g. `inprocess` or `rclnodejs`. */
  readonly name: string;
  readonly clock: NodeClock;
  /** The node's name and namespace after ROS remapping (`-r __node:=…`), where the adapter knows them. */
  readonly nodeName?: string;
  readonly nodeNamespace?: string;
  subscribeRaw(topic: string, type: string, qos: QosProfile, handler: RawMessageHandler): Subscription;
  advertise(topic: string, type: string, qos: QosProfile): RawPublisher;
  /** A std_srvs/Trigger service. */
  serveTrigger(name: string, handler: TriggerHandler): void;
  /** Topics currently known on the graph. */
  topics(): TopicInfo[];
  /** Parameters given to the node at start (ROS parameters, or the embedded launcher's values). */
  parameters(): Record<string, ParameterValue>;
  /**
   * Calls a std_srvs/Trigger service by name (relative names resolve against this node), for
   * the CLI and tests. Optional: adapters that can act as a client implement it.
   */
  callTrigger?(name: string): Promise<TriggerResult>;
  /**
   * Resolves once every message published so far has been handed to its subscribers' handlers
   * (and their returned promises settled). Optional: in-process implements it exactly; over
   * DDS it only covers what already reached this node.
   */
  flush?(): Promise<void>;
  /** Registers a callback run once when the transport shuts down (signal or shutdown()). */
  onShutdown(callback: () => void | Promise<void>): void;
  shutdown(): Promise<void>;
}
