// The decision cache's two tiers against a real Redis: the in-process tier answers synchronously
// with the decoded value, a replica finds in Redis what another decided, unreadable text is a miss,
// and each lookup counts once in the cache metrics.
import { countedCache } from "../../../services/kit/cache";
import { silentLogger } from "../../../services/kit/logger";
import { createMemoryCache } from "../../../services/kit/memory-cache";
import { createServiceMetrics, type ServiceMetrics } from "../../../services/kit/metrics";
import { createRedisCache } from "../../../services/kit/redis-cache";
import type { Cache } from "../../../services/kit/cache";
import { tieredCache, type CacheCodec } from "../../../services/decision-cache/tiered-cache";
import { metricSample } from "../../support/metrics-text";
import { startRedis, type RedisServer } from "../../support/redis";
import { waitUntil } from "../../support/wait-until";

interface Parsed {
  readonly n: number;
}
const codec: CacheCodec<Parsed> = {
  encode: (value) => JSON.stringify(value),
  decode: (text) => {
    const value = JSON.parse(text) as Parsed;
    if (typeof value.n !== "number") throw new Error("not a Parsed");
    return value;
  },
};

describe("tiered cache", () => {
  let redis: RedisServer;
  const opened: Cache[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await redis?.stop();
  });

  const replica = async () => {
    const metrics = createServiceMetrics("policy-governance", { processMetrics: false });
    const shared = createRedisCache({ url: redis.url, keyPrefix: "tiered-test:", logger: silentLogger });
    opened.push(shared);
    await waitUntil("redis connected", async () => (await shared.ping().then(() => true, () => false)), { timeoutMs: 5000, intervalMs: 50 });
    return { metrics, shared, cache: tieredCache(countedCache(shared, metrics), metrics, codec) };
  };
  const counts = async (metrics: ServiceMetrics) => {
    const text = await metrics.registry.metrics();
    return { lookups: metricSample(text, "acgs_cache_requests_total"), hits: metricSample(text, "acgs_cache_hits_total") };
  };

  it("answers a local hit synchronously with the decoded value; another replica finds it in Redis", async () => {
    const a = await replica();
    const b = await replica();
    expect(a.cache.near("k1")).toBeUndefined();
    expect(await a.cache.far("k1")).toBeUndefined();
    const value = { n: 1 };
    await a.cache.set("k1", value, 60);
    expect(a.cache.near("k1")).toBe(value);
    expect(await counts(a.metrics)).toEqual({ lookups: 2, hits: 1 });

    expect(b.cache.near("k1")).toBeUndefined();
    const fromRedis = await b.cache.far("k1");
    expect(fromRedis).toEqual(value);
    // Decoded once, then kept decoded in b's own tier.
    expect(b.cache.near("k1")).toBe(fromRedis);
    expect(await b.cache.get("k1")).toBe(fromRedis);
    expect(await counts(b.metrics)).toEqual({ lookups: 3, hits: 3 });
  });

  it("treats text it cannot decode (another version's?) as a miss", async () => {
    const a = await replica();
    await a.shared.set("k2", "not json", 60);
    await a.shared.set("k3", '{"m":1}', 60);
    expect(await a.cache.get("k2")).toBeUndefined();
    expect(await a.cache.get("k3")).toBeUndefined();
  });

  it("without Redis keeps one in-process tier, and counts a miss there once", async () => {
    const metrics = createServiceMetrics("policy-governance", { processMetrics: false });
    const cache = tieredCache(countedCache(createMemoryCache(), metrics), metrics, codec);
    expect(await cache.get("k")).toBeUndefined();
    await cache.set("k", { n: 2 }, 60);
    expect(cache.near("k")).toEqual({ n: 2 });
    expect(await counts(metrics)).toEqual({ lookups: 2, hits: 1 });
  });
});
