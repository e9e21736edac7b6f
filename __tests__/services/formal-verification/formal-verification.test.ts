// formal-verification's route on a real port: reports, bad bodies, the hash contract and tokens.
import { request as httpRequest } from "node:http";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import { formalVerificationRoutes } from "../../../services/formal-verification/routes";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { apiCall, fieldPaths } from "../../support/api-call";
import { startTestService } from "../../support/test-service";
import { startTokenIssuer, type TokenIssuer } from "../../support/token-issuer";

const start = (env: Record<string, string> = {}) => startTestService("formal-verification", formalVerificationRoutes, env);

describe("formal-verification", () => {
  let service: ServiceHandle;
  let guarded: ServiceHandle;
  let limited: ServiceHandle;
  let issuer: TokenIssuer;

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    [service, guarded, limited] = await Promise.all([
      start(),
      start({ AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl }),
      start({ BODY_LIMIT_BYTES: "4096" }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([service?.shutdown(), guarded?.shutdown(), limited?.shutdown()]);
    await issuer?.stop();
  });

  const verify = (body: unknown, options: { token?: string; hash?: string } = {}) =>
    apiCall(service.url, "/api/v1/verify", { body, ...options });

  it("answers a report with the rule ids of each finding", async () => {
    const res = await verify({
      rules: [
        { id: "catch-all", effect: "deny" },
        { id: "later", effect: "allow", action: "read" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      valid: false,
      rule_count: 2,
      contradictions: [],
      shadowed: [],
      unreachable: [{ rule_id: "later", rule_ids: ["catch-all", "later"] }],
    });
    const clean = await verify({ rules: [{ id: "r1", effect: "allow", subject: "agent:*", action: ["read"], resource: "repo:*" }] });
    expect(clean.body).toMatchObject({ valid: true, rule_count: 1 });
  });

  it.each([
    ["no rules field", {}, "rules"],
    ["rules not a list", { rules: "all" }, "rules"],
    ["an unknown effect", { rules: [{ id: "r", effect: "maybe" }] }, "rules.0.effect"],
    ["a missing id", { rules: [{ effect: "allow" }] }, "rules.0.id"],
    ["a repeated id", { rules: [{ id: "r", effect: "allow" }, { id: "r", effect: "deny" }] }, "rules.1.id"],
    ["a star inside a pattern", { rules: [{ id: "r", effect: "allow", resource: "repo:*/secrets" }] }, "rules.0.resource"],
    ["a fractional priority", { rules: [{ id: "r", effect: "allow", priority: 1.5 }] }, "rules.0.priority"],
    ["an unknown rule field", { rules: [{ id: "r", effect: "allow", subjects: "x" }] }, "rules.0"],
    ["an unknown top-level field", { rules: [], extra: 1 }, "(root)"],
  ])("answers 400 naming the field for %s", async (_what, body, path) => {
    const res = await verify(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid request body");
    expect(fieldPaths(res)).toContain(path);
  });

  it("answers 400 to malformed JSON and 403 to another constitution's hash", async () => {
    const malformed = await verify("{ rules: ");
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe("malformed JSON body");
    const wrongHash = await verify({ rules: [] }, { hash: "0000000000000000" });
    expect(wrongHash.status).toBe(403);
    expect(wrongHash.body).toMatchObject({ error: "constitutional hash mismatch", received: "0000000000000000" });
  });

  it("answers a repeated body the same report, and a repeated bad body the same 400 each time", async () => {
    const body = { rules: [{ id: "a", effect: "allow", action: "read" }, { id: "b", effect: "deny", action: ["read"] }] };
    const first = await verify(body);
    expect(first.body.contradictions).toEqual([{ rule_ids: ["a", "b"], reason: expect.any(String) }]);
    for (let i = 0; i < 2; i++) expect(await verify(body)).toMatchObject({ status: 200, body: first.body });
    // The same rules with other spacing and key order: the same report.
    const respaced = '{ "rules": [ {"action":"read","effect":"allow","id":"a"}, {"id":"b","action":["read"],"effect":"deny"} ] }';
    expect((await verify(respaced)).body).toEqual(first.body);
    const bad = { rules: [{ id: "a", effect: "allow" }, { id: "a", effect: "deny" }] };
    for (let i = 0; i < 2; i++) {
      const res = await verify(bad);
      expect(res.status).toBe(400);
      expect(res.body.fields).toEqual([{ path: "rules.1.id", message: 'duplicate rule id "a"' }]);
    }
  });

  it("where auth is required: 401 without a token, 403 below worker, 200 for a worker", async () => {
    const body = { rules: [{ id: "r", effect: "allow" }] };
    expect((await apiCall(guarded.url, "/api/v1/verify", { body })).status).toBe(401);
    const observer = await apiCall(guarded.url, "/api/v1/verify", { body, token: issuer.token("observer") });
    expect(observer.status).toBe(403);
    expect(observer.body).toMatchObject({ requiredLevel: 5, level: 3 });
    expect((await apiCall(guarded.url, "/api/v1/verify", { body, token: issuer.token("worker") })).status).toBe(200);
  });

  describe("request bodies over a real socket (read from Node's stream, not a WHATWG Request)", () => {
    /** POSTs `chunks` one write each; chunked transfer encoding unless `declareLength`. */
    const post = (url: string, chunks: string[], declareLength: boolean) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const headers: Record<string, string> = { "Content-Type": "application/json", "X-Constitutional-Hash": CONSTITUTIONAL_HASH };
        if (declareLength) headers["Content-Length"] = String(Buffer.byteLength(chunks.join("")));
        const req = httpRequest(`${url}/api/v1/verify`, { method: "POST", headers }, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        });
        req.on("error", reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });
    const rules = (n: number) => ({ rules: Array.from({ length: n }, (_, i) => ({ id: `rule-${i}`, effect: "allow", action: `act-${i}` })) });

    it("parses a body sent in many pieces, declared or chunked", async () => {
      const text = JSON.stringify(rules(400));
      const pieces = text.match(/[\s\S]{1,1000}/g)!;
      for (const declareLength of [true, false]) {
        const res = await post(service.url, pieces, declareLength);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ valid: true, rule_count: 400 });
      }
    });

    it("refuses a body over the limit with 413, whether its length is declared or not", async () => {
      const big = JSON.stringify(rules(200));
      expect(big.length).toBeGreaterThan(4096);
      for (const declareLength of [true, false]) {
        const res = await post(limited.url, [big.slice(0, 3000), big.slice(3000)], declareLength);
        expect(res.status).toBe(413);
        expect(res.body).toEqual({ error: "request body too large", limitBytes: 4096 });
      }
      const small = await post(limited.url, [JSON.stringify(rules(3))], false);
      expect(small).toMatchObject({ status: 200, body: { rule_count: 3 } });
    });
  });
});
