// The token guard of a mutating route where auth is required, checked the same way for every
// service: no token 401 with a Bearer challenge, a role below the level 403 naming both levels,
// the level itself accepted, and reads still open.
import { CONSTITUTIONAL_HASH, type ServiceName } from "../../services/catalog";
import { ROLE_LEVELS, type Role } from "../../services/kit/roles";
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import type { ServiceApp } from "../../services/kit/service-app";
import type { ServiceContext } from "../../services/kit/service-context";
import { startService } from "../../services/kit/start-service";
import { startTokenIssuer } from "./token-issuer";

export interface GuardedWrite {
  readonly service: ServiceName;
  readonly databaseUrl: string;
  readonly routes: (app: ServiceApp, context: ServiceContext) => void;
  /** The write: POST `path` with `body`. */
  readonly path: string;
  readonly body: unknown;
  /** A role just below the required level, and the lowest role that has it. */
  readonly below: Role;
  readonly required: Role;
  readonly acceptedStatus: number;
  /** A read that needs no token. */
  readonly readPath: string;
}

export async function expectGuardedWrite(spec: GuardedWrite): Promise<void> {
  const issuer = await startTokenIssuer();
  const hash = { "X-Constitutional-Hash": CONSTITUTIONAL_HASH };
  const guarded = await startService({
    config: loadConfig(spec.service, { DATABASE_URL: spec.databaseUrl, RATE_LIMIT_PER_MINUTE: "0", AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl }),
    logger: silentLogger,
    hostname: "127.0.0.1",
    port: 0,
    routes: spec.routes,
  });
  try {
    const write = (token?: string) =>
      fetch(`${guarded.url}${spec.path}`, {
        method: "POST",
        headers: { ...hash, "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(spec.body),
      });
    const anonymous = await write();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const low = await write(issuer.token(spec.below));
    expect(low.status).toBe(403);
    expect(await low.json()).toMatchObject({ requiredLevel: ROLE_LEVELS[spec.required], level: ROLE_LEVELS[spec.below] });
    expect((await write(issuer.token(spec.required))).status).toBe(spec.acceptedStatus);
    expect((await fetch(`${guarded.url}${spec.readPath}`, { headers: hash })).status).toBe(200);
  } finally {
    await guarded.shutdown();
    await issuer.stop();
  }
}
