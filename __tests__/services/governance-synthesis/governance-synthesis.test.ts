// governance-synthesis end to end: real constitutional-ai (on a real PostgreSQL and Redis) and real
// formal-verification on free ports, each peer stopped in turn, and tokens passed through.
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import { constitutionalAiRoutes } from "../../../services/constitutional-ai/routes";
import { formalVerificationRoutes } from "../../../services/formal-verification/routes";
import { governanceSynthesisRoutes } from "../../../services/governance-synthesis/routes";
import { createLogger, type Logger } from "../../../services/kit/logger";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startRedis, type RedisServer } from "../../support/redis";
import { apiCall, fieldPaths } from "../../support/api-call";
import { startTestService } from "../../support/test-service";
import { startTokenIssuer, type TokenIssuer } from "../../support/token-issuer";

describe("governance-synthesis", () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let issuer: TokenIssuer;
  let constitution: ServiceHandle;
  let verifier: ServiceHandle;
  let synthesis: ServiceHandle;
  const guarded: ServiceHandle[] = [];
  /** What constitutional-ai logged: how the test sees the request id arrive. */
  const constitutionLog: Record<string, unknown>[] = [];

  const startConstitution = (port = 0, extra: Record<string, string> = {}, logger?: Logger) =>
    startTestService("constitutional-ai", constitutionalAiRoutes, { DATABASE_URL: postgres.url, REDIS_URL: redis.url, ...extra }, { port, logger });
  const startVerifier = (port = 0, extra: Record<string, string> = {}) => startTestService("formal-verification", formalVerificationRoutes, extra, { port });
  const startSynthesis = (constitutionUrl: string, verifierUrl: string, extra: Record<string, string> = {}) =>
    startTestService("governance-synthesis", governanceSynthesisRoutes, {
      SERVICE_URL_CONSTITUTIONAL_AI: constitutionUrl,
      SERVICE_URL_FORMAL_VERIFICATION: verifierUrl,
      ...extra,
    });

  beforeAll(async () => {
    [postgres, redis, issuer] = await Promise.all([startPostgres(), startRedis(), startTokenIssuer()]);
    const capture = createLogger({ service: "constitutional-ai", write: (line) => constitutionLog.push(JSON.parse(line)) });
    [constitution, verifier] = await Promise.all([startConstitution(0, {}, capture), startVerifier()]);
    synthesis = await startSynthesis(constitution.url, verifier.url);
    const auth = { AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl };
    const [c, v] = await Promise.all([startConstitution(0, auth), startVerifier(0, auth)]);
    guarded.push(c, v, await startSynthesis(c.url, v.url, auth));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([synthesis, constitution, verifier, ...guarded].map((s) => s?.shutdown()));
    await Promise.all([postgres?.stop(), redis?.stop(), issuer?.stop()]);
  });

  const synthesize = (body: unknown, options: { token?: string; url?: string } = {}) =>
    apiCall(options.url ?? synthesis.url, "/api/v1/synthesize", { body, token: options.token });

  it("drafts a prohibition and returns it with both verdicts; the request id reaches constitutional-ai", async () => {
    const res = await fetch(`${synthesis.url}/api/v1/synthesize`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Constitutional-Hash": CONSTITUTIONAL_HASH, "X-Request-Id": "synth-e2e-1" },
      body: JSON.stringify({
        principle: "Agents must never delete production databases",
        context: { subjects: ["agent:*"], resources: ["db:prod/*"], exceptions: ["agent:dba"] },
      }),
    });
    expect(res.status).toBe(200);
    const body: any = await res.json();
    expect(body.draft).toEqual({
      name: "agents-must-never-delete-production-databases",
      description: "Agents must never delete production databases",
      template: "prohibition",
      rules: [
        expect.objectContaining({ id: "agents-must-never-delete-production-databases.allow-exceptions", effect: "allow", priority: 20, subject: ["agent:dba"], action: ["delete"], resource: ["db:prod/*"] }),
        expect.objectContaining({ id: "agents-must-never-delete-production-databases.deny", effect: "deny", priority: 10, subject: ["agent:*"], action: ["delete"], resource: ["db:prod/*"] }),
      ],
    });
    expect(body.validation).toMatchObject({ compliant: true, violations: [], constitution_version: 1, constitution_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(body.verification).toMatchObject({ valid: true, contradictions: [], shadowed: [], unreachable: [], rule_count: 2 });
    expect(body.approved).toBe(true);
    expect(constitutionLog).toContainEqual(expect.objectContaining({ msg: "request", requestId: "synth-e2e-1", path: "/api/v1/validate", status: 200 }));
  });

  it("is deterministic: the same principle and context give the same draft", async () => {
    const request = { principle: "Deploys to production need approval", context: { resources: ["env:prod"], approvers: ["role:release-manager"] } };
    const [first, second] = [await synthesize(request), await synthesize(request)];
    expect(first.status).toBe(200);
    expect(second.body.draft).toEqual(first.body.draft);
    expect(first.body.draft.template).toBe("approval");
    expect(first.body.draft.rules.map((r: { id: string; effect: string }) => [r.id, r.effect])).toEqual([
      ["deploys-to-production-need-approval.allow-permitted", "allow"],
      ["deploys-to-production-need-approval.deny-others", "deny"],
    ]);
    expect(first.body.approved).toBe(true);
  });

  it("passes on what the verdicts find: a wildcard allow breaks least privilege, a restriction to everyone shadows its own deny", async () => {
    const wildcard = await synthesize({ principle: "Agents may do anything", context: { actions: ["*"] } });
    expect(wildcard.status).toBe(200);
    expect(wildcard.body.approved).toBe(false);
    expect(wildcard.body.validation.violations.map((v: { principle_id: string }) => v.principle_id)).toEqual(["least-privilege"]);
    expect(wildcard.body.verification.valid).toBe(true);

    const everyone = await synthesize({ principle: "Only agents may deploy", context: { subjects: ["*"] } });
    expect(everyone.body.approved).toBe(false);
    expect(everyone.body.validation.compliant).toBe(true);
    expect(everyone.body.verification.shadowed).toEqual([
      expect.objectContaining({ rule_id: "only-agents-may-deploy.deny-others", shadowed_by: "only-agents-may-deploy.allow-permitted", kind: "overridden" }),
    ]);

    const risky = await synthesize({ principle: "Agents must not push to main", context: { risk_level: "high", resources: ["repo:*/main"] } });
    expect(risky.status).toBe(400);
    expect(fieldPaths(risky)).toContain("context.resources.0");
    const high = await synthesize({ principle: "Agents must not push to main", context: { risk_level: "high", resources: ["branch:main"] } });
    expect(high.body.validation.violations.map((v: { principle_id: string }) => v.principle_id)).toEqual(["human-oversight-for-high-risk"]);
    const approvedHigh = await synthesize({ principle: "Agents must not push to main", context: { risk_level: "high", resources: ["branch:main"], approved_by: "cto" } });
    expect(approvedHigh.body.approved).toBe(true);
  });

  it.each([
    ["no principle", { context: {} }, 400, "principle"],
    ["an empty principle", { principle: "   " }, 400, "principle"],
    ["subjects that are not a list", { principle: "Agents must not delete", context: { subjects: "agent:x" } }, 400, "context.subjects"],
    ["an unknown context field", { principle: "Agents must not delete", context: { colour: "red" } }, 400, "context"],
    ["a principle no template fits", { principle: "Blue is a colour" }, 422, "principle"],
    ["a principle naming no action", { principle: "Agents must not misbehave" }, 422, "context.actions"],
    ["a restriction naming no one", { principle: "Only some may deploy" }, 422, "context.subjects"],
  ])("refuses %s, naming the field", async (_what, body, status, path) => {
    const res = await synthesize(body);
    expect(res.status).toBe(status);
    expect(fieldPaths(res)).toContain(path);
  });

  it("refuses another constitution's hash with 403", async () => {
    const res = await apiCall(synthesis.url, "/api/v1/synthesize", { body: { principle: "Agents must not delete" }, hash: "0123456789abcdef" });
    expect(res.status).toBe(403);
  });

  it("answers 503 with Retry-After, and no draft, while formal-verification or constitutional-ai is down", async () => {
    const request = { principle: "Agents must not delete production databases", context: { resources: ["db:prod/*"] } };
    for (const peer of ["formal-verification", "constitutional-ai"] as const) {
      const handle = peer === "formal-verification" ? verifier : constitution;
      await handle.shutdown();
      const down = await synthesize(request);
      expect(down.status).toBe(503);
      expect(down.headers.get("Retry-After")).toBe("5");
      expect(down.body).toEqual({ error: "dependency unavailable", dependency: peer, requestId: expect.any(String) });
      // Back on the same port, the same request succeeds.
      if (peer === "formal-verification") verifier = await startVerifier(handle.port);
      else constitution = await startConstitution(handle.port);
      const back = await synthesize(request);
      expect(back.status).toBe(200);
      expect(back.body.approved).toBe(true);
    }
  }, 30_000);

  it("where auth is required: needs a worker's token, and passes it on to both peers", async () => {
    const request = { principle: "Agents must not delete production databases", context: { resources: ["db:prod/*"] } };
    const url = guarded[2].url;
    expect((await synthesize(request, { url })).status).toBe(401);
    expect((await synthesize(request, { url, token: issuer.token("observer") })).status).toBe(403);
    // The peers require a worker too: a 200 means the token reached both.
    const ok = await synthesize(request, { url, token: issuer.token("worker") });
    expect(ok.status).toBe(200);
    expect(ok.body.approved).toBe(true);
  });
});
