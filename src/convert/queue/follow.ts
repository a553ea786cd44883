/**
 * Follows a set of BullMQ jobs until each is completed, failed or gone, at a cost that grows with
 * what changes, not with how many jobs wait.
 *
 * The producer used to read every followed job (its state, then the job) one after another every
 * 0.5 s: with 10,000 drives queued that was 2.3 s and 1.4 CPU-s of the producer per pass, and as
 * many Lua scripts for Redis, the workers' server, each pass. Workers already publish what
 * happens to a job on the queue's event stream (BullMQ QueueEvents: a Redis stream read with a
 * blocking XREAD), so the follower reads only the jobs an event names. Events are a notice, not the
 * record: the stream is trimmed to a maximum length and a reconnect may skip some, so a full pass
 * over every followed job's state (concurrently, in batches) runs at the start and every
 * `fullPassMs`, and settles whatever an event did not announce.
 */
import { QueueEvents, type Job, type Queue } from "bullmq";
import type { RedisOptions } from "ioredis";

/**
 * A job and its state, read so that they agree. The job's hash and its state are two reads; a job
 * read while active and found completed a moment later has no return value yet (nor a failed one
 * its reason), which made a converted drive count as failed. So the state comes first: completed
 * and failed are final (only an operator's retry or clean moves a job on), so a job read after
 * its state said so carries the result that the same Redis script wrote with that state.
 * `"final"`: the job itself is read only when its state is final (a follower needs no more).
 */
export async function readJob(queue: Queue, jobId: string, which: "any" | "final" = "any"): Promise<{ job: Job | undefined; state: string }> {
  const state = await queue.getJobState(jobId);
  const wanted = state !== "unknown" && (which === "any" || state === "completed" || state === "failed");
  return { job: wanted ? await queue.getJob(jobId) : undefined, state };
}

export interface FollowHandlers {
  /** A job reached completed or failed (attempts used up, or a permanent error); `job` is read after its state. */
  final(jobId: string, job: Job, state: "completed" | "failed"): void;
  /** A followed job is no longer in the queue (removed by an operator before it finished). */
  gone(jobId: string): void;
  /** A worker reported progress on a followed job (the job's progress value, unchecked). */
  progress?(jobId: string, data: unknown): void;
  /** After every full pass, with the jobs still followed; may take its time (e.g. ask for workers). */
  afterFullPass?(following: number): Promise<void>;
}

export interface FollowOptions {
  /** Period of the full pass over every followed job (ms). */
  fullPassMs: number;
  /** Jobs read at once in a pass (requests in flight to Redis). */
  batch?: number;
}

/** What one follow made of Redis: passes and job reads (for tests and the curious). */
export interface FollowStats {
  fullPasses: number;
  eventPasses: number;
  stateReads: number;
}

/**
 * Follows `jobIds` on `queue` until none is left; `connection` opens the event stream's own
 * (blocking) connection. Open it before the jobs are added when they may finish at once: an event
 * missed for that is settled only by the next full pass.
 */
export class JobFollower {
  readonly stats: FollowStats = { fullPasses: 0, eventPasses: 0, stateReads: 0 };
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #changed = new Set<string>();
  #wake: (() => void) | undefined;
  #following: Set<string> | undefined;
  #progress: FollowHandlers["progress"];

  constructor(queue: Queue, connection: RedisOptions) {
    this.#events = new QueueEvents(queue.name, { connection, prefix: queue.opts.prefix });
    this.#events.on("error", () => undefined); // an outage shows as no progress; the full pass catches up
    const touch = ({ jobId }: { jobId: string }): void => {
      this.#changed.add(jobId);
      this.#wake?.();
    };
    this.#events.on("completed", touch);
    this.#events.on("failed", touch);
    this.#events.on("removed", touch);
    this.#events.on("progress", ({ jobId, data }) => {
      if (this.#following?.has(jobId) === true) this.#progress?.(jobId, data);
    });
    this.#queue = queue;
  }

  /** Resolves once the event stream is read: events from here on are seen. */
  async ready(): Promise<void> {
    await this.#events.waitUntilReady();
  }

  async follow(jobIds: Iterable<string>, handlers: FollowHandlers, options: FollowOptions): Promise<void> {
    const following = new Set(jobIds);
    this.#following = following;
    this.#progress = handlers.progress;
    const batch = options.batch ?? 256;
    const settle = async (ids: string[]): Promise<void> => {
      for (let i = 0; i < ids.length; i += batch) {
        await Promise.all(
          ids.slice(i, i + batch).map(async (jobId) => {
            this.stats.stateReads++;
            const { job, state } = await readJob(this.#queue, jobId, "final");
            if (!following.has(jobId)) return;
            if (state === "unknown") {
              following.delete(jobId);
              handlers.gone(jobId);
            } else if (state === "completed" || state === "failed") {
              following.delete(jobId);
              if (job === undefined) handlers.gone(jobId);
              else handlers.final(jobId, job, state);
            }
          }),
        );
      }
    };
    let lastFull = -Infinity;
    while (following.size > 0) {
      if (performance.now() - lastFull >= options.fullPassMs) {
        this.#changed.clear();
        lastFull = performance.now();
        this.stats.fullPasses++;
        await settle([...following]);
        if (following.size > 0) await handlers.afterFullPass?.(following.size);
      } else if (this.#changed.size > 0) {
        const ids = [...this.#changed].filter((id) => following.has(id));
        this.#changed.clear();
        this.stats.eventPasses++;
        await settle(ids);
      }
      if (following.size === 0 || this.#changed.size > 0) continue;
      const wait = Math.max(0, lastFull + options.fullPassMs - performance.now());
      await new Promise<void>((done) => {
        const timer = setTimeout(done, wait);
        this.#wake = () => {
          clearTimeout(timer);
          done();
        };
      });
      this.#wake = undefined;
    }
  }

  async close(): Promise<void> {
    await this.#events.close();
  }
}
