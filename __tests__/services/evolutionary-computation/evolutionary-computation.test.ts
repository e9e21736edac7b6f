// evolutionary-computation on a real port with its jobs in one real PostgreSQL 15, reading
// recorded decisions over HTTP from a stand-in policy-governance (startTestService) that serves them
// from a table of another real PostgreSQL, as GET /api/v1/decisions does.
import { Client } from "pg";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import { evolutionRoutes, type EvolutionOptions } from "../../../services/evolutionary-computation/routes";
import type { EnvironmentVariables } from "../../../services/kit/config";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { freePort } from "../../support/free-port";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startTestService } from "../../support/test-service";
import { startTokenIssuer } from "../../support/token-issuer";

type Json = any;
const HASH = { "X-Constitutional-Hash": CONSTITUTIONAL_HASH };

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = HASH): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

// The policy the search should rediscover: non-admins are denied deletes and anything under secrets/.
const SUBJECTS = ["admin", "alice", "bob", "agent-1", "agent-2"];
const ACTIONS = ["read", "write", "delete"];
const RESOURCES = ["docs/a", "docs/b", "secrets/x", "secrets/y"];
const truth = (subject: string, action: string, resource: string) =>
  subject !== "admin" && (action === "delete" || resource.startsWith("secrets/")) ? "deny" : "allow";

const PARAMETERS = [
  { name: "threshold", min: 0, max: 1 },
  { name: "action:delete", min: 0, max: 1 },
  { name: "resource:secrets/*", min: 0, max: 1 },
  { name: "subject:admin", min: -2, max: 0 },
  { name: "action:read", min: -1, max: 1 },
];

/** The fitness the service should report, computed here from the model's definition. */
function accuracy(parameters: Record<string, number>, decisions: { subject: string; action: string; resource: string; decision: string }[]): number {
  let right = 0;
  for (const d of decisions) {
    let score = 0;
    for (const [name, value] of Object.entries(parameters)) {
      if (name === "threshold") continue;
      const [field, pattern] = [name.slice(0, name.indexOf(":")), name.slice(name.indexOf(":") + 1)];
      const actual = d[field as "subject"];
      if (pattern.endsWith("*") ? actual.startsWith(pattern.slice(0, -1)) : actual === pattern) score += value;
    }
    if ((score > parameters.threshold ? "deny" : "allow") === d.decision) right++;
  }
  return right / decisions.length;
}

describe("evolutionary-computation", () => {
  let decisionsDb: PostgresServer;
  let jobsDb: PostgresServer;
  let admin: Client;
  let governance: ServiceHandle;
  let evolution: ServiceHandle;
  const started: ServiceHandle[] = [];
  const recorded: { subject: string; action: string; resource: string; decision: string }[] = [];

  /** Stands in for policy-governance's GET /api/v1/decisions, reading `table`. */
  const startGovernance = async (table: string, env: EnvironmentVariables = {}) => {
    const handle = await startTestService("policy-governance", (app, context) => {
        app.get("/api/v1/decisions", async (c) => {
          const since = Number(c.req.query("since") ?? 0);
          const limit = Number(c.req.query("limit") ?? 100);
          const { rows } = await context.database!.query<Json>(
            `SELECT id, subject, action, resource, decision, policy_id, decided_at FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`,
            [since, limit + 1],
          );
          const decisions = rows.slice(0, limit).map((r: Json) => ({ ...r, id: Number(r.id), decided_at: r.decided_at.toISOString() }));
          return c.json({ decisions, next_since: decisions.at(-1)?.id ?? since, has_more: rows.length > limit });
        });
    }, { DATABASE_URL: decisionsDb.url, ...env });
    started.push(handle);
    return handle;
  };
  const startEvolution = async (governanceUrl: string, options: EvolutionOptions = {}, env: EnvironmentVariables = {}) => {
    const handle = await startTestService("evolutionary-computation", (app, context) => evolutionRoutes(app, context, options), {
      DATABASE_URL: jobsDb.url,
      SERVICE_URL_POLICY_GOVERNANCE: governanceUrl,
      ...env,
    });
    started.push(handle);
    return handle;
  };
  const evolve = (body: Record<string, unknown>, url = evolution.url) =>
    call(url, "POST", "/api/v1/evolve", { seed: 42, generations: 30, population: 40, parameters: PARAMETERS, ...body });
  const poll = (url: string, path: string) => call(url, "GET", path);
  const pollUntilDone = async (url: string, path: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await poll(url, path);
      if (job.body.status !== "running") return job;
      if (Date.now() > deadline) throw new Error(`job still running after ${timeoutMs} ms: ${JSON.stringify(job.body)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    [decisionsDb, jobsDb] = await Promise.all([startPostgres(), startPostgres()]);
    const db = new Client({ connectionString: decisionsDb.url });
    await db.connect();
    const columns = "(id bigserial PRIMARY KEY, subject text, action text, resource text, decision text, policy_id text, decided_at timestamptz DEFAULT now())";
    await db.query(`CREATE TABLE recorded ${columns}`);
    await db.query(`CREATE TABLE empty ${columns}`);
    for (let round = 0; round < 10; round++) {
      for (const subject of SUBJECTS) for (const action of ACTIONS) for (const resource of RESOURCES) {
        recorded.push({ subject, action, resource, decision: truth(subject, action, resource) });
      }
    }
    await db.query(
      "INSERT INTO recorded (subject, action, resource, decision, policy_id) SELECT s, a, r, d, 'p-1' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(s, a, r, d)",
      [recorded.map((d) => d.subject), recorded.map((d) => d.action), recorded.map((d) => d.resource), recorded.map((d) => d.decision)],
    );
    await db.end();
    governance = await startGovernance("recorded");
    evolution = await startEvolution(governance.url, { inlineLimit: 2000 });
    admin = new Client({ connectionString: jobsDb.url });
    admin.on("error", () => {}); // the halt test drops this connection
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    await admin?.end().catch(() => {});
    await Promise.all(started.map((s) => s.shutdown()));
    await Promise.all([decisionsDb?.stop(), jobsDb?.stop()]);
  });

  it("finds parameters that reproduce the recorded decisions, with the fitness the model defines", async () => {
    const res = await evolve({});
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body).toMatchObject({ status: "succeeded", seed: 42, generations: 30, population: 40, objective: "accuracy" });
    // Reading 600 decisions took a page of 1000 requested at most; all arrived.
    expect(body.decisions).toEqual({ count: 600, first_id: 1, last_id: 600, truncated: false, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(Object.keys(body.best.parameters)).toEqual(PARAMETERS.map((p) => p.name));
    for (const p of PARAMETERS) {
      expect(body.best.parameters[p.name]).toBeGreaterThanOrEqual(p.min);
      expect(body.best.parameters[p.name]).toBeLessThanOrEqual(p.max);
    }
    expect(body.best.fitness).toBe(accuracy(body.best.parameters, recorded));
    // Allowing everything scores 0.4667 (28 of 60 cases); the search must do far better.
    expect(body.best.fitness).toBeGreaterThan(0.95);
    expect(body.history).toHaveLength(30);
    expect(body.history.map((h: Json) => h.generation)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(Math.max(...body.history.map((h: Json) => h.best))).toBe(body.best.fitness);
  });

  it("is reproducible: the same seed gives the same answer, another seed another path", async () => {
    const [a, b, c] = await Promise.all([evolve({ seed: 7 }), evolve({ seed: 7 }), evolve({ seed: 8 })]);
    expect(a.body).toEqual(b.body);
    expect(c.body.history).not.toEqual(a.body.history);
    expect(c.body.best.parameters).not.toEqual(a.body.best.parameters);
    const balanced = await evolve({ seed: 7, objective: "balanced_accuracy" });
    expect(balanced.body.objective).toBe("balanced_accuracy");
    expect(balanced.body.history).not.toEqual(a.body.history);
  });

  it("answers bad bodies 400 naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ seed: -1 }, "seed"],
      [{ seed: 1.5 }, "seed"],
      [{ seed: undefined }, "seed"],
      [{ generations: 0 }, "generations"],
      [{ population: 1 }, "population"],
      [{ parameters: [] }, "parameters"],
      [{ parameters: [{ name: "speed", min: 0, max: 1 }] }, "parameters.0.name"],
      [{ parameters: [{ name: "threshold", min: 1, max: 0 }] }, "parameters.0.max"],
      [{ parameters: [{ name: "threshold", min: 0, max: 1 }, { name: "threshold", min: 0, max: 2 }] }, "parameters.1.name"],
      [{ objective: "speed" }, "objective"],
    ];
    for (const [body, field] of cases) {
      const res = await evolve(body);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    expect((await poll(evolution.url, "/api/v1/evolve/not-a-job")).body.fields[0].path).toBe("id");
    expect((await poll(evolution.url, "/api/v1/evolve/6f1d3c1e-0000-4000-8000-000000000000")).status).toBe(404);
  });

  it("refuses a wrong constitutional hash with 403", async () => {
    const res = await call(evolution.url, "POST", "/api/v1/evolve", { seed: 1, generations: 1, population: 2, parameters: PARAMETERS }, { "X-Constitutional-Hash": "abcdefabcdefabcd" });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ expected: CONSTITUTIONAL_HASH, received: "abcdefabcdefabcd" });
  });

  it("runs a long search as a background job (202), polled to the same answer an inline run gives", async () => {
    const request = { seed: 99, generations: 100, population: 30 };
    const accepted = await evolve(request);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ job_id: expect.any(String), status: "running", generations: 100, poll: `/api/v1/evolve/${accepted.body.job_id}` });
    expect(accepted.headers.get("location")).toBe(accepted.body.poll);
    const done = await pollUntilDone(evolution.url, accepted.body.poll);
    expect(done.body).toMatchObject({ job_id: accepted.body.job_id, status: "succeeded", generation: 100, generations: 100, finished_at: expect.any(String) });

    const inline = await startEvolution(governance.url, { inlineLimit: 1_000_000 });
    const direct = await evolve(request, inline.url);
    expect(direct.status).toBe(200);
    const { status, ...result } = direct.body;
    expect(status).toBe("succeeded");
    expect(done.body.result).toEqual(result);
    expect(done.body.best).toEqual(result.best);
  });

  it("keeps answering while a job runs, reports its progress, and refuses jobs beyond its limit", async () => {
    const busy = await startEvolution(governance.url, { inlineLimit: 0, maxRunningJobs: 1 });
    const accepted = await evolve({ seed: 5, generations: 2000, population: 250 }, busy.url);
    expect(accepted.status).toBe(202);
    const refused = await evolve({ seed: 6, generations: 10, population: 10 }, busy.url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(refused.body).toMatchObject({ running: 1, limit: 1 });

    const latencies: number[] = [];
    const progress: number[] = [];
    for (;;) {
      const start = performance.now();
      const job = await poll(busy.url, accepted.body.poll);
      latencies.push(performance.now() - start);
      if (job.body.status !== "running") {
        expect(job.body.status).toBe("succeeded");
        break;
      }
      if (job.body.best !== null) {
        progress.push(job.body.generation);
        expect(job.body.best).toMatchObject({ parameters: expect.any(Object), fitness: expect.any(Number) });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    // Answered throughout the run (a search that never yielded would answer no poll before its
    // end), each poll promptly: the search yields every 10 ms; the margin is for a busy machine.
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBeGreaterThan(progress[0]);
    expect(Math.max(...latencies)).toBeLessThan(500);
    expect((await evolve({ seed: 6, generations: 10, population: 10 }, busy.url)).status).toBe(202);
  }, 120_000);

  it("reports a job whose process stopped as failed, once its heartbeat is old", async () => {
    const { rows } = await admin.query(
      "INSERT INTO evolution_jobs (status, request, generations, generation, heartbeat_at) VALUES ('running', '{}', 50, 12, now() - interval '5 minutes') RETURNING id",
    );
    const job = await poll(evolution.url, `/api/v1/evolve/${rows[0].id}`);
    expect(job.body).toMatchObject({ status: "failed", generation: 12, error: expect.stringContaining("interrupted") });
  });

  it("answers 409 without decisions, 502 for a foreign answer and 503 with Retry-After when policy-governance is down", async () => {
    const empty = await startEvolution((await startGovernance("empty")).url);
    expect((await evolve({}, empty.url)).status).toBe(409);
    const foreign = await startTestService(
      "policy-governance",
      (app) => app.get("/api/v1/decisions", (c) => c.json({ decisions: [{ id: 1, subject: "s", action: "a", resource: "r", decision: "maybe" }] })),
      { DATABASE_URL: decisionsDb.url },
    );
    started.push(foreign);
    const broken = await evolve({}, (await startEvolution(foreign.url)).url);
    expect(broken.status).toBe(502);
    expect(broken.body.detail).toContain("decisions.0.decision");
    const down = await evolve({}, (await startEvolution(`http://127.0.0.1:${await freePort()}`)).url);
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    expect(down.body).toMatchObject({ dependency: "policy-governance" });
  });

  it("needs a specialist's token (level 7) where auth is required", async () => {
    const issuer = await startTokenIssuer();
    try {
      const guarded = await startEvolution(governance.url, {}, { AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl });
      const body = { seed: 1, generations: 2, population: 4, parameters: PARAMETERS };
      const as = (token?: string) => ({ ...HASH, ...(token ? { Authorization: `Bearer ${token}` } : {}) });
      expect((await call(guarded.url, "POST", "/api/v1/evolve", body, as())).status).toBe(401);
      expect((await call(guarded.url, "POST", "/api/v1/evolve", body, as(issuer.token("worker")))).body).toMatchObject({ requiredLevel: 7, level: 5 });
      expect((await call(guarded.url, "POST", "/api/v1/evolve", body, as(issuer.token("specialist")))).status).toBe(200);
    } finally {
      await issuer.stop();
    }
  });

  it("answers 503 with Retry-After while its PostgreSQL is down; acknowledged jobs still finish", async () => {
    const accepted = await evolve({ seed: 11, generations: 400, population: 50 });
    expect(accepted.status).toBe(202);
    await jobsDb.halt();
    try {
      const refused = await evolve({ seed: 12, generations: 100, population: 30 });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(refused.body).toMatchObject({ dependency: "postgres" });
      expect((await fetch(`${evolution.url}/ready`)).status).toBe(503);
    } finally {
      await jobsDb.resume();
    }
    const done = await pollUntilDone(evolution.url, accepted.body.poll);
    expect(done.body).toMatchObject({ status: "succeeded", generation: 400, result: { seed: 11, best: { fitness: expect.any(Number) } } });
    const after = await evolve({ seed: 12, generations: 100, population: 30 });
    expect(after.status).toBe(202);
    expect((await pollUntilDone(evolution.url, after.body.poll)).body.status).toBe("succeeded");
  }, 60_000);
});
