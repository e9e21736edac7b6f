// The tokens a login hands out: a short-lived signed access token that every service checks
// offline, and an opaque refresh token that only auth can redeem (and revoke).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { CONSTITUTIONAL_HASH } from "../catalog";
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, CONSTITUTIONAL_HASH_CLAIM } from "../kit/access-token";
import { signJwt } from "../kit/compact-jwt";
import { ROLE_LEVELS } from "../kit/roles";
import type { SigningKey } from "./signing-key";
import type { Account } from "./store";

export const ACCESS_TOKEN_SECONDS = 15 * 60;
export const REFRESH_TOKEN_SECONDS = 24 * 60 * 60;

export function issueAccessToken(key: SigningKey, account: Account, now: number): string {
  const iat = Math.floor(now / 1000);
  return signJwt(
    key.kid,
    {
      iss: ACCESS_TOKEN_ISSUER,
      aud: ACCESS_TOKEN_AUDIENCE,
      sub: account.id,
      username: account.username,
      role: account.role,
      level: ROLE_LEVELS[account.role],
      kind: account.kind,
      iat,
      exp: iat + ACCESS_TOKEN_SECONDS,
      jti: randomUUID(),
      [CONSTITUTIONAL_HASH_CLAIM]: CONSTITUTIONAL_HASH,
    },
    key.privateKey,
  );
}

/** 256 random bits; the database keeps only refreshTokenHash of it. */
export function newRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

export function refreshTokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
