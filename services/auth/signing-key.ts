// The ES256 key auth signs access tokens with. Its id (kid) is the key's RFC 7638 thumbprint, so
// the same key always has the same id and a published JWK can be checked against it.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import { JWT_ALGORITHM } from "../kit/compact-jwt";

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** As published at /.well-known/jwks.json. */
  readonly publicJwk: JsonWebKey;
}

export interface StoredSigningKey {
  readonly kid: string;
  readonly publicJwk: JsonWebKey;
  readonly privateJwk: JsonWebKey;
}

export function generateSigningKey(): StoredSigningKey {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const kid = jwkThumbprint(jwk);
  return { kid, publicJwk: publishedJwk(jwk, kid), privateJwk: privateKey.export({ format: "jwk" }) };
}

export function signingKeyFromStored(stored: StoredSigningKey): SigningKey {
  const privateKey = createPrivateKey({ key: stored.privateJwk, format: "jwk" });
  // Published from the private key itself: a kid that does not match it means a corrupted row.
  const derived = createPublicKey(privateKey).export({ format: "jwk" });
  if (jwkThumbprint(derived) !== stored.kid) throw new Error(`signing key ${stored.kid}: public key does not match its kid`);
  return { kid: stored.kid, privateKey, publicJwk: publishedJwk(derived, stored.kid) };
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}

function publishedJwk(jwk: JsonWebKey, kid: string): JsonWebKey {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: JWT_ALGORITHM, use: "sig" };
}
