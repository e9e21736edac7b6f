// constitutional-ai on real ports against one real PostgreSQL 15 and one real Redis: the seeded
// constitution, validation with cached verdicts, new versions seen by every replica, Redis and
// PostgreSQL going away, and tokens where auth is required.
import { constitutionalAiRoutes } from "../../../services/constitutional-ai/routes";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { metricSample } from "../../support/metrics-text";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startRedis, type RedisServer } from "../../support/redis";
import { waitUntil } from "../../support/wait-until";
import { apiCall, fieldPaths } from "../../support/api-call";
import { startTestService } from "../../support/test-service";
import { startTokenIssuer, type TokenIssuer } from "../../support/token-issuer";

const PRINCIPLE = {
  id: "no-friday-deploys",
  title: "No deploys on Fridays",
  violated_when: { all: [{ field: "action.type", op: "eq", value: "deploy" }, { field: "context.weekday", op: "eq", value: "friday" }] },
  reason: "deploys wait until Monday",
};

describe("constitutional-ai", () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let issuer: TokenIssuer;
  let a: ServiceHandle;
  let b: ServiceHandle;
  let guarded: ServiceHandle;

  const start = (env: Record<string, string> = {}) =>
    startTestService("constitutional-ai", constitutionalAiRoutes, { DATABASE_URL: postgres.url, REDIS_URL: redis.url, ...env });

  beforeAll(async () => {
    [postgres, redis, issuer] = await Promise.all([startPostgres(), startRedis(), startTokenIssuer()]);
    // Two replicas of one deployment, and one where auth is required.
    [a, b, guarded] = await Promise.all([start(), start(), start({ AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl })]);
    await waitUntil("redis connected", async () => (await apiCall(a.url, "/health")).body.status === "ok", { timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.shutdown(), b?.shutdown(), guarded?.shutdown()]);
    await Promise.all([postgres?.stop(), redis?.stop(), issuer?.stop()]);
  });

  const validate = (url: string, body: unknown, token?: string) => apiCall(url, "/api/v1/validate", { body, token });
  const cacheHits = async (service: ServiceHandle) => metricSample((await apiCall(service.url, "/metrics")).body, "acgs_cache_hits_total") ?? 0;
  let seeded: { version: number; content_hash: string };

  it("seeds the default constitution once, however many replicas start, and exposes its hash", async () => {
    const res = await apiCall(a.url, "/api/v1/constitution");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 1, constitutional_hash: "cdd01ef066bc6cf2", note: "default constitution" });
    expect(res.body.content_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(res.body.principles.map((p: { id: string }) => p.id)).toEqual([
      "no-destructive-without-approval",
      "no-secret-exfiltration",
      "human-oversight-for-high-risk",
      "least-privilege",
      "audit-every-decision",
      "respect-scope",
    ]);
    seeded = res.body;
    const versions = await apiCall(b.url, "/api/v1/constitution/versions");
    expect(versions.body.versions).toEqual([expect.objectContaining({ version: 1, principle_count: 6, content_hash: seeded.content_hash })]);
  });

  it("judges an action, and answers a repeat (keys in another order) from the cache", async () => {
    const body = { agent_id: "agent-1", action: { type: "delete_branch", target: "repo:acme/api", risk_level: "low" }, context: { ticket: "T-1", env: "dev" } };
    const first = await validate(a.url, body);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      compliant: false,
      violations: [{ principle_id: "no-destructive-without-approval", title: "No destructive action without approval", reason: "a destructive action needs approved_by" }],
      constitution_version: 1,
      constitution_hash: seeded.content_hash,
      cached: false,
    });
    const hitsBefore = await cacheHits(a);
    const lookupsBefore = metricSample((await apiCall(a.url, "/metrics")).body, "acgs_cache_requests_total") ?? 0;
    const reordered = { context: { env: "dev", ticket: "T-1" }, action: { risk_level: "low", target: "repo:acme/api", type: "delete_branch" }, agent_id: "agent-1" };
    const repeat = await validate(a.url, reordered);
    expect(repeat.body).toEqual({ ...first.body, cached: true });
    expect(await cacheHits(a)).toBe(hitsBefore + 1);
    expect(metricSample((await apiCall(a.url, "/metrics")).body, "acgs_cache_requests_total")).toBe(lookupsBefore + 1);
    // The other replica shares the Redis cache.
    expect((await validate(b.url, body)).body.cached).toBe(true);
    const approved = await validate(a.url, { ...body, action: { ...body.action, approved_by: "lead" } });
    expect(approved.body).toMatchObject({ compliant: true, violations: [], cached: false });
  });

  it.each([
    ["no agent_id", { action: { type: "read", target: "x" } }, "agent_id"],
    ["no action type", { agent_id: "a", action: { target: "x" } }, "action.type"],
    ["no target", { agent_id: "a", action: { type: "read" } }, "action.target"],
    ["an unknown risk level", { agent_id: "a", action: { type: "read", target: "x", risk_level: "extreme" } }, "action.risk_level"],
    ["a misspelt approval field", { agent_id: "a", action: { type: "drop", target: "x", approvedBy: "lead" } }, "action"],
    ["parameters that are not an object", { agent_id: "a", action: { type: "read", target: "x", parameters: [1] } }, "action.parameters"],
  ])("answers 400 naming the field for %s", async (_what, body, path) => {
    const res = await validate(a.url, body);
    expect(res.status).toBe(400);
    expect(fieldPaths(res)).toContain(path);
  });

  it("refuses another constitution's hash with 403, and a malformed body with 400", async () => {
    const wrong = await apiCall(a.url, "/api/v1/validate", { body: { agent_id: "a", action: { type: "read", target: "x" } }, hash: "ffffffffffffffff" });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ expected: "cdd01ef066bc6cf2", received: "ffffffffffffffff" });
    expect((await validate(a.url, "not json")).status).toBe(400);
  });

  it("answers 400 and 404 for bad version numbers", async () => {
    const bad = await apiCall(a.url, "/api/v1/constitution/versions/abc");
    expect(bad.status).toBe(400);
    expect(fieldPaths(bad)).toEqual(["version"]);
    expect((await apiCall(a.url, "/api/v1/constitution/versions/99")).status).toBe(404);
  });

  it.each([
    ["no principles", { note: "x" }, "principles"],
    ["an empty list", { principles: [] }, "principles"],
    ["a repeated id", { principles: [PRINCIPLE, PRINCIPLE] }, "principles.1.id"],
    ["an id that is not kebab-case", { principles: [{ ...PRINCIPLE, id: "No Fridays" }] }, "principles.0.id"],
    ["a condition with an unknown op", { principles: [{ ...PRINCIPLE, violated_when: { field: "action.type", op: "like", value: "x" } }] }, "principles.0.violated_when"],
  ])("refuses a new version with %s (400 naming the field)", async (_what, body, path) => {
    const res = await apiCall(a.url, "/api/v1/constitution/versions", { body });
    expect(res.status).toBe(400);
    expect(fieldPaths(res)).toContain(path);
  });

  it("puts a new version in force on every replica at once; old verdicts are not reused", async () => {
    const friday = { agent_id: "agent-2", action: { type: "deploy", target: "svc:web" }, context: { weekday: "friday" } };
    expect((await validate(b.url, friday)).body).toMatchObject({ compliant: true, constitution_version: 1 });
    expect((await validate(b.url, friday)).body.cached).toBe(true);

    const created = await apiCall(a.url, "/api/v1/constitution/versions", { body: { principles: [PRINCIPLE], note: "fridays" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: 2, note: "fridays", created_by: null, principles: [{ ...PRINCIPLE, description: "" }] });
    expect(created.body.content_hash).not.toBe(seeded.content_hash);

    // Replica b learns of it on its very next request.
    const verdict = await validate(b.url, friday);
    expect(verdict.body).toEqual({
      compliant: false,
      violations: [{ principle_id: "no-friday-deploys", title: "No deploys on Fridays", reason: "deploys wait until Monday" }],
      constitution_version: 2,
      constitution_hash: created.body.content_hash,
      cached: false,
    });
    expect((await apiCall(b.url, "/api/v1/constitution")).body.version).toBe(2);
    expect((await apiCall(a.url, "/api/v1/constitution/versions/1")).body.content_hash).toBe(seeded.content_hash);
    expect((await apiCall(a.url, "/api/v1/constitution/versions")).body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
  });

  it("gives concurrent new versions distinct, consecutive numbers", async () => {
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => apiCall(i % 2 ? a.url : b.url, "/api/v1/constitution/versions", { body: { principles: [PRINCIPLE], note: `n${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(results.map((r) => r.body.version).sort()).toEqual([3, 4, 5, 6]);
  });

  it("keeps judging while Redis is down (shared cache bypassed) and shares verdicts again when it returns", async () => {
    const lookups = async () => metricSample((await apiCall(a.url, "/metrics")).body, "acgs_cache_requests_total") ?? 0;
    await redis.halt();
    try {
      const before = await lookups();
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const res = await validate(a.url, { agent_id: "agent-3", action: { type: "read", target: `repo:outage-${i}` } });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ compliant: true, cached: false });
        expect(performance.now() - started).toBeLessThan(1000);
      }
      expect(await lookups()).toBe(before + 3);
      // A repeat is answered from this replica's own memory.
      expect((await validate(a.url, { agent_id: "agent-3", action: { type: "read", target: "repo:outage-0" } })).body.cached).toBe(true);
    } finally {
      await redis.resume();
    }
    await waitUntil("redis back", async () => (await apiCall(a.url, "/health")).body.status === "ok", { timeoutMs: 10_000, intervalMs: 100 });
    await waitUntil("redis back on b", async () => (await apiCall(b.url, "/health")).body.status === "ok", { timeoutMs: 10_000, intervalMs: 100 });
    const body = { agent_id: "agent-3", action: { type: "read", target: "repo:y" } };
    expect((await validate(a.url, body)).body.cached).toBe(false);
    // The other replica never judged it: its hit comes from Redis.
    expect((await validate(b.url, body)).body.cached).toBe(true);
  }, 30_000);

  it("while PostgreSQL is down: new versions 503 with Retry-After, validation goes on; no acknowledged version is lost", async () => {
    const acknowledged = await apiCall(a.url, "/api/v1/constitution/versions", { body: { principles: [PRINCIPLE], note: "before the outage" } });
    expect(acknowledged.status).toBe(201);
    const friday = { agent_id: "agent-4", action: { type: "deploy", target: "svc:api" }, context: { weekday: "friday" } };
    expect((await validate(a.url, friday)).body.constitution_version).toBe(acknowledged.body.version);
    await postgres.halt();
    try {
      const refused = await apiCall(a.url, "/api/v1/constitution/versions", { body: { principles: [PRINCIPLE], note: "during the outage" } });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("Retry-After")).toBe("5");
      expect(refused.body).toMatchObject({ error: "dependency unavailable", dependency: "postgres" });
      expect((await apiCall(a.url, "/ready")).status).toBe(503);
      // Judged under the last version this replica saw, from the cache or afresh.
      for (const request of [friday, { ...friday, agent_id: "agent-5" }]) {
        const verdict = await validate(a.url, request);
        expect(verdict.status).toBe(200);
        expect(verdict.body).toMatchObject({ compliant: false, constitution_version: acknowledged.body.version });
      }
    } finally {
      await postgres.resume();
    }
    await waitUntil("ready again", async () => (await apiCall(a.url, "/ready")).status === 200, { timeoutMs: 10_000, intervalMs: 100 });
    const notes = (await apiCall(b.url, "/api/v1/constitution/versions")).body.versions.map((v: { note: string }) => v.note);
    expect(notes).toContain("before the outage");
    expect(notes).not.toContain("during the outage");
    expect((await apiCall(a.url, "/api/v1/constitution")).body.version).toBe(acknowledged.body.version);
  }, 60_000);

  it("where auth is required: validate needs a worker, a new version an orchestrator", async () => {
    const action = { agent_id: "agent-5", action: { type: "read", target: "x" } };
    const missing = await validate(guarded.url, action);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect((await validate(guarded.url, action, issuer.token("observer"))).status).toBe(403);
    expect((await validate(guarded.url, action, issuer.token("worker"))).status).toBe(200);
    // Reading needs no token.
    expect((await apiCall(guarded.url, "/api/v1/constitution")).status).toBe(200);

    const body = { principles: [PRINCIPLE], note: "by an orchestrator" };
    const specialist = await apiCall(guarded.url, "/api/v1/constitution/versions", { body, token: issuer.token("specialist") });
    expect(specialist.status).toBe(403);
    expect(specialist.body).toMatchObject({ requiredLevel: 10, level: 7 });
    const orchestrator = await apiCall(guarded.url, "/api/v1/constitution/versions", { body, token: issuer.token("orchestrator", "ops-lead") });
    expect(orchestrator.status).toBe(201);
    expect(orchestrator.body.created_by).toBe("ops-lead");
  });
});
