// Stands in for auth where a test needs tokens: a P-256 key, its JWKS served on a real port (what
// services fetch through AUTH_JWKS_URL), and access tokens signed as auth signs them.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, CONSTITUTIONAL_HASH_CLAIM } from "../../services/kit/access-token";
import { signJwt } from "../../services/kit/compact-jwt";
import { ROLE_LEVELS, type Role } from "../../services/kit/roles";

export interface TokenIssuer {
  readonly jwksUrl: string;
  /** A valid 15-minute access token of an account with `role`. */
  token(role: Role, sub?: string): string;
  stop(): Promise<void>;
}

export async function startTokenIssuer(): Promise<TokenIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = "test-key";
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "ES256", use: "sig" }] });
  const server = createServer((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(jwks));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    token(role, sub = `${role}-account`) {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(
        kid,
        {
          iss: ACCESS_TOKEN_ISSUER,
          aud: ACCESS_TOKEN_AUDIENCE,
          sub,
          username: sub,
          role,
          level: ROLE_LEVELS[role],
          kind: "agent",
          iat: now,
          exp: now + 900,
          [CONSTITUTIONAL_HASH_CLAIM]: CONSTITUTIONAL_HASH,
        },
        privateKey,
      );
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
