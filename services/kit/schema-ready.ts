// A service's schema, applied once at first need: every query awaits the same migration, and a
// failed one (database down at start) is tried again by the next caller instead of sticking.
import type { Database } from "./database";
import { migrate, type Migration } from "./migrations";

// Services sharing one database race to create acgs_schema_migrations (their advisory locks
// differ): PostgreSQL then reports a duplicate type or table, and trying again succeeds.
const CREATION_RACE = new Set(["23505", "42P07"]);
const ATTEMPTS = 3;

/** Call the returned function before each query; it resolves once the schema is in place. */
export function schemaReady(database: Database, service: string, migrations: readonly Migration[]): () => Promise<void> {
  let applied: Promise<unknown> | undefined;
  const attempt = async (): Promise<unknown> => {
    for (let i = 1; ; i++) {
      try {
        return await migrate(database, service, migrations);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (i >= ATTEMPTS || typeof code !== "string" || !CREATION_RACE.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * i));
      }
    }
  };
  return async () => {
    applied ??= attempt().catch((error: unknown) => {
      applied = undefined;
      throw error;
    });
    await applied;
  };
}
