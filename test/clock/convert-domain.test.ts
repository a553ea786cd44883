/**
 * Issue 17 item 12 through the command a user runs: `syncbag convert` of a recording whose header
 * stamps are sim time (log times wall time) says so on the terminal, one line per sensor.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { imuCdr, writeMcap, type FixtureMessage } from "../convert/fixtures.js";
import { REPO, runCli } from "../cli/run-cli.js";

const WARNING = /warning: \S+: clock: sensor \S+ header stamps are in another time domain \(.*; offset −1\.7\de9 s ≈ 5\d years\); using arrival times/;

/** Recordings under ../shared whose name says nav2 or turtlebot (the sim-time MCAP). */
function nav2Recordings(): string[] {
  const root = resolve(REPO, "..", "shared");
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 4 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, depth + 1);
      else if (/nav2|turtlebot/i.test(path) && name.endsWith(".mcap")) found.push(path);
    }
  };
  walk(root, 0);
  return found;
}

describe("clock: syncbag convert warns about stamps in another time domain", function () {
  this.timeout(240_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-domain-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a synthetic recording: IMU stamped in sim time (from 1000 s, real-time factor 0.93), logged in 2026 wall time", async () => {
    const wall0 = 1_780_000_000_000_000_000n;
    const messages: FixtureMessage[] = [];
    for (let i = 0; i < 100 * 30; i++) {
      const logTime = wall0 + BigInt(i) * 10_000_000n + 3_000_000n;
      const stamp = 1_000_000_000_000n + BigInt(Math.round(i * 0.01 * 0.93 * 1e9));
      messages.push({ topic: "/imu", logTime, data: imuCdr(i, stamp) });
    }
    const input = join(dir, "in");
    await mkdir(input);
    await writeMcap(join(input, "sim.mcap"), messages);
    const out = await runCli(["convert", input, "-o", join(dir, "out"), "-j", "1"], { timeoutMs: 200_000 });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout + out.stderr, WARNING);
  });

  it("the nav2 turtlebot MCAP from ../shared (sim-time stamps, wall-time log times)", async function () {
    const found = nav2Recordings();
    if (found.length === 0) {
      console.log("      skipped: no nav2/turtlebot .mcap under ../shared (the issue's recording is not in ../shared/real-recordings)");
      this.skip();
    }
    const input = join(dir, "nav2");
    await mkdir(input);
    await symlink(found[0]!, join(input, "nav2.mcap"));
    const out = await runCli(["convert", input, "-o", join(dir, "nav2-out"), "-j", "1"], { timeoutMs: 200_000 });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout + out.stderr, WARNING);
  });
});
