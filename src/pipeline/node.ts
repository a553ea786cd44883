/**
 * The syncbag node: subscribes to the configured sensor topics on a transport, runs every
 * message through the shared Pipeline, publishes the stages' CDR outputs, records everything,
 * and offers the services ROS users expect (~/pause, ~/resume, ~/split, ~/snapshot, ~/status).
 *
 * Transport callbacks only enqueue into the pipeline's synchronous stages and the recorder's
 * bounded queue: nothing here waits on the disk, so a slow disk never stalls the sensors.
 */
import type { AlignedFrameData } from "../align/types.js";
import { defaultCodec } from "../messages/codec.js";
import { fromNs } from "../messages/time.js";
import type { OutboundMessage } from "../messages/outbound.js";
import { DEFAULT_QOS, type QosProfile, type RawMessage, type RawPublisher, type Subscription, type SubscriptionHealth, type Transport } from "../transport/port.js";
import { Pipeline, type AlignmentPort, type PipelineCounters, type RecordPort, type SuggestionPort } from "./pipeline.js";

/** The parts of McapRecorder the node drives; an interface so roles without a recorder need none. */
export interface NodeRecorder extends RecordPort {
  pause(): void;
  resume(): void;
  split(): Promise<void>;
  snapshot(): Promise<{ path: string; messages: number }>;
  close(): Promise<void>;
  stats(): { state: string; recorded: number; droppedQueueFull: number; currentFile: string | null; files: string[]; lastError: string | null };
}

export interface NodeInput {
  topic: string;
  type: string;
  qos: QosProfile;
  /** Called with each message after the pipeline took it (recorded first): e.g. live lidar packet decoding. */
  after?: (raw: RawMessage) => void;
}

export interface SyncbagNodeOptions {
  transport: Transport;
  /** Topics to subscribe: sensors, plus state such as /tf_static and camera_info (latched QoS). */
  inputs: NodeInput[];
  alignment: AlignmentPort;
  suggestions?: SuggestionPort;
  recorder?: NodeRecorder;
  /** Whether the stages' CDR outputs are published on the transport (all but batch conversion). */
  publishOutputs?: boolean;
  /** How often the aligner's periodic outputs (clock state, diagnostics) are produced (ms). */
  tickIntervalMs?: number;
  log?: (line: string) => void;
  /** Every aligned frame, after the suggesters saw it (reports, tests). */
  onFrame?: (frame: AlignedFrameData) => void;
}

export interface SubscriptionStatus {
  topic: string;
  delivered: number;
  /** Dropped by syncbag's own queue (full). */
  dropped: number;
  /** What DDS reported (rclnodejs): requested QoS, incompatible publishers, messages lost. */
  health?: SubscriptionHealth;
}

export interface NodeStatus {
  transport: string;
  pipeline: PipelineCounters;
  subscriptions: SubscriptionStatus[];
  recorder: ReturnType<NodeRecorder["stats"]> | null;
}

const STATUS_TYPE = "std_msgs/String";
const DIAGNOSTICS_TYPE = "diagnostic_msgs/DiagnosticArray";

export class SyncbagNode {
  readonly #options: SyncbagNodeOptions;
  readonly #pipeline: Pipeline;
  readonly #publishers = new Map<string, RawPublisher>();
  readonly #subscriptions: Subscription[] = [];
  #timer: NodeJS.Timeout | undefined;
  #statusPublisher: RawPublisher | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: SyncbagNodeOptions) {
    this.#options = options;
    this.#pipeline = new Pipeline({
      alignment: options.alignment,
      ...(options.suggestions === undefined ? {} : { suggestions: options.suggestions }),
      ...(options.recorder === undefined ? {} : { recorder: options.recorder }),
      ...(options.publishOutputs === false ? {} : { publish: (message: OutboundMessage) => this.#publish(message) }),
      ...(options.onFrame === undefined ? {} : { onFrame: options.onFrame }),
    });
  }

  get pipeline(): Pipeline {
    return this.#pipeline;
  }

  /** Subscribes, registers services and starts the periodic tick. */
  start(): void {
    const { transport } = this.#options;
    for (const input of this.#options.inputs) {
      const after = input.after;
      const handler =
        after === undefined
          ? (raw: RawMessage) => this.#pipeline.ingest(raw)
          : (raw: RawMessage) => {
              this.#pipeline.ingest(raw);
              after(raw);
            };
      this.#subscriptions.push(transport.subscribeRaw(input.topic, input.type, input.qos, handler));
    }
    const recorder = this.#options.recorder;
    const guarded = (name: string, action: () => Promise<string> | string) => async () => {
      if (recorder === undefined) return { success: false, message: `${name}: this node has no recorder (role without recording)` };
      try {
        return { success: true, message: await action() };
      } catch (error) {
        return { success: false, message: `${name} failed: ${error instanceof Error ? error.message : String(error)}` };
      }
    };
    transport.serveTrigger("~/pause", guarded("pause", () => (recorder!.pause(), "recording paused")));
    transport.serveTrigger("~/resume", guarded("resume", () => (recorder!.resume(), "recording resumed")));
    transport.serveTrigger("~/split", guarded("split", async () => (await recorder!.split(), `now writing ${recorder!.stats().currentFile ?? "?"}`)));
    transport.serveTrigger("~/snapshot", guarded("snapshot", async () => {
      const result = await recorder!.snapshot();
      return `snapshot of ${result.messages} messages written to ${result.path}`;
    }));
    this.#statusPublisher = transport.advertise("~/status", STATUS_TYPE, DEFAULT_QOS);
    const interval = this.#options.tickIntervalMs ?? 200;
    let ticks = 0;
    this.#timer = setInterval(() => {
      this.#pipeline.tick(transport.clock.now());
      if (++ticks % Math.max(1, Math.round(1000 / interval)) === 0) this.#publishStatus();
    }, interval);
    this.#timer.unref();
  }

  status(): NodeStatus {
    return {
      transport: this.#options.transport.name,
      pipeline: { ...this.#pipeline.counters },
      subscriptions: this.#subscriptions.map((s) => {
        const health = s.health;
        return { topic: s.topic, delivered: s.delivered, dropped: s.dropped, ...(health === undefined ? {} : { health }) };
      }),
      recorder: this.#options.recorder?.stats() ?? null,
    };
  }

  /**
   * Where each subscription's messages went, one line per topic that saw any: taken from DDS
   * (delivered + dropped by syncbag's own queue), what DDS reported lost before syncbag could
   * take it, incompatible publishers; then the recorder's write-queue drops. Printed at stop so a
   * loss is never silent, and read by bench/ros2-throughput.ts.
   */
  lossSummary(): string[] {
    const status = this.status();
    const lines: string[] = [];
    for (const s of status.subscriptions) {
      const h = s.health;
      const lost = h?.lostInDds ?? 0;
      const incompatible = h?.incompatiblePublishers ?? 0;
      if (s.delivered + s.dropped + lost + incompatible === 0) continue;
      lines.push(
        `${s.topic}: ${s.delivered + s.dropped} taken from DDS, ${s.dropped} dropped in syncbag's queue` +
          (h === undefined ? "" : `, ${lost} reported lost by DDS`) +
          (incompatible > 0 ? `, ${incompatible} incompatible publisher(s)` : ""),
      );
    }
    const r = status.recorder;
    if (r !== null) lines.push(`recorder: ${r.recorded} recorded, ${r.droppedQueueFull} dropped at the write queue`);
    return lines;
  }

  /** Runs one periodic step now (used when the caller drives time, e.g. a simulated clock). */
  tick(nowNs: bigint): void {
    this.#pipeline.tick(nowNs);
  }

  /**
   * Stops input, flushes the aligner and suggesters, and finalises the recording. Idempotent:
   * a second signal while finalising waits for the same work instead of cutting it short.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      if (this.#timer !== undefined) clearInterval(this.#timer);
      for (const subscription of this.#subscriptions) subscription.close();
      this.#pipeline.tick(this.#options.transport.clock.now());
      this.#pipeline.finish();
      await this.#options.recorder?.close();
      for (const publisher of this.#publishers.values()) publisher.close();
      this.#statusPublisher?.close();
    })();
    return this.#stopped;
  }

  #publish(message: OutboundMessage): void {
    let publisher = this.#publishers.get(message.topic);
    if (publisher === undefined) {
      publisher = this.#options.transport.advertise(message.topic, message.schemaName, DEFAULT_QOS);
      this.#publishers.set(message.topic, publisher);
    }
    publisher.publish(message.data);
  }

  /**
   * One DiagnosticStatus per subscription the middleware reports on: ERROR while a publisher's
   * QoS is incompatible (its messages never arrive; the message names topic and policy), WARN
   * once DDS has lost messages, else OK. Published on /diagnostics beside the aligner's.
   */
  #publishSubscriptionDiagnostics(status: NodeStatus): void {
    const statuses = [];
    for (const s of status.subscriptions) {
      const h = s.health;
      if (h === undefined) continue;
      const level = h.incompatibleDetail !== null ? 2 : h.lostInDds > 0 ? 1 : 0;
      statuses.push({
        level,
        // Named by node: split_nodes runs several syncbag nodes subscribing to the same topics.
        name: `${this.#options.transport.nodeName ?? "syncbag"}: subscription ${s.topic}`,
        message: h.incompatibleDetail ?? (h.lostInDds > 0 ? `DDS lost ${h.lostInDds} message(s) before syncbag took them` : "OK"),
        hardware_id: "",
        values: [
          ["reliability", h.qos.reliability],
          ["durability", h.qos.durability],
          ["depth", String(h.qos.depth)],
          ["incompatible_publishers", String(h.incompatiblePublishers)],
          ["incompatible_policy", h.incompatiblePolicy ?? ""],
          ["adaptations", String(h.adaptations)],
          ["delivered", String(s.delivered)],
          ["dropped_queue_full", String(s.dropped)],
          ["lost_in_dds", String(h.lostInDds)],
        ].map(([key, value]) => ({ key, value })),
      });
    }
    if (statuses.length === 0) return;
    const now = this.#options.transport.clock.now();
    const data = defaultCodec().encode(DIAGNOSTICS_TYPE, { header: { stamp: fromNs(now), frame_id: "" }, status: statuses });
    const message: OutboundMessage = { topic: "/diagnostics", schemaName: DIAGNOSTICS_TYPE, encoding: "cdr", data, logTime: now, publishTime: now };
    this.#options.recorder?.write(message);
    if (this.#options.publishOutputs !== false) this.#publish(message);
  }

  #publishStatus(): void {
    const status = this.status();
    this.#publishSubscriptionDiagnostics(status);
    const text = JSON.stringify(status, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    const data = defaultCodec().encode(STATUS_TYPE, { data: text });
    this.#statusPublisher?.publish(data);
    this.#options.recorder?.write({
      topic: this.#statusPublisher?.topic ?? "~/status",
      schemaName: STATUS_TYPE,
      encoding: "cdr",
      data,
      logTime: this.#options.transport.clock.now(),
      publishTime: this.#options.transport.clock.now(),
    });
  }
}
