/**
 * The producer's job follower (src/convert/queue/follow.ts) against a real redis-server and a
 * BullMQ worker in the test: jobs are settled when the workers' events name them, and a full pass
 * settles what no event announced.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { Queue, Worker } from "bullmq";
import { checkRedis, redisOptions } from "../../src/convert/queue/connection.js";
import { JobFollower } from "../../src/convert/queue/follow.js";
import { hasRedis, startRedis } from "../helpers/redis.js";

describe("convert/queue: following jobs by their events (needs redis-server)", function () {
  this.timeout(120_000);
  let redis: ChildProcess | undefined;
  let url = "";

  before(async function () {
    if (!hasRedis()) {
      console.log("    (skipped: redis-server is not installed; apt-get install redis-server)");
      this.skip();
    }
    const started = await startRedis((u) => checkRedis(u, 500).then(() => true));
    redis = started.process;
    url = started.url;
  });

  after(() => {
    redis?.kill("SIGTERM");
  });

  it("settles 2000 jobs as the worker's events name them: one full pass, not one per period (a full pass every 60 s would take minutes)", async () => {
    const connection = { ...redisOptions(url), maxRetriesPerRequest: null };
    const queue = new Queue("follow-events", { connection });
    const follower = new JobFollower(queue, connection);
    const worker = new Worker("follow-events", async (job) => ({ id: job.id }), { connection, concurrency: 8, autorun: false });
    try {
      await follower.ready();
      const ids = Array.from({ length: 2000 }, (_, i) => `j${i}`);
      await queue.addBulk(ids.map((jobId) => ({ name: "x", data: {}, opts: { jobId } })));
      void worker.run();
      const done = new Map<string, unknown>();
      const t = performance.now();
      await follower.follow(ids, { final: (id, job, state) => done.set(id, state === "completed" ? job.returnvalue : state), gone: (id) => done.set(id, "gone") }, { fullPassMs: 60_000 });
      const seconds = (performance.now() - t) / 1000;
      assert.equal(done.size, 2000);
      for (const [id, value] of done) assert.deepEqual(value, { id }, `job ${id}`);
      assert.equal(follower.stats.fullPasses, 1, "only the first full pass");
      assert.ok(seconds < 50, `followed in ${seconds.toFixed(1)} s`);
      // Each job is read at most once by the full pass and about once per event after it.
      assert.ok(follower.stats.stateReads <= 2 * 2000 + 50, `${follower.stats.stateReads} state reads for 2000 jobs`);
    } finally {
      await worker.close();
      await follower.close();
      await queue.close();
    }
  });

  it("a job finished before the follower listened is settled by the first full pass; one removed while followed is reported gone", async () => {
    const connection = { ...redisOptions(url), maxRetriesPerRequest: null };
    const queue = new Queue("follow-missed", { connection });
    const worker = new Worker("follow-missed", async () => ({ ok: true }), { connection });
    await queue.add("x", {}, { jobId: "early" });
    while ((await queue.getJobState("early")) !== "completed") await new Promise((r) => setTimeout(r, 20));
    await worker.close();
    await queue.add("x", {}, { jobId: "removed" });
    const follower = new JobFollower(queue, connection);
    try {
      await follower.ready();
      const seen: string[] = [];
      let passes = 0;
      const following = follower.follow(["early", "removed"], { final: (id, _job, state) => seen.push(`${id} ${state}`), gone: (id) => seen.push(`${id} gone`), afterFullPass: async () => void passes++ }, { fullPassMs: 200 });
      await new Promise((r) => setTimeout(r, 50));
      await (await queue.getJob("removed"))!.remove(); // no worker: it waits until removed
      await following;
      assert.deepEqual(seen.sort(), ["early completed", "removed gone"]);
      assert.ok(passes >= 1 && follower.stats.fullPasses >= 1, "the early job was settled by the first full pass");
    } finally {
      await follower.close();
      await queue.close();
    }
  });
});
