/**
 * An in-memory stand-in for the slice of rclnodejs 2.2.0 the adapter uses, so the adapter's own
 * logic (raw subscriptions into bounded queues, Buffer publishing, QoS mapping, parameter
 * declaration with descriptors and overrides, Trigger services, shutdown) runs in CI without
 * ROS 2. Its behaviour follows rclnodejs's source where the adapter depends on it:
 * - raw subscriptions get a fresh Buffer copy of the serialized bytes, no MessageInfo;
 * - publish() treats a Buffer as an already-serialized message (anything else is refused here);
 * - Parameter converts PARAMETER_INTEGER values to bigint and validates the value's type;
 *   declareParameter applies a matching override unless ignoreOverride, refuses duplicates,
 *   and checks the descriptor's type and range; the on-set callbacks can veto later changes;
 * - `--ros-args -p name:=value` overrides are typed like rcl does (int, double, bool, string).
 * It is no evidence about real DDS behaviour: the real adapter run of the contract suite needs
 * ROS 2 and is reported pending without it.
 */

import { SystemClock } from "../../src/transport/clock.js";

const systemClock = new SystemClock();
const PARAMETER_TYPE = { NOT_SET: 0, BOOL: 1, INTEGER: 2, DOUBLE: 3, STRING: 4, BOOL_ARRAY: 6, INTEGER_ARRAY: 7, DOUBLE_ARRAY: 8, STRING_ARRAY: 9 } as const;

type Callback = (message: Buffer) => void;
type TypeClass = { package: string; type: string; name: string } | string;

interface FakeSubscription {
  topic: string;
  type: string;
  callback: Callback;
  node: FakeNode;
  destroyed: boolean;
}

interface Graph {
  subscriptions: Set<FakeSubscription>;
  publishers: Map<string, string>;
  services: Map<string, (request: object, response: { send(r: object): void }) => void>;
  /** The last Buffer handed to a publisher, as given. */
  lastPublished: Buffer | null;
}

export interface FakeRclnodejs {
  readonly graph: Graph;
  /** Every QoS object the adapter built, for checking the mapping. */
  readonly qosCreated: FakeQoS[];
  readonly calls: string[];
  module: Record<string, unknown>;
}

class FakeQoS {
  static HistoryPolicy = { RMW_QOS_POLICY_HISTORY_SYSTEM_DEFAULT: 0, RMW_QOS_POLICY_HISTORY_KEEP_LAST: 1, RMW_QOS_POLICY_HISTORY_KEEP_ALL: 2 };
  static ReliabilityPolicy = { RMW_QOS_POLICY_RELIABILITY_SYSTEM_DEFAULT: 0, RMW_QOS_POLICY_RELIABILITY_RELIABLE: 1, RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 2 };
  static DurabilityPolicy = { RMW_QOS_POLICY_DURABILITY_SYSTEM_DEFAULT: 0, RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: 1, RMW_QOS_POLICY_DURABILITY_VOLATILE: 2 };
  static created: FakeQoS[] = [];
  constructor(
    public history: number,
    public depth: number,
    public reliability: number,
    public durability: number,
  ) {
    FakeQoS.created.push(this);
  }
}

const QOS_POLICY_KIND = { HISTORY: 1, DEPTH: 2, RELIABILITY: 3, DURABILITY: 4 } as const;

class FakeQoSOverridingOptions {
  readonly entityId: string | null;
  constructor(
    readonly policyKinds: number[],
    opts: { entityId?: string } = {},
  ) {
    this.entityId = opts.entityId ?? null;
  }
}

/** The string form rclnodejs uses for QoS override parameters, per policy kind. */
const QOS_POLICY_PARAMS: Record<number, { key: keyof FakeQoS & string; values?: Record<string, number> }> = {
  [QOS_POLICY_KIND.HISTORY]: { key: "history", values: { keep_last: 1, keep_all: 2 } },
  [QOS_POLICY_KIND.DEPTH]: { key: "depth" },
  [QOS_POLICY_KIND.RELIABILITY]: { key: "reliability", values: { reliable: 1, best_effort: 2 } },
  [QOS_POLICY_KIND.DURABILITY]: { key: "durability", values: { transient_local: 1, volatile: 2 } },
};

class FakeParameter {
  readonly name: string;
  readonly type: number;
  value: unknown;
  constructor(name: string, type: number, value: unknown) {
    this.name = name;
    this.type = type;
    this.value = type === PARAMETER_TYPE.INTEGER ? BigInt(value as number) : value;
    const ok =
      type === PARAMETER_TYPE.BOOL
        ? typeof this.value === "boolean"
        : type === PARAMETER_TYPE.INTEGER
          ? typeof this.value === "bigint"
          : type === PARAMETER_TYPE.DOUBLE
            ? typeof this.value === "number"
            : type === PARAMETER_TYPE.STRING
              ? typeof this.value === "string"
              : Array.isArray(this.value);
    if (!ok) throw new TypeError(`Invalid value for parameter ${name} of type ${type}`);
  }
}

class FakeRange {
  constructor(
    readonly fromValue: number | bigint,
    readonly toValue: number | bigint,
    readonly step: number | bigint = 1,
  ) {}
  inRange(value: unknown): boolean {
    const values = Array.isArray(value) ? value : [value];
    return values.every((v) => (v as number) >= this.fromValue && (v as number) <= this.toValue);
  }
}

class FakeParameterDescriptor {
  additionalConstraints = "";
  constructor(
    readonly name: string,
    readonly type: number,
    readonly description = "",
    readonly readOnly = false,
    readonly range?: FakeRange,
  ) {}
  validateParameter(parameter: FakeParameter): void {
    if (parameter.type !== this.type) throw new TypeError(`Parameter ${parameter.name} type ${parameter.type} does not match descriptor type ${this.type}`);
    if (this.range !== undefined && !this.range.inRange(parameter.value)) throw new RangeError(`Parameter ${parameter.name} value is out of range`);
  }
}

class FakeContext {
  #shutdown = false;
  argv: string[] = [];
  isShutdown(): boolean {
    return this.#shutdown;
  }
  markShutdown(): void {
    this.#shutdown = true;
  }
}

class FakeNodeOptions {
  parameterOverrides: FakeParameter[] = [];
  automaticallyDeclareParametersFromOverrides = false;
}

/** rcl's typing of `-p name:=value`. */
function parseOverride(name: string, text: string): FakeParameter {
  if (text === "true" || text === "false") return new FakeParameter(name, PARAMETER_TYPE.BOOL, text === "true");
  if (/^-?\d+$/.test(text)) return new FakeParameter(name, PARAMETER_TYPE.INTEGER, BigInt(text));
  if (/^-?\d*\.\d+([eE][-+]?\d+)?$/.test(text)) return new FakeParameter(name, PARAMETER_TYPE.DOUBLE, Number(text));
  return new FakeParameter(name, PARAMETER_TYPE.STRING, text);
}

let graph: Graph = { subscriptions: new Set(), publishers: new Map(), services: new Map(), lastPublished: null };
const calls: string[] = [];

class FakeNode {
  readonly #name: string;
  readonly #namespace: string;
  readonly #context: FakeContext;
  readonly #overrides = new Map<string, FakeParameter>();
  readonly #remaps = new Map<string, string>();
  readonly #parameters = new Map<string, FakeParameter>();
  readonly #descriptors = new Map<string, FakeParameterDescriptor>();
  readonly #callbacks: ((parameters: FakeParameter[]) => { successful: boolean; reason: string })[] = [];
  readonly #postCallbacks: ((parameters: FakeParameter[]) => void)[] = [];
  #destroyed = false;

  constructor(name: string, namespace: string, context: FakeContext, options: FakeNodeOptions) {
    this.#name = name;
    this.#namespace = namespace === "" || namespace === "/" ? "" : namespace.startsWith("/") ? namespace : `/${namespace}`;
    this.#context = context;
    for (const p of options.parameterOverrides) this.#overrides.set(p.name, p);
    const args = context.argv;
    const rosArgs = args.indexOf("--ros-args");
    for (let i = rosArgs < 0 ? args.length : rosArgs + 1; i < args.length; i++) {
      if (args[i] === "-r" && args[i + 1] !== undefined) {
        const [from, to] = args[i + 1]!.split(":=") as [string, string];
        this.#remaps.set(this.#expand(from), this.#expand(to));
        i++;
      } else if (args[i] === "-p" && args[i + 1] !== undefined) {
        const [key, value] = args[i + 1]!.split(":=") as [string, string];
        this.#overrides.set(key, parseOverride(key, value));
        i++;
      }
    }
    // rclnodejs's TimeSource declares use_sim_time on every node.
    const sim = this.#overrides.get("use_sim_time") ?? new FakeParameter("use_sim_time", PARAMETER_TYPE.BOOL, false);
    this.#parameters.set("use_sim_time", sim);
  }

  /** Expands like rcl; remaps `from:=to` rules given after --ros-args unless onlyExpand. */
  resolveTopicName(topic: string, onlyExpand = false): string {
    const expanded = this.#expand(topic);
    return onlyExpand ? expanded : (this.#remaps.get(expanded) ?? expanded);
  }

  #expand(topic: string): string {
    if (topic.startsWith("/")) return topic;
    if (topic.startsWith("~/")) return `${this.#namespace}/${this.#name}/${topic.slice(2)}`;
    return `${this.#namespace}/${topic}`;
  }

  getLogger(): { warn(message: string): void } {
    return { warn: (message) => calls.push(`warn ${message}`) };
  }

  getClock(): { now(): { nanoseconds: bigint } } {
    return { now: () => ({ nanoseconds: systemClock.now() }) };
  }

  getParameterOverrides(): FakeParameter[] {
    return [...this.#overrides.values()];
  }

  declareParameter(parameter: FakeParameter, descriptor?: FakeParameterDescriptor, ignoreOverride = false): FakeParameter {
    const p = !ignoreOverride && this.#overrides.has(parameter.name) ? this.#overrides.get(parameter.name)! : parameter;
    if (this.#parameters.has(p.name)) throw new Error(`Parameter(${p.name}) already declared.`);
    const d = descriptor ?? new FakeParameterDescriptor(p.name, p.type);
    d.validateParameter(p);
    this.#descriptors.set(p.name, d);
    this.#parameters.set(p.name, p);
    calls.push(`declare ${p.name} type=${p.type}${d.readOnly ? " readOnly" : ""}${d.range ? ` range=${d.range.fromValue}..${d.range.toValue}` : ""}`);
    return p;
  }

  hasParameter(name: string): boolean {
    return this.#parameters.has(name);
  }

  getParameter(name: string): FakeParameter {
    return this.#parameters.get(name) ?? new FakeParameter(name, PARAMETER_TYPE.NOT_SET, undefined);
  }

  getParameters(): FakeParameter[] {
    return [...this.#parameters.values()];
  }

  getParameterDescriptor(name: string): FakeParameterDescriptor | undefined {
    return this.#descriptors.get(name);
  }

  addOnSetParametersCallback(callback: (parameters: FakeParameter[]) => { successful: boolean; reason: string }): void {
    this.#callbacks.unshift(callback);
  }

  /** As rclnodejs: called after a set succeeded, to apply it. */
  addPostSetParametersCallback(callback: (parameters: FakeParameter[]) => void): void {
    this.#postCallbacks.unshift(callback);
  }

  /** No publishers known on the stand-in's graph. */
  getPublishersInfoByTopic(_topic: string, _noDemangle: boolean): object[] {
    return [];
  }

  setParameter(parameter: FakeParameter): { successful: boolean; reason: string } {
    const d = this.#descriptors.get(parameter.name);
    if (d?.readOnly) return { successful: false, reason: `${parameter.name} is read-only` };
    for (const callback of this.#callbacks) {
      const result = callback([parameter]);
      if (!result.successful) return result;
    }
    this.#parameters.set(parameter.name, parameter);
    for (const callback of this.#postCallbacks) callback([parameter]);
    return { successful: true, reason: "" };
  }

  /** As rclnodejs's declareQosParameters: read-only parameters, overrides applied to the QoS in place. */
  #applyQosOverrides(entity: "publisher" | "subscription", topic: string, qos: unknown, options?: FakeQoSOverridingOptions): void {
    if (options === undefined || !(qos instanceof FakeQoS)) return;
    for (const kind of options.policyKinds) {
      const policy = QOS_POLICY_PARAMS[kind]!;
      const name = `qos_overrides.${topic}.${entity}${options.entityId === null ? "" : `_${options.entityId}`}.${policy.key}`;
      const current = qos[policy.key] as number;
      const shown = policy.values === undefined ? BigInt(current) : Object.entries(policy.values).find(([, v]) => v === current)![0];
      const type = policy.values === undefined ? PARAMETER_TYPE.INTEGER : PARAMETER_TYPE.STRING;
      const declared = this.#parameters.get(name) ?? this.declareParameter(new FakeParameter(name, type, shown), new FakeParameterDescriptor(name, type, "", true));
      const value = declared.value;
      (qos as unknown as Record<string, number>)[policy.key] = policy.values === undefined ? Number(value) : policy.values[value as string]!;
    }
  }

  createSubscription(
    typeClass: TypeClass,
    topic: string,
    options: { qos?: unknown; isRaw?: boolean; qosOverridingOptions?: FakeQoSOverridingOptions },
    callback: Callback,
  ): FakeSubscription {
    if (options.isRaw !== true) throw new Error("the fake only supports raw subscriptions");
    this.#applyQosOverrides("subscription", this.resolveTopicName(topic), options.qos, options.qosOverridingOptions);
    const subscription: FakeSubscription = { topic: this.resolveTopicName(topic), type: typeName(typeClass), callback, node: this, destroyed: false };
    graph.subscriptions.add(subscription);
    return subscription;
  }

  destroySubscription(subscription: FakeSubscription): void {
    subscription.destroyed = true;
    graph.subscriptions.delete(subscription);
  }

  createPublisher(
    typeClass: TypeClass,
    topic: string,
    options: { qos?: unknown; qosOverridingOptions?: FakeQoSOverridingOptions } = {},
  ): { topic: string; publish(message: unknown): void } {
    const resolved = this.resolveTopicName(topic);
    this.#applyQosOverrides("publisher", resolved, options.qos, options.qosOverridingOptions);
    const type = typeName(typeClass);
    graph.publishers.set(resolved, type);
    return {
      topic: resolved,
      publish: (message: unknown) => {
        if (this.#destroyed) throw new Error("publisher's node is destroyed");
        if (!(message instanceof Buffer)) throw new TypeError("the fake publishes serialized (Buffer) messages only");
        graph.lastPublished = message;
        for (const s of graph.subscriptions) {
          if (s.topic !== resolved || s.type !== type) continue;
          // Delivered on a later turn, copied as rclTakeRaw copies the rmw buffer.
          setImmediate(() => {
            if (!s.destroyed) s.callback(Buffer.from(message));
          });
        }
      },
    };
  }

  destroyPublisher(): void {}

  createService(_type: TypeClass, name: string, callback: (request: object, response: { send(r: object): void }) => void): object {
    graph.services.set(this.resolveTopicName(name), callback);
    return {};
  }

  createClient(_type: TypeClass, name: string): object {
    const serviceName = this.resolveTopicName(name);
    return {
      serviceName,
      waitForService: async () => graph.services.has(serviceName),
      sendRequestAsync: (request: object) =>
        new Promise((resolve) => {
          setImmediate(() => graph.services.get(serviceName)?.(request, { send: resolve }));
        }),
    };
  }

  destroyClient(): void {}

  getTopicNamesAndTypes(): { name: string; types: string[] }[] {
    const topics = new Map<string, string>();
    for (const s of graph.subscriptions) topics.set(s.topic, s.type);
    for (const [topic, type] of graph.publishers) topics.set(topic, type);
    return [...topics].map(([name, type]) => ({ name, types: [type.replace("/", "/msg/")] }));
  }

  spin(): void {
    calls.push(`spin ${this.#name}`);
  }

  stop(): void {}

  destroy(): void {
    this.#destroyed = true;
    for (const s of [...graph.subscriptions]) if (s.node === this) this.destroySubscription(s);
    calls.push(`destroy ${this.#name}`);
    void this.#context;
  }
}

function typeName(typeClass: TypeClass): string {
  if (typeof typeClass === "string") return typeClass;
  if (typeClass.type !== "msg") throw new Error(`expected a msg type, got ${JSON.stringify(typeClass)}`);
  return `${typeClass.package}/${typeClass.name}`;
}

/** A fresh stand-in (its own graph), shaped like rclnodejs's ESM default export. */
export function createFakeRclnodejs(): FakeRclnodejs {
  graph = { subscriptions: new Set(), publishers: new Map(), services: new Map(), lastPublished: null };
  calls.length = 0;
  FakeQoS.created = [];
  const module = {
    init: async (context: FakeContext, argv: string[]) => {
      context.argv = argv;
      calls.push("init");
    },
    shutdown: (context: FakeContext) => {
      context.markShutdown();
      calls.push("shutdown");
    },
    removeSignalHandlers: () => calls.push("removeSignalHandlers"),
    require: (name: string) => {
      if (name !== "std_srvs/srv/Trigger") throw new Error(`fake require: ${name}`);
      return { Request: class {}, Response: class {} };
    },
    Context: FakeContext,
    Node: FakeNode,
    NodeOptions: FakeNodeOptions,
    QoS: FakeQoS,
    QoSPolicyKind: QOS_POLICY_KIND,
    QoSOverridingOptions: FakeQoSOverridingOptions,
    Parameter: FakeParameter,
    ParameterDescriptor: FakeParameterDescriptor,
    IntegerRange: FakeRange,
    FloatingPointRange: FakeRange,
  };
  return {
    get graph() {
      return graph;
    },
    get qosCreated() {
      return FakeQoS.created;
    },
    calls,
    module: { default: module },
  };
}
