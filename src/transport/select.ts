/**
 * Transport choice: rclnodejs when a ROS 2 environment is sourced and rclnodejs loads,
 * otherwise the embedded in-process transport; `--transport` forces one. Asking for rclnodejs
 * when it cannot load is an error that says what is missing.
 */
import { z } from "zod";
import { installShutdownSignals } from "./signals.js";
import { InProcessTransport, type InProcessBus } from "./inprocess.js";
import type { ParameterDescriptorSpec } from "./parameters.js";
import type { NodeClock, ParameterValue, Transport } from "./port.js";
import type { RclnodejsAdapterModule } from "./rclnodejs-options.js";

/** `--transport` / the `transport` setting, for CLI and YAML schemas. */
export const TransportKindSchema = z
  .enum(["auto", "inprocess", "rclnodejs"])
  .describe("auto: rclnodejs when ROS 2 is sourced and rclnodejs loads, else in-process; or force one");
export type TransportKind = z.infer<typeof TransportKindSchema>;
export const TRANSPORT_KINDS: readonly TransportKind[] = TransportKindSchema.options;

export interface OpenTransportOptions {
  /** Default `auto`. */
  kind?: TransportKind;
  /** Default `syncbag`. */
  nodeName?: string;
  /** Default `/`. */
  namespace?: string;
  /** Flat parameter values (dotted names); see flattenParameters. */
  parameters?: Record<string, ParameterValue>;
  /** From zodToParameterDescriptors: declared on the ROS node, checked in-process. */
  parameterDescriptors?: readonly ParameterDescriptorSpec[];
  /** Dotted prefixes of free-form subtrees (describeParameterSchema(...).dynamic). */
  dynamicParameterPrefixes?: readonly string[];
  /** rclnodejs: run-time parameter changes are checked with this; null = accept. */
  validateParameterChange?: (all: Record<string, ParameterValue>, changed: readonly string[]) => string | null;
  /** rclnodejs: applies an accepted run-time change. */
  applyParameterChange?: (changed: Record<string, ParameterValue>) => void;
  /** In-process: the node clock (e.g. a SimulatedClock the simulator drives). */
  clock?: NodeClock;
  /** In-process: the graph shared with other in-process nodes. */
  bus?: InProcessBus;
  /** rclnodejs: follow /clock (use_sim_time). */
  useSimTime?: boolean;
  /** rclnodejs: the command line holding --ros-args; default process.argv. */
  argv?: string[];
  /** SIGINT/SIGTERM shut the transport down cleanly, then exit. Default true. */
  handleSignals?: boolean;
  /** Where ROS_DISTRO / AMENT_PREFIX_PATH are read. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Loads the adapter module (tests inject a fake). */
  loadRclnodejsAdapter?: () => Promise<RclnodejsAdapterModule>;
  onHandlerError?: (error: unknown, topic: string) => void;
  warn?: (message: string) => void;
}

export interface TransportChoice {
  transport: Transport;
  kind: "inprocess" | "rclnodejs";
  /** Why this adapter, in words, for the start-up log. */
  reason: string;
}

/** Thrown when rclnodejs was asked for and cannot be used. */
export class TransportUnavailableError extends Error {
  override readonly name = "TransportUnavailableError";
}

export interface RosEnvironment {
  sourced: boolean;
  distro: string | null;
  /** What was found, in words. */
  detail: string;
}

/** A ROS 2 environment counts as sourced when ROS_DISTRO or AMENT_PREFIX_PATH is set. */
export function detectRosEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): RosEnvironment {
  const distro = nonEmpty(env.ROS_DISTRO);
  const prefix = nonEmpty(env.AMENT_PREFIX_PATH);
  if (distro === null && prefix === null) {
    return { sourced: false, distro: null, detail: "no ROS 2 environment is sourced (ROS_DISTRO and AMENT_PREFIX_PATH are unset)" };
  }
  const parts = [distro === null ? "ROS_DISTRO unset" : `ROS_DISTRO=${distro}`, prefix === null ? "AMENT_PREFIX_PATH unset" : `AMENT_PREFIX_PATH=${prefix}`];
  return { sourced: true, distro, detail: `ROS 2 is sourced (${parts.join(", ")})` };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === "" ? null : value;
}

const ADAPTER_URL = new URL("./rclnodejs/adapter.js", import.meta.url).href;

/**
 * Imports the adapter by a computed URL: the main type-check must not follow it (the adapter
 * is checked against the real rclnodejs typings by scripts/check-rclnodejs-types.sh).
 */
export async function loadDefaultRclnodejsAdapter(): Promise<RclnodejsAdapterModule> {
  const specifier: string = ADAPTER_URL;
  return (await import(specifier)) as RclnodejsAdapterModule;
}

/** Explains a failure to load or start rclnodejs: not installed, adapter missing, or the error. */
export function explainRclnodejsFailure(error: unknown, env: RosEnvironment): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && /['"]rclnodejs['"]/.test(message)) {
    return (
      `the rclnodejs package is not installed (it is an optional dependency whose native build needs ROS 2; ${env.detail}): ` +
      `run \`npm install rclnodejs\` in the syncbag folder with ROS 2 sourced`
    );
  }
  if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && message.includes("rclnodejs/adapter")) {
    return `this build of syncbag has no rclnodejs adapter (${message}); build it with scripts/check-rclnodejs-types.sh --emit`;
  }
  return `rclnodejs failed to load or start (${env.detail}): ${message}`;
}

/** Opens the transport the options ask for; see TransportChoice.reason for why. */
export async function openTransport(options: OpenTransportOptions = {}): Promise<TransportChoice> {
  const kind = options.kind ?? "auto";
  if (!TRANSPORT_KINDS.includes(kind)) {
    throw new Error(`transport ${JSON.stringify(kind)} is unknown: expected one of ${TRANSPORT_KINDS.join(", ")}`);
  }
  const env = detectRosEnvironment(options.env ?? process.env);
  if (kind === "inprocess") return { transport: openInProcess(options), kind: "inprocess", reason: "the in-process transport was asked for" };

  if (!env.sourced) {
    if (kind === "rclnodejs") {
      throw new TransportUnavailableError(
        `transport rclnodejs needs a sourced ROS 2 environment, but ${env.detail}: ` +
          `run \`source /opt/ros/<distro>/setup.bash\` (and your workspace's install/setup.bash), or use --transport inprocess`,
      );
    }
    return { transport: openInProcess(options), kind: "inprocess", reason: `${env.detail}: using the in-process transport` };
  }

  let transport: Transport;
  try {
    const adapter = await (options.loadRclnodejsAdapter ?? loadDefaultRclnodejsAdapter)();
    transport = await adapter.openRclnodejsTransport({
      nodeName: options.nodeName ?? "syncbag",
      namespace: options.namespace ?? "/",
      parameters: options.parameters ?? {},
      parameterDescriptors: options.parameterDescriptors ?? [],
      dynamicParameterPrefixes: options.dynamicParameterPrefixes ?? [],
      validateParameterChange: options.validateParameterChange,
      applyParameterChange: options.applyParameterChange,
      useSimTime: options.useSimTime,
      argv: options.argv,
      handleSignals: options.handleSignals ?? true,
      onHandlerError: options.onHandlerError,
      warn: options.warn,
    });
  } catch (error) {
    const why = explainRclnodejsFailure(error, env);
    if (kind === "rclnodejs") throw new TransportUnavailableError(`transport rclnodejs is unavailable: ${why}`, { cause: error });
    return { transport: openInProcess(options), kind: "inprocess", reason: `${why}; using the in-process transport` };
  }
  return { transport, kind: "rclnodejs", reason: `${env.detail} and rclnodejs loaded` };
}

function openInProcess(options: OpenTransportOptions): InProcessTransport {
  const transport = new InProcessTransport({
    nodeName: options.nodeName,
    namespace: options.namespace,
    bus: options.bus,
    clock: options.clock,
    parameters: options.parameters,
    parameterDescriptors: options.parameterDescriptors,
    onHandlerError: options.onHandlerError,
    warn: options.warn,
  });
  if (options.handleSignals ?? true) {
    const remove = installShutdownSignals(transport);
    transport.onShutdown(remove);
  }
  return transport;
}
