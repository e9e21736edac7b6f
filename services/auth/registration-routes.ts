// POST /api/v1/register (users and agents, with a role) and GET /api/v1/me (the caller's token).
import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import { z } from "zod";
import type { Principal } from "../kit/access-token";
import { jsonBody } from "../kit/json-body";
import { bearerToken, invalidToken, requireLevel } from "../kit/require-level";
import { ACCOUNT_KINDS, ROLES } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import { InvalidTokenError } from "../kit/token-verifier";
import { accountJson, type AuthDeps } from "./auth-routes";
import { hashPassword } from "./password-hash";
import { registrationVerdict, type RegistrationVerdict } from "./registration-policy";

export const USERNAME = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._@-]{2,63}$/, "must be 3 to 64 letters, digits or . _ @ -, starting with a letter or digit");

const registerBody = z.object({
  username: USERNAME,
  password: z.string().min(12, "must be at least 12 characters").max(1024, "must be at most 1024 characters"),
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }),
  kind: z.enum(ACCOUNT_KINDS, { error: "must be user or agent" }).default("user"),
});

export function registrationRoutes(app: ServiceApp, deps: AuthDeps): void {
  const { store, gate } = deps;

  app.post("/api/v1/register", jsonBody(registerBody), async (c) => {
    const body = c.req.valid("json");
    await deps.started();
    const token = bearerToken(c);
    let caller: Principal | undefined;
    if (token !== undefined) {
      try {
        caller = await gate.verifier.verify(token);
      } catch (error) {
        if (error instanceof InvalidTokenError) return invalidToken(c, error.message);
        throw error;
      }
    }
    const verdict = registrationVerdict(caller, body.role, caller !== undefined || (await store.hasAccounts()));
    if (!verdict.allowed) return refuse(c, verdict);
    // Hashed before the transaction: scrypt is slow and must not hold a connection.
    const passwordHash = await hashPassword(body.password, deps.scrypt);
    const created = await store.database.transaction(async (tx) => {
      if (verdict.bootstrap) {
        await store.lockRegistrations(tx);
        if (await store.hasAccounts(tx)) return "bootstrap taken" as const;
      }
      const account = await store.insertAccount(tx, {
        id: randomUUID(),
        username: body.username,
        passwordHash,
        role: body.role,
        kind: body.kind,
        createdAt: new Date(deps.clock()),
        createdBy: caller?.sub ?? null,
      });
      return account ?? ("duplicate" as const);
    });
    // Another request registered the first account a moment ago: this one is now an ordinary registration without a token.
    if (created === "bootstrap taken") return refuse(c, registrationVerdict(undefined, body.role, true));
    if (created === "duplicate") return c.json({ error: "username already taken", field: "username", username: body.username }, 409);
    deps.context.logger.info("account registered", { account: created.id, role: created.role, kind: created.kind, by: caller?.sub ?? "bootstrap" });
    return c.json({ account: accountJson(created) }, 201);
  });

  app.get("/api/v1/me", requireLevel(0, gate), (c) => {
    const p = c.get("principal")!;
    return c.json({ account: { id: p.sub, username: p.username, role: p.role, level: p.level, kind: p.kind }, expiresAt: new Date(p.exp * 1000).toISOString() });
  });
}

function refuse(c: Context, verdict: RegistrationVerdict): Response {
  if (verdict.allowed) throw new Error("refuse() called with an allowing verdict");
  if (verdict.status === 401) c.header("WWW-Authenticate", 'Bearer realm="acgs"');
  return c.json(verdict.body, verdict.status);
}
