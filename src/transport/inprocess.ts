/**
 * The embedded transport: ROS 2 publish/subscribe semantics inside one Node.js process, so the
 * whole node (simulator → clock models → aligner → recorder → suggesters) runs without ROS.
 *
 * Several transports (nodes) can share one InProcessBus, as split nodes share a ROS graph.
 * Semantics follow ROS 2 where a user would notice:
 * - names expand like ROS (`rel` under the namespace, `~/x` under the node);
 * - each subscriber has its own bounded queue of QoS depth; when full the oldest message is
 *   dropped and counted (keep_all is bounded by depth too, see port.ts);
 * - delivery is in publish order per subscriber, asynchronous (never on the publisher's stack);
 * - transient_local publishers keep their last `depth` messages for late transient_local
 *   subscribers; closing the publisher forgets them, as in DDS;
 * - incompatible QoS (reliable subscriber ← best-effort publisher, transient_local subscriber ←
 *   volatile publisher) and type mismatches do not connect, with a warning, as on a ROS graph.
 *
 * Bytes are handed over as the same Uint8Array, not copied: a 4 MB point cloud fanned out to
 * the recorder and two suggesters costs nothing, and every consumer sees exactly the bytes that
 * were published. The contract that makes this safe: a publisher gives up the buffer when it
 * publishes, and no subscriber writes to it (port.ts: "Never modified by syncbag").
 * `copyOnPublish` buys isolation from a publisher that reuses its buffer, at one copy per publish.
 */
import { QueuedSubscription } from "./queued-subscription.js";
import { runShutdownCallbacks } from "./shutdown.js";
import { SystemClock } from "./clock.js";
import { expandName, normaliseNamespace, normaliseTypeName, validateNodeName } from "./names.js";
import { resolveParameters, type ParameterDescriptorSpec } from "./parameters.js";
import type {
  NodeClock,
  ParameterValue,
  QosProfile,
  RawMessage,
  RawMessageHandler,
  RawPublisher,
  TopicInfo,
  Transport,
  TriggerHandler,
  TriggerResult,
} from "./port.js";
import { DeliveryQueue } from "./queue.js";

export type WarningSink = (message: string) => void;

const defaultWarn: WarningSink = (message) => process.emitWarning(message, "SyncbagTransportWarning");

interface LatchedMessage {
  seq: number;
  data: Uint8Array;
}

/** The shared graph of in-process nodes: endpoints by topic and Trigger services by name. */
export class InProcessBus {
  readonly #subscriptions = new Map<string, Set<InProcessSubscription>>();
  readonly #publishers = new Map<string, Set<InProcessPublisher>>();
  readonly #services = new Map<string, TriggerHandler>();
  #seq = 0;

  /** Resolves when every subscriber queue on the bus is empty and no handler is running. */
  async idle(): Promise<void> {
    for (;;) {
      const busy: InProcessSubscription[] = [];
      for (const set of this.#subscriptions.values()) for (const s of set) if (s.pending) busy.push(s);
      if (busy.length === 0) return;
      await Promise.all(busy.map((s) => s.idle()));
    }
  }

  topics(): TopicInfo[] {
    const seen = new Map<string, TopicInfo>();
    for (const map of [this.#publishers, this.#subscriptions]) {
      for (const set of map.values()) {
        for (const e of set) seen.set(`${e.topic}\u0000${e.type}`, { topic: e.topic, type: e.type });
      }
    }
    return [...seen.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.type.localeCompare(b.type));
  }

  /** Fully qualified names of the Trigger services on the bus. */
  services(): string[] {
    return [...this.#services.keys()].sort();
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  addPublisher(publisher: InProcessPublisher): void {
    getOrCreate(this.#publishers, publisher.topic).add(publisher);
  }

  removePublisher(publisher: InProcessPublisher): void {
    this.#publishers.get(publisher.topic)?.delete(publisher);
  }

  addSubscription(subscription: InProcessSubscription): void {
    getOrCreate(this.#subscriptions, subscription.topic).add(subscription);
  }

  removeSubscription(subscription: InProcessSubscription): void {
    this.#subscriptions.get(subscription.topic)?.delete(subscription);
  }

  subscriptionsOf(topic: string): Iterable<InProcessSubscription> {
    return this.#subscriptions.get(topic) ?? [];
  }

  publishersOf(topic: string): Iterable<InProcessPublisher> {
    return this.#publishers.get(topic) ?? [];
  }

  addService(name: string, handler: TriggerHandler): void {
    if (this.#services.has(name)) throw new Error(`service ${name} is already served on this bus`);
    this.#services.set(name, handler);
  }

  removeService(name: string, handler: TriggerHandler): void {
    if (this.#services.get(name) === handler) this.#services.delete(name);
  }

  service(name: string): TriggerHandler | undefined {
    return this.#services.get(name);
  }
}

function getOrCreate<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

/** Why a publisher and a subscriber would not connect on a ROS graph, or null when they do. */
export function qosIncompatibility(offered: QosProfile, requested: QosProfile): string | null {
  if (requested.reliability === "reliable" && offered.reliability === "best_effort") {
    return "the subscriber requests reliable delivery but the publisher offers best_effort";
  }
  if (requested.durability === "transient_local" && offered.durability === "volatile") {
    return "the subscriber requests transient_local durability but the publisher offers volatile";
  }
  return null;
}

function validateQos(qos: QosProfile, where: string): void {
  if (!Number.isInteger(qos.depth) || qos.depth < 1) {
    throw new RangeError(`${where}: QoS depth ${qos.depth} is invalid: expected an integer ≥ 1`);
  }
}

export interface InProcessTransportOptions {
  /** Node name (ROS rules: letters, digits, underscores). Default `syncbag`. */
  nodeName?: string;
  /** Namespace, e.g. `/car1`. Default `/`. */
  namespace?: string;
  /** The graph shared with other in-process nodes. Default: a bus of its own. */
  bus?: InProcessBus;
  /** Node clock. Default: SystemClock. Pass a SimulatedClock for simulated time. */
  clock?: NodeClock;
  /** Parameter values given at start (flat, dotted names). */
  parameters?: Record<string, ParameterValue>;
  /** Descriptors the values are checked against and whose defaults fill missing values. */
  parameterDescriptors?: readonly ParameterDescriptorSpec[];
  /** Copy every published buffer (isolates subscribers from a publisher that reuses buffers). */
  copyOnPublish?: boolean;
  /** A subscriber handler threw or rejected. Default: a process warning. */
  onHandlerError?: (error: unknown, topic: string) => void;
  /** QoS or type mismatches that keep endpoints apart. Default: a process warning. */
  warn?: WarningSink;
}

/** The embedded transport (one node). */
export class InProcessTransport implements Transport {
  readonly name = "inprocess";
  readonly clock: NodeClock;
  readonly nodeName: string;
  readonly namespace: string;
  readonly bus: InProcessBus;
  readonly #parameters: Record<string, ParameterValue>;
  readonly #copyOnPublish: boolean;
  readonly #onHandlerError: (error: unknown, topic: string) => void;
  readonly #warn: WarningSink;
  readonly #subscriptions = new Set<InProcessSubscription>();
  readonly #publishers = new Set<InProcessPublisher>();
  readonly #services = new Map<string, TriggerHandler>();
  readonly #shutdownCallbacks: (() => void | Promise<void>)[] = [];
  #shutdown: Promise<void> | null = null;
  #closed = false;

  constructor(options: InProcessTransportOptions = {}) {
    this.nodeName = options.nodeName ?? "syncbag";
    validateNodeName(this.nodeName);
    this.namespace = normaliseNamespace(options.namespace);
    this.bus = options.bus ?? new InProcessBus();
    this.clock = options.clock ?? new SystemClock();
    this.#parameters = resolveParameters(options.parameterDescriptors ?? [], options.parameters ?? {});
    this.#copyOnPublish = options.copyOnPublish ?? false;
    this.#warn = options.warn ?? defaultWarn;
    this.#onHandlerError =
      options.onHandlerError ??
      ((error, topic) => this.#warn(`subscriber on ${topic} failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  /** `/namespace/node`. */
  get fullyQualifiedName(): string {
    return expandName("~", this.nodeName, this.namespace);
  }

  /** Expands a topic or service name against this node (ROS rules). */
  resolveName(name: string): string {
    return expandName(name, this.nodeName, this.namespace);
  }

  subscribeRaw(topic: string, type: string, qos: QosProfile, handler: RawMessageHandler): InProcessSubscription {
    this.#assertOpen("subscribeRaw");
    validateQos(qos, `subscription to ${topic}`);
    const subscription = new InProcessSubscription({
      transport: this,
      topic: this.resolveName(topic),
      type: normaliseTypeName(type),
      qos: { ...qos },
      handler,
      onError: this.#onHandlerError,
      onClose: (s) => {
        this.#subscriptions.delete(s);
        this.bus.removeSubscription(s);
      },
    });
    this.#subscriptions.add(subscription);
    this.bus.addSubscription(subscription);
    const latched: LatchedMessage[] = [];
    for (const publisher of this.bus.publishersOf(subscription.topic)) {
      if (!this.#connects(publisher, subscription)) continue;
      if (qos.durability === "transient_local") latched.push(...publisher.latched());
    }
    // Late joiner: the newest `depth` latched messages across publishers, oldest first.
    latched.sort((a, b) => a.seq - b.seq);
    for (const m of latched.slice(-qos.depth)) subscription.enqueue(m.data);
    return subscription;
  }

  advertise(topic: string, type: string, qos: QosProfile): InProcessPublisher {
    this.#assertOpen("advertise");
    validateQos(qos, `publisher on ${topic}`);
    const publisher = new InProcessPublisher({
      transport: this,
      topic: this.resolveName(topic),
      type: normaliseTypeName(type),
      qos: { ...qos },
      copy: this.#copyOnPublish,
      onClose: (p) => {
        this.#publishers.delete(p);
        this.bus.removePublisher(p);
      },
    });
    this.#publishers.add(publisher);
    this.bus.addPublisher(publisher);
    for (const subscription of this.bus.subscriptionsOf(publisher.topic)) this.#connects(publisher, subscription);
    return publisher;
  }

  serveTrigger(name: string, handler: TriggerHandler): void {
    this.#assertOpen("serveTrigger");
    const resolved = this.resolveName(name);
    this.bus.addService(resolved, handler);
    this.#services.set(resolved, handler);
  }

  async callTrigger(name: string): Promise<TriggerResult> {
    const resolved = this.resolveName(name);
    const handler = this.bus.service(resolved);
    if (handler === undefined) {
      const known = this.bus.services();
      throw new Error(`no Trigger service ${resolved}${known.length > 0 ? `; served: ${known.join(", ")}` : ""}`);
    }
    // Off the caller's stack, as a service call over DDS would be.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      const result = await handler();
      return { success: Boolean(result.success), message: String(result.message) };
    } catch (error) {
      return { success: false, message: `${resolved} failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  topics(): TopicInfo[] {
    return this.bus.topics();
  }

  parameters(): Record<string, ParameterValue> {
    return structuredClone(this.#parameters);
  }

  onShutdown(callback: () => void | Promise<void>): void {
    this.#shutdownCallbacks.push(callback);
  }

  /** Waits until every message published so far on the bus has been handled. */
  flush(): Promise<void> {
    return this.bus.idle();
  }

  /**
   * Delivers what is queued, runs the onShutdown callbacks in registration order (publishing is
   * still allowed: a recorder can write its last outputs), delivers again, then closes every
   * endpoint. Idempotent. Rejects with an AggregateError if any callback failed; all still run.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#runShutdown();
    return this.#shutdown;
  }

  get isShutdown(): boolean {
    return this.#closed;
  }

  async #runShutdown(): Promise<void> {
    await this.flush();
    const errors = await runShutdownCallbacks(this.#shutdownCallbacks);
    await this.flush();
    this.#closed = true;
    for (const s of [...this.#subscriptions]) s.close();
    for (const p of [...this.#publishers]) p.close();
    for (const [name, handler] of this.#services) this.bus.removeService(name, handler);
    this.#services.clear();
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} shutdown callback(s) failed`);
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new Error(`${what}: transport ${this.fullyQualifiedName} is shut down`);
  }

  /** Whether the pair connects; warns once per pair when it does not. */
  #connects(publisher: InProcessPublisher, subscription: InProcessSubscription): boolean {
    const reason =
      publisher.type !== subscription.type
        ? `types differ (${publisher.type} published, ${subscription.type} subscribed)`
        : qosIncompatibility(publisher.qos, subscription.qos);
    if (reason === null) return true;
    this.#warn(`not connecting publisher and subscriber on ${publisher.topic}: ${reason}`);
    return false;
  }

  /** @internal */
  get closedForPublishing(): boolean {
    return this.#closed;
  }
}

interface SubscriptionInit {
  transport: InProcessTransport;
  topic: string;
  type: string;
  qos: QosProfile;
  handler: RawMessageHandler;
  onError: (error: unknown, topic: string) => void;
  onClose: (subscription: InProcessSubscription) => void;
}

export class InProcessSubscription extends QueuedSubscription {
  readonly qos: Readonly<QosProfile>;
  readonly #clock: NodeClock;

  constructor(init: SubscriptionInit) {
    const queue = new DeliveryQueue<RawMessage>({
      depth: init.qos.depth,
      // A handler typed `=> void` may still return a promise; the queue awaits it.
      handler: init.handler as (message: RawMessage) => void | PromiseLike<void>,
      onError: (error) => init.onError(error, init.topic),
    });
    super(init.topic, init.type, queue, () => init.onClose(this));
    this.qos = init.qos;
    this.#clock = init.transport.clock;
  }

  /** @internal Called by publishers on the bus. */
  enqueue(data: Uint8Array): void {
    this.queue.push({ topic: this.topic, type: this.type, data, receiveTime: this.#clock.now() });
  }
}

interface PublisherInit {
  transport: InProcessTransport;
  topic: string;
  type: string;
  qos: QosProfile;
  copy: boolean;
  onClose: (publisher: InProcessPublisher) => void;
}

export class InProcessPublisher implements RawPublisher {
  readonly topic: string;
  readonly type: string;
  readonly qos: Readonly<QosProfile>;
  readonly #transport: InProcessTransport;
  readonly #copy: boolean;
  readonly #onClose: (publisher: InProcessPublisher) => void;
  readonly #latched: LatchedMessage[] = [];
  readonly #connected = new WeakMap<InProcessSubscription, boolean>();
  #published = 0;
  #closed = false;

  constructor(init: PublisherInit) {
    this.topic = init.topic;
    this.type = init.type;
    this.qos = init.qos;
    this.#transport = init.transport;
    this.#copy = init.copy;
    this.#onClose = init.onClose;
  }

  /** Messages published. */
  get published(): number {
    return this.#published;
  }

  /** Subscriptions this publisher delivers to. */
  subscriptionCount(): number {
    let n = 0;
    for (const s of this.#transport.bus.subscriptionsOf(this.topic)) if (this.#matches(s)) n++;
    return n;
  }

  publish(data: Uint8Array): void {
    if (this.#closed || this.#transport.closedForPublishing) {
      throw new Error(`publish on ${this.topic}: the publisher is closed`);
    }
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`publish on ${this.topic}: expected CDR bytes (Uint8Array), got ${typeof data}`);
    }
    const bytes = this.#copy ? data.slice() : data;
    const seq = this.#transport.bus.nextSeq();
    this.#published++;
    if (this.qos.durability === "transient_local") {
      this.#latched.push({ seq, data: bytes });
      if (this.#latched.length > this.qos.depth) this.#latched.shift();
    }
    for (const s of this.#transport.bus.subscriptionsOf(this.topic)) if (this.#matches(s)) s.enqueue(bytes);
  }

  /** @internal The messages kept for late transient_local subscribers. */
  latched(): LatchedMessage[] {
    return [...this.#latched];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#latched.length = 0;
    this.#onClose(this);
  }

  #matches(s: InProcessSubscription): boolean {
    let ok = this.#connected.get(s);
    if (ok === undefined) {
      ok = s.type === this.type && qosIncompatibility(this.qos, s.qos) === null;
      this.#connected.set(s, ok);
    }
    return ok;
  }
}
