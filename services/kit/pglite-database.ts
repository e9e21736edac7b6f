// Embedded PostgreSQL (PGlite, WebAssembly) for a bare machine: no server to install. It takes a
// few seconds to initialize, so it opens in the background and reports "down" until then.
import { PGlite } from "@electric-sql/pglite";
import type { Database, QueryResult, Queryable } from "./database";
import type { Logger } from "./logger";

export interface PgliteDatabaseOptions {
  /** Absent: in memory, gone with the process. */
  readonly dataDir?: string;
  readonly logger: Logger;
}

export function createPgliteDatabase({ dataDir, logger }: PgliteDatabaseOptions): Database {
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  let state: "starting" | "open" | "failed" | "closed" = "starting";
  let failure: Error | undefined;
  const ready = db.waitReady.then(
    () => {
      if (state === "starting") state = "open";
    },
    (error: Error) => {
      state = "failed";
      failure = error;
      logger.error("embedded database failed to open", { error: error.message, dataDir });
    },
  );
  const description = dataDir ? `pglite ${dataDir}` : "pglite (in memory)";
  const run = async <R>(q: Pick<PGlite, "query">, text: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
    const result = await q.query<R>(text, params as unknown[] | undefined);
    // PGlite reports affectedRows 0 for a SELECT; pg counts the rows returned.
    return { rows: result.rows, rowCount: Math.max(result.rows.length, result.affectedRows ?? 0) };
  };
  let closing: Promise<void> | undefined;

  return {
    kind: "pglite",
    description,
    opened: () => ready,
    query: (text, params) => run(db, text, params),
    transaction: (fn) => db.transaction((tx) => fn({ query: (text, params) => run(tx, text, params) } satisfies Queryable)),
    async ping() {
      if (state === "starting") throw new Error("embedded database is still starting");
      if (state === "failed") throw new Error(`embedded database failed to open: ${failure?.message}`);
      if (state === "closed") throw new Error("embedded database is closed");
      await db.query("SELECT 1");
    },
    close() {
      // In memory, nothing is lost by exiting mid-initialization (which can take many seconds on
      // a busy machine); on disk, an interrupted initdb would leave a broken data directory.
      if (state === "starting" && !dataDir) {
        state = "closed";
        closing ??= Promise.resolve();
      }
      closing ??= ready.then(async () => {
        if (state === "open") {
          state = "closed";
          await db.close();
        }
      });
      return closing;
    },
  };
}
