/** Piscina worker entry: one drive per task; progress goes back over the task's MessagePort. */
import type { MessagePort } from "node:worker_threads";
import type { ConverterModule } from "./converter.js";
import { loadConverter, runDriveTask, type DriveTask } from "./drive-job.js";
import type { IndexEntry } from "./index-file.js";

/** The batch's first task: proves the worker module loads before any drive is queued. */
export const PING = "ping";

/** Loads a converter into the thread ahead of the first drive (a long-lived queue worker). */
export interface Preload {
  preload: ConverterModule;
}

export default async function (task: (DriveTask & { port: MessagePort }) | typeof PING | Preload): Promise<IndexEntry | typeof PING> {
  if (task === PING) return PING;
  if ("preload" in task) {
    await loadConverter(task.preload);
    return PING;
  }
  const { port, ...rest } = task;
  try {
    return await runDriveTask(rest, (p) => port.postMessage(p));
  } finally {
    port.close();
  }
}
