import assert from "node:assert/strict";
import { InProcessTransport } from "../../src/transport/inprocess.js";
import type { RclnodejsAdapterModule, RclnodejsTransportOptions } from "../../src/transport/rclnodejs-options.js";
import { detectRosEnvironment, openTransport, TransportUnavailableError } from "../../src/transport/select.js";
import { installShutdownSignals, type SignalProcess } from "../../src/transport/signals.js";

const SOURCED = { ROS_DISTRO: "jazzy", AMENT_PREFIX_PATH: "/opt/ros/jazzy" };

function fakeAdapter(seen: RclnodejsTransportOptions[]): () => Promise<RclnodejsAdapterModule> {
  return async () => ({
    openRclnodejsTransport: async (options) => {
      seen.push(options);
      // Stands in for the ROS node; only its identity matters here.
      return new InProcessTransport({ nodeName: options.nodeName });
    },
  });
}

function moduleNotFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /x/adapter.ts`), { code: "ERR_MODULE_NOT_FOUND" });
}

describe("transport selection", () => {
  it("detects a sourced ROS 2 environment from ROS_DISTRO or AMENT_PREFIX_PATH", () => {
    assert.equal(detectRosEnvironment({}).sourced, false);
    assert.equal(detectRosEnvironment({ ROS_DISTRO: "  " }).sourced, false);
    assert.deepEqual(detectRosEnvironment({ ROS_DISTRO: "jazzy" }).distro, "jazzy");
    assert.equal(detectRosEnvironment({ AMENT_PREFIX_PATH: "/opt/ros/humble" }).sourced, true);
  });

  it("auto: in-process when ROS 2 is not sourced, without trying rclnodejs", async () => {
    let tried = false;
    const choice = await openTransport({
      env: {},
      handleSignals: false,
      loadRclnodejsAdapter: async () => {
        tried = true;
        throw new Error("should not load");
      },
    });
    assert.equal(choice.kind, "inprocess");
    assert.equal(tried, false);
    assert.match(choice.reason, /no ROS 2 environment is sourced/);
    await choice.transport.shutdown();
  });

  it("auto: rclnodejs when ROS 2 is sourced and it loads, passing node name, parameters and options", async () => {
    const seen: RclnodejsTransportOptions[] = [];
    const choice = await openTransport({
      env: SOURCED,
      nodeName: "syncbag_record",
      namespace: "/car",
      parameters: { output_dir: "/data" },
      useSimTime: true,
      handleSignals: false,
      loadRclnodejsAdapter: fakeAdapter(seen),
    });
    assert.equal(choice.kind, "rclnodejs");
    assert.match(choice.reason, /ROS_DISTRO=jazzy/);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.nodeName, "syncbag_record");
    assert.equal(seen[0]!.namespace, "/car");
    assert.deepEqual(seen[0]!.parameters, { output_dir: "/data" });
    assert.equal(seen[0]!.useSimTime, true);
    assert.equal(seen[0]!.handleSignals, false);
    await choice.transport.shutdown();
  });

  it("auto: falls back to in-process when ROS 2 is sourced but rclnodejs is missing, saying so", async () => {
    const choice = await openTransport({ env: SOURCED, handleSignals: false, loadRclnodejsAdapter: async () => Promise.reject(moduleNotFound("rclnodejs")) });
    assert.equal(choice.kind, "inprocess");
    assert.match(choice.reason, /rclnodejs package is not installed/);
    await choice.transport.shutdown();
  });

  it("rclnodejs asked for: a clear error for each thing that can be missing", async () => {
    await assert.rejects(
      openTransport({ kind: "rclnodejs", env: {}, handleSignals: false }),
      (e: Error) => e instanceof TransportUnavailableError && /needs a sourced ROS 2 environment/.test(e.message) && /setup\.bash/.test(e.message),
    );
    await assert.rejects(
      openTransport({ kind: "rclnodejs", env: SOURCED, handleSignals: false, loadRclnodejsAdapter: async () => Promise.reject(moduleNotFound("rclnodejs")) }),
      (e: Error) => e instanceof TransportUnavailableError && /not installed/.test(e.message) && /npm install rclnodejs/.test(e.message),
    );
    await assert.rejects(
      openTransport({
        kind: "rclnodejs",
        env: SOURCED,
        handleSignals: false,
        loadRclnodejsAdapter: async () => Promise.reject(new Error("librcl.so: cannot open shared object file")),
      }),
      (e: Error) => e instanceof TransportUnavailableError && /librcl\.so/.test(e.message),
    );
    await assert.rejects(openTransport({ kind: "zeromq" as "auto", env: {} }), /transport "zeromq" is unknown/);
  });

  it("inprocess asked for: in-process even with ROS 2 sourced", async () => {
    const choice = await openTransport({ kind: "inprocess", env: SOURCED, handleSignals: false, loadRclnodejsAdapter: fakeAdapter([]) });
    assert.equal(choice.kind, "inprocess");
    assert.equal(choice.transport.name, "inprocess");
    await choice.transport.shutdown();
  });

  it("loads the real adapter module without ROS and reports rclnodejs as missing", async () => {
    // The adapter file itself loads; rclnodejs (not installed here) is what fails.
    await assert.rejects(openTransport({ kind: "rclnodejs", env: SOURCED, handleSignals: false }), /rclnodejs package is not installed/);
  });
});

describe("shutdown on signals", () => {
  function fakeProcess(): SignalProcess & { emit(signal: NodeJS.Signals): void; exits: number[]; listeners: number } {
    const listeners = new Map<string, ((signal: NodeJS.Signals) => void)[]>();
    const exits: number[] = [];
    return {
      exits,
      on(signal, listener) {
        listeners.set(signal, [...(listeners.get(signal) ?? []), listener]);
      },
      removeListener(signal, listener) {
        listeners.set(signal, (listeners.get(signal) ?? []).filter((l) => l !== listener));
      },
      exit(code) {
        exits.push(code);
      },
      emit(signal) {
        for (const l of listeners.get(signal) ?? []) l(signal);
      },
      get listeners() {
        return [...listeners.values()].reduce((n, l) => n + l.length, 0);
      },
    };
  }

  it("SIGTERM runs the shutdown callbacks, then exits 0; a second signal forces exit", async () => {
    const proc = fakeProcess();
    const t = new InProcessTransport();
    let finalised = false;
    let release: () => void = () => undefined;
    t.onShutdown(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      finalised = true;
    });
    const logs: string[] = [];
    const remove = installShutdownSignals(t, { process: proc, log: (m) => logs.push(m) });
    assert.equal(proc.listeners, 2);
    proc.emit("SIGTERM");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(proc.exits, [], "waits for the callbacks");
    proc.emit("SIGINT");
    assert.deepEqual(proc.exits, [130]);
    release();
    await t.shutdown();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(finalised, true);
    assert.deepEqual(proc.exits, [130, 0]);
    assert.match(logs[0]!, /SIGTERM: shutting down/);
    remove();
    assert.equal(proc.listeners, 0);
  });

  it("exits 1 when a shutdown callback fails", async () => {
    const proc = fakeProcess();
    const t = new InProcessTransport();
    t.onShutdown(() => {
      throw new Error("flush failed");
    });
    const logs: string[] = [];
    installShutdownSignals(t, { process: proc, log: (m) => logs.push(m) });
    proc.emit("SIGINT");
    await t.shutdown().catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(proc.exits, [1]);
    assert.ok(logs.some((l) => l.includes("shutdown failed")));
  });
});
