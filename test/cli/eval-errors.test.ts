/**
 * Issue 17 item 8: `syncbag eval` given another drive's truth, a recording as the truth, or a
 * truncated recording answers with one line saying so, and never claims targets met for a
 * drive it did not see whole.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertNoStack, REPO, runCli } from "./run-cli.js";

describe("cli/eval-errors: eval with the wrong truth or a damaged recording", function () {
  this.timeout(120_000);
  let dir: string;
  let mcap: string;
  let truth: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-eval-"));
    const r = await runCli(["start", "--duration", "5", "--speed", "max", "--out", dir, "--name", "d"]);
    assert.equal(r.code, 0, r.stderr);
    mcap = join(dir, "d_0.mcap");
    truth = join(dir, "d.truth.json");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("another drive's truth: one line saying the truth does not belong to the recording, no table of NaN", async () => {
    const r = await runCli(["eval", "--warmup", "1", "--truth", join(REPO, "bags", "sample", "drive-faulty-s11.truth.json"), mcap]);
    assertNoStack(r.stderr);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim(), /^syncbag eval: --truth .*drive-faulty-s11\.truth\.json does not belong to this recording: .*\(rig sample-faulty, seed 11\)/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.doesNotMatch(r.stdout, /NaN/);
  });

  it("a recording given as the truth: refused at once by its magic, no binary printed", async () => {
    const t0 = performance.now();
    const r = await runCli(["eval", "--truth", mcap, mcap]);
    assert.ok(performance.now() - t0 < 10_000, "it read the recording as text");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim(), /^syncbag eval: --truth .*d_0\.mcap: is an MCAP recording, not a truth file/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.stderr + r.stdout, /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\ufffd]/, "binary printed");
  });

  it("a truncated recording: the damage line, and no unqualified 'targets: all met'", async () => {
    const bytes = await readFile(mcap);
    const cut = join(dir, "cut.mcap");
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.byteLength * 0.6)));
    const r = await runCli(["eval", "--warmup", "1", "--truth", truth, cut]);
    assertNoStack(r.stderr);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^syncbag eval: .*(truncated|corrupt|ends|cut).*scored the messages before it/m);
    assert.doesNotMatch(r.stdout, /targets: all met\s*$/m);
    assert.match(r.stdout, /partial: scored up to the damage/);
    // The whole file: its verdict is unqualified.
    const whole = await runCli(["eval", "--warmup", "1", "--truth", truth, mcap]);
    assert.ok(whole.code === 0 || whole.code === 2, whole.stderr);
    assert.doesNotMatch(whole.stdout, /partial|before the damage/);
  });
});
