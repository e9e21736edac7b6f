// PostgreSQL through a `pg` pool with short timeouts: a dead server must fail requests fast
// (503 and a failing /ready), not queue them.
import { Pool, type PoolClient } from "pg";
import type { Database, QueryOptions, QueryResult, Queryable } from "./database";
import type { Logger } from "./logger";
import { DependencyUnavailableError, isDatabaseConnectionError } from "./unavailable";

export interface PostgresDatabaseOptions {
  readonly url: string;
  readonly applicationName: string;
  readonly logger: Logger;
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
}

export function createPostgresDatabase(options: PostgresDatabaseOptions): Database {
  const { url, applicationName, logger, maxConnections = 10, connectTimeoutMs = 2000 } = options;
  const pool = new Pool({
    connectionString: url,
    application_name: applicationName,
    max: maxConnections,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server emits here; unhandled it would crash the process.
  pool.on("error", (error) => logger.warn("postgres connection lost", { error: error.message }));

  const description = describe(url);
  const statementName = uniqueStatementNames();
  const run = async <R>(client: Pool | PoolClient, text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> => {
    const values = params as unknown[] | undefined;
    // A named statement is parsed once per pooled connection (pg remembers which it has prepared).
    const pending = options?.name === undefined ? client.query(text, values) : client.query({ name: statementName(options.name, text), text, values });
    const answer = await pending.catch(unavailableWhenUnreachable);
    // Several statements in one text (a migration) answer one result each; the last one is the answer.
    const result = Array.isArray(answer) ? answer[answer.length - 1] : answer;
    return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
  };
  let closing: Promise<void> | undefined;

  return {
    kind: "postgresql",
    description,
    opened: () => Promise.resolve(),
    query: (text, params, options) => run(pool, text, params, options),
    async transaction(fn) {
      const client = await pool.connect().catch(unavailableWhenUnreachable);
      // A checked-out client losing its server emits "error"; unheard, it would crash the process.
      const onLost = (error: Error) => logger.warn("postgres connection lost in a transaction", { error: error.message });
      client.on("error", onLost);
      const tx: Queryable = { query: (text, params, options) => run(client, text, params, options) };
      try {
        await client.query("BEGIN");
        const result = await fn(tx);
        await client.query("COMMIT");
        client.release();
        client.off("error", onLost);
        return result;
      } catch (error) {
        // A failed ROLLBACK means the connection is broken: destroy it instead of reusing it.
        await client.query("ROLLBACK").then(
          () => client.release(),
          (rollbackError: Error) => client.release(rollbackError),
        );
        // Once released, an idle client's errors go to the pool's handler.
        client.off("error", onLost);
        throw error;
      }
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}

/**
 * Checks that each statement name keeps one text. pg only notices a second text on a connection
 * that prepared the first, so the mistake would fail at random; here it fails on its first call.
 */
function uniqueStatementNames(): (name: string, text: string) => string {
  const texts = new Map<string, string>();
  return (name, text) => {
    const known = texts.get(name);
    if (known === undefined) texts.set(name, text);
    else if (known !== text) throw new Error(`statement name "${name}" is already used for another text`);
    return name;
  };
}

/** A server that cannot be reached is a dependency down (503), not a failed query (500). */
function unavailableWhenUnreachable(error: unknown): never {
  throw isDatabaseConnectionError(error) ? new DependencyUnavailableError("postgres", String((error as Error).message)) : error;
}

function describe(url: string): string {
  const u = new URL(url);
  return `postgresql ${u.hostname}:${u.port || "5432"}${u.pathname}`;
}
