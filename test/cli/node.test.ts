/**
 * Issue 17 items 7 and 11: `syncbag node` on the in-process transport runs until SIGINT/SIGTERM
 * and then finalises its MCAP; without sensors it refuses to start; a params file with several
 * mistakes gets every one reported as `key: what was wrong (got value)`.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { McapIndexedReader } from "@mcap/core";
import { loadDecompressHandlers } from "@mcap/support";
import { assertNoStack, REPO, runCli, spawnCli } from "./run-cli.js";

const PARAMS = join(REPO, "launch", "params", "sim_rig.yaml");

describe("cli/node: syncbag node on the in-process transport", function () {
  this.timeout(90_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-node-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`keeps running until ${signal}, then finalises the recording and exits 0`, async () => {
      const out = join(dir, signal);
      const child = spawnCli(["node", "--transport", "inprocess", "--params-file", PARAMS, "--output-dir", out]);
      let stderr = "";
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
      try {
        for (let waited = 0; !stderr.includes("running"); waited += 100) {
          if (child.exitCode !== null || waited > 30_000) assert.fail(`node did not start:\n${stderr}`);
          await sleep(100);
        }
        // It used to leave by itself about 2.5 s after start-up, its recording unfinalised.
        await sleep(4000);
        assert.equal(child.exitCode, null, `the node exited by itself:\n${stderr}`);
        child.kill(signal);
        const [code] = await exited;
        assert.equal(code, 0, stderr);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      assertNoStack(stderr);
      const files = (await readdir(out)).filter((f) => f.endsWith(".mcap"));
      assert.deepEqual(files, ["syncbag_0.mcap"]);
      const bytes = await readFile(join(out, files[0]!));
      // Finalised: the summary and footer are there, so an indexed reader opens it.
      const reader = await McapIndexedReader.Initialize({
        readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)) },
        decompressHandlers: await loadDecompressHandlers(),
      });
      assert.ok(reader.footer.summaryStart > 0n, "no summary section");
      assert.ok(reader.channelsById.size > 0, "no channels recorded");
    });
  }

  it("without sensors refuses to start, saying what to configure (exit 64)", async () => {
    const r = await runCli(["node", "--transport", "inprocess", "--output-dir", join(dir, "none")], { timeoutMs: 30_000 });
    assertNoStack(r.stderr);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /^syncbag node: no sensors configured \(align\.sensors is empty\).*--params-file/m);
  });

  it("a params file with several mistakes: every one reported, each key: problem (got value), no section dumped", async () => {
    const text = (await readFile(PARAMS, "utf8"))
      .replace("latencyS: 0.115", "latencyMs: 0.115")
      .replace("lidarPeriodS: 0.1", "lidarPeriodS: -1")
      .replace(/modality: camera/, "modality: camra");
    const file = join(dir, "bad.yaml");
    await writeFile(file, text);
    const r = await runCli(["node", "--transport", "inprocess", "--params-file", file, "--output-dir", join(dir, "bad")], { timeoutMs: 30_000 });
    assertNoStack(r.stderr);
    assert.equal(r.code, 64, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.ok(lines.some((l) => /align\.sensors\.lidar_top\.clock\.latencyMs: unknown key \(did you mean latencyS\?\) \(got 0\.115\)$/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /align\.lidarPeriodS: .* \(got -1\)$/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /align\.sensors\.camera_front\.modality: .* \(got "camra"\)$/.test(l)), r.stderr);
    for (const l of lines) {
      assert.match(l, /^syncbag node: /);
      assert.ok(l.length < 240, `a line dumps too much: ${l}`);
    }
  });
});
