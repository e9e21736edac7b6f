// policy-governance on real ports against one real PostgreSQL 15 and one real Redis: policies and
// their versions, enforcement with deny-overrides, cached decisions invalidated by any replica's
// change, the decision log, Redis and PostgreSQL going away, and tokens where auth is required.
import type { ServiceHandle } from "../../../services/kit/start-service";
import { policyGovernanceRoutes } from "../../../services/policy-governance/routes";
import { metricSample } from "../../support/metrics-text";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startRedis, type RedisServer } from "../../support/redis";
import { waitUntil } from "../../support/wait-until";
import { apiCall, fieldPaths } from "../../support/api-call";
import { startTestService } from "../../support/test-service";
import { startTokenIssuer, type TokenIssuer } from "../../support/token-issuer";
import Redis from "ioredis";
import { Client } from "pg";

const READ_REPOS = { name: "read-repos", rules: [{ id: "allow-read", effect: "allow", action: "read", resource: "repo:*" }] };
const NO_SECRETS = { name: "no-secrets", rules: [{ id: "deny-secrets", effect: "deny", resource: "repo:secrets*" }] };

describe("policy-governance", () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let issuer: TokenIssuer;
  let a: ServiceHandle;
  let b: ServiceHandle;
  let guarded: ServiceHandle;
  /** Every decision id a client was answered with. */
  const acknowledged = new Set<number>();

  const start = (env: Record<string, string> = {}) =>
    startTestService("policy-governance", policyGovernanceRoutes, { DATABASE_URL: postgres.url, REDIS_URL: redis.url, ...env });

  beforeAll(async () => {
    [postgres, redis, issuer] = await Promise.all([startPostgres(), startRedis(), startTokenIssuer()]);
    [a, b, guarded] = await Promise.all([start(), start(), start({ AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl })]);
    await waitUntil("redis connected", async () => (await apiCall(a.url, "/health")).body.status === "ok", { timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.shutdown(), b?.shutdown(), guarded?.shutdown()]);
    await Promise.all([postgres?.stop(), redis?.stop(), issuer?.stop()]);
  });

  const enforce = async (url: string, subject: string, action: string, resource: string, token?: string) => {
    const res = await apiCall(url, "/api/v1/enforce", { body: { subject, action, resource }, token });
    if (res.status === 200) acknowledged.add(res.body.decision_id);
    return res;
  };
  const cacheHits = async (service: ServiceHandle) => metricSample((await apiCall(service.url, "/metrics")).body, "acgs_cache_hits_total") ?? 0;
  const ids: Record<string, string> = {};

  it("denies by default while no policy is active, and says so", async () => {
    const res = await enforce(a.url, "agent:x", "read", "repo:web");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: "deny", policy: null, rule_id: null, default: true, cached: false });
    expect(res.body.reason).toContain("denied by default");
    expect(res.body.decision_id).toEqual(expect.any(Number));
  });

  it("creates policies with a first version, inactive unless asked; names are unique", async () => {
    const created = await apiCall(a.url, "/api/v1/policies", { body: READ_REPOS });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "read-repos",
      latest_version: 1,
      active_version: null,
      active: false,
      versions: [{ version: 1, description: "", rules: [{ id: "allow-read", effect: "allow", priority: 0, action: "read", resource: "repo:*" }] }],
    });
    ids.read = created.body.id;
    const taken = await apiCall(b.url, "/api/v1/policies", { body: READ_REPOS });
    expect(taken.status).toBe(409);
    expect(fieldPaths(taken)).toEqual(["name"]);
    expect((await apiCall(b.url, `/api/v1/policies/${ids.read}`)).body.name).toBe("read-repos");
    expect((await apiCall(b.url, "/api/v1/policies/no-such-id")).status).toBe(404);
  });

  it.each([
    ["no name", { rules: READ_REPOS.rules }, "name"],
    ["no rules", { name: "p" }, "rules"],
    ["an empty rule list", { name: "p", rules: [] }, "rules"],
    ["an unknown effect", { name: "p", rules: [{ id: "r", effect: "permit" }] }, "rules.0.effect"],
    ["a repeated rule id", { name: "p", rules: [{ id: "r", effect: "allow" }, { id: "r", effect: "deny" }] }, "rules.1.id"],
    ["activate that is not a boolean", { ...READ_REPOS, name: "p", activate: "yes" }, "activate"],
  ])("refuses a policy with %s (400 naming the field)", async (_what, body, path) => {
    const res = await apiCall(a.url, "/api/v1/policies", { body });
    expect(res.status).toBe(400);
    expect(fieldPaths(res)).toContain(path);
  });

  it("allows once a policy is active, naming it; a repeat is a cache hit", async () => {
    const activated = await apiCall(a.url, `/api/v1/policies/${ids.read}/activate`, { method: "POST" });
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ active: true, active_version: 1 });
    const first = await enforce(a.url, "agent:x", "read", "repo:web");
    expect(first.body).toMatchObject({ decision: "allow", policy: { id: ids.read, name: "read-repos", version: 1 }, rule_id: "allow-read", default: false, cached: false });
    const hits = await cacheHits(a);
    const second = await enforce(a.url, "agent:x", "read", "repo:web");
    expect(second.body).toMatchObject({ decision: "allow", rule_id: "allow-read", cached: true });
    expect(second.body.decision_id).toBeGreaterThan(first.body.decision_id);
    expect(await cacheHits(a)).toBe(hits + 1);
    expect((await enforce(b.url, "agent:x", "read", "repo:web")).body.cached).toBe(true);
    expect((await apiCall(a.url, "/api/v1/policies?active=true")).body.policies.map((p: { name: string }) => p.name)).toEqual(["read-repos"]);
  });

  it("lets a deny override, and invalidates cached decisions on every replica when a policy changes", async () => {
    // Both replicas hold the allow in the cache.
    expect((await enforce(a.url, "agent:x", "read", "repo:secrets")).body).toMatchObject({ decision: "allow" });
    expect((await enforce(a.url, "agent:x", "read", "repo:secrets")).body.cached).toBe(true);

    const created = await apiCall(b.url, "/api/v1/policies", { body: { ...NO_SECRETS, activate: true } });
    expect(created.status).toBe(201);
    ids.secrets = created.body.id;
    const denied = await enforce(a.url, "agent:x", "read", "repo:secrets");
    expect(denied.body).toMatchObject({ decision: "deny", policy: { id: ids.secrets, name: "no-secrets" }, rule_id: "deny-secrets", cached: false });
    expect(denied.body.policy_generation).toBe(created.body.policy_generation);
    expect((await enforce(a.url, "agent:x", "read", "repo:secrets")).body.cached).toBe(true);

    const off = await apiCall(b.url, `/api/v1/policies/${ids.secrets}/deactivate`, { method: "POST" });
    expect(off.body).toMatchObject({ active: false, active_version: null });
    expect((await enforce(a.url, "agent:x", "read", "repo:secrets")).body).toMatchObject({ decision: "allow", cached: false });
  });

  it("keeps versions: PUT adds one, activation picks one, stale writers get 409", async () => {
    const v2 = await apiCall(a.url, `/api/v1/policies/${ids.read}`, {
      method: "PUT",
      body: { description: "reads and clones", rules: [{ id: "allow-read", effect: "allow", action: ["read", "clone"], resource: "repo:*" }], expected_version: 1 },
    });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ latest_version: 2, active_version: 1 });
    expect(v2.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    // Not active yet: version 1 still decides.
    expect((await enforce(b.url, "agent:x", "clone", "repo:web")).body).toMatchObject({ decision: "deny", default: true });

    const stale = await apiCall(b.url, `/api/v1/policies/${ids.read}`, { method: "PUT", body: { rules: READ_REPOS.rules, expected_version: 1 } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ latest_version: 2, fields: [{ path: "expected_version" }] });

    expect((await apiCall(b.url, `/api/v1/policies/${ids.read}/activate?version=2`, { method: "POST" })).body.active_version).toBe(2);
    expect((await enforce(a.url, "agent:x", "clone", "repo:web")).body).toMatchObject({ decision: "allow", policy: { version: 2 } });

    const noVersion = await apiCall(a.url, `/api/v1/policies/${ids.read}/activate?version=9`, { method: "POST" });
    expect(noVersion.status).toBe(400);
    expect(fieldPaths(noVersion)).toEqual(["version"]);
    const badVersion = await apiCall(a.url, `/api/v1/policies/${ids.read}/activate?version=two`, { method: "POST" });
    expect(badVersion.status).toBe(400);
    expect(fieldPaths(badVersion)).toEqual(["version"]);
    expect((await apiCall(a.url, "/api/v1/policies/nope", { method: "PUT", body: { rules: READ_REPOS.rules } })).status).toBe(404);
    expect((await apiCall(a.url, "/api/v1/policies/nope/activate", { method: "POST" })).status).toBe(404);
    const badPut = await apiCall(a.url, `/api/v1/policies/${ids.read}`, { method: "PUT", body: { rules: READ_REPOS.rules, expected_version: 0 } });
    expect(fieldPaths(badPut)).toEqual(["expected_version"]);
  });

  it.each([
    ["no subject", { action: "read", resource: "r" }, "subject"],
    ["an empty action", { subject: "s", action: "", resource: "r" }, "action"],
    ["a numeric resource", { subject: "s", action: "read", resource: 7 }, "resource"],
    ["an unknown field", { subject: "s", action: "read", resource: "r", context: {} }, "(root)"],
    // PostgreSQL text cannot hold it: it would fail the batch of decisions it was appended with.
    ["a NUL character in the subject", { subject: "agent:\u0000x", action: "read", resource: "r" }, "subject"],
  ])("refuses an enforce request with %s (400 naming the field)", async (_what, body, path) => {
    const res = await apiCall(a.url, "/api/v1/enforce", { body });
    expect(res.status).toBe(400);
    expect(fieldPaths(res)).toContain(path);
  });

  it("refuses another constitution's hash with 403", async () => {
    const res = await apiCall(a.url, "/api/v1/enforce", { body: { subject: "s", action: "read", resource: "r" }, hash: "cdd01ef066bc6cf3" });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe("constitutional hash mismatch");
  });

  it("records concurrent decisions from both replicas, each once, with distinct ids", async () => {
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => enforce(i % 2 ? a.url : b.url, `agent:${i % 7}`, "read", `repo:r${i % 5}`)),
    );
    expect(answers.every((r) => r.status === 200 && r.body.decision === "allow")).toBe(true);
    const decisionIds = answers.map((r) => r.body.decision_id);
    expect(new Set(decisionIds).size).toBe(60);
    // Each id names the row of its own request (identical rows of a batch travel as one group).
    const since = Math.min(...decisionIds) - 1;
    const logged = (await apiCall(a.url, `/api/v1/decisions?since=${since}&limit=1000`)).body.decisions as { id: number; subject: string; resource: string; cached: boolean }[];
    const byId = new Map(logged.map((d) => [d.id, d]));
    answers.forEach((r, i) => {
      expect(byId.get(r.body.decision_id)).toMatchObject({ subject: `agent:${i % 7}`, resource: `repo:r${i % 5}`, cached: r.body.cached });
    });
  });

  it("pages through the decision log in id order with since and limit", async () => {
    const seen: { id: number; decision: string; subject: string }[] = [];
    let since = 0;
    for (let page = 0; page < 100; page++) {
      const res = await apiCall(b.url, `/api/v1/decisions?since=${since}&limit=25`);
      expect(res.status).toBe(200);
      expect(res.body.decisions.length).toBeLessThanOrEqual(25);
      seen.push(...res.body.decisions);
      since = res.body.next_since;
      if (!res.body.has_more) break;
    }
    const seenIds = seen.map((d) => d.id);
    expect(seenIds).toEqual([...seenIds].sort((x, y) => x - y));
    expect(new Set(seenIds)).toEqual(acknowledged);
    expect(seen[0]).toMatchObject({ decision: "deny", subject: "agent:x", action: "read", resource: "repo:web", default: true, policy_id: null, cached: false });
    const end = await apiCall(b.url, `/api/v1/decisions?since=${since}`);
    expect(end.body).toEqual({ decisions: [], next_since: since, has_more: false });
  });

  it("never lets a reader page past a decision whose insert commits late", async () => {
    const tail = async () => (await apiCall(b.url, "/api/v1/decisions?since=0&limit=1000")).body.decisions.map((d: { id: number }) => d.id).at(-1) as number;
    const before = await tail();
    // A writer that got its id and has not committed: it holds the log's append lock, as a
    // replica's decision-log statement does between taking ids and committing.
    const late = new Client({ connectionString: postgres.url });
    await late.connect();
    try {
      await late.query("BEGIN");
      await late.query("SELECT pg_advisory_xact_lock(hashtext('acgs-policy-decisions'))");
      const { rows } = await late.query(
        `INSERT INTO policy_decisions (subject, action, resource, generation, decision, reason, is_default, cached)
         VALUES ('agent:late', 'read', 'repo:late', 0, 'deny', 'inserted by the test', true, false) RETURNING id`,
      );
      const lateId = Number(rows[0].id);
      const answered = enforce(a.url, "agent:after", "read", "repo:web");
      // The later decision cannot take a higher id and commit first: a reader at this moment sees neither.
      await new Promise((r) => setTimeout(r, 300));
      expect(await tail()).toBe(before);
      await late.query("COMMIT");
      acknowledged.add(lateId);
      const after = await answered;
      expect(after.status).toBe(200);
      expect(after.body.decision_id).toBeGreaterThan(lateId);
      const page = (await apiCall(b.url, `/api/v1/decisions?since=${before}`)).body.decisions.map((d: { id: number }) => d.id);
      expect(page).toEqual([lateId, after.body.decision_id]);
    } finally {
      await late.query("ROLLBACK").catch(() => {});
      await late.end();
    }
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=ten", "limit"],
    ["since=-1", "since"],
  ])("refuses decisions?%s (400 naming the parameter)", async (query, path) => {
    const res = await apiCall(a.url, `/api/v1/decisions?${query}`);
    expect(res.status).toBe(400);
    expect(fieldPaths(res)).toEqual([path]);
  });

  it("decides afresh when Redis holds something that is not a decision under the key", async () => {
    const first = await enforce(a.url, "agent:odd", "read", "repo:web");
    expect(first.body).toMatchObject({ decision: "allow", cached: false });
    const key = `acgs:policy-governance:decision:${first.body.policy_generation}:t:${JSON.stringify(["agent:odd", "read", "repo:web"])}`;
    const client = new Redis(redis.url);
    try {
      // The key b will look up (proved by the value it finds there first).
      expect(JSON.parse((await client.get(key))!)).toMatchObject({ decision: "allow", rule_id: "allow-read" });
      await client.set(key, '{"decision":"maybe"}');
    } finally {
      client.disconnect();
    }
    // b never decided it: not in its own tier, and what Redis holds is not a decision.
    const fresh = await enforce(b.url, "agent:odd", "read", "repo:web");
    expect(fresh.body).toMatchObject({ decision: "allow", rule_id: "allow-read", cached: false });
  });

  it("keeps deciding while Redis is down (shared cache bypassed), and shares decisions again when it returns", async () => {
    await redis.halt();
    try {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const res = await enforce(a.url, `agent:outage-${i}`, "read", "repo:web");
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ decision: "allow", cached: false });
        expect(performance.now() - started).toBeLessThan(1000);
      }
      // A repeat is answered from this replica's own memory, and still recorded.
      const repeat = await enforce(a.url, "agent:outage-0", "read", "repo:web");
      expect(repeat.body).toMatchObject({ decision: "allow", cached: true, decision_id: expect.any(Number) });
    } finally {
      await redis.resume();
    }
    for (const service of [a, b]) {
      await waitUntil("redis back", async () => (await apiCall(service.url, "/health")).body.status === "ok", { timeoutMs: 10_000, intervalMs: 100 });
    }
    expect((await enforce(a.url, "agent:y", "read", "repo:web")).body.cached).toBe(false);
    // The other replica never decided it: its hit comes from Redis.
    expect((await enforce(b.url, "agent:y", "read", "repo:web")).body.cached).toBe(true);
  }, 30_000);

  it("while PostgreSQL is down: enforcement and changes answer 503 with Retry-After; afterwards nothing acknowledged is missing", async () => {
    const before = await apiCall(a.url, "/api/v1/policies", { body: { name: "before-outage", rules: READ_REPOS.rules } });
    expect(before.status).toBe(201);
    await postgres.halt();
    try {
      for (const res of [
        await apiCall(a.url, "/api/v1/enforce", { body: { subject: "agent:x", action: "read", resource: "repo:web" } }),
        await apiCall(b.url, "/api/v1/policies", { body: { name: "during-outage", rules: READ_REPOS.rules } }),
        await apiCall(b.url, `/api/v1/policies/${ids.read}/deactivate`, { method: "POST" }),
      ]) {
        expect(res.status).toBe(503);
        expect(res.headers.get("Retry-After")).toBe("5");
        expect(res.body).toMatchObject({ error: "dependency unavailable", dependency: "postgres" });
      }
      expect((await apiCall(a.url, "/ready")).status).toBe(503);
    } finally {
      await postgres.resume();
    }
    await waitUntil("ready again", async () => (await apiCall(a.url, "/ready")).status === 200, { timeoutMs: 10_000, intervalMs: 100 });
    const names = (await apiCall(b.url, "/api/v1/policies")).body.policies.map((p: { name: string }) => p.name);
    expect(names).toEqual(["before-outage", "no-secrets", "read-repos"]);
    expect((await apiCall(b.url, `/api/v1/policies/${ids.read}`)).body.active).toBe(true);
    const after = await enforce(a.url, "agent:x", "read", "repo:web");
    expect(after.status).toBe(200);
    const all = (await apiCall(b.url, "/api/v1/decisions?limit=1000")).body.decisions.map((d: { id: number }) => d.id);
    expect(new Set(all)).toEqual(acknowledged);
  }, 60_000);

  it("where auth is required: changes need a specialist, enforcement a worker, reading nothing", async () => {
    const body = { name: "guarded", rules: READ_REPOS.rules };
    expect((await apiCall(guarded.url, "/api/v1/policies", { body })).status).toBe(401);
    const worker = await apiCall(guarded.url, "/api/v1/policies", { body, token: issuer.token("worker") });
    expect(worker.status).toBe(403);
    expect(worker.body).toMatchObject({ requiredLevel: 7, level: 5 });
    const specialist = await apiCall(guarded.url, "/api/v1/policies", { body, token: issuer.token("specialist", "policy-author") });
    expect(specialist.status).toBe(201);
    expect(specialist.body.created_by).toBe("policy-author");
    const id = specialist.body.id;
    expect((await apiCall(guarded.url, `/api/v1/policies/${id}/activate`, { method: "POST", token: issuer.token("worker") })).status).toBe(403);
    expect((await apiCall(guarded.url, `/api/v1/policies/${id}/activate`, { method: "POST", token: issuer.token("specialist") })).status).toBe(200);
    expect((await apiCall(guarded.url, `/api/v1/policies/${id}`, { method: "PUT", body: { rules: READ_REPOS.rules } })).status).toBe(401);
    expect((await apiCall(guarded.url, `/api/v1/policies/${id}/deactivate`, { method: "POST", token: issuer.token("observer") })).status).toBe(403);

    expect((await enforce(guarded.url, "agent:x", "read", "repo:web")).status).toBe(401);
    expect((await enforce(guarded.url, "agent:x", "read", "repo:web", issuer.token("observer"))).status).toBe(403);
    expect((await enforce(guarded.url, "agent:x", "read", "repo:web", issuer.token("worker"))).status).toBe(200);
    expect((await apiCall(guarded.url, "/api/v1/decisions?limit=1")).status).toBe(200);
  });
});
