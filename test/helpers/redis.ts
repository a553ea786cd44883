/**
 * A throwaway redis-server for the fleet-queue tests and the convert bench: Debian's binary on a
 * free loopback port, nothing persisted, stopped by the caller.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** Is Debian's redis-server on the PATH? */
export function hasRedis(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A loopback port nothing listens on (the OS picks it; released before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

/**
 * Starts redis-server on a free port and waits until `ready(url)` resolves true (up to ~5 s);
 * the caller stops `process` (SIGTERM) when done.
 */
export async function startRedis(ready: (url: string) => Promise<boolean>): Promise<{ process: ChildProcess; url: string; port: number }> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await ready(url).catch(() => false)) return { process: child, url, port };
    if (i > 50) {
      child.kill("SIGTERM");
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
