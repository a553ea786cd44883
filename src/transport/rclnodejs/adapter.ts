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
    let queue: DeliveryQueue<RawMessage> | null = null;
    let handle: unknown = undefined;
    let closed = false;
    const takeRaw = this.#options.nativeTakeRaw ?? null;
    const deliver = (data: Buffer): void => {
      // No MessageInfo on raw subscriptions: the callback is the receive time.
      queue?.push({ topic: resolved, type: normalised, data, receiveTime: this.clock.now() });
    };
    const onMessage = (data: Buffer): void => {
      deliver(data);
      // rclnodejs takes one message per subscription per executor wake-up. When messages come
      // faster than wake-ups (a busy event loop, a 400 Hz IMU), the DDS reader history fills and
      // keep_last overwrites its oldest samples, silently. So take everything already waiting,
      // at most one history's worth per wake-up.
      if (takeRaw === null || handle === undefined) return;
      for (let i = 0; i < rclQos.depth && !closed; i++) {
        const more = takeRaw(handle);
        if (more === undefined || more === null) break;
        deliver(more);
      }
    };
    const rclQos = toRclQos(this.#rcl, qos);
    const rclSubscription = this.#node.createSubscription(
      splitTypeName(normalised),
      topic,
      { qos: rclQos, isRaw: true, qosOverridingOptions: this.#qosOverrides("subscription", this.#node.resolveTopicName(topic)) },
      onMessage,
    );
    handle = (rclSubscription as unknown as { handle?: unknown }).handle;
    // rclnodejs applied any qos_overrides.<topic>.subscription.* parameter to rclQos in place;
    // syncbag's own queue follows the effective depth. Callbacks only run once spinning picks
    // the message up, after this returns.
    queue = new DeliveryQueue<RawMessage>({
      depth: Math.max(1, rclQos.depth),
      handler: handler as (message: RawMessage) => void | PromiseLike<void>,
      onError: (error) => this.#handlerError(error, resolved),
    });
    const subscription = new QueuedSubscription(resolved, normalised, queue, () => {
      closed = true;
      this.#subscriptions.delete(subscription);
      this.#node.destroySubscription(rclSubscription);
    });
    this.#subscriptions.add(subscription);
    return subscription;
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
    const refusal = validate(all);
    return refusal === null ? { successful: true, reason: "" } : { successful: false, reason: refusal };
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
}

interface NativeAddon {
  getParameterOverrides?: (handle: unknown) => unknown;
  rclTakeRaw?: (handle: unknown) => Buffer | null | undefined;
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
    const transport = new RclnodejsTransport(rcl, context, node, real ? { ...options, nativeOverrideSections, nativeTakeRaw: nativeTakeRaw() } : options);
    transport.start();
    return transport;
  } catch (error) {
    if (!context.isShutdown()) rcl.shutdown(context);
    throw error;
  }
};
