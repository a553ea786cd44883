import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { register } from "../../src/cli/commands/convert.js";
import { fixtureMessages, writeMcap } from "./fixtures.js";

async function run(args: string[]): Promise<{ stdout: string; exitCode: number | undefined }> {
  const program = new Command().exitOverride();
  register(program);
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  const previousExit = process.exitCode;
  process.stdout.write = ((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await program.parseAsync(["node", "syncbag", "convert", ...args]);
    return { stdout: chunks.join(""), exitCode: typeof process.exitCode === "number" ? process.exitCode : undefined };
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
    process.exitCode = previousExit;
  }
}

describe("convert/cli: syncbag convert", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-cli-"));
    await writeMcap(join(dir, "a.mcap"), fixtureMessages(1));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("--json prints the summary; a missing input makes the exit status 1", async () => {
    const out = join(dir, "out");
    const { stdout, exitCode } = await run([join(dir, "a.mcap"), join(dir, "missing.bag"), "-o", out, "--jobs", "1", "--json"]);
    const summary = JSON.parse(stdout) as { converted: number; failed: number; drives: { drive: string; status: string; error?: { reason: string } }[] };
    assert.equal(summary.converted, 1);
    assert.equal(summary.failed, 1);
    assert.equal(summary.drives.find((d) => d.status === "failed")?.error?.reason, "no such file or folder");
    assert.equal(exitCode, 1);
    assert.ok((await readFile(join(out, "index.json"), "utf8")).includes('"drive": "a"'));
  });

  it("refuses a bad --jobs naming the option and the value", async () => {
    await assert.rejects(run([join(dir, "a.mcap"), "-o", join(dir, "o2"), "--jobs", "many"]), /--jobs: expected auto or a number of worker threads from 1 to 256 \(got "many"\)/);
  });
});
