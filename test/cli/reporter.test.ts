/** Issue 17 item 13: `npm test` ends with a line saying how many tests were skipped and why. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO } from "./run-cli.js";

const exec = promisify(execFile);

describe("cli/reporter: the closing line on skipped tests", function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-reporter-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the test run uses the reporter", async () => {
    const config = JSON.parse(await readFile(join(REPO, ".mocharc.json"), "utf8")) as { reporter?: string };
    assert.equal(config.reporter, "./test/reporter.ts");
  });

  it("counts skipped tests per suite, with the suite's title as the reason", async () => {
    const spec = join(dir, "fixture.test.mjs");
    await writeFile(
      spec,
      [
        'describe("real data (needs ../shared/x)", function () { before(function () { this.skip(); }); it("a", () => {}); it("b", () => {}); });',
        'describe("always", function () { it("c", () => {}); });',
      ].join("\n"),
    );
    const { stdout } = await exec(process.execPath, [join(REPO, "node_modules", "mocha", "bin", "mocha.js"), "--no-config", "--node-option", "import=tsx", "--reporter", "./test/reporter.ts", spec], { cwd: REPO });
    assert.match(stdout, /skipped: 2 tests, each for something it needs that is absent here/);
    assert.match(stdout, /^\s+2 {2}real data \(needs \.\.\/shared\/x\)$/m);
  });
});
