// Compact JWTs signed with ES256 (ECDSA P-256, SHA-256), on node:crypto alone: jose 6 is ESM-only
// and cannot load in this repository's CommonJS jest, and node:crypto verifies synchronously.
// Only ES256 is accepted, so neither "none" nor an HMAC made with a public key can get through.
import { createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from "node:crypto";

export const JWT_ALGORITHM = "ES256";

/** A token that is malformed, forged, expired or otherwise not acceptable: the answer is 401. */
export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidTokenError";
  }
}

export interface DecodedJwt {
  readonly kid: string;
  readonly payload: Record<string, unknown>;
  /** The first two segments, as signed. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

// Tokens are short; anything longer is not ours and not worth parsing.
const MAX_TOKEN_LENGTH = 8192;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

export function signJwt(kid: string, payload: Record<string, unknown>, privateKey: KeyObject): string {
  const header = base64url(JSON.stringify({ alg: JWT_ALGORITHM, typ: "JWT", kid }));
  const body = base64url(JSON.stringify(payload));
  const signature = sign("sha256", Buffer.from(`${header}.${body}`), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${header}.${body}.${signature.toString("base64url")}`;
}

/** Splits and parses a token without trusting it; throws InvalidTokenError when it is not a well-formed ES256 JWT. */
export function decodeJwt(token: string): DecodedJwt {
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError("malformed token: too long");
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) {
    throw new InvalidTokenError("malformed token: expected three base64url segments");
  }
  const header = parseSegment(parts[0], "header");
  if (header.alg !== JWT_ALGORITHM) throw new InvalidTokenError(`unsupported token algorithm: ${String(header.alg).slice(0, 32)} (only ${JWT_ALGORITHM})`);
  if (header.crit !== undefined) throw new InvalidTokenError("unsupported critical token header");
  if (typeof header.kid !== "string" || header.kid === "") throw new InvalidTokenError("token header has no key id (kid)");
  return {
    kid: header.kid,
    payload: parseSegment(parts[1], "payload"),
    signingInput: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2], "base64url"),
  };
}

export function hasValidSignature(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  // ES256 signatures are exactly r || s, 32 bytes each.
  if (decoded.signature.length !== 64) return false;
  return verify("sha256", Buffer.from(decoded.signingInput), { key: publicKey, dsaEncoding: "ieee-p1363" }, decoded.signature);
}

/** A P-256 public key from its JWK; throws when the JWK is anything else. */
export function publicKeyFromJwk(jwk: JsonWebKey): KeyObject {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new Error(`not a P-256 key (kty ${String(jwk.kty)}, crv ${String(jwk.crv)})`);
  const { kty, crv, x, y } = jwk;
  return createPublicKey({ key: { kty, crv, x, y }, format: "jwk" });
}

function parseSegment(segment: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new InvalidTokenError(`malformed token: ${name} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidTokenError(`malformed token: ${name} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}
