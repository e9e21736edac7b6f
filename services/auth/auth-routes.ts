// The auth service: accounts, sessions (login, refresh, logout) and the published signing keys.
// Schema and signing key are set up at start and again at the next request if PostgreSQL was not
// there yet, so a replica that starts before its database still comes up.
import type { TokenGate } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { createTokenVerifier } from "../kit/token-verifier";
import { DEFAULT_SCRYPT, type ScryptParams } from "./password-hash";
import { registrationRoutes } from "./registration-routes";
import { sessionRoutes } from "./session-routes";
import { generateSigningKey, signingKeyFromStored, type SigningKey } from "./signing-key";
import { createAuthStore, type Account, type AuthStore } from "./store";

export interface AuthOptions {
  /** Milliseconds since the epoch; tests move it instead of waiting out a lockout. */
  readonly clock?: () => number;
  /** Password hashing cost; tests lower it to stay fast. */
  readonly scrypt?: ScryptParams;
}

/** What the route files share. */
export interface AuthDeps {
  readonly store: AuthStore;
  readonly context: ServiceContext;
  readonly clock: () => number;
  readonly scrypt: ScryptParams;
  /** Resolves once the schema exists and the signing key is loaded (or created). */
  readonly started: () => Promise<SigningKey>;
  /** Auth's own routes check tokens against its own key, whatever AUTH_REQUIRED says. */
  readonly gate: TokenGate;
}

export function authRoutes(app: ServiceApp, context: ServiceContext, options: AuthOptions = {}): void {
  if (!context.database) throw new Error("auth keeps its state in PostgreSQL, but the context has no database");
  const store = createAuthStore(context.database);
  const clock = options.clock ?? Date.now;

  let starting: Promise<SigningKey> | undefined;
  const started = (): Promise<SigningKey> => {
    starting ??= (async () => {
      await store.migrate();
      return signingKeyFromStored(await store.loadOrCreateSigningKey(generateSigningKey));
    })().catch((error: unknown) => {
      starting = undefined; // the next request tries again
      throw error;
    });
    return starting;
  };
  started().then(
    (key) => context.logger.info("signing key loaded", { kid: key.kid }),
    (error: unknown) => context.logger.warn("auth not started yet; retried at the next request", { error: String(error) }),
  );

  const verifier = createTokenVerifier({ loadKeys: async () => [(await started()).publicJwk], now: clock });
  const deps: AuthDeps = { store, context, clock, scrypt: options.scrypt ?? DEFAULT_SCRYPT, started, gate: { required: true, verifier } };

  // Public keys only; other services fetch it (no hash header needed, like /health).
  app.get("/.well-known/jwks.json", async (c) => {
    const key = await started();
    c.header("Cache-Control", "public, max-age=300");
    return c.json({ keys: [key.publicJwk] });
  });
  registrationRoutes(app, deps);
  sessionRoutes(app, deps);
}

/** An account as the API shows it. */
export function accountJson(account: Account) {
  return {
    id: account.id,
    username: account.username,
    role: account.role,
    level: ROLE_LEVELS[account.role],
    kind: account.kind,
    createdAt: account.createdAt.toISOString(),
  };
}
