import assert from "node:assert/strict";
import { InProcessTransport } from "../../src/transport/inprocess.js";
import type { RclnodejsAdapterModule, RclnodejsTransportOptions } from "../../src/transport/rclnodejs-options.js";
import { detectRosEnvironment, openTransport, TransportUnavailableError } from "../../src/transport/select.js";
import { rclnodejsPreflight } from "../../src/transport/rclnodejs-preflight.js";
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

  it("loads the real adapter module and says what is missing for rclnodejs, without rebuilding it", async function () {
    // The adapter file itself loads; rclnodejs is what fails: not installed, not built, or its
    // ROS 2 libraries not on the library path (checked before the import, which would rebuild it).
    if (detectRosEnvironment().sourced) {
      console.log("      (ROS 2 is sourced here: the real rclnodejs loads, so there is nothing missing to report)");
      this.skip();
    }
    await assert.rejects(
      openTransport({ kind: "rclnodejs", env: SOURCED, handleSignals: false }),
      /rclnodejs package is not installed|native addon is not built|are not on LD_LIBRARY_PATH/,
    );
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

  it("SIGTERM runs the shutdown callbacks, then exits 0; a repeat right away (terminal + launch) is ignored, a later one forces exit", async () => {
    const proc = fakeProcess();
    const t = new InProcessTransport();
    let finalised = false;
    let release: () => void = () => undefined;
    t.onShutdown(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      finalised = true;
    });
    const logs: string[] = [];
    let clock = 0;
    const remove = installShutdownSignals(t, { process: proc, log: (m) => logs.push(m), now: () => clock, repeatGraceMs: 2000 });
    assert.equal(proc.listeners, 2);
    proc.emit("SIGTERM");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(proc.exits, [], "waits for the callbacks");
    clock = 5;
    proc.emit("SIGINT");
    proc.emit("SIGINT");
    assert.deepEqual(proc.exits, [], "duplicates of the same Ctrl-C do not cut the shutdown short");
    clock = 2500;
    proc.emit("SIGINT");
    assert.deepEqual(proc.exits, [130]);
    release();
    await t.shutdown();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(finalised, true);
    assert.deepEqual(proc.exits, [130, 0]);
    assert.match(logs[0]!, /SIGTERM: shutting down/);
    assert.match(logs[1]!, /already shutting down/);
    remove();
    assert.equal(proc.listeners, 0);
  });

  it("shuts down when its parent dies without signalling it (ros2 run/launch killed by SIGTERM)", async () => {
    const proc = Object.assign(fakeProcess(), { ppid: 4242 });
    const t = new InProcessTransport();
    let finalised = false;
    t.onShutdown(() => void (finalised = true));
    const logs: string[] = [];
    const remove = installShutdownSignals(t, { process: proc, log: (m) => logs.push(m), parentPollMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(finalised, false, "the parent is alive: nothing happens");
    proc.ppid = 1;
    const deadline = Date.now() + 2000;
    while (proc.exits.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(finalised, true);
    assert.deepEqual(proc.exits, [0]);
    assert.match(logs[0]!, /parent process 4242 exited/);
    remove();
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

describe("rclnodejs preflight (before the import that would rebuild it)", () => {
  const pkg = "/x/node_modules/rclnodejs/package.json";
  const addon = "/x/node_modules/rclnodejs/build/Release/rclnodejs.node";
  it("not installed: leaves the report to the import", () => {
    const resolvePackageJson = (): string => {
      throw Object.assign(new Error("Cannot find module"), { code: "MODULE_NOT_FOUND" });
    };
    assert.equal(rclnodejsPreflight({ env: {}, resolvePackageJson }), null);
  });
  it("installed but not built: names the missing addon and the command", () => {
    const problem = rclnodejsPreflight({ env: { LD_LIBRARY_PATH: "/opt/ros/jazzy/lib" }, resolvePackageJson: () => pkg, exists: () => false });
    assert.match(problem ?? "", /native addon is not built .*rclnodejs\.node.*npm rebuild rclnodejs/);
  });
  it("built, but the ROS 2 libraries are not on LD_LIBRARY_PATH", () => {
    const exists = (p: string): boolean => p === addon;
    assert.match(rclnodejsPreflight({ env: {}, resolvePackageJson: () => pkg, exists }) ?? "", /librcl\.so.*not on LD_LIBRARY_PATH/);
    assert.match(rclnodejsPreflight({ env: { LD_LIBRARY_PATH: "/usr/lib" }, resolvePackageJson: () => pkg, exists }) ?? "", /not on LD_LIBRARY_PATH/);
  });
  it("built and ROS 2 on the library path: no objection", () => {
    const exists = (p: string): boolean => p === addon || p === "/opt/ros/jazzy/lib/librcl.so";
    assert.equal(rclnodejsPreflight({ env: { LD_LIBRARY_PATH: "/ws/lib:/opt/ros/jazzy/lib" }, resolvePackageJson: () => pkg, exists }), null);
  });
});
