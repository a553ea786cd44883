/**
 * Issue 17 item 6: bad options and output paths end in one line naming the option and what was
 * wrong, with the documented exit status (64, nothing done), never a stack trace.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertNoStack, REPO, runCli } from "./run-cli.js";

const USAGE = 64;
const SAMPLE = join(REPO, "bags", "sample");

describe("cli/usage-errors: one line per bad option, exit 64, no stack trace", function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-usage-"));
    file = join(dir, "a-file");
    await writeFile(file, "not a folder\n");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function refused(args: string[], expected: RegExp[]): Promise<string> {
    const r = await runCli(args);
    assertNoStack(r.stderr);
    assert.equal(r.code, USAGE, `exit status of syncbag ${args.join(" ")}\n${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
    for (const e of expected) assert.match(lines[0]!, e);
    return lines[0]!;
  }

  for (const jobs of ["0", "-1", "abc", "1.5"]) {
    it(`convert -j ${jobs}`, async () => {
      await refused(["convert", SAMPLE, "-o", join(dir, `out-${jobs}`), "-j", jobs], [/^syncbag convert: --jobs: expected .*from 1 to 256/, new RegExp(`\\(got "${jobs.replace(".", "\\.")}"\\)`)]);
      assert.equal(existsSync(join(dir, `out-${jobs}`)), false, "nothing is written");
    });
  }

  it("convert -o <an existing file>", async () => {
    await refused(["convert", SAMPLE, "-o", file, "-j", "1"], [/^syncbag convert: --out .*a-file: exists and is not a folder$/]);
  });

  it("convert -o <a path under a file>", async () => {
    await refused(["convert", SAMPLE, "-o", join(file, "sub"), "-j", "1"], [/--out .*a-file\/sub: .*a-file is a file, not a folder$/]);
  });

  it("convert with two bad options names both", async () => {
    await refused(["convert", SAMPLE, "-o", file, "-j", "0"], [/--jobs: .*\(got "0"\)/, /--out .*exists and is not a folder/]);
  });

  it("convert -o <the input folder> (item 13) is refused before anything is written", async () => {
    const input = join(dir, "fleet");
    await runCli(["sim", "--rig", "sample-compact", "--duration", "1", "--out", input, "--name", "d1"]);
    await refused(["convert", input, "-o", input], [/--out .*fleet: is the input folder/]);
    assert.equal(existsSync(join(input, "index.json")), false);
  });

  it("start: every bad option in one line", async () => {
    await refused(["start", "--seed", "x", "--duration", "-3", "--speed", "0", "--compression", "gz", "--out", file], [/--seed: .*\(got "x"\)/, /--duration: expected seconds > 0 \(got "-3"\)/, /--speed: .*\(got "0"\)/, /--compression: expected zstd, lz4 or none \(got "gz"\)/, /--out: exists and is not a folder/]);
  });

  it("start --rig <unknown>", async () => {
    await refused(["start", "--rig", "nosuchrig"], [/^syncbag start: --rig: rig 'nosuchrig' not found/]);
  });

  it("sim: bad seed, duration, compression", async () => {
    await refused(["sim", "--seed", "-1", "--duration", "abc", "-c", "gz", "-o", join(dir, "sim")], [/--seed: .*\(got "-1"\)/, /--duration: expected seconds > 0 \(got "abc"\)/, /--compression: expected none, zstd or zstd_small/]);
  });

  it("eval --warmup x", async () => {
    await refused(["eval", "--truth", join(SAMPLE, "drive-step-s23.truth.json"), "--warmup", "x", file], [/^syncbag eval: --warmup: expected seconds ≥ 0 \(got "x"\)$/]);
  });

  it("export -o <a folder>, --format x", async () => {
    await refused(["export", file, "-o", dir, "--format", "x"], [/--output: is a folder; give a file name/, /--format: expected jsonl or openlabel \(got "x"\)/]);
  });

  it("recover -c gz, -o <the input>", async () => {
    await refused(["recover", file, "-c", "gz"], [/^syncbag recover: --compression: expected zstd, lz4, none \(got "gz"\)$/]);
    await refused(["recover", file, "-o", file], [/--out .*: is the input file; recover never overwrites it/]);
  });

  it("node --transport / --role / --output-dir", async () => {
    await refused(["node", "--transport", "bogus", "--role", "x", "--output-dir", file], [/--transport: expected one of auto, inprocess, rclnodejs \(got "bogus"\)/, /--role: expected one of all, align, record, suggest \(got "x"\)/, /--output-dir: exists and is not a folder/]);
  });

  it("an unknown option is a usage error too (commander's message, exit 64)", async () => {
    const r = await runCli(["convert", SAMPLE, "-o", join(dir, "o"), "--bogus"]);
    assert.equal(r.code, USAGE);
    assert.match(r.stderr, /unknown option '--bogus'/);
    assertNoStack(r.stderr);
  });

  it("a missing input file is an input failure (exit 1), one line", async () => {
    for (const args of [["inspect", join(dir, "missing.mcap")], ["inspect", dir], ["eval", "--truth", join(dir, "missing.json"), file]]) {
      const r = await runCli(args);
      assertNoStack(r.stderr);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^syncbag (inspect|eval): .*(no such file|is a folder)/);
    }
  });
});
