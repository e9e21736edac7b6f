// What an ACGS access token says, as auth issues it and every service checks it: the account,
// its role and level, and the constitution it was issued under.
import { CONSTITUTIONAL_HASH } from "../catalog";
import { InvalidTokenError } from "./compact-jwt";
import { ACCOUNT_KINDS, ROLE_LEVELS, type AccountKind, type Role } from "./roles";

export const ACCESS_TOKEN_ISSUER = "acgs-auth";
export const ACCESS_TOKEN_AUDIENCE = "acgs";
export const CONSTITUTIONAL_HASH_CLAIM = "constitutional_hash";

/** The verified caller of a request, as requireLevel leaves it in `c.get("principal")`. */
export interface Principal {
  /** Account id. */
  readonly sub: string;
  readonly username: string;
  readonly role: Role;
  readonly level: number;
  readonly kind: AccountKind;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

/** The claims of a token whose signature is already verified; throws InvalidTokenError when they do not hold. */
export function principalFromClaims(claims: Record<string, unknown>, nowSeconds: number): Principal {
  const { sub, username, role, level, kind, exp, iss, aud } = claims;
  if (iss !== ACCESS_TOKEN_ISSUER) throw new InvalidTokenError(`token issuer is not ${ACCESS_TOKEN_ISSUER}`);
  if (!(aud === ACCESS_TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(ACCESS_TOKEN_AUDIENCE)))) {
    throw new InvalidTokenError(`token audience is not ${ACCESS_TOKEN_AUDIENCE}`);
  }
  if (typeof exp !== "number" || !Number.isFinite(exp)) throw new InvalidTokenError("token has no expiry");
  if (exp <= nowSeconds) throw new InvalidTokenError("token expired");
  if (claims[CONSTITUTIONAL_HASH_CLAIM] !== CONSTITUTIONAL_HASH) {
    throw new InvalidTokenError(`token was issued under another constitution (expected ${CONSTITUTIONAL_HASH})`);
  }
  if (typeof sub !== "string" || sub === "") throw new InvalidTokenError("token has no subject");
  if (typeof role !== "string" || !Object.hasOwn(ROLE_LEVELS, role)) throw new InvalidTokenError("token has an unknown role");
  // The level is signed too, but a level that does not match the role is a token we did not mean to issue.
  if (level !== ROLE_LEVELS[role as Role]) throw new InvalidTokenError("token level does not match its role");
  if (!ACCOUNT_KINDS.includes(kind as AccountKind)) throw new InvalidTokenError("token has an unknown account kind");
  return { sub, username: typeof username === "string" ? username : "", role: role as Role, level: ROLE_LEVELS[role as Role], kind: kind as AccountKind, exp };
}
