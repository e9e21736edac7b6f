// The in-process cache of a service run without Redis: a Map with expiry and a size bound.
import type { Cache } from "./cache";
import { createLocalTier } from "./local-tier";

export function createMemoryCache(maxEntries = 10_000): Cache {
  const entries = createLocalTier<string>(maxEntries);
  return {
    kind: "memory",
    async get(key) {
      return entries.get(key);
    },
    async set(key, value, ttlSeconds) {
      entries.set(key, value, ttlSeconds);
    },
    async delete(key) {
      entries.delete(key);
    },
    async ping() {},
    async close() {
      entries.clear();
    },
  };
}
