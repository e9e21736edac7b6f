// requireLevel's token check: each distinct token verified once, its verdict reused until the token
// expires and refused after; the Authorization header forms it takes and the ones it does not.
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import { requireLevel } from "../../services/kit/require-level";
import { createServiceApp } from "../../services/kit/service-app";
import { createTokenVerifier, type TokenVerifier } from "../../services/kit/token-verifier";
import { startTokenIssuer, type TokenIssuer } from "../support/token-issuer";

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await startTokenIssuer();
});
afterAll(() => issuer?.stop());

/** A guarded route on a verifier whose clock the test moves, counting the signature checks. */
function guardedRoute() {
  const clock = { now: Date.now() };
  const inner = createTokenVerifier({ jwksUrl: issuer.jwksUrl, now: () => clock.now });
  let verifications = 0;
  const tokenVerifier: TokenVerifier = {
    cached: (token) => inner.cached(token),
    verify: (token) => {
      verifications++;
      return inner.verify(token);
    },
  };
  const config = loadConfig("formal-verification", { AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl, RATE_LIMIT_PER_MINUTE: "0" });
  const app = createServiceApp({ config, logger: silentLogger, tokenVerifier });
  app.post("/api/v1/guarded", requireLevel(5), (c) => c.json({ caller: c.get("principal")?.sub }));
  const post = (authorization?: string) =>
    app.request("/api/v1/guarded", {
      method: "POST",
      headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH, ...(authorization === undefined ? {} : { Authorization: authorization }) },
    });
  return { post, clock, verifications: () => verifications };
}

describe("requireLevel", () => {
  it("verifies a token once and answers from its verdict until it expires, then refuses it", async () => {
    const { post, clock, verifications } = guardedRoute();
    const token = issuer.token("worker", "agent-7");
    for (let i = 0; i < 3; i++) {
      const res = await post(`Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ caller: "agent-7" });
    }
    expect(verifications()).toBe(1);
    // Another token is another verification.
    expect((await post(`Bearer ${issuer.token("orchestrator")}`)).status).toBe(200);
    expect(verifications()).toBe(2);

    clock.now += 901 * 1000; // past the 15-minute expiry
    const expired = await post(`Bearer ${token}`);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ error: "invalid token", reason: "token expired" });
    expect(verifications()).toBe(3);
  });

  it("refuses a known token's level when it is too low, from the cached verdict too", async () => {
    const { post } = guardedRoute();
    const observer = issuer.token("observer");
    for (let i = 0; i < 2; i++) {
      const res = await post(`Bearer ${observer}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: "authorization level too low", requiredLevel: 5, level: 3, role: "observer" });
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="acgs", error="insufficient_scope"');
    }
  });

  it("takes the scheme in any case and extra spaces around the token", async () => {
    const { post } = guardedRoute();
    const token = issuer.token("worker");
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}`]) {
      expect({ header: header.slice(0, 10), status: (await post(header)).status }).toEqual({ header: header.slice(0, 10), status: 200 });
    }
  });

  it("answers 401 missing bearer token for a header that is not a single bearer token", async () => {
    const { post, verifications } = guardedRoute();
    const token = issuer.token("worker");
    for (const header of [undefined, "Bearer", "Bearer ", `Basic ${token}`, `Bearer ${token} extra`, `Bearer${token}`, token]) {
      const res = await post(header);
      expect({ header, status: res.status, body: await res.json() }).toEqual({ header, status: 401, body: { error: "missing bearer token", header: "Authorization" } });
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="acgs"');
    }
    expect(verifications()).toBe(0);
  });
});
