// Every SQL statement of the auth service: its migrations, accounts, refresh tokens and signing keys.
import type { JsonWebKey } from "node:crypto";
import type { Database, Queryable } from "../kit/database";
import { migrate, type Migration } from "../kit/migrations";
import type { AccountKind, Role } from "../kit/roles";
import type { StoredSigningKey } from "./signing-key";

const MIGRATIONS: readonly Migration[] = [
  {
    id: "001-accounts",
    sql: `CREATE TABLE auth_accounts (
            id uuid PRIMARY KEY,
            username text NOT NULL UNIQUE,
            password_hash text NOT NULL,
            role text NOT NULL CHECK (role IN ('orchestrator', 'specialist', 'worker', 'observer')),
            kind text NOT NULL CHECK (kind IN ('user', 'agent')),
            failed_logins integer NOT NULL DEFAULT 0,
            locked_until timestamptz,
            created_at timestamptz NOT NULL,
            created_by uuid REFERENCES auth_accounts (id)
          )`,
  },
  {
    id: "002-refresh-tokens",
    // Only a SHA-256 of each token is kept: a leaked table holds no usable token.
    sql: `CREATE TABLE auth_refresh_tokens (
            token_hash text PRIMARY KEY,
            family_id uuid NOT NULL,
            account_id uuid NOT NULL REFERENCES auth_accounts (id) ON DELETE CASCADE,
            issued_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            revoked_at timestamptz
          )`,
  },
  // One statement per migration: the kit's query() reads a single result.
  { id: "003-refresh-token-families", sql: "CREATE INDEX auth_refresh_tokens_family ON auth_refresh_tokens (family_id)" },
  { id: "004-refresh-token-accounts", sql: "CREATE INDEX auth_refresh_tokens_account ON auth_refresh_tokens (account_id, expires_at)" },
  {
    id: "005-signing-keys",
    sql: `CREATE TABLE auth_signing_keys (
            kid text PRIMARY KEY,
            algorithm text NOT NULL,
            public_jwk jsonb NOT NULL,
            private_jwk jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
];

export interface Account {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly kind: AccountKind;
  readonly createdAt: Date;
}

export interface LoginAccount extends Account {
  readonly passwordHash: string;
  readonly failedLogins: number;
  readonly lockedUntil: Date | null;
}

export interface NewAccount {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly kind: AccountKind;
  readonly createdAt: Date;
  readonly createdBy: string | null;
}

export interface RefreshTokenRecord {
  readonly familyId: string;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
  readonly expiresAt: Date;
  readonly account: Account;
}

const ACCOUNT_COLUMNS = "a.id, a.username, a.role, a.kind, a.created_at";

type AccountRow = { id: string; username: string; role: Role; kind: AccountKind; created_at: Date };

const account = (r: AccountRow): Account => ({ id: r.id, username: r.username, role: r.role, kind: r.kind, createdAt: r.created_at });

export type AuthStore = ReturnType<typeof createAuthStore>;

export function createAuthStore(database: Database) {
  return {
    database,

    migrate: () => migrate(database, "auth", MIGRATIONS),

    /** The signing key, created by the first replica that gets the lock; the others read it. */
    loadOrCreateSigningKey(generate: () => StoredSigningKey): Promise<StoredSigningKey> {
      return database.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('acgs-auth:signing-key'))");
        const existing = await tx.query<{ kid: string; public_jwk: JsonWebKey; private_jwk: JsonWebKey }>(
          "SELECT kid, public_jwk, private_jwk FROM auth_signing_keys ORDER BY created_at DESC, kid LIMIT 1",
        );
        const row = existing.rows[0];
        if (row) return { kid: row.kid, publicJwk: row.public_jwk, privateJwk: row.private_jwk };
        const key = generate();
        await tx.query("INSERT INTO auth_signing_keys (kid, algorithm, public_jwk, private_jwk) VALUES ($1, 'ES256', $2, $3)", [
          key.kid,
          JSON.stringify(key.publicJwk),
          JSON.stringify(key.privateJwk),
        ]);
        return key;
      });
    },

    /** Serializes registrations that check "no account yet" (the bootstrap) until the transaction ends. */
    async lockRegistrations(tx: Queryable): Promise<void> {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('acgs-auth:registration'))");
    },

    async hasAccounts(q: Queryable = database): Promise<boolean> {
      return (await q.query("SELECT 1 FROM auth_accounts LIMIT 1")).rowCount > 0;
    },

    /** Undefined when the username is taken. */
    async insertAccount(q: Queryable, a: NewAccount): Promise<Account | undefined> {
      const { rows } = await q.query<AccountRow>(
        `INSERT INTO auth_accounts AS a (id, username, password_hash, role, kind, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (username) DO NOTHING
         RETURNING ${ACCOUNT_COLUMNS}`,
        [a.id, a.username, a.passwordHash, a.role, a.kind, a.createdAt, a.createdBy],
      );
      return rows[0] && account(rows[0]);
    },

    /** The account with its login state, row-locked: concurrent logins of one account take turns. */
    async accountForLogin(tx: Queryable, username: string): Promise<LoginAccount | undefined> {
      const { rows } = await tx.query<AccountRow & { password_hash: string; failed_logins: number; locked_until: Date | null }>(
        `SELECT ${ACCOUNT_COLUMNS}, a.password_hash, a.failed_logins, a.locked_until
         FROM auth_accounts a WHERE a.username = $1 FOR UPDATE`,
        [username],
      );
      const r = rows[0];
      return r && { ...account(r), passwordHash: r.password_hash, failedLogins: r.failed_logins, lockedUntil: r.locked_until };
    },

    async setLoginState(q: Queryable, accountId: string, failedLogins: number, lockedUntil: Date | null): Promise<void> {
      await q.query("UPDATE auth_accounts SET failed_logins = $2, locked_until = $3 WHERE id = $1", [accountId, failedLogins, lockedUntil]);
    },

    async insertRefreshToken(
      q: Queryable,
      t: { hash: string; familyId: string; accountId: string; issuedAt: Date; expiresAt: Date },
    ): Promise<void> {
      await q.query(
        "INSERT INTO auth_refresh_tokens (token_hash, family_id, account_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        [t.hash, t.familyId, t.accountId, t.issuedAt, t.expiresAt],
      );
    },

    /** Row-locked: two refreshes with one token take turns, so only the first one rotates it. */
    async refreshTokenForUpdate(tx: Queryable, hash: string): Promise<RefreshTokenRecord | undefined> {
      const { rows } = await tx.query<
        AccountRow & { family_id: string; used_at: Date | null; revoked_at: Date | null; expires_at: Date }
      >(
        `SELECT t.family_id, t.used_at, t.revoked_at, t.expires_at, ${ACCOUNT_COLUMNS}
         FROM auth_refresh_tokens t JOIN auth_accounts a ON a.id = t.account_id
         WHERE t.token_hash = $1 FOR UPDATE OF t`,
        [hash],
      );
      const r = rows[0];
      return r && { familyId: r.family_id, usedAt: r.used_at, revokedAt: r.revoked_at, expiresAt: r.expires_at, account: account(r) };
    },

    async markRefreshTokenUsed(q: Queryable, hash: string, at: Date): Promise<void> {
      await q.query("UPDATE auth_refresh_tokens SET used_at = $2 WHERE token_hash = $1", [hash, at]);
    },

    /** Revokes every token of the family not yet revoked; how many were. */
    async revokeFamily(q: Queryable, familyId: string, at: Date): Promise<number> {
      const result = await q.query("UPDATE auth_refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL", [familyId, at]);
      return result.rowCount;
    },

    /** Expired tokens can be neither used nor reused usefully; dropped at the account's next login. */
    async deleteExpiredRefreshTokens(q: Queryable, accountId: string, now: Date): Promise<void> {
      await q.query("DELETE FROM auth_refresh_tokens WHERE account_id = $1 AND expires_at <= $2", [accountId, now]);
    },
  };
}
