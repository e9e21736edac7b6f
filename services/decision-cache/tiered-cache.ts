// The cache of verdicts and decisions: the service's shared cache (Redis), fronted by a small
// in-process tier. Safe because every key names immutable content (a constitution version and
// hash, or a policy generation): an entry never goes stale, it only stops being asked for. A hit
// in either tier counts as one cache hit in the acgs_cache_* metrics, a miss as one lookup.
import type { Cache } from "../kit/cache";
import type { ServiceMetrics } from "../kit/metrics";
import { createLocalTier } from "../kit/local-tier";

export interface DecisionCache<T = string> {
  /** The in-process tier alone, synchronously; a hit is counted, a miss is left to `far`. */
  near(key: string): T | undefined;
  /** The shared tier, after a `near` miss; a hit there is kept in the in-process tier too. */
  far(key: string): Promise<T | undefined>;
  /** `near`, then `far`. */
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T, ttlSeconds: number): Promise<void>;
}

/** How values travel through the shared tier, which holds text; the in-process tier holds them decoded. */
export interface CacheCodec<T> {
  encode(value: T): string;
  decode(text: string): T;
}

const TEXT: CacheCodec<string> = { encode: (text) => text, decode: (text) => text };

export function tieredCache(shared: Cache, metrics: Pick<ServiceMetrics, "recordCacheLookup">): DecisionCache<string>;
export function tieredCache<T>(shared: Cache, metrics: Pick<ServiceMetrics, "recordCacheLookup">, codec: CacheCodec<T>, maxEntries?: number): DecisionCache<T>;
export function tieredCache<T>(
  shared: Cache,
  metrics: Pick<ServiceMetrics, "recordCacheLookup">,
  codec = TEXT as unknown as CacheCodec<T>,
  maxEntries = 10_000,
): DecisionCache<T> {
  const local = createLocalTier<T>(maxEntries);
  // Without Redis the shared cache is in-process too: the local tier is the only one needed.
  const sharedTier = shared.kind === "memory" ? undefined : shared;
  const localTtl = (ttlSeconds: number) => (sharedTier === undefined ? ttlSeconds : Math.min(ttlSeconds, LOCAL_TTL_SECONDS));

  const near = (key: string) => {
    const value = local.get(key);
    if (value !== undefined) metrics.recordCacheLookup(true);
    return value;
  };
  const far = async (key: string) => {
    if (sharedTier === undefined) {
      metrics.recordCacheLookup(false);
      return undefined;
    }
    const text = await sharedTier.get(key); // counted by the kit
    if (text === undefined) return undefined;
    let value: T;
    try {
      value = codec.decode(text);
    } catch {
      return undefined; // unreadable (written by another version?): a miss, like any cache failure
    }
    local.set(key, value, LOCAL_TTL_SECONDS);
    return value;
  };
  return {
    near,
    far,
    async get(key) {
      return near(key) ?? far(key);
    },
    async set(key, value, ttlSeconds) {
      local.set(key, value, localTtl(ttlSeconds));
      if (sharedTier !== undefined) await sharedTier.set(key, codec.encode(value), ttlSeconds);
    },
  };
}

const LOCAL_TTL_SECONDS = 600;
