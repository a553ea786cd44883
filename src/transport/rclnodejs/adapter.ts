/**
 * The rclnodejs adapter of the transport port: syncbag as a ROS 2 node.
 *
 * - Subscriptions are raw (`isRaw: true`): rclnodejs hands over the serialized CDR as a Buffer
 *   (a copy it owns, exactly `buffer_length` bytes), nothing is decoded in JavaScript. Raw
 *   subscriptions carry no MessageInfo, so the receive time is read from the node clock in the
 *   callback (see DESIGN.md pitfalls).
 * - Each subscription feeds the same bounded DeliveryQueue as the in-process adapter, so the
 *   executor callback returns at once, a slow stage drops (and counts) its own oldest messages,
 *   and the DDS reader never backs up into a sensor driver.
 * - Publishing hands rclnodejs a Buffer view of the bytes (no copy): rclnodejs publishes a
 *   Buffer as a serialized message.
 * - Parameters are declared with descriptors derived from the zod schemas (type, range,
 *   read-only); ROS overrides (--params-file, -p) win over syncbag's values; run-time changes
 *   go through `validateParameterChange`.
 * - The node clock is ROS time: it follows /clock when use_sim_time is true.
 * - SIGINT/SIGTERM: rclnodejs's own handler (which shuts everything down at once) is replaced
 *   by one that runs the onShutdown callbacks first, so the recording is finalised.
 *
 * rclnodejs is loaded at run time (it is an optional dependency that only installs where ROS 2
 * is sourced). This folder is excluded from the main type-check and checked against the pinned
 * version's published typings by scripts/check-rclnodejs-types.sh.
 */
import { QueuedSubscription } from "../queued-subscription.js";
import { adaptToOffers, describeMismatch, incompatiblePolicies, policyName, type QosOffer } from "../qos-match.js";
import type { DeliveryQueue as Queue } from "../queue.js";
import { runShutdownCallbacks } from "../shutdown.js";
import type * as Rcl from "rclnodejs";
import { splitTypeName, normaliseTypeName } from "../names.js";
import { PARAMETER_TYPE_IDS, resolveParameters, type ParameterDescriptorSpec, type ParameterKind } from "../parameters.js";
import type {
  NodeClock,
  ParameterValue,
  QosProfile,
  RawMessage,
  RawMessageHandler,
  RawPublisher,
  Subscription,
  SubscriptionHealth,
  TopicInfo,
  Transport,
  TriggerHandler,
  TriggerResult,
} from "../port.js";
import { DeliveryQueue } from "../queue.js";
import type { RclnodejsAdapterModule, RclnodejsTransportOptions } from "../rclnodejs-options.js";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { rclnodejsPreflight } from "../rclnodejs-preflight.js";
import { resolveOverrideSections, type OverrideSection } from "../ros-overrides.js";
import { installShutdownSignals } from "../signals.js";

type RclModule = typeof Rcl;

const TRIGGER = "std_srvs/srv/Trigger";
// rmw_qos_reliability_policy_e, rmw_qos_durability_policy_e.
const RMW_RELIABLE = 1;
const RMW_BEST_EFFORT = 2;
const RMW_TRANSIENT_LOCAL = 1;
const RMW_VOLATILE = 2;
// rcl_subscription_event_type_e (rclnodejs's SubscriptionEventType).
const SUBSCRIPTION_REQUESTED_INCOMPATIBLE_QOS = 2;
const SUBSCRIPTION_MESSAGE_LOST = 3;
/** How a publisher is named while the graph cache does not know its node yet. */
const UNKNOWN_NODE = "a publisher (its node not discovered yet)";

/** rmw's event status as rclnodejs's takeEvent returns it (incompatible QoS, message lost). */
interface QosEventStatus {
  total_count: number;
  total_count_change: number;
  last_policy_kind: number;
}

/** A queued subscription that also carries what DDS reported about it. */
class RclnodejsSubscription extends QueuedSubscription {
  readonly #health: SubscriptionHealth;
  constructor(topic: string, type: string, queue: Queue<RawMessage>, health: SubscriptionHealth, detach: () => void) {
    super(topic, type, queue, detach);
    this.#health = health;
  }
  get health(): SubscriptionHealth {
    return { ...this.#health };
  }
}
const SERVICE_WAIT_MS = 2000;

/**
 * rclnodejs's ESM build exports one default object whose members are what its typings declare
 * as named exports; its CommonJS build is that object itself. Accept either, checked.
 */
export function pickRclnodejs(loaded: unknown): RclModule {
  const candidate = (typeof loaded === "object" && loaded !== null && "default" in loaded ? (loaded as { default: unknown }).default : loaded) as
    | Partial<RclModule>
    | null
    | undefined;
  if (typeof candidate?.init !== "function" || typeof candidate.Node !== "function" || typeof candidate.QoS !== "function") {
    throw new Error("the rclnodejs module loaded but does not export init, Node and QoS");
  }
  return candidate as RclModule;
}

export async function loadRclnodejs(): Promise<RclModule> {
  // A failed addon load makes rclnodejs rebuild itself at import time: check first.
  const problem = rclnodejsPreflight();
  if (problem !== null) throw new Error(problem);
  return pickRclnodejs(await import("rclnodejs"));
}

/** QoS as rclnodejs takes it. */
export function toRclQos(rcl: RclModule, qos: QosProfile): Rcl.QoS {
  const { HistoryPolicy, ReliabilityPolicy, DurabilityPolicy } = rcl.QoS;
  return new rcl.QoS(
    qos.history === "keep_all" ? HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_ALL : HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
    qos.depth,
    qos.reliability === "reliable" ? ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE : ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT,
    qos.durability === "transient_local"
      ? DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL
      : DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE,
  );
}

function typeId(kind: ParameterKind): Rcl.ParameterType {
  // The typings declare ParameterType as an ambient const enum (unusable under isolatedModules);
  // its values are rcl_interfaces/msg/ParameterType's, which PARAMETER_TYPE_IDS holds.
  return PARAMETER_TYPE_IDS[kind] as Rcl.ParameterType;
}

/** syncbag value → rclnodejs parameter value (ROS integers are int64: bigint in rclnodejs). */
function toRclValue(kind: ParameterKind, value: ParameterValue): unknown {
  if (kind === "integer") return typeof value === "bigint" ? value : BigInt(value as number);
  if (kind === "integer_array") return (value as number[]).map((v) => BigInt(v));
  return value;
}

/** rclnodejs value → syncbag value: safe integers become numbers so zod's z.number() accepts them. */
function fromRclValue(value: unknown): ParameterValue | undefined {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    if (items.every((v) => typeof v === "bigint")) return items.map((v) => Number(v as bigint));
    if (items.every((v) => typeof v === "number")) return items as number[];
    if (items.every((v) => typeof v === "boolean")) return items as boolean[];
    if (items.every((v) => typeof v === "string")) return items as string[];
  }
  return undefined;
}

function kindOf(value: ParameterValue): ParameterKind {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "bigint") return "integer";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "double";
  if (typeof value === "string") return "string";
  if (value.every((v) => typeof v === "boolean")) return "bool_array";
  if (value.every((v) => typeof v === "string")) return "string_array";
  return (value as number[]).every((v) => Number.isInteger(v)) ? "integer_array" : "double_array";
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One rclnodejs node behind the Transport port. */
export class RclnodejsTransport implements Transport {
  readonly name = "rclnodejs";
  readonly clock: NodeClock;
  readonly #rcl: RclModule;
  readonly #context: Rcl.Context;
  readonly #node: Rcl.Node;
  readonly #options: RclnodejsTransportOptions & NativeAccess;
  readonly #subscriptions = new Set<QueuedSubscription>();
  readonly #shutdownCallbacks: (() => void | Promise<void>)[] = [];
  readonly #owned = new Set<string>();
  /** Parameters of the schema that rclnodejs declares itself (use_sim_time): read, not owned. */
  readonly #adopted = new Set<string>();
  readonly #endpointCounts = new Map<string, number>();
  readonly #dynamicPrefixes: readonly string[];
  #shutdown: Promise<void> | null = null;
  #closed = false;
  #removeSignals: (() => void) | null = null;

  constructor(
    rcl: RclModule,
    context: Rcl.Context,
    node: Rcl.Node,
    options: RclnodejsTransportOptions & NativeAccess,
  ) {
    this.#rcl = rcl;
    this.#context = context;
    this.#node = node;
    this.#options = options;
    this.#dynamicPrefixes = options.dynamicParameterPrefixes;
    const n = node;
    this.clock = {
      get kind(): "ros" | "system" {
        const p = n.getParameter("use_sim_time");
        return p.value === true ? "ros" : "system";
      },
      now: () => n.getClock().now().nanoseconds,
    };
  }

  /** @internal Declares parameters, installs callbacks and starts spinning. */
  start(): void {
    this.#declareParameters();
    this.#node.addOnSetParametersCallback((parameters) => this.#onSetParameters(parameters));
    this.#checkBeforeDescriptors();
    // Validation above, application here, once ROS has stored the values (rclcpp's split).
    this.#node.addPostSetParametersCallback((parameters) => this.#onParametersSet(parameters));
    if (this.#options.handleSignals) {
      this.#rcl.removeSignalHandlers();
      this.#removeSignals = installShutdownSignals(this);
    }
    this.#node.spin();
  }

  get nodeName(): string {
    return this.#node.name();
  }

  get nodeNamespace(): string {
    return this.#node.namespace();
  }

  get node(): Rcl.Node {
    return this.#node;
  }

  subscribeRaw(topic: string, type: string, qos: QosProfile, handler: RawMessageHandler): Subscription {
    const normalised = normaliseTypeName(type);
    // Messages carry the name syncbag asked for (expanded, not remapped), so a launch-file remap
    // (/points:=/ouster/points) changes what is subscribed, not how the pipeline names it.
    const resolved = this.#node.resolveTopicName(topic, true);
    // The name on the graph (remapped): what publishers are looked up by.
    const onGraph = this.#node.resolveTopicName(topic);
    let queue: DeliveryQueue<RawMessage> | null = null;
    let closed = false;
    const takeRaw = this.#options.nativeTakeRaw ?? null;
    const deliver = (data: Buffer): void => {
      // No MessageInfo on raw subscriptions: the callback is the receive time.
      queue?.push({ topic: resolved, type: normalised, data, receiveTime: this.clock.now() });
    };
    const health = {
      qos: qos.adaptive === true ? adaptToOffers(qos, this.#offers(onGraph)) : qos,
      incompatiblePublishers: 0,
      incompatiblePolicy: null as string | null,
      incompatibleDetail: null as string | null,
      adaptations: 0,
      lostInDds: 0,
    };
    let current: { rcl: Rcl.Subscription; handle: unknown; depth: number };
    const onMessage = (data: Buffer): void => {
      deliver(data);
      // rclnodejs takes one message per subscription per executor wake-up. When messages come
      // faster than wake-ups (a busy event loop, a 400 Hz IMU), the DDS reader history fills and
      // keep_last overwrites its oldest samples, silently. So take everything already waiting,
      // at most one history's worth per wake-up.
      const { handle, depth } = current;
      if (takeRaw === null || handle === undefined) return;
      for (let i = 0; i < depth && !closed; i++) {
        const more = takeRaw(handle);
        if (more === undefined || more === null) break;
        deliver(more);
      }
    };
    let lostReported = 0;
    let lostLineAt = 0;
    const open = (profile: QosProfile, first: boolean): typeof current => {
      const rclQos = toRclQos(this.#rcl, profile);
      // qos_overrides.<topic>.subscription.* are declared with the first subscription only (a
      // re-subscription after adapting would declare them again).
      const options = first
        ? { qos: rclQos, isRaw: true, qosOverridingOptions: this.#qosOverrides("subscription", onGraph) }
        : { qos: rclQos, isRaw: true };
      const rclSubscription = this.#node.createSubscription(splitTypeName(normalised), topic, options, onMessage);
      this.#attachEvents(rclSubscription, {
        incompatibleQos: (event) => {
          health.incompatiblePublishers += event.total_count_change;
          health.incompatiblePolicy = policyName(event.last_policy_kind);
          const policy = health.incompatiblePolicy;
          // DDS reports the mismatch as soon as it sees the writer; the graph cache may not name
          // its node (or list it) for a few hundred ms more: wait up to 2 s for a named culprit.
          const settle = (attempt: number): void => {
            if (closed || this.#closed) return;
            const offers = this.#offers(onGraph);
            const culprits = offers.filter((o) => incompatiblePolicies(health.qos, o).includes(policy));
            if (attempt < 10 && (culprits.length === 0 || culprits.some((o) => o.node === UNKNOWN_NODE))) {
              setTimeout(() => settle(attempt + 1), 200).unref();
              return;
            }
            health.incompatibleDetail = describeMismatch(resolved, health.qos, policy, offers);
            if (qos.adaptive === true) {
              const next = adaptToOffers(qos, offers);
              if (next.reliability !== health.qos.reliability || next.durability !== health.qos.durability) {
                this.#warn(`${health.incompatibleDetail}: re-subscribing ${next.reliability}/${next.durability} to match every publisher (rosbag2's rule)`);
                this.#resubscribe(() => {
                  const old = current.rcl;
                  health.qos = next;
                  current = open(next, false);
                  this.#node.destroySubscription(old);
                  health.adaptations++;
                  health.incompatibleDetail = null;
                });
                return;
              }
            }
            this.#warn(`${health.incompatibleDetail}${qos.adaptive === true ? "" : " (this subscription's QoS is configured, not adapted; sensor_qos.reliability: auto adapts it)"}`);
          };
          // Never inside the executor's event dispatch: re-subscribing changes what it walks.
          setImmediate(() => settle(0));
        },
        messageLost: (event) => {
          health.lostInDds += event.total_count_change;
          // One line at most every 5 s per topic: a flood of losses must not flood the log.
          const now = Date.now();
          if (now - lostLineAt < 5000) return;
          lostLineAt = now;
          this.#warn(`DDS lost ${health.lostInDds - lostReported} message(s) on ${resolved} before syncbag could take them (${health.lostInDds} in all)`);
          lostReported = health.lostInDds;
        },
      });
      return { rcl: rclSubscription, handle: (rclSubscription as unknown as { handle?: unknown }).handle, depth: rclQos.depth };
    };
    current = open(health.qos, true);
    // rclnodejs applied any qos_overrides.<topic>.subscription.* parameter to the QoS in place;
    // syncbag's own queue follows the effective depth. Callbacks only run once spinning picks
    // the message up, after this returns.
    queue = new DeliveryQueue<RawMessage>({
      depth: Math.max(1, current.depth),
      handler: handler as (message: RawMessage) => void | PromiseLike<void>,
      onError: (error) => this.#handlerError(error, resolved),
    });
    const subscription = new RclnodejsSubscription(resolved, normalised, queue, health, () => {
      closed = true;
      this.#subscriptions.delete(subscription);
      this.#node.destroySubscription(current.rcl);
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  #resubscribe(action: () => void): void {
    if (this.#closed) return;
    try {
      action();
    } catch (error) {
      this.#warn(`re-subscribing failed: ${message(error)}`);
    }
  }

  /** The publishers' offers on a topic (graph cache), for adapting and naming a mismatch. */
  #offers(topicOnGraph: string): QosOffer[] {
    let infos: unknown[];
    try {
      infos = this.#node.getPublishersInfoByTopic(topicOnGraph, false);
    } catch {
      return [];
    }
    const out: QosOffer[] = [];
    for (const info of infos) {
      const i = info as { node_name?: string; node_namespace?: string; qos_profile?: { reliability?: number; durability?: number } };
      const ns = i.node_namespace ?? "/";
      const r = i.qos_profile?.reliability;
      const d = i.qos_profile?.durability;
      out.push({
        node: i.node_name === undefined || i.node_name.includes("_NODE_NAME_UNKNOWN_") ? UNKNOWN_NODE : `${ns.endsWith("/") ? ns : `${ns}/`}${i.node_name}`,
        // rmw_qos_reliability_policy_e / rmw_qos_durability_policy_e values.
        reliability: r === RMW_RELIABLE ? "reliable" : r === RMW_BEST_EFFORT ? "best_effort" : "unknown",
        durability: d === RMW_TRANSIENT_LOCAL ? "transient_local" : d === RMW_VOLATILE ? "volatile" : "unknown",
      });
    }
    return out;
  }

  /**
   * DDS status events of a subscription (rcl_subscription_event_init): rclnodejs 2.2 implements
   * them (SubscriptionEventCallbacks) but its package does not export that class, so the event
   * handles are made with its native addon and handed to the node's executor the way
   * rclnodejs's own EventHandler is (node._events, then syncHandles). Unsupported events (an
   * rmw without them) are skipped.
   */
  #attachEvents(rclSubscription: Rcl.Subscription, callbacks: { incompatibleQos: (e: QosEventStatus) => void; messageLost: (e: QosEventStatus) => void }): void {
    const native = this.#options.nativeEvents ?? null;
    const node = this.#node as unknown as { _events?: unknown[]; syncHandles?: () => void };
    const subscription = rclSubscription as unknown as { handle?: unknown; events?: unknown[] };
    if (native === null || !Array.isArray(node._events) || typeof node.syncHandles !== "function" || subscription.handle === undefined) return;
    const events: unknown[] = [];
    for (const [kind, callback] of [
      [SUBSCRIPTION_REQUESTED_INCOMPATIBLE_QOS, callbacks.incompatibleQos],
      [SUBSCRIPTION_MESSAGE_LOST, callbacks.messageLost],
    ] as const) {
      let handle: { release?: () => void } | undefined;
      try {
        handle = native.create(subscription.handle, kind) as { release?: () => void } | undefined;
      } catch {
        continue;
      }
      if (handle === undefined) continue;
      let destroyed = false;
      events.push({
        handle,
        _handle: handle,
        isDestroyed: () => destroyed,
        _destroy: () => {
          destroyed = true;
          handle?.release?.();
        },
        takeData: () => {
          try {
            callback(native.take(handle, kind));
          } catch (error) {
            this.#warn(`DDS status event on a subscription could not be read: ${message(error)}`);
          }
        },
      });
    }
    node._events.push(...events);
    // destroySubscription removes and releases them with the subscription.
    subscription.events = [...(subscription.events ?? []), ...events];
    node.syncHandles();
  }

  /**
   * Every endpoint's QoS is overridable the ROS way, from a params file or -p:
   * `qos_overrides./lidar/points.subscription.reliability: reliable` (history, depth,
   * reliability, durability), declared read-only by rclnodejs. A second endpoint of the same
   * kind on the same topic gets an entity id (`subscription_2`), as rclcpp does: rclnodejs would
   * otherwise reuse the first one's parameters and silently give it the first one's QoS.
   */
  #qosOverrides(entity: "publisher" | "subscription", resolvedTopic: string): Rcl.QoSOverridingOptions {
    const { QoSOverridingOptions, QoSPolicyKind } = this.#rcl;
    const key = `${entity} ${resolvedTopic}`;
    const n = (this.#endpointCounts.get(key) ?? 0) + 1;
    this.#endpointCounts.set(key, n);
    const kinds = [QoSPolicyKind.HISTORY, QoSPolicyKind.DEPTH, QoSPolicyKind.RELIABILITY, QoSPolicyKind.DURABILITY];
    return n === 1 ? new QoSOverridingOptions(kinds) : new QoSOverridingOptions(kinds, { entityId: String(n) });
  }

  advertise(topic: string, type: string, qos: QosProfile): RawPublisher {
    const normalised = normaliseTypeName(type);
    const node = this.#node;
    const publisher = node.createPublisher(splitTypeName(normalised), topic, {
      qos: toRclQos(this.#rcl, qos),
      qosOverridingOptions: this.#qosOverrides("publisher", node.resolveTopicName(topic)),
    });
    const transportClosed = (): boolean => this.#closed;
    // Read while the node lives: rclnodejs's publisher.topic asks the destroyed native handle.
    const resolved = node.resolveTopicName(topic, true);
    let closed = false;
    return {
      topic: resolved,
      type: normalised,
      publish(data: Uint8Array): void {
        if (closed || transportClosed()) throw new Error(`publish on ${resolved}: the publisher is closed`);
        // A Buffer view over the same memory: rclnodejs publishes Buffers as serialized messages.
        publisher.publish(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      },
      close(): void {
        if (closed) return;
        closed = true;
        if (!transportClosed()) node.destroyPublisher(publisher);
      },
    };
  }

  serveTrigger(name: string, handler: TriggerHandler): void {
    this.#node.createService(TRIGGER, name, (_request, response) => {
      Promise.resolve()
        .then(handler)
        .then(
          (result) => response.send({ success: Boolean(result.success), message: String(result.message) }),
          (error: unknown) => response.send({ success: false, message: `${name} failed: ${message(error)}` }),
        );
    });
  }

  async callTrigger(name: string): Promise<TriggerResult> {
    const client = this.#node.createClient(TRIGGER, name);
    try {
      if (!(await client.waitForService(SERVICE_WAIT_MS))) {
        throw new Error(`no Trigger service ${client.serviceName} answered within ${SERVICE_WAIT_MS} ms`);
      }
      const Trigger = this.#rcl.require(TRIGGER);
      const response = await client.sendRequestAsync(new Trigger.Request());
      return { success: response.success, message: response.message };
    } finally {
      this.#node.destroyClient(client);
    }
  }

  topics(): TopicInfo[] {
    const out: TopicInfo[] = [];
    for (const { name, types } of this.#node.getTopicNamesAndTypes()) {
      for (const type of types) out.push({ topic: name, type: normaliseTypeName(type) });
    }
    return out;
  }

  parameters(): Record<string, ParameterValue> {
    const out: Record<string, ParameterValue> = {};
    for (const p of this.#node.getParameters()) {
      if (!this.#isOurs(p.name) && !this.#adopted.has(p.name)) continue;
      const value = fromRclValue(p.value);
      if (value !== undefined) out[p.name] = value;
    }
    return out;
  }

  onShutdown(callback: () => void | Promise<void>): void {
    this.#shutdownCallbacks.push(callback);
  }

  /** Waits until what reached this node so far has been handled. */
  async flush(): Promise<void> {
    for (;;) {
      const busy = [...this.#subscriptions].filter((s) => s.pending);
      if (busy.length === 0) return;
      await Promise.all(busy.map((s) => s.idle()));
    }
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#runShutdown();
    return this.#shutdown;
  }

  async #runShutdown(): Promise<void> {
    await this.flush();
    const errors = await runShutdownCallbacks(this.#shutdownCallbacks);
    await this.flush();
    this.#closed = true;
    for (const s of [...this.#subscriptions]) s.close();
    this.#removeSignals?.();
    try {
      this.#node.stop();
      this.#node.destroy();
    } finally {
      if (!this.#context.isShutdown()) this.#rcl.shutdown(this.#context);
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} shutdown callback(s) failed`);
  }

  #isOurs(name: string): boolean {
    return this.#owned.has(name) || this.#dynamicPrefixes.some((prefix) => name.startsWith(`${prefix}.`));
  }

  /**
   * Values come from syncbag (given), then ROS overrides (--params-file, -p) on top, checked
   * with the same messages as in-process (key, value, expectation), then declared with
   * `ignoreOverride`: syncbag has already applied the override, converted to the descriptor's
   * type, so `tolerance_s: 1` in YAML (an integer to ROS) still fills a double parameter.
   */
  #declareParameters(): void {
    const rcl = this.#rcl;
    const node = this.#node;
    const descriptors = this.#options.parameterDescriptors;
    const byName = new Map(descriptors.map((d) => [d.name, d]));
    const merged: Record<string, ParameterValue> = { ...this.#options.parameters };
    const fromOverrides = new Set<string>();
    for (const p of this.#parameterOverrides()) {
      // QoS overrides are rclnodejs's own (read-only, applied per endpoint).
      if (p.name.startsWith("qos_overrides.")) continue;
      const value = fromRclValue(p.value);
      if (value === undefined) continue;
      merged[p.name] = value;
      fromOverrides.add(p.name);
    }
    const resolved = resolveParameters(descriptors, merged);

    const problems: string[] = [];
    for (const [name, value] of Object.entries(resolved)) {
      const spec = byName.get(name);
      if (node.hasParameter(name)) {
        // Declared by rclnodejs's Node itself (use_sim_time, start_type_description_service),
        // from the ROS overrides: syncbag reads it, and sets it only when ROS was given none.
        if (fromOverrides.has(name) || name in this.#options.parameters) this.#setOwnValue(name, spec?.kind ?? kindOf(value), value, problems);
        this.#adopted.add(name);
        continue;
      }
      const dynamic = this.#dynamicPrefixes.some((prefix) => name.startsWith(`${prefix}.`));
      if (spec === undefined && !dynamic && fromOverrides.has(name)) {
        this.#warn(`parameter ${name} from the command line or params file is not a syncbag parameter; ignored`);
        continue;
      }
      const kind = spec?.kind ?? kindOf(value);
      try {
        const parameter = new rcl.Parameter(name, typeId(kind), toRclValue(kind, value));
        node.declareParameter(parameter, spec === undefined ? undefined : this.#descriptor(spec), true);
        this.#owned.add(name);
      } catch (error) {
        problems.push(`parameter ${name}: value ${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))} refused by ROS: ${message(error)}`);
      }
    }
    if (problems.length > 0) throw new Error(problems.join("\n"));
  }

  /**
   * The ROS overrides for this node by rcl's section rule (see ros-overrides.ts), read from the
   * native rcl arguments when the loaded rclnodejs exposes them; else rclnodejs's own list.
   */
  #parameterOverrides(): Rcl.Parameter[] {
    const sections = this.#options.nativeOverrideSections?.(this.#context) ?? null;
    if (sections === null) return this.#node.getParameterOverrides();
    const resolved = resolveOverrideSections(sections, this.#node.getFullyQualifiedName());
    return [...resolved.values()].map((p) => new this.#rcl.Parameter(p.name, p.type as Rcl.ParameterType, p.value));
  }

  #setOwnValue(name: string, kind: ParameterKind, value: ParameterValue, problems: string[]): void {
    const result = this.#node.setParameter(new this.#rcl.Parameter(name, typeId(kind), toRclValue(kind, value)));
    if (!result.successful) problems.push(`parameter ${name}: value ${String(value)} refused by ROS: ${result.reason}`);
  }

  #descriptor(spec: ParameterDescriptorSpec): Rcl.ParameterDescriptor {
    const rcl = this.#rcl;
    const range =
      spec.range === undefined
        ? undefined
        : spec.kind.startsWith("integer")
          ? new rcl.IntegerRange(BigInt(spec.range.from), BigInt(spec.range.to), BigInt(spec.range.step))
          : new rcl.FloatingPointRange(spec.range.from, spec.range.to, spec.range.step);
    const descriptor = new rcl.ParameterDescriptor(spec.name, typeId(spec.kind), spec.description, spec.readOnly, range);
    descriptor.additionalConstraints = spec.additionalConstraints;
    return descriptor;
  }

  #onSetParameters(parameters: Rcl.Parameter[]): Rcl.rcl_interfaces.msg.SetParametersResult {
    const ours = parameters.filter((p) => this.#isOurs(p.name));
    if (ours.length === 0) return { successful: true, reason: "" };
    const validate = this.#options.validateParameterChange;
    if (validate === undefined) {
      return { successful: false, reason: `syncbag reads ${ours.map((p) => p.name).join(", ")} at start; restart the node to change it` };
    }
    const all = this.parameters();
    for (const p of ours) {
      const value = fromRclValue(p.value);
      if (value === undefined) return { successful: false, reason: `parameter ${p.name}: value ${String(p.value)} is not a ROS parameter value` };
      all[p.name] = value;
    }
    const refusal = validate(all, ours.map((p) => p.name));
    return refusal === null ? { successful: true, reason: "" } : { successful: false, reason: refusal };
  }

  /**
   * rclnodejs 2.2 checks a value against the descriptor (type, range) before any set callback,
   * and refuses an out-of-range one with "Parameter <name> does not  readonly", which names
   * neither the value nor the bound. So syncbag's own check (the zod message: key, expectation,
   * value) runs first; values it accepts still go through rclnodejs's own validation.
   */
  #checkBeforeDescriptors(): void {
    type Validate = (parameters: Rcl.Parameter[], declareParameterMode?: boolean) => Rcl.rcl_interfaces.msg.SetParametersResult;
    const internals = this.#node as unknown as { _validateParameters?: Validate };
    const original = internals._validateParameters;
    if (typeof original !== "function") return;
    internals._validateParameters = (parameters, declareParameterMode = false) => {
      if (!declareParameterMode) {
        const ours = this.#onSetParameters(parameters);
        if (!ours.successful) return ours;
      }
      return original.call(this.#node, parameters, declareParameterMode);
    };
  }

  #onParametersSet(parameters: Rcl.Parameter[]): void {
    const apply = this.#options.applyParameterChange;
    if (apply === undefined) return;
    const changed: Record<string, ParameterValue> = {};
    for (const p of parameters) {
      const value = fromRclValue(p.value);
      if (this.#isOurs(p.name) && value !== undefined) changed[p.name] = value;
    }
    if (Object.keys(changed).length === 0) return;
    try {
      apply(changed);
    } catch (error) {
      this.#warn(`parameter change accepted but not applied: ${message(error)}`);
    }
  }

  #handlerError(error: unknown, topic: string): void {
    if (this.#options.onHandlerError !== undefined) this.#options.onHandlerError(error, topic);
    else this.#warn(`subscriber on ${topic} failed: ${message(error)}`);
  }

  #warn(text: string): void {
    if (this.#options.warn !== undefined) this.#options.warn(text);
    else this.#node.getLogger().warn(text);
  }
}

/** Initialises a fresh rclnodejs context, creates the node and starts it. */
/** A parameter as rcl's arguments hold it (rclnodejs's native getParameterOverrides). */
interface NativeOverride {
  name: string;
  type: number;
  value: unknown;
}

/** What the adapter reads from rclnodejs's native addon beyond its public API (absent on stand-ins). */
interface NativeAccess {
  nativeOverrideSections?: (context: Rcl.Context) => OverrideSection<NativeOverride>[] | null;
  /** Takes one more serialized message from a subscription handle, or nothing when none waits. */
  nativeTakeRaw?: ((handle: unknown) => Buffer | null | undefined) | null;
  /** Creates a subscription status-event handle and takes its status (rcl_take_event). */
  nativeEvents?: { create: (subscriptionHandle: unknown, kind: number) => unknown; take: (eventHandle: unknown, kind: number) => QosEventStatus } | null;
}

interface NativeAddon {
  getParameterOverrides?: (handle: unknown) => unknown;
  rclTakeRaw?: (handle: unknown) => Buffer | null | undefined;
  createSubscriptionEventHandle?: (subscriptionHandle: unknown, kind: number) => unknown;
  takeEvent?: (eventHandle: unknown, type: { subscription_event_type: number }) => unknown;
}

/** The native addon rclnodejs loaded (the same module instance: Node caches addons by path). */
function nativeAddon(): NativeAddon | null {
  try {
    const require = createRequire(import.meta.url);
    return require(join(dirname(require.resolve("rclnodejs/package.json")), "build", "Release", "rclnodejs.node")) as NativeAddon;
  } catch {
    return null;
  }
}

function nativeTakeRaw(): ((handle: unknown) => Buffer | null | undefined) | null {
  const take = nativeAddon()?.rclTakeRaw;
  return typeof take === "function" ? (handle) => take(handle) : null;
}

function nativeEvents(): NativeAccess["nativeEvents"] {
  const addon = nativeAddon();
  const create = addon?.createSubscriptionEventHandle;
  const take = addon?.takeEvent;
  if (typeof create !== "function" || typeof take !== "function") return null;
  return {
    create: (handle, kind) => create(handle, kind),
    take: (handle, kind) => {
      const e = take(handle, { subscription_event_type: kind }) as Partial<QosEventStatus> | undefined;
      return { total_count: Number(e?.total_count ?? 0), total_count_change: Number(e?.total_count_change ?? 0), last_policy_kind: Number(e?.last_policy_kind ?? 0) };
    },
  };
}

/** rcl's override sections, or null when this rclnodejs does not expose them. */
function nativeOverrideSections(context: Rcl.Context): OverrideSection<NativeOverride>[] | null {
  try {
    const addon = nativeAddon();
    if (addon === null) return null;
    const handle = (context as unknown as { handle?: unknown }).handle;
    if (typeof addon.getParameterOverrides !== "function" || handle === undefined) return null;
    const data = addon.getParameterOverrides(handle);
    if (data === undefined || data === null) return [];
    if (!Array.isArray(data)) return null;
    return (data as { name: string; parameters: NativeOverride[] }[]).map((section) => ({ name: section.name, parameters: section.parameters }));
  } catch {
    return null;
  }
}

export const openRclnodejsTransport: RclnodejsAdapterModule["openRclnodejsTransport"] = async (options) => {
  const real = options.loadRclnodejs === undefined;
  const rcl = real ? await loadRclnodejs() : pickRclnodejs(await options.loadRclnodejs!());
  const context = new rcl.Context();
  await rcl.init(context, options.argv ?? process.argv);
  try {
    const nodeOptions = new rcl.NodeOptions();
    // Overrides from --ros-args are read by the node itself and win over these.
    nodeOptions.parameterOverrides =
      options.useSimTime === undefined ? [] : [new rcl.Parameter("use_sim_time", typeId("bool"), options.useSimTime)];
    nodeOptions.automaticallyDeclareParametersFromOverrides = false;
    const node = new rcl.Node(options.nodeName, options.namespace, context, nodeOptions);
    const transport = new RclnodejsTransport(rcl, context, node, real ? { ...options, nativeOverrideSections, nativeTakeRaw: nativeTakeRaw(), nativeEvents: nativeEvents() } : options);
    transport.start();
    return transport;
  } catch (error) {
    if (!context.isShutdown()) rcl.shutdown(context);
    throw error;
  }
};
