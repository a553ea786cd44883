/**
 * What the rclnodejs adapter (src/transport/rclnodejs/, type-checked separately against the
 * pinned rclnodejs typings) takes and exports. It lives outside that folder so the main
 * type-check sees both sides of the dynamic import in select.ts.
 */
import type { ParameterDescriptorSpec } from "./parameters.js";
import type { ParameterValue, Transport } from "./port.js";

export interface RclnodejsTransportOptions {
  nodeName: string;
  namespace: string;
  /** Values given by syncbag (CLI, embedded defaults); ROS overrides (--params-file, -p) win. */
  parameters: Record<string, ParameterValue>;
  /** Declared on the node with type, range and read-only; see zodToParameterDescriptors. */
  parameterDescriptors: readonly ParameterDescriptorSpec[];
  /** Dotted prefixes whose overrides are declared as given (records keyed by sensor name…). */
  dynamicParameterPrefixes: readonly string[];
  /**
   * Checks a parameter change at run time against the component schemas (all values after
   * the change, flat; `changed` names the ones being set); returns the refusal message or null.
   * Without it, run-time changes are refused: syncbag reads its parameters at start.
   */
  validateParameterChange?: (all: Record<string, ParameterValue>, changed: readonly string[]) => string | null;
  /** Applies an accepted change (after ROS stored it: rclnodejs's post-set callback). */
  applyParameterChange?: (changed: Record<string, ParameterValue>) => void;
  /** Sets use_sim_time (node clock follows /clock). ROS overrides still win. */
  useSimTime?: boolean;
  /** Command line with --ros-args; default process.argv. */
  argv?: string[];
  /** Install SIGINT/SIGTERM handlers that shut down cleanly (rclnodejs's own is removed). */
  handleSignals: boolean;
  onHandlerError?: (error: unknown, topic: string) => void;
  warn?: (message: string) => void;
  /** Loads the rclnodejs module (default: `import("rclnodejs")`); tests pass a stand-in. */
  loadRclnodejs?: () => Promise<unknown>;
}

/** The adapter module's exports, as select.ts loads them. */
export interface RclnodejsAdapterModule {
  openRclnodejsTransport(options: RclnodejsTransportOptions): Promise<Transport>;
}
