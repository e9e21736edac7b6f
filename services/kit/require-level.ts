// Route middleware for mutating /api/ routes: the caller needs a valid access token whose level is
// at least `min`, where the environment requires auth (AUTH_REQUIRED; staging and production).
//
//   import { requireLevel } from "../kit/require-level";
//   app.post("/api/v1/entries", requireLevel(5), jsonBody(schema), handler);
//   // in the handler: c.get("principal") is the verified caller (undefined when auth is not required)
import type { Context, MiddlewareHandler, Next } from "hono";
import type { Principal } from "./access-token";
import { InvalidTokenError, type TokenVerifier } from "./token-verifier";
import { requestHeader } from "./request-header";
import type { ServiceEnv } from "./service-app";

/** How an app checks tokens; createServiceApp makes one from the configuration. */
export interface TokenGate {
  /** False (dev): requests pass without a token. */
  readonly required: boolean;
  readonly verifier: TokenVerifier;
}

const REALM = 'Bearer realm="acgs"';

/**
 * 401 (with WWW-Authenticate: Bearer) for a missing or invalid token, 403 naming the required and
 * the actual level for one too low; a JWKS that cannot be fetched is a 503 with Retry-After.
 * `gate` defaults to the app's (createServiceApp); auth passes its own.
 */
export function requireLevel(min: number, gate?: TokenGate): MiddlewareHandler<ServiceEnv> {
  if (!Number.isInteger(min) || min < 0) throw new Error(`requireLevel: the minimum level must be a non-negative integer, got ${min}`);
  // Not async: a token verified before is a map lookup, and its request goes on without the extra
  // promise an async function would wrap around next()'s.
  return function requireLevelMiddleware(c, next) {
    const { required, verifier } = gate ?? appGate(c);
    if (!required) return next();
    const token = bearerToken(c);
    if (token === undefined) {
      c.header("WWW-Authenticate", REALM);
      return Promise.resolve(c.json({ error: "missing bearer token", header: "Authorization" }, 401));
    }
    const principal = verifier.cached(token);
    if (principal !== undefined) return admit(c, next, principal, min);
    return verifyThenAdmit(c, next, verifier, token, min);
  };
}

async function verifyThenAdmit(c: Context<ServiceEnv>, next: Next, verifier: TokenVerifier, token: string, min: number): Promise<Response | void> {
  let principal: Principal;
  try {
    principal = await verifier.verify(token);
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error; // auth down: the kit answers 503
    return invalidToken(c, error.message);
  }
  return admit(c, next, principal, min);
}

function admit(c: Context<ServiceEnv>, next: Next, principal: Principal, min: number): Promise<Response | void> {
  if (principal.level < min) {
    c.header("WWW-Authenticate", `${REALM}, error="insufficient_scope"`);
    return Promise.resolve(c.json({ error: "authorization level too low", requiredLevel: min, level: principal.level, role: principal.role }, 403));
  }
  c.set("principal", principal);
  return next();
}

/** The token of an `Authorization: Bearer <token>` header; undefined when there is none. */
export function bearerToken(c: Context): string | undefined {
  const header = requestHeader(c, "authorization");
  if (header === undefined) return undefined;
  // The usual form, "Bearer " and a token without spaces, without running the pattern over the token.
  if (header.startsWith("Bearer ") && header.length > 7 && header.indexOf(" ", 7) === -1) return header.slice(7);
  const match = /^Bearer +([^ ]+) *$/i.exec(header);
  return match?.[1];
}

/** The 401 of RFC 6750 for a token that is present but not acceptable. */
export function invalidToken(c: Context, reason: string): Response {
  // The reason may quote attacker-chosen text: keep the header to safe characters.
  const description = reason.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "");
  c.header("WWW-Authenticate", `${REALM}, error="invalid_token", error_description="${description}"`);
  return c.json({ error: "invalid token", reason }, 401);
}

function appGate(c: Context<ServiceEnv>): TokenGate {
  const gate = c.get("tokenGate");
  if (gate === undefined) throw new Error("requireLevel needs an app made by createServiceApp, or a gate");
  return gate;
}
