// A string key/value cache with expiry: Redis when REDIS_URL is set, otherwise in-process. A
// cache failure is a miss, never an error: the services keep answering when Redis is down.
import type { ServiceConfig } from "./config";
import { measure, type Dependency } from "./dependency";
import type { Logger } from "./logger";
import { createMemoryCache } from "./memory-cache";
import type { ServiceMetrics } from "./metrics";
import { createRedisCache } from "./redis-cache";

export interface Cache {
  readonly kind: "redis" | "memory";
  /** The value, or undefined on a miss (also when the cache is unreachable). */
  get(key: string): Promise<string | undefined>;
  /** Best effort: a failure is logged and swallowed. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Rejects while the cache cannot answer (for /health only). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Counts every lookup and hit into the acgs_cache_* metrics. */
export function countedCache(cache: Cache, metrics: Pick<ServiceMetrics, "recordCacheLookup">): Cache {
  return {
    kind: cache.kind,
    async get(key) {
      const value = await cache.get(key);
      metrics.recordCacheLookup(value !== undefined);
      return value;
    },
    set: (key, value, ttl) => cache.set(key, value, ttl),
    delete: (key) => cache.delete(key),
    ping: () => cache.ping(),
    close: () => cache.close(),
  };
}

/** Redis when REDIS_URL is set, else in-process (or `replacement`, for tests); always counted. */
export function openCache(config: ServiceConfig, metrics: ServiceMetrics, logger: Logger, replacement?: Cache): Cache {
  const cache =
    replacement ??
    (config.redisUrl
      ? createRedisCache({ url: config.redisUrl, keyPrefix: `acgs:${config.service.name}:`, logger })
      : createMemoryCache());
  return countedCache(cache, metrics);
}

/** The "redis" entry of /health: never required, a dead Redis only degrades the service. */
export function cacheDependency(cache: Cache, timeoutMs = 1000): Dependency {
  return { name: "redis", required: false, check: () => measure(() => cache.ping(), timeoutMs) };
}
