/**
 * The command as a user installs it: `npm pack` this checkout, install the tarball into a
 * temporary project, and run the installed `syncbag` from another directory — convert with two
 * worker threads, inspect, start — plus `npx syncbag --help` from the install folder. Nothing
 * here goes through tsx: the installed package holds only what package.json "files" ships.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { open, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { McapIndexedReader } from "@mcap/core";
import type { IReadable } from "@mcap/core";
import { loadDecompressHandlers } from "@mcap/support";

const exec = promisify(execFile);
const repo = resolve(import.meta.dirname, "..", "..");

interface Ran {
  stdout: string;
  stderr: string;
  code: number;
}

async function run(command: string, args: string[], cwd: string, timeout = 120_000): Promise<Ran> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: "1" } });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number | string; signal?: string };
    return { stdout: e.stdout ?? "", stderr: `${e.stderr ?? ""}${e.signal ? ` (killed by ${e.signal})` : ""}`, code: typeof e.code === "number" ? e.code : -1 };
  }
}

function ok(ran: Ran, what: string): void {
  assert.equal(ran.code, 0, `${what} exited ${ran.code}\nstdout: ${ran.stdout.slice(-2000)}\nstderr: ${ran.stderr.slice(-2000)}`);
}

async function fileReadable(path: string): Promise<{ readable: IReadable; close: () => Promise<void> }> {
  const handle = await open(path, "r");
  const size = BigInt((await handle.stat()).size);
  return {
    readable: {
      size: async () => size,
      read: async (offset: bigint, length: bigint) => {
        const buffer = new Uint8Array(Number(length));
        await handle.read(buffer, 0, buffer.length, Number(offset));
        return buffer;
      },
    },
    close: () => handle.close(),
  };
}

describe("cli/installed: the packed package, installed and run as a user runs it", function () {
  // npm install of the tarball builds the native addons (zstd-napi): minutes on a loaded machine.
  this.timeout(600_000);
  let tmp: string;
  let install: string;
  let elsewhere: string;
  let bin: string;
  const timings: string[] = [];

  before(async function () {
    tmp = await mkdtemp(join(tmpdir(), "syncbag-installed-"));
    install = join(tmp, "install");
    elsewhere = join(tmp, "elsewhere");
    await mkdir(install);
    await mkdir(elsewhere);
    const t0 = performance.now();
    // `npm pack` runs `prepare`, which builds dist/ from the current sources.
    const packed = await run("npm", ["pack", "--pack-destination", tmp, "--json"], repo);
    ok(packed, "npm pack");
    const packS = (performance.now() - t0) / 1000;
    const tarball = join(tmp, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    await writeFile(join(install, "package.json"), JSON.stringify({ name: "syncbag-install-check", private: true, version: "0.0.0" }));
    const installed = await run("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], install, 480_000);
    ok(installed, "npm install <tarball>");
    timings.push(`pack ${packS.toFixed(0)} s, install ${((performance.now() - t0) / 1000 - packS).toFixed(0)} s`);
    bin = join(install, "node_modules", ".bin", "syncbag");
  });

  after(async () => {
    if (timings.length > 0) console.log(`      (${timings.join("; ")})`);
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it("ships the built JavaScript and no TypeScript sources", async () => {
    const pkg = join(install, "node_modules", "syncbag");
    const shipped = await readdir(pkg, { recursive: true });
    assert.ok(shipped.includes(join("dist", "src", "cli", "main.js")), "dist/src/cli/main.js missing");
    assert.ok(shipped.includes(join("dist", "src", "transport", "rclnodejs", "adapter.js")), "the rclnodejs adapter is not built");
    assert.ok(shipped.includes(join("dist", "src", "convert", "worker.js")), "the convert worker is not built");
    assert.deepEqual(shipped.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), []);
  });

  it("`syncbag convert -j 2` converts every sample drive in worker threads, and the MCAPs read back", async () => {
    const out = join(tmp, "out");
    const ran = await run(bin, ["convert", join(repo, "bags", "sample"), "-o", out, "-j", "2", "--json"], elsewhere);
    ok(ran, "syncbag convert");
    const summary = JSON.parse(ran.stdout) as { converted: number; failed: number; drives: { drive: string; status: string; messageCount?: number; output?: { mcap: string } }[] };
    const expected = (await readdir(join(repo, "bags", "sample"), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    assert.ok(expected.length >= 2, "bags/sample should hold several drives");
    assert.deepEqual(summary.drives.map((d) => `${d.drive}:${d.status}`).sort(), expected.map((d) => `${d}:converted`));
    for (const drive of summary.drives) {
      const { readable, close } = await fileReadable(drive.output!.mcap);
      try {
        const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: await loadDecompressHandlers() });
        let count = 0;
        for await (const message of reader.readMessages()) if (message.data.byteLength >= 0) count++;
        assert.ok(count > 0, `${drive.drive}: no messages`);
        // The output holds the input's messages plus the pipeline's (frames, clock state, suggestions).
        assert.ok(count >= drive.messageCount!, `${drive.drive}: ${count} messages read back, fewer than the ${drive.messageCount} converted`);
        assert.equal(reader.statistics?.messageCount, BigInt(count), `${drive.drive}: summary statistics vs messages read`);
      } finally {
        await close();
      }
    }
    const inspect = await run(bin, ["inspect", summary.drives[0]!.output!.mcap], elsewhere);
    ok(inspect, "syncbag inspect");
    assert.match(inspect.stdout, /\/syncbag\/frames|frames/);
  });

  it("`syncbag start` records a short simulated drive into a temporary folder", async () => {
    const out = join(tmp, "start");
    const ran = await run(bin, ["start", "--duration", "4", "--speed", "max", "--out", out, "--name", "short"], elsewhere);
    ok(ran, "syncbag start");
    const files = await readdir(out);
    for (const f of ["short.truth.json", "short.report.md", "short.layout.json"]) assert.ok(files.includes(f), `${f} not written (got ${files.join(", ")})`);
    const mcap = files.find((f) => /^short(_\d+)?\.mcap$/.test(f));
    assert.ok(mcap !== undefined, `no recording written (got ${files.join(", ")})`);
    const { readable, close } = await fileReadable(join(out, mcap));
    try {
      const reader = await McapIndexedReader.Initialize({ readable });
      assert.ok(reader.channelsById.size > 0);
    } finally {
      await close();
    }
    assert.ok((await readFile(join(out, "short.report.md"), "utf8")).includes("syncbag drive report"));
  });

  it("`npx syncbag --help` from the install folder lists the commands", async () => {
    const ran = await run("npx", ["--no-install", "syncbag", "--help"], install);
    ok(ran, "npx syncbag --help");
    for (const command of ["convert", "inspect", "start", "node", "eval"]) assert.match(ran.stdout, new RegExp(`^\\s+${command}\\b`, "m"));
  });
});
