/**
 * Distributed conversion against a real redis-server (started here on a free loopback port, no
 * persistence, stopped after): the installed command (`node bin/syncbag.js`, the built dist) as
 * producer and worker processes, as an operator would run them.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Queue, Worker } from "bullmq";
import { runBatch } from "../../src/convert/batch.js";
import { BatchIndex } from "../../src/convert/index-file.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { readJob } from "../../src/convert/queue/follow.js";
import { freePort, hasRedis, startRedis } from "../helpers/redis.js";
import { writeMcap, fixtureMessages } from "./fixtures.js";

const REPO = resolve(import.meta.dirname, "..", "..");
const BIN = join(REPO, "bin", "syncbag.js");
const SAMPLE = join(REPO, "bags", "sample");
const COPY = `${join(REPO, "dist", "src", "convert", "copy-converter.js")}#copyOnlyConverter`;
/** The converter `syncbag convert` and `syncbag worker` run (the node's pipeline, two passes), from the same build. */
const PIPELINE = { module: new URL(`file://${join(REPO, "dist", "src", "convert", "pipeline-converter.js")}`).href, exportName: "pipelineConverter" };
const DRIVES = ["drive-compact-s7", "drive-faulty-s11", "drive-step-s23"];


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, stderr: () => err, stdout: () => out, exited };
}

async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, fail) => (timer = setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

/** Every file under the output folder (names relative to it), hidden ones included. */
async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listAll(join(dir, e.name))).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out.sort();
}

describe("convert/queue: fleet conversion on BullMQ (needs redis-server)", function () {
  this.timeout(180_000);
  let redis: ChildProcess | undefined;
  let url = "";
  let dir = "";
  const procs: Proc[] = [];
  /** The sample fleet converted on one machine (in-process batch, the pipeline converter): the bytes every fleet run must give. */
  let single: Promise<string> | undefined;
  const singleMachine = (): Promise<string> =>
    (single ??= (async () => {
      const outDir = join(dir, "single");
      const local = await runBatch({ inputs: [SAMPLE], outDir, converter: PIPELINE, inProcess: true }, { progress: null });
      assert.equal(local.converted, 3, JSON.stringify(local.drives.map((d) => d.error)));
      return outDir;
    })());
  const run = (args: string[]): Proc => {
    const p = start(args);
    procs.push(p);
    return p;
  };

  before(async function () {
    if (!hasRedis()) {
      console.log("    (skipped: redis-server is not installed; apt-get install redis-server)");
      this.skip();
    }
    if (!existsSync(join(REPO, "dist", "src", "convert", "queue", "worker.js"))) throw new Error("no build of the queue modules in dist/: run `npm run build` first (npm test does)");
    const started = await startRedis(async (u) => {
      const probe = new Queue("probe", { connection: { host: "127.0.0.1", port: Number(new URL(u).port), maxRetriesPerRequest: null, retryStrategy: () => null } });
      probe.on("error", () => undefined);
      const ok = await probe.getJobCounts().then(
        () => true,
        () => false,
      );
      await probe.close().catch(() => undefined);
      return ok;
    });
    redis = started.process;
    url = started.url;
    dir = await mkdtemp(join(tmpdir(), "syncbag-queue-"));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  });

  after(async () => {
    redis?.kill("SIGTERM");
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  function queueOf(name: string): Queue {
    const q = new Queue(name, { connection: { ...parseUrl(url), maxRetriesPerRequest: null } });
    q.on("error", () => undefined);
    return q;
  }

  /**
   * Why a producer did not end as expected: each failed drive with its reason (the summary on
   * stdout), each failed job's failedReason and stack as BullMQ holds them, and the processes' logs.
   */
  async function whyFailed(qn: string, producer: Proc, others: Proc[]): Promise<string> {
    const lines: string[] = [];
    try {
      const summary = JSON.parse(producer.stdout()) as { drives?: { drive: string; status: string; error?: { kind: string; reason: string } }[] };
      for (const d of summary.drives ?? []) if (d.status === "failed") lines.push(`drive ${d.drive} failed: ${d.error?.kind}: ${d.error?.reason}`);
    } catch {
      lines.push(`producer stdout: ${producer.stdout()}`);
    }
    const q = queueOf(qn);
    try {
      for (const job of await q.getFailed()) lines.push(`job ${job.id} (${(job.data as { drive?: { name?: string } }).drive?.name}) failed after ${job.attemptsMade} attempt(s), stalled ${job.stalledCounter}: ${job.failedReason}\n${(job.stacktrace ?? []).join("\n---\n")}`);
      lines.push(`job counts: ${JSON.stringify(await q.getJobCounts())}`);
    } finally {
      await q.close();
    }
    lines.push(`producer stderr:\n${producer.stderr()}`);
    others.forEach((p, i) => lines.push(`process ${i + 1} (pid ${p.child.pid}) stderr:\n${p.stderr()}`));
    return lines.join("\n");
  }

  it("two worker processes convert the sample fleet once each, byte-identical to a single-machine run; a second enqueue converts nothing", async () => {
    const out = join(dir, "fleet");
    const qn = "fleet";
    const w1 = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "1"]);
    const w2 = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "1"]);
    // The pipeline converter (two passes, suggestions), as `syncbag convert --queue` runs it.
    const producer = run(["convert", SAMPLE, "-o", out, "--queue", url, "--queue-name", qn, "--json"]);
    const code = await within("producer", 120_000, producer.exited);
    const summary = JSON.parse(producer.stdout()) as { converted: number; failed: number };
    if (code !== 0 || summary.converted !== 3 || summary.failed !== 0) assert.fail(`producer exit ${code}, ${summary.converted} converted, ${summary.failed} failed\n${await whyFailed(qn, producer, [w1, w2])}`);

    // Each drive taken exactly once over both workers.
    const taken = (w1.stderr() + w2.stderr()).match(/^syncbag worker: (\S+): converting/gm) ?? [];
    assert.deepEqual(taken.map((l) => l.split(" ")[2]!.replace(/:$/, "")).sort(), ["drive-compact-s7", "drive-faulty-s11", "drive-step-s23"], `worker 1:\n${w1.stderr()}\nworker 2:\n${w2.stderr()}`);
    const index = BatchIndex.parse(JSON.parse(await readFile(join(out, "index.json"), "utf8")));
    for (const e of index.drives) assert.match(e.worker ?? "", /^.+:\d+$/, `${e.drive} names its worker`);
    // The fleet report: one row per worker that converted something, and the fleet totals.
    const html = await readFile(join(out, "report.html"), "utf8");
    const workers = new Set(index.drives.map((e) => e.worker!));
    assert.match(html, new RegExp(`<h2>Fleet</h2><p>${workers.size} workers · 3 drives converted, 0 failed`));
    for (const w of workers) assert.match(html, new RegExp(`<tr><td>${w}</td><td>${index.drives.filter((e) => e.worker === w).length}</td>`));

    // The same converter on one machine writes the same bytes: conversion output depends on the
    // input and settings only, not on the worker, its timing or its load.
    const local = await singleMachine();
    for (const d of DRIVES) assert.equal(await sha256(join(out, `${d}.mcap`)), await sha256(join(local, `${d}.mcap`)), `${d}: fleet output differs from the single-machine run`);
    assert.deepEqual(await listAll(out), ["drive-compact-s7.mcap", "drive-compact-s7.report.json", "drive-faulty-s11.mcap", "drive-faulty-s11.report.json", "drive-step-s23.mcap", "drive-step-s23.report.json", "index.json", "report.html"]);

    // Resume: the same inputs again enqueue nothing (3 jobs on the queue, as before).
    const again = run(["convert", SAMPLE, "-o", out, "--queue", url, "--queue-name", qn, "--json"]);
    assert.equal(await within("second producer", 60_000, again.exited), 0, again.stderr());
    const second = JSON.parse(again.stdout()) as { converted: number; skipped: number };
    assert.deepEqual([second.converted, second.skipped], [0, 3]);
    const q = queueOf(qn);
    try {
      const { completed, waiting, active, failed } = await q.getJobCounts("completed", "waiting", "active", "failed");
      assert.deepEqual({ completed, waiting, active, failed }, { completed: 3, waiting: 0, active: 0, failed: 0 });
    } finally {
      await q.close();
    }
    w1.child.kill("SIGTERM");
    w2.child.kill("SIGTERM");
    assert.deepEqual(await within("workers drain", 20_000, Promise.all([w1.exited, w2.exited])), [0, 0]);
  });

  it("the producer never takes a job finishing as it looks for a failed one: state and result are read so that they agree", async () => {
    // The producer's follow loop used to read the job, then its state: a job read while active and
    // completed a moment later had no return value, and its drive was reported failed (seen in CI
    // under load as "drive-faulty-s11 failed at 0%"). Many short jobs make that window likely.
    const qn = "consistent";
    const connection = { ...parseUrl(url), maxRetriesPerRequest: null };
    const worker = new Worker(qn, async (job) => {
      await sleep(5 + Math.random() * 20);
      return { id: job.id };
    }, { connection, concurrency: 4 });
    const q = queueOf(qn);
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `job-${i}`);
      await q.addBulk(ids.map((jobId) => ({ name: "x", data: {}, opts: { jobId } })));
      const pending = new Set(ids);
      let inconsistent = 0;
      for (let i = 0; pending.size > 0; i++) {
        if (i > 100_000) throw new Error(`${pending.size} jobs never finished`);
        for (const id of pending) {
          const { job, state } = await readJob(q, id);
          if (state !== "completed") continue;
          pending.delete(id);
          if ((job?.returnvalue as { id?: string } | null)?.id !== id) inconsistent++;
        }
      }
      assert.equal(inconsistent, 0, "jobs read as completed without their result");
    } finally {
      await worker.close();
      await q.close();
    }
  });

  it("kill -9 of a worker mid-drive: the drive goes to another worker and is published once, never partially", async () => {
    const out = join(dir, "killed");
    const qn = "killed";
    const drive = join(SAMPLE, "drive-compact-s7");
    const first = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "1", "--lock-ms", "2000"]);
    const producer = run(["convert", drive, "-o", out, "--queue", url, "--queue-name", qn, "--json"]);
    const q = queueOf(qn);
    try {
      // Wait until the pipeline is inside the drive, then kill the worker without warning.
      let fraction = 0;
      for (let i = 0; fraction <= 0.05; i++) {
        if (i > 1200) throw new Error(`the drive never got going:\n${first.stderr()}`);
        await sleep(50);
        const [job] = await q.getActive();
        const p = job?.progress as { fraction?: number; state?: string } | undefined;
        fraction = p?.state === "converting" ? (p.fraction ?? 0) : 0;
      }
      first.child.kill("SIGKILL");
      await first.exited;
      assert.equal(existsSync(join(out, "drive-compact-s7.mcap")), false, "no output published by the killed worker");
      assert.ok(!(await listAll(out).catch(() => [] as string[])).some((f) => f.endsWith(".mcap") && !f.startsWith(".syncbag-staging/")), "nothing partial outside staging");

      const second = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "1", "--lock-ms", "2000"]);
      assert.equal(await within("producer", 150_000, producer.exited), 0, producer.stderr() + second.stderr());
      assert.match(second.stderr(), /drive-compact-s7: converting \(job \S+, attempt 1\)/); // a stall is not a failed attempt
      const index = BatchIndex.parse(JSON.parse(await readFile(join(out, "index.json"), "utf8")));
      assert.equal(index.drives.length, 1);
      const entry = index.drives[0]!;
      assert.equal(entry.status, "converted");
      assert.equal(entry.worker, `${hostname()}:${second.child.pid}`);
      // Published once and complete: exactly the two outputs, the MCAP the one the index describes.
      assert.deepEqual(await listAll(out), ["drive-compact-s7.mcap", "drive-compact-s7.report.json", "index.json", "report.html"]);
      assert.equal(await sha256(entry.output!.mcap), entry.output!.mcapHash);
      assert.equal(entry.output!.mcapHash, await sha256(join(await singleMachine(), "drive-compact-s7.mcap")), "byte-identical to the single-machine run");
      const { completed, failed, waiting, active } = await q.getJobCounts("completed", "failed", "waiting", "active");
      assert.deepEqual({ completed, failed, waiting, active }, { completed: 1, failed: 0, waiting: 0, active: 0 });
      second.child.kill("SIGTERM");
      assert.equal(await within("second worker drains", 20_000, second.exited), 0);
    } finally {
      await q.close();
    }
  });

  it("--lidar-packet travels with the job: a worker decodes the packet topic into <topic>/points (needs ../shared/lidar-packets)", async function () {
    const shared = join(REPO, "..", "shared", "lidar-packets", "velodyne_vlp16");
    if (!existsSync(join(shared, "VLP16.yaml"))) {
      console.log(`    (skipped: ${shared} absent)`);
      this.skip();
    }
    const bagDir = (await readdir(shared, { withFileTypes: true })).find((e) => e.isDirectory() && /^\d+$/.test(e.name))!.name;
    const inputs = join(dir, "packets");
    await mkdir(inputs, { recursive: true });
    await cp(join(shared, bagDir), join(inputs, "vlp16"), { recursive: true });
    const out = join(dir, "packets-out");
    const qn = "packets";
    const worker = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "1"]);
    const producer = run(["convert", inputs, "-o", out, "--queue", url, "--queue-name", qn, "--json", "--lidar-packet", `/velodyne_packets=VLP16,${join(shared, "VLP16.yaml")},Dual`]);
    const code = await within("producer", 120_000, producer.exited);
    if (code !== 0) assert.fail(`producer exit ${code}\n${await whyFailed(qn, producer, [worker])}`);
    const topics = new Map<string, number>();
    const source = await openRecording(join(out, "vlp16.mcap"));
    try {
      for await (const m of source.messages()) topics.set(m.topic, (topics.get(m.topic) ?? 0) + 1);
    } finally {
      await source.close();
    }
    assert.ok((topics.get("/velodyne_packets/points") ?? 0) > 0, `decoded clouds in the worker's output: ${JSON.stringify([...topics])}`);
    assert.ok((topics.get("/velodyne_packets") ?? 0) > 0, "the packets are kept");
    worker.child.kill("SIGTERM");
    assert.equal(await within("worker drains", 20_000, worker.exited), 0);
  });

  it("a corrupt input lands in the failed list with its reason at once (no retries) and the batch ends; the others complete", async () => {
    const inputs = join(dir, "mixed");
    await mkdir(inputs, { recursive: true });
    await writeMcap(join(inputs, "good.mcap"), fixtureMessages(1));
    // MCAP magic, then garbage: recognised as MCAP, unreadable as one.
    await writeFile(join(inputs, "broken.mcap"), Buffer.concat([Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]), Buffer.alloc(4000, 0x5a)]));
    const out = join(dir, "mixed-out");
    const qn = "mixed";
    const worker = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "2"]);
    const producer = run(["convert", inputs, "-o", out, "--queue", url, "--queue-name", qn, "--converter", COPY, "--json"]);
    assert.equal(await within("producer", 60_000, producer.exited), 1, producer.stderr());
    const summary = JSON.parse(producer.stdout()) as { converted: number; failed: number; drives: { drive: string; status: string; error?: { kind: string; reason: string } }[] };
    assert.equal(summary.converted, 1);
    const broken = summary.drives.find((d) => d.drive === "broken");
    assert.equal(broken?.status, "failed");
    assert.ok(broken.error !== undefined && broken.error.kind !== "worker" && broken.error.reason.length > 0, JSON.stringify(broken.error));

    const status = start(["queue", "status", "--queue", url, "--queue-name", qn, "--json"]);
    assert.equal(await status.exited, 0, status.stderr());
    const s = JSON.parse(status.stdout()) as { failed: { drive: string; kind: string; reason: string; attempts: number }[]; counts: { completed: number } };
    assert.equal(s.counts.completed, 1);
    assert.equal(s.failed.length, 1);
    assert.deepEqual([s.failed[0]!.drive, s.failed[0]!.kind, s.failed[0]!.reason, s.failed[0]!.attempts], ["broken", broken.error.kind, broken.error.reason, 1]);
    assert.equal(existsSync(join(out, "broken.mcap")), false);

    // Operators: retry puts it back (and it fails again, same reason); clean empties the lists.
    const retry = start(["queue", "retry", "--queue", url, "--queue-name", qn, "broken"]);
    assert.equal(await retry.exited, 0, retry.stderr());
    assert.equal(retry.stdout(), "retried 1: broken\n");
    const q = queueOf(qn);
    try {
      for (let i = 0; ; i++) {
        // retry moved it out of the failed set atomically: back in it means it failed again.
        if ((await q.getJobCounts("failed")).failed === 1) break;
        if (i > 200) throw new Error("the retried job never failed again");
        await sleep(50);
      }
      assert.equal((await q.getFailed())[0]?.failedReason, `${broken.error.kind}: ${broken.error.reason}`);
      const clean = start(["queue", "clean", "--queue", url, "--queue-name", qn]);
      assert.equal(await clean.exited, 0, clean.stderr());
      assert.equal(clean.stdout(), "removed 1 completed, 1 failed\n");
      const c = await q.getJobCounts("completed", "failed");
      assert.deepEqual({ completed: c.completed, failed: c.failed }, { completed: 0, failed: 0 });
    } finally {
      await q.close();
    }
    worker.child.kill("SIGTERM");
    assert.equal(await within("worker drains", 20_000, worker.exited), 0);
  });

  it("an unreachable Redis: one line naming the problem, exit 1, nothing enqueued", async () => {
    const port = await freePort(); // nothing listens there
    const producer = start(["convert", join(SAMPLE, "drive-step-s23"), "-o", join(dir, "unreachable"), "--queue", `redis://127.0.0.1:${port}`]);
    // The refusal itself is immediate; the bound is for node loading the CLI (1.2 s of CPU, ~10 s
    // of wall time at load 10 on 2 cores: a 30 s bound for this test's two starts failed once).
    assert.equal(await within("producer", 120_000, producer.exited), 1, producer.stderr());
    assert.equal(producer.stderr().trim(), `syncbag convert: --queue redis://127.0.0.1:${port}: cannot reach Redis: connect ECONNREFUSED 127.0.0.1:${port}`);
    const status = start(["queue", "status", "--queue", `redis://127.0.0.1:${port}`]);
    assert.equal(await status.exited, 1);
    assert.equal(status.stderr().trim(), `syncbag queue status: cannot reach Redis: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it("an input changed after it was enqueued fails as changed, at once, and nothing of it is published", async () => {
    const inputs = join(dir, "changing");
    await mkdir(inputs, { recursive: true });
    await writeMcap(join(inputs, "steady.mcap"), fixtureMessages(1));
    await writeMcap(join(inputs, "edited.mcap"), fixtureMessages(1));
    const out = join(dir, "changing-out");
    const qn = "changing";
    const producer = run(["convert", inputs, "-o", out, "--queue", url, "--queue-name", qn, "--converter", COPY, "--json"]);
    const q = queueOf(qn);
    try {
      for (let i = 0; (await q.getJobCounts("waiting")).waiting < 2; i++) {
        if (i > 400) throw new Error(`the producer never enqueued both drives:\n${producer.stderr()}`);
        await sleep(50);
      }
    } finally {
      await q.close();
    }
    await writeMcap(join(inputs, "edited.mcap"), fixtureMessages(2)); // a valid recording, other content
    const worker = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "1"]);
    assert.equal(await within("producer", 60_000, producer.exited), 1, producer.stderr());
    const summary = JSON.parse(producer.stdout()) as { converted: number; drives: { drive: string; status: string; error?: { kind: string; reason: string }; attempts?: number }[] };
    assert.equal(summary.converted, 1);
    const edited = summary.drives.find((d) => d.drive === "edited");
    assert.equal(edited?.status, "failed");
    assert.equal(edited.error?.kind, "changed", JSON.stringify(edited.error));
    assert.match(edited.error.reason, /edited\.mcap is not what was enqueued .*enqueue it again/);
    assert.equal(existsSync(join(out, "edited.mcap")), false);
    assert.ok(existsSync(join(out, "steady.mcap")));
    worker.child.kill("SIGTERM");
    assert.equal(await within("worker drains", 20_000, worker.exited), 0);
  });

  it("SIGTERM drains: the running drive is finished and published, no further drive is taken, exit 0", async () => {
    const out = join(dir, "drain");
    const qn = "drain";
    const worker = run(["worker", "--queue", url, "--queue-name", qn, "--jobs", "1"]);
    const producer = run(["convert", join(SAMPLE, "drive-compact-s7"), join(SAMPLE, "drive-step-s23"), "-o", out, "--queue", url, "--queue-name", qn]);
    const q = queueOf(qn);
    try {
      let active: string | undefined;
      for (let i = 0; active === undefined; i++) {
        if (i > 1200) throw new Error(`no drive started:\n${worker.stderr()}`);
        await sleep(50);
        const [job] = await q.getActive();
        if ((job?.progress as { state?: string } | undefined)?.state === "converting") active = (job!.data as { drive: { name: string } }).drive.name;
      }
      worker.child.kill("SIGTERM");
      assert.equal(await within("worker drains", 120_000, worker.exited), 0, worker.stderr());
      assert.match(worker.stderr(), /stopped: 1 converted, 0 failed/);
      assert.ok(existsSync(join(out, `${active}.mcap`)), `${active} finished and published`);
      const c = await q.getJobCounts("completed", "waiting", "active");
      assert.deepEqual({ completed: c.completed, waiting: c.waiting, active: c.active }, { completed: 1, waiting: 1, active: 0 }, "the other drive was left for another worker");
    } finally {
      await q.close();
      producer.child.kill("SIGTERM");
    }
  });
});

function parseUrl(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}
