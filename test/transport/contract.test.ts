/**
 * Runs the transport contract against the in-process adapter always, and against rclnodejs
 * when a ROS 2 environment is sourced and rclnodejs loads; otherwise that run is reported as
 * pending, with the reason in its title.
 */
import { SimulatedClock } from "../../src/transport/clock.js";
import { InProcessBus, InProcessTransport } from "../../src/transport/inprocess.js";
import { detectRosEnvironment, explainRclnodejsFailure, loadDefaultRclnodejsAdapter } from "../../src/transport/select.js";
import { rclnodejsPreflight } from "../../src/transport/rclnodejs-preflight.js";
import type { RclnodejsAdapterModule } from "../../src/transport/rclnodejs-options.js";
import { isolateRosGraph } from "../ros2/env.js";
import { transportContract } from "./contract.js";
import { createFakeRclnodejs } from "./fake-rclnodejs.js";

// The real rclnodejs run joins DDS: keep it on this host and in a domain of its own.
isolateRosGraph();

let clock = new SimulatedClock();
const bus = new InProcessBus();
transportContract({
  name: "inprocess (simulated clock)",
  unavailable: null,
  exactQueueing: true,
  open: async (options) => {
    clock = new SimulatedClock({ startNs: 1_600_000_000_000_000_000n });
    return new InProcessTransport({ ...options, bus, clock });
  },
  simulatedClock: () => clock,
});

transportContract({
  name: "inprocess (system clock)",
  unavailable: null,
  exactQueueing: true,
  open: async (options) => new InProcessTransport(options),
});

const env = detectRosEnvironment();
let adapter: RclnodejsAdapterModule | null = null;
let unavailable: string | null = null;
if (!env.sourced) unavailable = env.detail;
else {
  try {
    adapter = await loadDefaultRclnodejsAdapter();
    // Loading the adapter does not load rclnodejs; probe it the way the adapter will (the
    // preflight first: a failed addon load makes rclnodejs rebuild itself).
    const problem = rclnodejsPreflight();
    if (problem !== null) throw new Error(problem);
    await import("rclnodejs" as string);
  } catch (error) {
    unavailable = explainRclnodejsFailure(error, env);
  }
}
transportContract({
  name: "rclnodejs",
  unavailable,
  exactQueueing: false,
  open: async (options) => {
    if (adapter === null) throw new Error(`rclnodejs unavailable: ${unavailable}`);
    return adapter.openRclnodejsTransport({
      nodeName: options.nodeName,
      namespace: options.namespace ?? "/",
      parameters: options.parameters ?? {},
      parameterDescriptors: options.parameterDescriptors ?? [],
      dynamicParameterPrefixes: [],
      handleSignals: false,
      argv: [],
    });
  },
});

// The adapter's own logic (queues, Buffer handling, parameters, services, shutdown) on an
// in-memory stand-in of rclnodejs: runs everywhere, and is not the real-ROS run above.
const standInAdapter = await loadDefaultRclnodejsAdapter();
transportContract({
  name: "rclnodejs adapter on an in-memory rclnodejs stand-in",
  unavailable: null,
  exactQueueing: false,
  open: async (options) => {
    const fake = createFakeRclnodejs();
    return standInAdapter.openRclnodejsTransport({
      nodeName: options.nodeName,
      namespace: options.namespace ?? "/",
      parameters: options.parameters ?? {},
      parameterDescriptors: options.parameterDescriptors ?? [],
      dynamicParameterPrefixes: [],
      handleSignals: false,
      argv: [],
      loadRclnodejs: async () => fake.module,
    });
  },
});
