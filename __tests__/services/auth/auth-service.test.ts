// The auth service against a real PostgreSQL 15: registration rules, login, lockout (on a clock
// the test moves), refresh rotation and reuse, logout, bad bodies, and its signing key surviving
// restarts and concurrent first starts.
import { createHash } from "node:crypto";
import { Client } from "pg";
import { ROLE_LEVELS } from "../../../services/kit/roles";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { createDatabase } from "../../support/postgres";
import { waitUntil } from "../../support/wait-until";
import { call, PASSWORD, queryOnce, startAuth, testClock, type TestClock } from "./auth-server";

let postgres: PostgresServer;
const running: ServiceHandle[] = [];
let databases = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((s) => s.shutdown()));
  await postgres?.stop();
});

/** Auth on a database of its own (so "no account yet" means something), with its own clock. */
async function freshAuth(clock: TestClock = testClock()) {
  const databaseUrl = await createDatabase(postgres.url, `auth_${++databases}`);
  const auth = await startAuth(databaseUrl, clock);
  running.push(auth);
  return { auth, url: auth.url, databaseUrl, clock };
}

/** Bootstraps the orchestrator "root" and returns its access token. */
async function bootstrap(url: string): Promise<string> {
  const created = await call(url, "/api/v1/register", { username: "root", password: PASSWORD, role: "orchestrator" });
  expect(created.status).toBe(201);
  const login = await call(url, "/api/v1/login", { username: "root", password: PASSWORD });
  expect(login.status).toBe(200);
  return login.body.accessToken;
}

describe("registration", () => {
  it("bootstraps the first account as an orchestrator without a token, then requires one", async () => {
    const { url } = await freshAuth();
    const first = await call(url, "/api/v1/register", { username: "Root", password: PASSWORD, role: "orchestrator" });
    expect(first.status).toBe(201);
    expect(first.body.account).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: "root",
      role: "orchestrator",
      level: 10,
      kind: "user",
      createdAt: expect.any(String),
    });
    const second = await call(url, "/api/v1/register", { username: "mallory", password: PASSWORD, role: "orchestrator" });
    expect(second.status).toBe(401);
    expect(second.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(second.body).toEqual({ error: "registering an account needs a bearer token", requiredLevel: 10 });
  });

  it("refuses a first account that is not an orchestrator (nobody could register anyone after it)", async () => {
    const { url } = await freshAuth();
    const res = await call(url, "/api/v1/register", { username: "obs", password: PASSWORD, role: "observer" });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "the first account must be an orchestrator", field: "role" });
  });

  it("lets exactly one of two simultaneous first registrations bootstrap", async () => {
    const { url, databaseUrl } = await freshAuth();
    const answers = await Promise.all(
      ["first-a", "first-b"].map((username) => call(url, "/api/v1/register", { username, password: PASSWORD, role: "orchestrator" })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 401]);
    expect(await queryOnce(databaseUrl, "SELECT username FROM auth_accounts")).toHaveLength(1);
  });

  it("lets an orchestrator register any role and a specialist only workers and observers; agents too", async () => {
    const { url } = await freshAuth();
    const root = await bootstrap(url);
    const spec = await call(url, "/api/v1/register", { username: "spec", password: PASSWORD, role: "specialist" }, root);
    expect(spec.status).toBe(201);
    const specToken = (await call(url, "/api/v1/login", { username: "spec", password: PASSWORD })).body.accessToken;

    const agent = await call(url, "/api/v1/register", { username: "agent-7", password: PASSWORD, role: "worker", kind: "agent" }, specToken);
    expect(agent.status).toBe(201);
    expect(agent.body.account).toMatchObject({ username: "agent-7", role: "worker", level: 5, kind: "agent" });

    const peer = await call(url, "/api/v1/register", { username: "spec2", password: PASSWORD, role: "specialist" }, specToken);
    expect(peer.status).toBe(403);
    expect(peer.body).toEqual({ error: "registering a specialist needs authorization level 10", requiredLevel: 10, level: 7, role: "specialist" });

    const workerToken = (await call(url, "/api/v1/login", { username: "agent-7", password: PASSWORD })).body.accessToken;
    const byWorker = await call(url, "/api/v1/register", { username: "obs", password: PASSWORD, role: "observer" }, workerToken);
    expect(byWorker.status).toBe(403);
    expect(byWorker.body).toMatchObject({ requiredLevel: 7, level: 5 });

    const forged = await call(url, "/api/v1/register", { username: "obs", password: PASSWORD, role: "observer" }, `${root}x`);
    expect(forged.status).toBe(401);
    expect(forged.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("answers 409 for a username taken, whatever its case", async () => {
    const { url } = await freshAuth();
    const root = await bootstrap(url);
    const res = await call(url, "/api/v1/register", { username: "ROOT", password: PASSWORD, role: "worker" }, root);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "username already taken", field: "username", username: "root" });
  });

  it("answers 400 naming the field of a bad body", async () => {
    const { url } = await freshAuth();
    const root = await bootstrap(url);
    const cases: [unknown, string][] = [
      [{ password: PASSWORD, role: "worker" }, "username"],
      [{ username: "x", password: PASSWORD, role: "worker" }, "username"],
      [{ username: "ok-name", password: "short", role: "worker" }, "password"],
      [{ username: "ok-name", password: PASSWORD, role: "admin" }, "role"],
      [{ username: "ok-name", password: PASSWORD, role: "worker", kind: "robot" }, "kind"],
    ];
    for (const [body, field] of cases) {
      const res = await call(url, "/api/v1/register", body, root);
      expect({ status: res.status, fields: res.body.fields?.map((f: { path: string }) => f.path) }).toEqual({ status: 400, fields: [field] });
    }
    const malformed = await call(url, "/api/v1/register", "{not json", root);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe("malformed JSON body");
    for (const [path, body, field] of [
      ["/api/v1/login", { username: "root" }, "password"],
      ["/api/v1/refresh", {}, "refreshToken"],
      ["/api/v1/logout", { refreshToken: 42 }, "refreshToken"],
    ] as const) {
      const res = await call(url, path, body);
      expect({ path, status: res.status, fields: res.body.fields?.map((f: { path: string }) => f.path) }).toEqual({ path, status: 400, fields: [field] });
    }
  });
});

describe("login", () => {
  it("returns a 15-minute access token with the claims other services need, and a 24-hour refresh token", async () => {
    const { url } = await freshAuth();
    await bootstrap(url);
    const res = await call(url, "/api/v1/login", { username: "root", password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900, refreshExpiresIn: 86400, refreshToken: expect.stringMatching(/^[\w-]{43}$/) });
    const [header, payload] = res.body.accessToken.split(".").slice(0, 2).map((s: string) => JSON.parse(Buffer.from(s, "base64url").toString()));
    const jwks = await call(url, "/.well-known/jwks.json");
    expect(header).toEqual({ alg: "ES256", typ: "JWT", kid: jwks.body.keys[0].kid });
    expect(payload).toMatchObject({
      iss: "acgs-auth",
      aud: "acgs",
      sub: res.body.account.id,
      role: "orchestrator",
      level: ROLE_LEVELS.orchestrator,
      kind: "user",
      constitutional_hash: "cdd01ef066bc6cf2",
    });
    expect(payload.exp - payload.iat).toBe(900);
    const me = await call(url, "/api/v1/me", undefined, res.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body.account).toEqual({ id: res.body.account.id, username: "root", role: "orchestrator", level: 10, kind: "user" });
  });

  it("refuses a wrong password and an unknown user alike", async () => {
    const { url } = await freshAuth();
    await bootstrap(url);
    const wrong = await call(url, "/api/v1/login", { username: "root", password: "not the password" });
    const unknown = await call(url, "/api/v1/login", { username: "nobody", password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.body).not.toHaveProperty("accessToken");
  });

  it("locks an account for 15 minutes after 3 failed logins, even for the right password, and unlocks after", async () => {
    const { url, clock } = await freshAuth();
    const root = await bootstrap(url);
    expect((await call(url, "/api/v1/register", { username: "worker-1", password: PASSWORD, role: "worker" }, root)).status).toBe(201);
    const login = (password: string) => call(url, "/api/v1/login", { username: "worker-1", password });

    expect((await login("wrong-1")).status).toBe(401);
    expect((await login("wrong-2")).status).toBe(401);
    const third = await login("wrong-3");
    expect(third.status).toBe(423);
    expect(third.headers.get("retry-after")).toBe("900");
    expect(third.body).toEqual({ error: "account locked after 3 failed logins; try again in 900 seconds", retryAfterSeconds: 900 });

    const rightButLocked = await login(PASSWORD);
    expect(rightButLocked.status).toBe(423);
    expect(rightButLocked.body).not.toHaveProperty("accessToken");

    clock.advance(14 * 60_000);
    const stillLocked = await login(PASSWORD);
    expect(stillLocked.status).toBe(423);
    expect(stillLocked.headers.get("retry-after")).toBe("60");

    clock.advance(60_000);
    expect((await login(PASSWORD)).status).toBe(200);
    // A success resets the count: two more failures do not lock.
    expect((await login("wrong-4")).status).toBe(401);
    expect((await login("wrong-5")).status).toBe(401);
    expect((await login(PASSWORD)).status).toBe(200);
  });

  it("checks at most 3 guesses even when they arrive together", async () => {
    const { url, databaseUrl } = await freshAuth();
    const root = await bootstrap(url);
    expect((await call(url, "/api/v1/register", { username: "target", password: PASSWORD, role: "observer" }, root)).status).toBe(201);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => call(url, "/api/v1/login", { username: "target", password: `guess-${i}` })));
    expect(answers.map((a) => a.status).sort()).toEqual([401, 401, 423, 423, 423, 423]);
    const [state] = await queryOnce<{ failed_logins: number; locked: boolean }>(
      databaseUrl,
      "SELECT failed_logins, locked_until > now() AS locked FROM auth_accounts WHERE username = 'target'",
    );
    expect(state).toEqual({ failed_logins: 3, locked: true });
  });
});

describe("a burst of logins for one account", () => {
  it("waits in memory, one at a time, refuses what is past the bound with 429, and never starves other accounts' logins", async () => {
    const { url, databaseUrl } = await freshAuth();
    await bootstrap(url);
    const root = (await call(url, "/api/v1/login", { username: "root", password: PASSWORD })).body.accessToken;
    expect((await call(url, "/api/v1/register", { username: "target", password: PASSWORD, role: "observer" }, root)).status).toBe(201);
    // The test holds target's row lock: its logins cannot finish until it lets go.
    const holder = new Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM auth_accounts WHERE username = 'target' FOR UPDATE");
      const burst = Array.from({ length: 12 }, () => call(url, "/api/v1/login", { username: "target", password: PASSWORD }));
      // Wait until the first login is waiting on the row in PostgreSQL.
      await waitUntil("a login waiting on the row lock", async () => (await queryOnce(databaseUrl, "SELECT 1 FROM pg_locks WHERE NOT granted")).length > 0, { timeoutMs: 10_000, intervalMs: 20 });
      // Another account logs in meanwhile, at once: the burst holds one connection, not the pool.
      const started = performance.now();
      const other = await call(url, "/api/v1/login", { username: "root", password: PASSWORD });
      expect(other.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(1500);
      await holder.query("COMMIT");
      const answers = await Promise.all(burst);
      // One running and eight waiting were admitted and logged in; three were refused at once.
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 429, 429]);
      const refused = answers.find((a) => a.status === 429)!;
      expect(refused.headers.get("Retry-After")).toBe("1");
      expect(refused.body).toEqual({ error: "too many logins for this account at once: try again shortly", retryAfterSeconds: 1 });
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined);
      await holder.end();
    }
    // Nothing refused was counted as a failed login.
    expect(await queryOnce(databaseUrl, "SELECT failed_logins FROM auth_accounts WHERE username = 'target'")).toEqual([{ failed_logins: 0 }]);
  });
});

describe("refresh and logout", () => {
  async function loggedIn() {
    const env = await freshAuth();
    await bootstrap(env.url);
    const login = await call(env.url, "/api/v1/login", { username: "root", password: PASSWORD });
    return { ...env, refreshToken: login.body.refreshToken as string };
  }

  it("rotates the refresh token: each one works once and brings a new access token", async () => {
    const { url, refreshToken } = await loggedIn();
    const first = await call(url, "/api/v1/refresh", { refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(refreshToken);
    expect((await call(url, "/api/v1/me", undefined, first.body.accessToken)).status).toBe(200);
    const second = await call(url, "/api/v1/refresh", { refreshToken: first.body.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.account).toMatchObject({ username: "root", role: "orchestrator" });
  });

  it("revokes the whole family when a used refresh token comes back, and only that family", async () => {
    const { url, refreshToken } = await loggedIn();
    const other = (await call(url, "/api/v1/login", { username: "root", password: PASSWORD })).body.refreshToken;
    const rotated = await call(url, "/api/v1/refresh", { refreshToken });
    expect(rotated.status).toBe(200);

    const reuse = await call(url, "/api/v1/refresh", { refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error).toMatch(/already used: every session of this login is revoked/);
    // The thief or the owner, whoever holds the newest token, is out too.
    const newest = await call(url, "/api/v1/refresh", { refreshToken: rotated.body.refreshToken });
    expect(newest.status).toBe(401);
    expect(newest.body).toEqual({ error: "refresh token revoked" });
    // Another login of the same account is another family.
    expect((await call(url, "/api/v1/refresh", { refreshToken: other })).status).toBe(200);
  });

  it("lets only one of two simultaneous refreshes with one token rotate it", async () => {
    const { url, refreshToken } = await loggedIn();
    const answers = await Promise.all([1, 2].map(() => call(url, "/api/v1/refresh", { refreshToken })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
  });

  it("refuses an expired refresh token and an unknown one", async () => {
    const { url, refreshToken, clock } = await loggedIn();
    clock.advance(24 * 3600_000);
    const expired = await call(url, "/api/v1/refresh", { refreshToken });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: "refresh token expired" });
    const unknown = await call(url, "/api/v1/refresh", { refreshToken: "A".repeat(43) });
    expect(unknown.body).toEqual({ error: "unknown refresh token" });
  });

  it("logs out: the refresh token and its family are revoked; an unknown token is 401", async () => {
    const { url, refreshToken } = await loggedIn();
    const out = await call(url, "/api/v1/logout", { refreshToken });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ loggedOut: true });
    expect((await call(url, "/api/v1/refresh", { refreshToken })).body).toEqual({ error: "refresh token revoked" });
    expect((await call(url, "/api/v1/logout", { refreshToken: "B".repeat(43) })).status).toBe(401);
  });

  it("keeps only hashes of refresh tokens in the database", async () => {
    const { databaseUrl, refreshToken } = await loggedIn();
    // Two logins so far: bootstrap's and loggedIn's.
    const rows = await queryOnce<{ token_hash: string }>(databaseUrl, "SELECT token_hash FROM auth_refresh_tokens ORDER BY issued_at");
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
    expect(rows.map((r) => r.token_hash)).toContain(createHash("sha256").update(refreshToken).digest("hex"));
    const dump = JSON.stringify(await queryOnce(databaseUrl, "SELECT * FROM auth_refresh_tokens"));
    expect(dump).not.toContain(refreshToken);
  });
});

describe("signing keys", () => {
  it("keeps the key across a restart: same kid, and tokens issued before still verify", async () => {
    const { auth, url, databaseUrl } = await freshAuth();
    const token = await bootstrap(url);
    const before = await call(url, "/.well-known/jwks.json");
    expect(before.status).toBe(200);
    expect(before.body.keys).toEqual([{ kty: "EC", crv: "P-256", x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: "ES256", use: "sig" }]);
    expect(before.body.keys[0]).not.toHaveProperty("d");
    await auth.shutdown();

    const restarted = await startAuth(databaseUrl);
    running.push(restarted);
    const after = await call(restarted.url, "/.well-known/jwks.json");
    expect(after.body).toEqual(before.body);
    expect((await call(restarted.url, "/api/v1/me", undefined, token)).status).toBe(200);
  });

  it("creates one key when two replicas start together on an empty database", async () => {
    const databaseUrl = await createDatabase(postgres.url, "auth_replicas");
    const replicas = await Promise.all([startAuth(databaseUrl), startAuth(databaseUrl)]);
    running.push(...replicas);
    const [a, b] = await Promise.all(replicas.map((r) => call(r.url, "/.well-known/jwks.json")));
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(await queryOnce(databaseUrl, "SELECT kid FROM auth_signing_keys")).toEqual([{ kid: a.body.keys[0].kid }]);
  });
});
