// A service's schema, applied at start in order, each migration once: safe to run from several
// replicas and services at the same time (an advisory lock serializes them) and on every restart.
import type { Database } from "./database";

export interface Migration {
  /** Stable and ordered, e.g. "001-create-entries"; never renamed once released. */
  readonly id: string;
  readonly sql: string;
}

export async function migrate(database: Database, service: string, migrations: readonly Migration[]): Promise<string[]> {
  const ids = migrations.map((m) => m.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`service "${service}": migration "${duplicate}" is listed twice`);
  await database.opened();
  return database.transaction(async (tx) => {
    // One lock for every service: services sharing a database would otherwise race to create the table below.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('acgs-migrations'))");
    await tx.query(
      `CREATE TABLE IF NOT EXISTS acgs_schema_migrations (
         service text NOT NULL,
         id text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (service, id)
       )`,
    );
    const done = new Set(
      (await tx.query<{ id: string }>("SELECT id FROM acgs_schema_migrations WHERE service = $1", [service])).rows.map((r) => r.id),
    );
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await tx.query(migration.sql);
      await tx.query("INSERT INTO acgs_schema_migrations (service, id) VALUES ($1, $2)", [service, migration.id]);
      applied.push(migration.id);
    }
    return applied;
  });
}
