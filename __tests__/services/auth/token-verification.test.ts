// Another service checks auth's tokens offline: requireLevel on its mutating routes, keys from
// auth's JWKS on a real port, auth on a real PostgreSQL 15.
import { generateKeyPairSync } from "node:crypto";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import { signingKeyFromStored } from "../../../services/auth/signing-key";
import { createAuthStore } from "../../../services/auth/store";
import { ACCESS_TOKEN_SECONDS } from "../../../services/auth/token-issuer";
import { signJwt } from "../../../services/kit/compact-jwt";
import { loadConfig } from "../../../services/kit/config";
import { silentLogger } from "../../../services/kit/logger";
import { requireLevel } from "../../../services/kit/require-level";
import { createServiceApp } from "../../../services/kit/service-app";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { createTokenVerifier, InvalidTokenError } from "../../../services/kit/token-verifier";
import { freePort } from "../../support/free-port";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { call, PASSWORD, startAuth, testClock } from "./auth-server";

let postgres: PostgresServer;
let auth: ServiceHandle;
const tokens: Record<"orchestrator" | "worker", string> = { orchestrator: "", worker: "" };
// Auth's clock, moved back to issue a token that has already expired.
const authClock = testClock();

beforeAll(async () => {
  postgres = await startPostgres();
  auth = await startAuth(postgres.url, authClock);
  await call(auth.url, "/api/v1/register", { username: "root", password: PASSWORD, role: "orchestrator" });
  tokens.orchestrator = (await call(auth.url, "/api/v1/login", { username: "root", password: PASSWORD })).body.accessToken;
  await call(auth.url, "/api/v1/register", { username: "agent-1", password: PASSWORD, role: "worker", kind: "agent" }, tokens.orchestrator);
  tokens.worker = (await call(auth.url, "/api/v1/login", { username: "agent-1", password: PASSWORD })).body.accessToken;
}, 60_000);

afterAll(async () => {
  await auth?.shutdown();
  await postgres?.stop();
});

const jwksUrl = () => `${auth.url}/.well-known/jwks.json`;

/** policy-governance as another engineer would write it: a mutating route that needs level 7. */
function policyService(env: Record<string, string> = {}) {
  const config = loadConfig("policy-governance", { AUTH_REQUIRED: "true", AUTH_JWKS_URL: jwksUrl(), RATE_LIMIT_PER_MINUTE: "0", ...env });
  const app = createServiceApp({ config, logger: silentLogger });
  app.post("/api/v1/policies", requireLevel(7), (c) => c.json({ createdBy: c.get("principal")?.username ?? null }, 201));
  const post = (token?: string) =>
    app.request("/api/v1/policies", {
      method: "POST",
      headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH, ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) },
    });
  return { app, post };
}

/** A token signed with auth's real key: only the claims are wrong. */
async function signedByAuth(claims: Record<string, unknown>): Promise<string> {
  const store = createAuthStore(auth.context.database!);
  const key = signingKeyFromStored(await store.loadOrCreateSigningKey(() => {
    throw new Error("the key exists already");
  }));
  const now = Math.floor(Date.now() / 1000);
  const valid = { iss: "acgs-auth", aud: "acgs", sub: "s", username: "u", role: "orchestrator", level: 10, kind: "user", iat: now, exp: now + 600, constitutional_hash: CONSTITUTIONAL_HASH };
  return signJwt(key.kid, { ...valid, ...claims }, key.privateKey);
}

describe("requireLevel on another service's route", () => {
  it("answers 200 for a token of a sufficient level, with the caller in the context", async () => {
    const res = await policyService().post(tokens.orchestrator);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ createdBy: "root" });
  });

  it("answers 401 with WWW-Authenticate for a missing token", async () => {
    const res = await policyService().post();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="acgs"');
    expect(await res.json()).toEqual({ error: "missing bearer token", header: "Authorization" });
  });

  it("answers 403 naming the required and the actual level for a token too low", async () => {
    const res = await policyService().post(tokens.worker);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: "authorization level too low", requiredLevel: 7, level: 5, role: "worker" });
  });

  it("answers 401 for forged tokens", async () => {
    const { post } = policyService();
    const [header, payload, signature] = tokens.worker.split(".");
    const kid = JSON.parse(Buffer.from(header, "base64url").toString()).kid;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const raised = Buffer.from(JSON.stringify({ ...claims, role: "orchestrator", level: 10 })).toString("base64url");
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const forged: [string, string, string][] = [
      ["level raised, signature kept", `${header}.${raised}.${signature}`, "token signature is not valid"],
      [
        "signed with another key under auth's kid",
        signJwt(kid, { ...claims, role: "orchestrator", level: 10 }, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
        "token signature is not valid",
      ],
      ["alg none", `${b64({ alg: "none", kid })}.${raised}.${signature}`, "unsupported token algorithm: none (only ES256)"],
      ["alg none, no signature", `${b64({ alg: "none", kid })}.${raised}.`, "malformed token: expected three base64url segments"],
      ["alg HS256", `${b64({ alg: "HS256", kid })}.${raised}.${signature}`, "unsupported token algorithm: HS256 (only ES256)"],
      ["unknown kid", `${b64({ alg: "ES256", kid: "nope" })}.${payload}.${signature}`, "token signed with an unknown key"],
      ["not a JWT", "garbage", "malformed token: expected three base64url segments"],
    ];
    for (const [what, token, reason] of forged) {
      const res = await post(token);
      expect({ what, status: res.status, body: await res.json() }).toEqual({ what, status: 401, body: { error: "invalid token", reason } });
      expect(res.headers.get("www-authenticate")).toBe(`Bearer realm="acgs", error="invalid_token", error_description="${reason}"`);
    }
  });

  it("answers 401 for an expired token and for claims auth would never sign", async () => {
    const { post } = policyService();
    authClock.advance(-(ACCESS_TOKEN_SECONDS + 60) * 1000);
    const expired = (await call(auth.url, "/api/v1/login", { username: "root", password: PASSWORD })).body.accessToken;
    authClock.advance((ACCESS_TOKEN_SECONDS + 60) * 1000);
    const reasons: Record<string, string> = {};
    for (const [what, token] of Object.entries({
      expired,
      "other constitution": await signedByAuth({ constitutional_hash: "0000000000000000" }),
      "other audience": await signedByAuth({ aud: "someone-else" }),
      "other issuer": await signedByAuth({ iss: "evil" }),
      "level not the role's": await signedByAuth({ role: "worker", level: 10 }),
    })) {
      const res = await post(token);
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
      reasons[what] = ((await res.json()) as { reason: string }).reason;
    }
    expect(reasons).toEqual({
      expired: "token expired",
      "other constitution": `token was issued under another constitution (expected ${CONSTITUTIONAL_HASH})`,
      "other audience": "token audience is not acgs",
      "other issuer": "token issuer is not acgs-auth",
      "level not the role's": "token level does not match its role",
    });
    // The same key with good claims passes: the refusals above were for the claims alone.
    expect((await post(await signedByAuth({}))).status).toBe(201);
  });

  it("lets requests through without a token where auth is not required (dev)", async () => {
    const res = await policyService({ AUTH_REQUIRED: "false", AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks` }).post();
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ createdBy: null });
  });

  it("answers 503 with Retry-After, naming auth, when the JWKS cannot be fetched", async () => {
    const { post } = policyService({ AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/.well-known/jwks.json` });
    const res = await post(tokens.orchestrator);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({ error: "dependency unavailable", dependency: "auth" });
  });
});

describe("the token verifier", () => {
  it("fetches the keys once and verifies each distinct token once, keeping the verdict until expiry", async () => {
    let fetches = 0;
    let now = Date.now();
    const verifier = createTokenVerifier({
      now: () => now,
      loadKeys: async () => {
        fetches++;
        return (await call(auth.url, "/.well-known/jwks.json")).body.keys;
      },
    });
    expect(verifier.cached(tokens.worker)).toBeUndefined();
    const principal = await verifier.verify(tokens.worker);
    expect(principal).toMatchObject({ username: "agent-1", role: "worker", level: 5, kind: "agent" });
    expect(verifier.cached(tokens.worker)).toEqual(principal);
    await verifier.verify(tokens.orchestrator);
    expect(fetches).toBe(1);

    now = principal.exp * 1000;
    expect(verifier.cached(tokens.worker)).toBeUndefined();
    await expect(verifier.verify(tokens.worker)).rejects.toThrow(new InvalidTokenError("token expired"));
  });

  it("keeps verifying with the keys it has while auth is down, and evicts the least recently used verdict", async () => {
    let up = true;
    const verifier = createTokenVerifier({
      cacheSize: 1,
      keysMaxAgeMs: 0, // every verification wants fresh keys
      failureBackoffMs: 0,
      loadKeys: async () => {
        if (!up) throw new Error("connection refused");
        return (await call(auth.url, "/.well-known/jwks.json")).body.keys;
      },
    });
    await verifier.verify(tokens.worker);
    up = false;
    expect(await verifier.verify(tokens.orchestrator)).toMatchObject({ role: "orchestrator" });
    // cacheSize 1: the orchestrator's verdict pushed the worker's out.
    expect(verifier.cached(tokens.worker)).toBeUndefined();
    expect(verifier.cached(tokens.orchestrator)).toBeDefined();
  });

  it("throws DependencyUnavailableError naming auth when it has no keys and cannot get them", async () => {
    const verifier = createTokenVerifier({ jwksUrl: `http://127.0.0.1:${await freePort()}/jwks`, fetchTimeoutMs: 500 });
    await expect(verifier.verify(tokens.worker)).rejects.toMatchObject({ name: "DependencyUnavailableError", dependency: "auth" });
  });
});
