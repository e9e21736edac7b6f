// Sessions: login (with lockout), refresh with rotation (a reused refresh token revokes its whole
// family: someone else holds a copy), and logout.
import { randomBytes, randomUUID } from "node:crypto";
import type { Context } from "hono";
import { z } from "zod";
import type { Queryable } from "../kit/database";
import { jsonBody } from "../kit/json-body";
import type { ServiceApp } from "../kit/service-app";
import { accountJson, type AuthDeps } from "./auth-routes";
import { afterFailedLogin, lockedForSeconds, MAX_FAILED_LOGINS } from "./lockout";
import { createLoginGate, LoginsBusy } from "./login-gate";
import { hashPassword, verifyPassword } from "./password-hash";
import type { SigningKey } from "./signing-key";
import type { Account } from "./store";
import { ACCESS_TOKEN_SECONDS, issueAccessToken, newRefreshToken, REFRESH_TOKEN_SECONDS, refreshTokenHash } from "./token-issuer";

const loginBody = z.object({
  username: z.string().trim().toLowerCase().min(1, "must not be empty").max(64, "must be at most 64 characters"),
  password: z.string().min(1, "must not be empty").max(1024, "must be at most 1024 characters"),
});

const refreshBody = z.object({
  refreshToken: z.string().min(1, "must not be empty").max(256, "must be at most 256 characters"),
});

export function sessionRoutes(app: ServiceApp, deps: AuthDeps): void {
  const { store, clock, context } = deps;
  // Unknown usernames cost a hash check too, so response times do not tell which names exist.
  let decoy: Promise<string> | undefined;
  const decoyHash = () => (decoy ??= hashPassword(randomBytes(16).toString("hex"), deps.scrypt));

  const gate = createLoginGate();

  app.post("/api/v1/login", jsonBody(loginBody), async (c) => {
    const { username, password } = c.req.valid("json");
    const key = await deps.started();
    try {
      return await gate.run(username, () => login(c, key, username, password));
    } catch (error) {
      if (!(error instanceof LoginsBusy)) throw error;
      c.header("Retry-After", String(error.retryAfterSeconds));
      return c.json({ error: `${error.message}: try again shortly`, retryAfterSeconds: error.retryAfterSeconds }, 429);
    }
  });

  /** One login in its turn: the account's row locked through the password check. */
  async function login(c: Context, key: SigningKey, username: string, password: string): Promise<Response> {
    const now = clock();
    const outcome = await store.database.transaction(async (tx) => {
      // Row-locked through the password check: at most MAX_FAILED_LOGINS guesses per lockout, even in parallel.
      const account = await store.accountForLogin(tx, username);
      if (!account) return { kind: "unknown" } as const;
      const lockedFor = lockedForSeconds(account, now);
      if (lockedFor > 0) return { kind: "locked", seconds: lockedFor } as const;
      if (!(await verifyPassword(password, account.passwordHash))) {
        const next = afterFailedLogin(account, now);
        await store.setLoginState(tx, account.id, next.failedLogins, next.lockedUntil);
        return next.lockedUntil ? ({ kind: "now locked", seconds: lockedForSeconds(next, now), account } as const) : ({ kind: "wrong" } as const);
      }
      if (account.failedLogins !== 0 || account.lockedUntil !== null) await store.setLoginState(tx, account.id, 0, null);
      await store.deleteExpiredRefreshTokens(tx, account.id, new Date(now));
      const refreshToken = await addRefreshToken(tx, account.id, randomUUID(), now);
      return { kind: "ok", account, refreshToken } as const;
    });
    switch (outcome.kind) {
      case "unknown":
        await verifyPassword(password, await decoyHash());
        return wrongPassword(c);
      case "wrong":
        return wrongPassword(c);
      case "now locked":
        context.logger.warn("account locked after failed logins", { account: outcome.account.id });
        return locked(c, outcome.seconds);
      case "locked":
        return locked(c, outcome.seconds);
      case "ok":
        return tokens(c, key, outcome.account, outcome.refreshToken, now);
    }
  }

  app.post("/api/v1/refresh", jsonBody(refreshBody), async (c) => {
    const hash = refreshTokenHash(c.req.valid("json").refreshToken);
    const key = await deps.started();
    const now = clock();
    // Returns rather than throws on refusal: a family revoked for reuse must be committed.
    const outcome = await store.database.transaction(async (tx) => {
      const record = await store.refreshTokenForUpdate(tx, hash);
      if (!record) return { kind: "refused", reason: "unknown refresh token" } as const;
      if (record.revokedAt) return { kind: "refused", reason: "refresh token revoked" } as const;
      if (record.usedAt) {
        await store.revokeFamily(tx, record.familyId, new Date(now));
        return { kind: "reused", account: record.account } as const;
      }
      if (record.expiresAt.getTime() <= now) return { kind: "refused", reason: "refresh token expired" } as const;
      await store.markRefreshTokenUsed(tx, hash, new Date(now));
      const refreshToken = await addRefreshToken(tx, record.account.id, record.familyId, now);
      return { kind: "ok", account: record.account, refreshToken } as const;
    });
    if (outcome.kind === "ok") return tokens(c, key, outcome.account, outcome.refreshToken, now);
    if (outcome.kind === "reused") {
      context.logger.warn("refresh token reused; its family is revoked", { account: outcome.account.id });
      return c.json({ error: "refresh token already used: every session of this login is revoked; log in again" }, 401);
    }
    return c.json({ error: outcome.reason }, 401);
  });

  app.post("/api/v1/logout", jsonBody(refreshBody), async (c) => {
    const hash = refreshTokenHash(c.req.valid("json").refreshToken);
    await deps.started();
    const now = clock();
    const found = await store.database.transaction(async (tx) => {
      const record = await store.refreshTokenForUpdate(tx, hash);
      if (record) await store.revokeFamily(tx, record.familyId, new Date(now));
      return record !== undefined;
    });
    if (!found) return c.json({ error: "unknown refresh token" }, 401);
    // Access tokens already issued stay valid until they expire (at most 15 minutes): they are checked offline.
    return c.json({ loggedOut: true });
  });

  /** A new refresh token of the family (a login starts one; each refresh adds the next). */
  async function addRefreshToken(tx: Queryable, accountId: string, familyId: string, now: number): Promise<string> {
    const refreshToken = newRefreshToken();
    await store.insertRefreshToken(tx, {
      hash: refreshTokenHash(refreshToken),
      familyId,
      accountId,
      issuedAt: new Date(now),
      expiresAt: new Date(now + REFRESH_TOKEN_SECONDS * 1000),
    });
    return refreshToken;
  }
}

function wrongPassword(c: Context) {
  return c.json({ error: `invalid username or password (${MAX_FAILED_LOGINS} failed logins lock an account for 15 minutes)` }, 401);
}

function locked(c: Context, seconds: number) {
  c.header("Retry-After", String(seconds));
  return c.json({ error: `account locked after ${MAX_FAILED_LOGINS} failed logins; try again in ${seconds} seconds`, retryAfterSeconds: seconds }, 423);
}

function tokens(c: Context, key: SigningKey, account: Account, refreshToken: string, now: number) {
  // Tokens must not land in shared caches (RFC 6749 5.1).
  c.header("Cache-Control", "no-store");
  return c.json({
    tokenType: "Bearer",
    accessToken: issueAccessToken(key, account, now),
    expiresIn: ACCESS_TOKEN_SECONDS,
    refreshToken,
    refreshExpiresIn: REFRESH_TOKEN_SECONDS,
    account: accountJson(account),
  });
}
