/**
 * Where queue workers put a drive's outputs: a narrow interface so that an object store can stand
 * in for the shared file system later. The contract is what makes a killed worker harmless:
 * an attempt writes only into its own staging area, and `publish` makes the finished outputs
 * visible under their final names all at once (each file by one atomic rename), so a reader of the
 * output location sees either no output for a drive or a complete one, never a partial file.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join, resolve } from "node:path";

export interface OutputStore {
  /** The output location as users name it (a shared path today). */
  readonly location: string;
  /**
   * A new, empty local folder for one attempt at one job. Staging folders of earlier attempts at the
   * same job (a worker killed mid-drive) are removed first: they can never be published.
   */
  stage(jobKey: string): Promise<string>;
  /** Moves `files` (names inside the staging folder) to their final names; returns the final locations by name. */
  publish(stagingDir: string, files: readonly string[]): Promise<Record<string, string>>;
  /** Removes a staging folder (failed attempt). */
  discard(stagingDir: string): Promise<void>;
  /** Size in bytes of a published output (by final location), or undefined when absent. */
  size(location: string): Promise<number | undefined>;
}

/** Staging folders live inside the output folder so that publishing is a same-file-system rename. */
export const STAGING_DIR = ".syncbag-staging";

/**
 * A folder every worker mounts at the same path (NFS, CephFS, a local disk for one machine).
 * Requires rename(2) within the folder to be atomic, which POSIX file systems and NFS provide.
 */
export class SharedFolderStore implements OutputStore {
  readonly location: string;
  readonly #staging: string;

  constructor(outDir: string) {
    this.location = resolve(outDir);
    this.#staging = join(this.location, STAGING_DIR);
  }

  async stage(jobKey: string): Promise<string> {
    const safe = jobKey.replace(/[^\w.-]/g, "_");
    await mkdir(this.#staging, { recursive: true });
    // Another worker's discard may remove the (then empty) root between these two calls: an absent
    // root holds no earlier attempt. (An ENOENT here used to fail the attempt and retry the drive.)
    const names = await readdir(this.#staging).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [] as string[];
      throw error;
    });
    for (const name of names) if (name.startsWith(`${safe}.`)) await rm(join(this.#staging, name), { recursive: true, force: true });
    const dir = join(this.#staging, `${safe}.${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`);
    await mkdir(dir, { recursive: true }); // recursive: another attempt may just have removed the empty root
    return dir;
  }

  async publish(stagingDir: string, files: readonly string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    // The report goes last: a drive counts as converted when its report is there (index.json
    // points at both), so the MCAP it describes is always complete before it.
    const ordered = [...files].sort((a, b) => Number(a.endsWith(".report.json")) - Number(b.endsWith(".report.json")));
    for (const name of ordered) {
      const target = join(this.location, basename(name));
      await rename(join(stagingDir, name), target);
      out[name] = target;
    }
    await this.discard(stagingDir);
    return out;
  }

  async discard(stagingDir: string): Promise<void> {
    await rm(stagingDir, { recursive: true, force: true });
    // The staging root goes when no attempt is using it (rmdir fails on a non-empty folder).
    await rmdir(this.#staging).catch(() => undefined);
  }

  async size(location: string): Promise<number | undefined> {
    return (await stat(location).catch(() => undefined))?.size;
  }
}
