// A service's schema, applied once at first need: every query awaits the same migration, and a
// failed one (database down at start) is tried again by the next caller instead of sticking.
import type { Database } from "./database";
import { migrate, type Migration } from "./migrations";

/** Call the returned function before each query; it resolves once the schema is in place. */
export function schemaReady(database: Database, service: string, migrations: readonly Migration[]): () => Promise<void> {
  let applied: Promise<unknown> | undefined;
  return async () => {
    applied ??= migrate(database, service, migrations).catch((error: unknown) => {
      applied = undefined;
      throw error;
    });
    await applied;
  };
}
