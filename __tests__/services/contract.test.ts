// The contract every service keeps (SPEC section 3), through app.request: no port, no database.
import { z } from "zod";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig, type EnvironmentVariables } from "../../services/kit/config";
import type { Dependency } from "../../services/kit/dependency";
import { jsonBody } from "../../services/kit/json-body";
import { createLogger, silentLogger, type Logger } from "../../services/kit/logger";
import { createServiceApp } from "../../services/kit/service-app";
import { openServiceContext } from "../../services/kit/service-context";
import { metricSample } from "../support/metrics-text";

const GOOD = { "X-Constitutional-Hash": CONSTITUTIONAL_HASH };
const CLIENT = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });

const taskSchema = z.object({
  task_type: z.string().min(1),
  priority: z.number().int().min(1).max(10),
  agents: z.array(z.object({ id: z.string() })).optional(),
});

/** formal-verification: no PostgreSQL and no called services, so no dependency opens anything. */
function makeApp(env: EnvironmentVariables = {}, options: { dependencies?: Dependency[]; logger?: Logger } = {}) {
  const config = loadConfig("formal-verification", env);
  const context = openServiceContext(config, { logger: options.logger ?? silentLogger });
  const app = createServiceApp({ ...context, dependencies: options.dependencies ?? context.dependencies });
  app.get("/api/v1/items/:id", (c) => c.json({ id: c.req.param("id") }));
  app.post("/api/v1/tasks", jsonBody(taskSchema), (c) => c.json({ accepted: c.req.valid("json") }, 201));
  app.get("/api/v1/cached/:key", async (c) => {
    const key = c.req.param("key");
    const hit = await context.cache.get(key);
    if (hit === undefined) await context.cache.set(key, "value", 60);
    return c.json({ hit: hit !== undefined });
  });
  app.get("/api/v1/boom", () => {
    throw new Error("a real bug");
  });
  app.get("/api/v1/raw", () => new Response("raw", { status: 202 }));
  return app;
}

/** A response's JSON body, loosely typed: the assertions say what it must hold. */
async function json(res: Response): Promise<any> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return res.json();
}

async function metricsText(app: ReturnType<typeof makeApp>): Promise<string> {
  const res = await app.request("/metrics");
  expect(res.status).toBe(200);
  return res.text();
}

describe("constitutional hash", () => {
  it("refuses a wrong hash under /api/ with 403 naming both hashes, counted as a compliance failure", async () => {
    const app = makeApp();
    const res = await app.request("/api/v1/items/42", { headers: { "X-Constitutional-Hash": "0000000000000000" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    const body = await json(res);
    expect(body).toMatchObject({ expected: CONSTITUTIONAL_HASH, received: "0000000000000000" });
    expect(body.error).toMatch(/mismatch/);

    const text = await metricsText(app);
    expect(metricSample(text, "acgs_constitutional_compliance_total", { service: "formal-verification" })).toBe(1);
    expect(metricSample(text, "acgs_constitutional_compliance_success_total", { service: "formal-verification" })).toBe(0);
    expect(metricSample(text, "acgs_constitutional_compliance_rate", { service: "formal-verification" })).toBe(0);
    // The refusal is labelled with the route it would have reached, not the raw path.
    expect(
      metricSample(text, "acgs_requests_total", { route: "/api/v1/items/:id", method: "GET", status: "403" }),
    ).toBe(1);
  });

  it("serves a request with the right hash and echoes the hash header", async () => {
    const app = makeApp();
    const res = await app.request("/api/v1/items/42", { headers: GOOD });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(await json(res)).toEqual({ id: "42" });
    const text = await metricsText(app);
    expect(metricSample(text, "acgs_constitutional_compliance_success_total", { service: "formal-verification" })).toBe(1);
    expect(metricSample(text, "acgs_constitutional_compliance_rate", { service: "formal-verification" })).toBe(1);
  });

  it("accepts a missing hash when not strict, counted as compliant", async () => {
    const app = makeApp({ HASH_STRICT: "false" });
    const res = await app.request("/api/v1/items/7");
    expect(res.status).toBe(200);
    const text = await metricsText(app);
    expect(metricSample(text, "acgs_constitutional_compliance_success_total", { service: "formal-verification" })).toBe(1);
  });

  it("refuses a missing hash with 403 when HASH_STRICT, counted as a failure", async () => {
    const app = makeApp({ HASH_STRICT: "true" });
    const res = await app.request("/api/v1/items/7");
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ expected: CONSTITUTIONAL_HASH, received: null, error: "missing constitutional hash" });
    expect((await app.request("/api/v1/items/7", { headers: GOOD })).status).toBe(200);
    const text = await metricsText(app);
    expect(metricSample(text, "acgs_constitutional_compliance_total", { service: "formal-verification" })).toBe(2);
    expect(metricSample(text, "acgs_constitutional_compliance_success_total", { service: "formal-verification" })).toBe(1);
  });

  it("does not guard the probes: /health, /ready and /metrics need no hash even when strict", async () => {
    const app = makeApp({ HASH_STRICT: "true" });
    for (const path of ["/health", "/ready", "/metrics"]) {
      const res = await app.request(path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    }
  });

  it("adds the hash header to a raw Response returned by a handler", async () => {
    const res = await makeApp().request("/api/v1/raw", { headers: GOOD });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(await res.text()).toBe("raw");
  });
});

describe("metrics", () => {
  it("exposes every SPEC metric, fine buckets, process metrics, and route patterns as labels", async () => {
    const app = makeApp();
    await app.request("/api/v1/items/42", { headers: GOOD });
    await app.request("/api/v1/items/43", { headers: GOOD });
    await app.request("/api/v1/cached/k", { headers: GOOD });
    await app.request("/api/v1/cached/k", { headers: GOOD });
    await app.request("/no/such/route/123");
    const text = await metricsText(app);

    for (const name of [
      "acgs_request_duration_seconds",
      "acgs_requests_total",
      "acgs_cache_requests_total",
      "acgs_cache_hits_total",
      "acgs_cache_hit_rate",
      "acgs_constitutional_compliance_total",
      "acgs_constitutional_compliance_success_total",
      "acgs_constitutional_compliance_rate",
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, "m"));
    }
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);

    const route = { service: "formal-verification", route: "/api/v1/items/:id", method: "GET", status: "200" };
    expect(metricSample(text, "acgs_requests_total", route)).toBe(2);
    for (const le of ["0.0005", "0.001", "0.0025", "0.005"]) {
      expect(metricSample(text, "acgs_request_duration_seconds_bucket", { ...route, le })).toBeDefined();
    }
    expect(metricSample(text, "acgs_request_duration_seconds_count", route)).toBe(2);
    expect(text).not.toContain("/api/v1/items/42");
    expect(text).not.toContain("/no/such/route");
    expect(metricSample(text, "acgs_requests_total", { route: "unmatched", status: "404" })).toBe(1);

    expect(metricSample(text, "acgs_cache_requests_total", { service: "formal-verification" })).toBe(2);
    expect(metricSample(text, "acgs_cache_hits_total", { service: "formal-verification" })).toBe(1);
    expect(metricSample(text, "acgs_cache_hit_rate", { service: "formal-verification" })).toBe(0.5);
  });

  it("keeps the metrics of two apps apart (one registry per app)", async () => {
    const a = makeApp();
    const b = makeApp();
    await a.request("/api/v1/items/1", { headers: GOOD });
    const text = await metricsText(b);
    expect(metricSample(text, "acgs_requests_total", { route: "/api/v1/items/:id" })).toBeUndefined();
  });
});

describe("bad input", () => {
  it("answers a malformed JSON body with 400 naming the problem", async () => {
    const res = await makeApp().request("/api/v1/tasks", {
      method: "POST",
      headers: { ...GOOD, "Content-Type": "application/json" },
      body: '{"task_type": "review", ',
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toBe("malformed JSON body");
    expect(body.detail).toMatch(/JSON/);
  });

  it("answers an empty body with 400 and a non-JSON content type with 415", async () => {
    const app = makeApp();
    const empty = await app.request("/api/v1/tasks", { method: "POST", headers: { ...GOOD, "Content-Type": "application/json" } });
    expect(empty.status).toBe(400);
    expect((await json(empty)).detail).toMatch(/empty/);
    const text = await app.request("/api/v1/tasks", { method: "POST", headers: { ...GOOD, "Content-Type": "text/plain" }, body: "hi" });
    expect(text.status).toBe(415);
  });

  it("answers a body failing the schema with 400 naming each field path", async () => {
    const res = await makeApp().request("/api/v1/tasks", {
      method: "POST",
      headers: { ...GOOD, "Content-Type": "application/json" },
      body: JSON.stringify({ task_type: 5, priority: 3, agents: [{ id: "a" }, { id: 9 }] }),
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toBe("invalid request body");
    const paths = body.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(["agents.1.id", "task_type"]);
    for (const f of body.fields) expect(typeof f.message).toBe("string");
  });

  it("hands a valid body, parsed, to the handler", async () => {
    const res = await makeApp().request("/api/v1/tasks", {
      method: "POST",
      headers: { ...GOOD, "Content-Type": "application/json; charset=utf-8" },
      body: JSON.stringify({ task_type: "review", priority: 2 }),
    });
    expect(res.status).toBe(201);
    expect(await json(res)).toEqual({ accepted: { task_type: "review", priority: 2 } });
  });

  it("answers a body over BODY_LIMIT_BYTES with 413 JSON", async () => {
    const app = makeApp({ BODY_LIMIT_BYTES: "64" });
    const res = await app.request("/api/v1/tasks", {
      method: "POST",
      headers: { ...GOOD, "Content-Type": "application/json" },
      body: JSON.stringify({ task_type: "x".repeat(100), priority: 1 }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(await json(res)).toMatchObject({ error: "request body too large", limitBytes: 64 });
    const small = await app.request("/api/v1/tasks", {
      method: "POST",
      headers: { ...GOOD, "Content-Type": "application/json" },
      body: JSON.stringify({ task_type: "x", priority: 1 }),
    });
    expect(small.status).toBe(201);
  });

  it("answers an unknown route with 404 JSON carrying the hash header", async () => {
    const res = await makeApp().request("/api/v2/nothing", { method: "DELETE", headers: GOOD });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(await json(res)).toEqual({ error: "not found", method: "DELETE", path: "/api/v2/nothing" });
  });

  it("answers a real bug with 500 JSON carrying the request id, and logs it", async () => {
    const lines: string[] = [];
    const logger = createLogger({ service: "formal-verification", write: (l) => void lines.push(l) });
    const res = await makeApp({}, { logger }).request("/api/v1/boom", { headers: { ...GOOD, "X-Request-Id": "req-500" } });
    expect(res.status).toBe(500);
    expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(await json(res)).toEqual({ error: "internal server error", requestId: "req-500" });
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged).toContainEqual(expect.objectContaining({ level: "error", requestId: "req-500", msg: "unhandled error" }));
  });
});

describe("rate limit", () => {
  it("answers 429 with Retry-After once a client's burst is spent, per client IP", async () => {
    const app = makeApp({ RATE_LIMIT_BURST: "3", RATE_LIMIT_PER_MINUTE: "60" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await app.request("/api/v1/items/1", { headers: GOOD }, CLIENT("10.0.0.1"))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await app.request("/api/v1/items/1", { headers: GOOD }, CLIENT("10.0.0.1"));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(await json(limited)).toMatchObject({ error: "rate limit exceeded", burst: 3, limitPerMinute: 60 });
    // Another client still has its own burst; probes are never limited.
    expect((await app.request("/api/v1/items/1", { headers: GOOD }, CLIENT("10.0.0.2"))).status).toBe(200);
    expect((await app.request("/health", {}, CLIENT("10.0.0.1"))).status).toBe(200);
  });

  it("turns off with RATE_LIMIT_PER_MINUTE=0", async () => {
    const app = makeApp({ RATE_LIMIT_BURST: "1", RATE_LIMIT_PER_MINUTE: "0" });
    for (let i = 0; i < 5; i++) expect((await app.request("/api/v1/items/1", { headers: GOOD }, CLIENT("10.0.0.1"))).status).toBe(200);
  });
});

describe("request id and access log", () => {
  it("echoes X-Request-Id, generates one when absent, and logs each request as JSON with it", async () => {
    const lines: string[] = [];
    const logger = createLogger({ service: "formal-verification", write: (l) => void lines.push(l) });
    const app = makeApp({}, { logger });
    const echoed = await app.request("/api/v1/items/9", { headers: { ...GOOD, "X-Request-Id": "abc-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("abc-123");
    const generated = await app.request("/api/v1/items/9", { headers: GOOD });
    const id = generated.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f]{16}-\d+$/);
    // An id unfit for logs and headers is replaced, not echoed.
    const unsafe = await app.request("/api/v1/items/9", { headers: { ...GOOD, "X-Request-Id": "x".repeat(300) } });
    expect(unsafe.headers.get("x-request-id")).toMatch(/^[0-9a-f]{16}-\d+$/);

    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(requests[0]).toMatchObject({
      level: "info",
      service: "formal-verification",
      requestId: "abc-123",
      method: "GET",
      path: "/api/v1/items/9",
      route: "/api/v1/items/:id",
      status: 200,
    });
    expect(typeof requests[0].durationMs).toBe("number");
    expect(requests[1].requestId).toBe(id);
  });
});

describe("health and readiness", () => {
  const fake = (name: string, required: boolean, status: "ok" | "down"): Dependency => ({
    name,
    required,
    check: async () => (status === "ok" ? { status, latencyMs: 1.5 } : { status, latencyMs: 2, error: "refused" }),
  });

  it("reports ok with every dependency and its latency", async () => {
    const res = await makeApp({ ACGS_ENVIRONMENT: "staging" }, { dependencies: [fake("postgres", true, "ok")] }).request("/health");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      status: "ok",
      service: "formal-verification",
      version: expect.any(String),
      environment: "staging",
      constitutionalHash: CONSTITUTIONAL_HASH,
      dependencies: [{ name: "postgres", status: "ok", latencyMs: 1.5, required: true }],
    });
  });

  it("is degraded but ready when only an optional dependency is down", async () => {
    const app = makeApp({}, { dependencies: [fake("postgres", true, "ok"), fake("redis", false, "down")] });
    const health = await json(await app.request("/health"));
    expect(health.status).toBe("degraded");
    expect(health.dependencies[1]).toMatchObject({ name: "redis", status: "down", error: "refused", required: false });
    expect((await app.request("/ready")).status).toBe(200);
  });

  it("is not ready (503) while a required dependency is down", async () => {
    const app = makeApp({}, { dependencies: [fake("postgres", true, "down"), fake("redis", false, "ok")] });
    const ready = await app.request("/ready");
    expect(ready.status).toBe(503);
    expect(ready.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(await json(ready)).toMatchObject({ status: "not ready", reason: expect.stringContaining("postgres") });
    expect((await json(await app.request("/health"))).status).toBe("degraded");
    const text = await metricsText(app);
    expect(metricSample(text, "acgs_requests_total", { route: "/ready", status: "503" })).toBe(1);
  });
});
