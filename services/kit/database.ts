// The PostgreSQL a service keeps its state in: a real server through `pg` when DATABASE_URL is
// set, otherwise embedded PGlite, behind one small interface so routes never care which.
import type { ServiceConfig } from "./config";
import { measure, type Dependency } from "./dependency";
import type { Logger } from "./logger";
import { createPgliteDatabase } from "./pglite-database";
import { createPostgresDatabase } from "./postgres-database";

export interface QueryResult<R> {
  readonly rows: R[];
  /** Rows returned or affected. */
  readonly rowCount: number;
}

export interface QueryOptions {
  /**
   * Runs the statement as a named prepared statement: the server parses and plans it once per
   * connection, then only binds and executes it (bench/prepared-statements.ts measures the gain).
   * One name, one text: giving a name to a second text throws. For statements run often.
   */
  readonly name?: string;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  readonly kind: "postgresql" | "pglite";
  /** Where it is, without credentials (logs, /health). */
  readonly description: string;
  /** Resolves once queries can run (embedded PGlite initializes in the background). */
  opened(): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Rejects while the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openDatabase(config: ServiceConfig, logger: Logger): Database {
  return config.databaseUrl
    ? createPostgresDatabase({ url: config.databaseUrl, applicationName: `acgs-${config.service.name}`, logger })
    : createPgliteDatabase({ dataDir: config.pgliteDataDir, logger });
}

/** The "postgres" entry of /health; required where the catalog says the service needs PostgreSQL. */
export function databaseDependency(database: Database, required: boolean, timeoutMs = 2000): Dependency {
  return { name: "postgres", required, check: () => measure(() => database.ping(), timeoutMs) };
}
