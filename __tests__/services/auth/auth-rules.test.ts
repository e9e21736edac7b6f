// The rules of auth that need no server: password hashes, lockout arithmetic, who may register
// whom, and signing keys that must match their id.
import type { Principal } from "../../../services/kit/access-token";
import { afterFailedLogin, LOCKOUT_MS, lockedForSeconds } from "../../../services/auth/lockout";
import { DEFAULT_SCRYPT, hashPassword, verifyPassword } from "../../../services/auth/password-hash";
import { registrationVerdict } from "../../../services/auth/registration-policy";
import { generateSigningKey, signingKeyFromStored } from "../../../services/auth/signing-key";
import { loadConfig } from "../../../services/kit/config";
import { ROLE_LEVELS, type Role } from "../../../services/kit/roles";

describe("password hashes", () => {
  it("use scrypt with the production parameters by default, salted, and verify only the right password", async () => {
    const [a, b] = await Promise.all([hashPassword("pässword-123"), hashPassword("pässword-123")]);
    expect(a).toMatch(new RegExp(`^scrypt\\$${DEFAULT_SCRYPT.N}\\$${DEFAULT_SCRYPT.r}\\$${DEFAULT_SCRYPT.p}\\$[\\w-]{22}\\$[\\w-]{43}$`));
    expect(a).not.toBe(b);
    expect(DEFAULT_SCRYPT.N * DEFAULT_SCRYPT.r * 128).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    expect(await verifyPassword("pässword-123", a)).toBe(true);
    // The same text in another Unicode normalization is the same password.
    expect(await verifyPassword("pa\u0308ssword-123", a)).toBe(true);
    expect(await verifyPassword("password-123", a)).toBe(false);
  });

  it("refuse a stored value that is not one of ours, or whose parameters would stall logins", async () => {
    const small = { N: 1024, r: 8, p: 1 };
    const stored = await hashPassword("secret-secret", small);
    expect(await verifyPassword("secret-secret", stored)).toBe(true);
    // The key's first character (the last one carries padding bits that decode alike).
    const tampered = stored.replace(/\$([\w-])([\w-]{42})$/, (_m, first: string, rest: string) => `$${first === "A" ? "B" : "A"}${rest}`);
    expect(tampered).not.toBe(stored);
    expect(await verifyPassword("secret-secret", tampered)).toBe(false);
    expect(await verifyPassword("secret-secret", "secret-secret")).toBe(false);
    expect(await verifyPassword("secret-secret", stored.replace("scrypt$1024$", "scrypt$1000$"))).toBe(false);
    expect(await verifyPassword("secret-secret", stored.replace("scrypt$1024$", `scrypt$${2 ** 24}$`))).toBe(false);
  });
});

describe("lockout", () => {
  const t0 = Date.UTC(2026, 0, 1);

  it("locks at the third failure for 15 minutes and counts afresh once the lock has run out", () => {
    let state = { failedLogins: 0, lockedUntil: null as Date | null };
    state = afterFailedLogin(state, t0);
    state = afterFailedLogin(state, t0 + 1000);
    expect(state).toEqual({ failedLogins: 2, lockedUntil: null });
    expect(lockedForSeconds(state, t0 + 1000)).toBe(0);
    state = afterFailedLogin(state, t0 + 2000);
    expect(state.lockedUntil).toEqual(new Date(t0 + 2000 + LOCKOUT_MS));
    expect(lockedForSeconds(state, t0 + 2000)).toBe(900);
    expect(lockedForSeconds(state, t0 + 2000 + LOCKOUT_MS - 1)).toBe(1);
    expect(lockedForSeconds(state, t0 + 2000 + LOCKOUT_MS)).toBe(0);
    expect(afterFailedLogin(state, t0 + 2000 + LOCKOUT_MS)).toEqual({ failedLogins: 1, lockedUntil: null });
  });
});

describe("who may register whom", () => {
  const caller = (role: Role): Principal => ({ sub: "s", username: role, role, level: ROLE_LEVELS[role], kind: "user", exp: 0 });
  const allowed = (by: Role | undefined, role: Role, accountsExist = true) =>
    registrationVerdict(by === undefined ? undefined : caller(by), role, accountsExist).allowed;

  it("follows the table", () => {
    const table = (["orchestrator", "specialist", "worker", "observer"] as const).map((by) => [
      by,
      ...(["orchestrator", "specialist", "worker", "observer"] as const).map((role) => allowed(by, role)),
    ]);
    expect(table).toEqual([
      ["orchestrator", true, true, true, true],
      ["specialist", false, false, true, true],
      ["worker", false, false, false, false],
      ["observer", false, false, false, false],
    ]);
  });

  it("lets only an orchestrator bootstrap, and nobody register without a token afterwards", () => {
    expect(registrationVerdict(undefined, "orchestrator", false)).toEqual({ allowed: true, bootstrap: true });
    expect(registrationVerdict(undefined, "worker", false)).toMatchObject({ allowed: false, status: 403 });
    expect(registrationVerdict(undefined, "observer", true)).toMatchObject({ allowed: false, status: 401 });
    expect(registrationVerdict(caller("orchestrator"), "orchestrator", true)).toEqual({ allowed: true, bootstrap: false });
  });
});

describe("signing keys", () => {
  it("are named by their thumbprint and refused when the stored key does not match its kid", () => {
    const key = generateSigningKey();
    expect(key.kid).toMatch(/^[\w-]{43}$/);
    expect(signingKeyFromStored(key).publicJwk).toEqual(key.publicJwk);
    const other = generateSigningKey();
    expect(() => signingKeyFromStored({ ...key, privateJwk: other.privateJwk })).toThrow(/does not match its kid/);
  });
});

describe("AUTH_JWKS_URL", () => {
  it("defaults to auth's dev port on this machine and is validated at start", () => {
    expect(loadConfig("blackboard", {}).authJwksUrl).toBe("http://127.0.0.1:8000/.well-known/jwks.json");
    expect(loadConfig("blackboard", { AUTH_JWKS_URL: "https://auth:8016/.well-known/jwks.json" }).authJwksUrl).toBe("https://auth:8016/.well-known/jwks.json");
    expect(() => loadConfig("blackboard", { AUTH_JWKS_URL: "auth:8016/jwks" })).toThrow(
      'invalid configuration of service "blackboard": AUTH_JWKS_URL: must be a URL starting with http:// or https://',
    );
  });
});
