/**
 * A worker thread that runs jobs for the thread that made it: its body is plain CommonJS run with
 * `eval`, so it works alike from .ts sources (tsx, mocha — whose ESM hooks do not reach workers)
 * and from built .js. The body defines `handle(job)`, returning (or resolving to)
 * `{ result, transfer? }`; this file adds the message loop around it. The thread is referenced
 * only while a job is in flight, so it never holds the process open.
 */
import { Worker } from "node:worker_threads";

const loop = (handler: string): string => `
const { parentPort, workerData } = require("node:worker_threads");
${handler}
parentPort.on("message", async ({ id, job }) => {
  try {
    const { result, transfer } = await handle(job);
    parentPort.postMessage({ id, result }, transfer || []);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

export class ThreadJobs<Job, Result> {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (result: Result) => void; reject: (error: Error) => void }>();
  #next = 0;
  /** The thread failed or exited: every pending job was rejected, and a new one must be made. */
  broken = false;

  /** `what` names the work in errors ("zstd compression failed: …"). */
  constructor(handler: string, workerData: unknown, readonly what: string) {
    this.#worker = new Worker(loop(handler), { eval: true, workerData });
    this.#worker.unref();
    this.#worker.on("message", (reply: { id: number; result?: Result; error?: string }) => {
      const job = this.#pending.get(reply.id);
      if (job === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (reply.error === undefined) job.resolve(reply.result as Result);
      else job.reject(new Error(`${what} failed: ${reply.error}`));
    });
    const fail = (error: Error): void => {
      this.broken = true;
      for (const job of this.#pending.values()) job.reject(new Error(`${what} thread failed: ${error.message}`));
      this.#pending.clear();
    };
    this.#worker.on("error", fail);
    this.#worker.on("exit", (code) => fail(new Error(`exited with code ${code}`)));
  }

  /** Runs one job; `transfer` moves those buffers to the thread (they are unusable here afterwards). */
  run(job: Job, transfer: ArrayBuffer[] = []): Promise<Result> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, job }, transfer);
    });
  }
}

/** One shared instance per process and kind, replaced when it broke. */
export function sharedThread<Job, Result>(make: () => ThreadJobs<Job, Result>): () => ThreadJobs<Job, Result> {
  let current: ThreadJobs<Job, Result> | undefined;
  return () => {
    if (current === undefined || current.broken) current = make();
    return current;
  };
}
