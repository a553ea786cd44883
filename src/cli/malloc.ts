/**
 * glibc malloc tuned for a process that moves megabyte buffers: every taken 1 MiB point cloud,
 * every 4–6 MiB chunk and 6 MB camera frame is its own allocation. By default glibc maps each
 * one fresh (above its mmap threshold) or gives the top of its heap back after a free (trim
 * threshold 128 KiB), so each buffer costs a page fault per 4 KiB and the kernel's zeroing, and
 * its unmapping a TLB flush on every core. Keeping them in the heap (mmap threshold 32 MiB, trim
 * only past 256 MiB free, grow by 64 MiB) is what the MALLOC_MMAP_THRESHOLD_,
 * MALLOC_TRIM_THRESHOLD_ and MALLOC_TOP_PAD_ variables would set at start; mallopt(3) sets the
 * same values at run time (they are global, so they hold for every thread). Measured: 200 MiB/s
 * over DDS recorded whole on 10.6–12.9 CPU-s per 20 s instead of 86 % on 19.9; a standard-rig
 * conversion 10–12 % faster (README). The cost: up to 256 MiB freed memory kept for reuse.
 *
 * Only where glibc runs, and never over the user's own MALLOC_* settings; SYNCBAG_MALLOC_TUNING=0
 * turns it off. The call goes through koffi (an FFI whose binaries ship inside its npm packages);
 * where it cannot load, nothing changes.
 */
import { createRequire } from "node:module";

/** mallopt(3) parameters (glibc malloc.h). */
const M_TRIM_THRESHOLD = -1;
const M_TOP_PAD = -2;
const M_MMAP_THRESHOLD = -3;

export const MALLOC_SETTINGS = { mmapThreshold: 32 << 20, trimThreshold: 256 << 20, topPad: 64 << 20 } as const;

interface Koffi {
  load(path: string): { func(signature: string): (param: number, value: number) => number };
}

/** Applies MALLOC_SETTINGS; returns what was done, for `--verbose` and the tests. */
export function tuneMalloc(env: NodeJS.ProcessEnv = process.env): "tuned" | "off" | "user settings" | "not glibc" | `unavailable: ${string}` {
  if (env["SYNCBAG_MALLOC_TUNING"] === "0") return "off";
  if (Object.keys(env).some((k) => /^MALLOC_(MMAP_THRESHOLD|TRIM_THRESHOLD|TOP_PAD)_$/.test(k))) return "user settings";
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  if (process.platform !== "linux" || header?.glibcVersionRuntime === undefined) return "not glibc";
  try {
    const koffi = createRequire(import.meta.url)("koffi") as Koffi;
    const mallopt = koffi.load("libc.so.6").func("int mallopt(int param, int value)");
    const ok = mallopt(M_MMAP_THRESHOLD, MALLOC_SETTINGS.mmapThreshold) === 1 && mallopt(M_TRIM_THRESHOLD, MALLOC_SETTINGS.trimThreshold) === 1 && mallopt(M_TOP_PAD, MALLOC_SETTINGS.topPad) === 1;
    return ok ? "tuned" : "unavailable: mallopt refused a value";
  } catch (error) {
    return `unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}
