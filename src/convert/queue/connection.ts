/**
 * The Redis a fleet shares, named by one URL (`redis://[:password@]host:port[/db]`, or `rediss://`
 * for TLS). Producers and operator commands fail at once with one line when Redis cannot be
 * reached; workers wait for it (BullMQ reconnects), since a worker outliving a Redis restart is
 * the point of running one.
 */
import { Redis, type RedisOptions } from "ioredis";

/** The BullMQ queue all syncbag producers and workers share unless told otherwise. */
export const DEFAULT_QUEUE_NAME = "syncbag-convert";

export class QueueUrlError extends Error {
  override name = "QueueUrlError";
}

/** ioredis options from a redis:// URL; throws QueueUrlError naming what is wrong. */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError(`expected redis://host:port (got ${JSON.stringify(url)})`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") throw new QueueUrlError(`expected a redis:// or rediss:// URL (got ${JSON.stringify(url)})`);
  if (parsed.hostname === "") throw new QueueUrlError(`no host in ${JSON.stringify(url)}`);
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new QueueUrlError(`database must be a whole number (got ${JSON.stringify(dbText)})`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port,
    db,
    ...(parsed.username !== "" ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password !== "" ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    // BullMQ requires this for its blocking connections (workers); harmless elsewhere.
    maxRetriesPerRequest: null,
  };
}

/** Pings Redis once with a deadline; resolves, or rejects with one line saying why. */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  // connect() may reject with a bare "Connection is closed."; the socket's own error says why.
  let cause: unknown;
  client.on("error", (error: unknown) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const e = cause ?? error;
    const text = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot reach Redis: ${text.split("\n")[0]}`);
  } finally {
    client.disconnect();
  }
}
