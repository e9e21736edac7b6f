// Dependencies against real servers: PostgreSQL 15 and redis-server started by the test, then
// stopped under the service's feet. (The embedded defaults are in embedded.test.ts.)
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import { createServiceApp, type ServiceApp } from "../../services/kit/service-app";
import { openServiceContext, type ServiceContext } from "../../services/kit/service-context";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { metricSample } from "../support/metrics-text";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { startRedis, type RedisServer } from "../support/redis";
import { waitUntil } from "../support/wait-until";

type Json = any;

async function get(app: ServiceApp, path: string): Promise<{ status: number; body: Json; ms: number }> {
  const start = performance.now();
  const res = await app.request(path, { headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH } });
  const body = res.headers.get("content-type")?.startsWith("application/json") ? await res.json() : await res.text();
  return { status: res.status, body, ms: performance.now() - start };
}

const byName = (health: Json, name: string) => health.dependencies.find((d: { name: string }) => d.name === name);

describe("dependencies on real PostgreSQL and Redis", () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let context: ServiceContext;
  let app: ServiceApp;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    // constitutional-ai: PostgreSQL (required) and the Redis cache (optional).
    const config = loadConfig("constitutional-ai", { DATABASE_URL: postgres.url, REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: "0" });
    context = openServiceContext(config, { logger: silentLogger });
    app = createServiceApp(context);
    app.get("/api/v1/verdicts/:key", async (c) => {
      const key = c.req.param("key");
      const cached = await context.cache.get(key);
      if (cached !== undefined) return c.json({ verdict: cached, cached: true });
      await context.cache.set(key, "allow", 60);
      return c.json({ verdict: "allow", cached: false });
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await Promise.all([postgres?.stop(), redis?.stop()]);
  });

  it("reports PostgreSQL and Redis ok with their latencies", async () => {
    // ioredis connects in the background.
    await waitUntil("redis connected", async () => byName((await get(app, "/health")).body, "redis").status === "ok", { timeoutMs: 5000 });
    const { status, body } = await get(app, "/health");
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
    expect(byName(body, "postgres")).toEqual({ name: "postgres", status: "ok", latencyMs: expect.any(Number), required: true });
    expect(byName(body, "redis")).toEqual({ name: "redis", status: "ok", latencyMs: expect.any(Number), required: false });
    expect(byName(body, "postgres").latencyMs).toBeGreaterThan(0);
    expect((await get(app, "/ready")).status).toBe(200);
  });

  it("queries PostgreSQL, in and out of transactions", async () => {
    const db = context.database!;
    expect(db.kind).toBe("postgresql");
    await db.query("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v text)");
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES ($1, $2)", [1, "kept"]);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES ($1, $2)", [2, "rolled back"]);
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    const { rows, rowCount } = await db.query<{ id: number; v: string }>("SELECT id, v FROM t ORDER BY id");
    expect(rows).toEqual([{ id: 1, v: "kept" }]);
    expect(rowCount).toBe(1);
  });

  it("caches in Redis and counts lookups and hits", async () => {
    expect((await get(app, "/api/v1/verdicts/k1")).body.cached).toBe(false);
    expect((await get(app, "/api/v1/verdicts/k1")).body.cached).toBe(true);
    const metrics = (await get(app, "/metrics")).body as string;
    expect(metricSample(metrics, "acgs_cache_requests_total")).toBeGreaterThanOrEqual(2);
    expect(metricSample(metrics, "acgs_cache_hits_total")).toBeGreaterThanOrEqual(1);
  });

  it("stays ready and fast when Redis stops: degraded, cache bypassed, healed when it returns", async () => {
    await redis.halt();
    const health = await get(app, "/health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("degraded");
    expect(byName(health.body, "redis")).toMatchObject({ status: "down", required: false, error: expect.any(String) });
    expect(health.ms).toBeLessThan(1500);
    expect((await get(app, "/ready")).status).toBe(200);

    const timings: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await get(app, `/api/v1/verdicts/down-${i}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ verdict: "allow", cached: false });
      timings.push(r.ms);
    }
    expect(Math.max(...timings)).toBeLessThan(250);

    await redis.resume();
    await waitUntil("redis healed", async () => (await get(app, "/health")).body.status === "ok", { timeoutMs: 8000, intervalMs: 200 });
  }, 20_000);

  it("is not ready (503) while PostgreSQL is down, and ready again when it returns", async () => {
    await postgres.halt();
    const ready = await get(app, "/ready");
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toContain("postgres");
    expect(ready.ms).toBeLessThan(3000);
    const health = await get(app, "/health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("degraded");
    expect(byName(health.body, "postgres")).toMatchObject({ status: "down", required: true });
    // Requests that do not need the database keep being answered.
    expect((await get(app, "/api/v1/verdicts/k1")).status).toBe(200);

    await postgres.resume();
    await waitUntil("postgres back", async () => (await get(app, "/ready")).status === 200, { timeoutMs: 8000, intervalMs: 200 });
  }, 20_000);
});
