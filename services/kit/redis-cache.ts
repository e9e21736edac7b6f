// Redis through ioredis, configured so that a dead or hung Redis fails commands at once (no
// offline queue, short timeouts) while it keeps reconnecting in the background.
import Redis from "ioredis";
import type { Cache } from "./cache";
import type { Logger } from "./logger";

export interface RedisCacheOptions {
  readonly url: string;
  /** Namespaces the keys of one service in a shared Redis. */
  readonly keyPrefix: string;
  readonly logger: Logger;
  readonly commandTimeoutMs?: number;
}

export function createRedisCache({ url, keyPrefix, logger, commandTimeoutMs = 500 }: RedisCacheOptions): Cache {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    // Commands issued in the same turn of the event loop go out in one write, not one syscall each.
    enableAutoPipelining: true,
    // Keep trying forever, at most every 2 s: Redis coming back must heal the service.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  // Log the transitions, not every failed reconnect attempt.
  let up = false;
  redis.on("ready", () => {
    up = true;
    logger.info("redis connected", { redis: describe(url) });
  });
  redis.on("error", (error: Error) => {
    if (up) logger.warn("redis unavailable; cache bypassed", { error: error.message });
    up = false;
  });
  redis.connect().catch((error: Error) => logger.warn("redis unavailable; cache bypassed", { error: error.message }));

  const fail = (op: string) => (error: Error) => logger.debug(`redis ${op} failed`, { error: error.message });
  let closing: Promise<void> | undefined;

  return {
    kind: "redis",
    async get(key) {
      try {
        return (await redis.get(key)) ?? undefined;
      } catch (error) {
        fail("get")(error as Error);
        return undefined;
      }
    },
    async set(key, value, ttlSeconds) {
      await redis.set(key, value, "EX", Math.max(1, Math.ceil(ttlSeconds))).then(() => undefined, fail("set"));
    },
    async delete(key) {
      await redis.del(key).then(() => undefined, fail("delete"));
    },
    async ping() {
      await redis.ping();
    },
    close() {
      closing ??= redis.quit().then(
        () => undefined,
        // quit needs a live connection; otherwise just drop the socket and stop reconnecting.
        () => redis.disconnect(),
      );
      return closing;
    },
  };
}

function describe(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "6379"}`;
}
