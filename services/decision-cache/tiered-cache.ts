// The cache of verdicts and decisions: the service's shared cache (Redis), fronted by a small
// in-process tier. Safe because every key names immutable content (a constitution version and
// hash, or a policy generation): an entry never goes stale, it only stops being asked for. A hit
// in either tier counts as one cache hit in the acgs_cache_* metrics, a miss as one lookup.
import type { Cache } from "../kit/cache";
import { createMemoryCache } from "../kit/memory-cache";
import type { ServiceMetrics } from "../kit/metrics";

export type DecisionCache = Pick<Cache, "get" | "set">;

export function tieredCache(shared: Cache, metrics: Pick<ServiceMetrics, "recordCacheLookup">, maxEntries = 10_000): DecisionCache {
  // Without Redis the shared cache is in-process already.
  if (shared.kind === "memory") return shared;
  const local = createMemoryCache(maxEntries);
  return {
    async get(key) {
      const near = await local.get(key);
      if (near !== undefined) {
        metrics.recordCacheLookup(true);
        return near;
      }
      const far = await shared.get(key); // counted by the kit
      if (far !== undefined) await local.set(key, far, LOCAL_TTL_SECONDS);
      return far;
    },
    async set(key, value, ttlSeconds) {
      await local.set(key, value, Math.min(ttlSeconds, LOCAL_TTL_SECONDS));
      await shared.set(key, value, ttlSeconds);
    },
  };
}

const LOCAL_TTL_SECONDS = 600;
