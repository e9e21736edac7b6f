// Verifies access tokens offline against auth's published keys (JWKS). Each distinct token is
// verified once; its verdict is kept (least recently used dropped first) until the token expires,
// so a checked route costs a map lookup, not a signature check.
import type { JsonWebKey, KeyObject } from "node:crypto";
import { CONSTITUTIONAL_HASH } from "../catalog";
import { principalFromClaims, type Principal } from "./access-token";
import { decodeJwt, hasValidSignature, InvalidTokenError, publicKeyFromJwk } from "./compact-jwt";
import { CONSTITUTIONAL_HASH_HEADER } from "./hash-guard";
import { DependencyUnavailableError } from "./unavailable";

export { InvalidTokenError } from "./compact-jwt";

export interface TokenVerifier {
  /** The verdict of a token already verified and not yet expired; undefined when it must be verified. */
  cached(token: string): Principal | undefined;
  /** Throws InvalidTokenError (answer 401) or DependencyUnavailableError "auth" (503). */
  verify(token: string): Promise<Principal>;
}

export interface TokenVerifierOptions {
  /** Auth's JWKS endpoint (config.authJwksUrl). */
  readonly jwksUrl?: string;
  /** Where the published keys come from instead of jwksUrl: auth verifying its own tokens. */
  readonly loadKeys?: () => Promise<readonly JsonWebKey[]>;
  /** Milliseconds since the epoch; tests move it. */
  readonly now?: () => number;
  /** Verdicts kept at most. */
  readonly cacheSize?: number;
  readonly fetchTimeoutMs?: number;
  /** A token naming an unknown key refetches the keys at most this often (forged kids must not flood auth). */
  readonly refetchCooldownMs?: number;
  /** Keys older than this are refetched at their next use (a key auth added later is picked up). */
  readonly keysMaxAgeMs?: number;
  /** After a failed fetch, requests answer 503 at once for this long instead of each waiting for a timeout. */
  readonly failureBackoffMs?: number;
}

type KeySet = ReadonlyMap<string, KeyObject>;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const {
    now = Date.now,
    cacheSize = 10_000,
    fetchTimeoutMs = 2000,
    refetchCooldownMs = 30_000,
    keysMaxAgeMs = 10 * 60_000,
    failureBackoffMs = 1000,
  } = options;
  const loadKeys = options.loadKeys ?? fetchJwks(requiredUrl(options.jwksUrl), fetchTimeoutMs);
  // Two generations instead of a strict LRU, which would reorder its map on every hit: a hit in the
  // young map costs one lookup; a hit in the old one moves the verdict to the young one; a full
  // young map becomes the old one. At most cacheSize verdicts in all.
  const youngCapacity = cacheSize >= 2 ? Math.floor(cacheSize / 2) : cacheSize;
  let young = new Map<string, Principal>();
  let old = new Map<string, Principal>();
  const remember = (token: string, principal: Principal) => {
    if (young.size >= youngCapacity) {
      old = cacheSize >= 2 ? young : new Map();
      young = new Map();
    }
    young.set(token, principal);
  };
  let keys: KeySet | undefined;
  let fetchedAt = -Infinity;
  let fetching: Promise<KeySet> | undefined;
  let failure: { at: number; reason: string } | undefined;

  const refresh = (): Promise<KeySet> => {
    fetching ??= loadKeys()
      .then(keySet, (error: unknown) => {
        throw error instanceof DependencyUnavailableError ? error : new DependencyUnavailableError("auth", `JWKS: ${String((error as Error)?.message ?? error)}`);
      })
      .then(
        (fresh) => {
          keys = fresh;
          fetchedAt = now();
          failure = undefined;
          return fresh;
        },
        (error: DependencyUnavailableError) => {
          failure = { at: now(), reason: error.reason };
          throw error;
        },
      )
      .finally(() => {
        fetching = undefined;
      });
    return fetching;
  };

  const keyFor = async (kid: string): Promise<KeyObject> => {
    const age = now() - fetchedAt;
    const known = keys?.get(kid);
    if (known && age < keysMaxAgeMs) return known;
    if (!known && keys && age < refetchCooldownMs) throw new InvalidTokenError("token signed with an unknown key");
    if (failure && now() - failure.at < failureBackoffMs) {
      if (known) return known;
      throw new DependencyUnavailableError("auth", failure.reason);
    }
    try {
      await refresh();
    } catch (error) {
      // Stale keys still verify: auth being down must not log everyone out.
      if (known) return known;
      throw error;
    }
    const key = keys?.get(kid);
    if (!key) throw new InvalidTokenError("token signed with an unknown key");
    return key;
  };

  const cached = (token: string): Principal | undefined => {
    let principal = young.get(token);
    if (principal === undefined) {
      principal = old.get(token);
      if (principal === undefined) return undefined;
      old.delete(token);
      remember(token, principal);
    }
    if (principal.exp * 1000 <= now()) {
      young.delete(token);
      return undefined;
    }
    return principal;
  };

  return {
    cached,
    async verify(token) {
      const hit = cached(token);
      if (hit) return hit;
      const decoded = decodeJwt(token);
      const key = await keyFor(decoded.kid);
      if (!hasValidSignature(decoded, key)) throw new InvalidTokenError("token signature is not valid");
      const principal = principalFromClaims(decoded.payload, now() / 1000);
      remember(token, principal);
      return principal;
    },
  };
}

function requiredUrl(url: string | undefined): string {
  if (!url) throw new Error("createTokenVerifier needs jwksUrl or loadKeys");
  return url;
}

function keySet(jwks: readonly JsonWebKey[]): KeySet {
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks) {
    if (typeof jwk.kid !== "string") continue;
    try {
      keys.set(jwk.kid, publicKeyFromJwk(jwk));
    } catch {
      // A key of a kind we do not verify with (another algorithm): not ours to use.
    }
  }
  if (keys.size === 0) throw new DependencyUnavailableError("auth", "JWKS holds no usable P-256 key");
  return keys;
}

function fetchJwks(url: string, timeoutMs: number): () => Promise<readonly JsonWebKey[]> {
  return async () => {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { Accept: "application/json", [CONSTITUTIONAL_HASH_HEADER]: CONSTITUTIONAL_HASH },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const reason = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new DependencyUnavailableError("auth", `JWKS ${url}: ${reason}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new DependencyUnavailableError("auth", `JWKS ${url} answered ${response.status}`);
    }
    const body = (await response.json().catch(() => undefined)) as { keys?: unknown } | undefined;
    if (!body || !Array.isArray(body.keys)) throw new DependencyUnavailableError("auth", `JWKS ${url} is not a JSON Web Key Set`);
    return body.keys as JsonWebKey[];
  };
}
