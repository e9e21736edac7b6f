// Embedded PostgreSQL (PGlite, WebAssembly) for a bare machine: no server to install. It takes a
// few seconds to initialize, so it opens in the background and reports "down" until then.
import { parse, PGlite, protocol, type Results } from "@electric-sql/pglite";
import type { Database, QueryOptions, QueryResult, Queryable } from "./database";
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
  const named = namedStatements(db);
  // `inTransaction`: the caller holds PGlite's transaction lock (a named statement must not take it).
  const run = async <R>(q: Pick<PGlite, "query">, text: string, params: readonly unknown[] | undefined, options: QueryOptions | undefined, inTransaction: boolean): Promise<QueryResult<R>> => {
    const values = (params ?? []) as unknown[];
    const result = options?.name === undefined ? await q.query<R>(text, values) : await named.run<R>(options.name, text, values, inTransaction);
    // PGlite reports affectedRows 0 for a SELECT; pg counts the rows returned.
    return { rows: result.rows, rowCount: Math.max(result.rows.length, result.affectedRows ?? 0) };
  };
  let closing: Promise<void> | undefined;

  return {
    kind: "pglite",
    description,
    opened: () => ready,
    query: (text, params, options) => run(db, text, params, options, false),
    transaction: (fn) => db.transaction((tx) => fn({ query: (text, params, options) => run(tx, text, params, options, true) } satisfies Queryable)),
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

/**
 * Named statements on PGlite, which has no API for them: its query() parses and plans every time.
 * PGlite is one session, so each statement is parsed once (Parse with its name) and then only
 * bound and executed, through the wire protocol and under the locks query() itself takes.
 */
function namedStatements(db: PGlite) {
  const { serialize } = protocol;
  const texts = new Map<string, string>();
  // Parameter types of the statements parsed so far, as the server inferred them.
  const parameterTypes = new Map<string, number[]>();

  const exchange = (message: Uint8Array) => db.execProtocolStream(message, { syncToFs: false });
  const execute = async (name: string, text: string, params: readonly unknown[]): Promise<Results<unknown>> => {
    const messages = [];
    try {
      let types = parameterTypes.get(name);
      if (types === undefined) {
        await exchange(serialize.parse({ name, text }));
        types = parse.parseDescribeStatementResults(await exchange(serialize.describe({ type: "S", name })));
        parameterTypes.set(name, types);
      }
      const serializers = db.serializers;
      const values = params.map((value, i) => (value === null || value === undefined ? null : (serializers[types[i]]?.(value) ?? String(value))));
      messages.push(...(await exchange(serialize.bind({ statement: name, values }))));
      messages.push(...(await exchange(serialize.describe({ type: "P" }))));
      messages.push(...(await exchange(serialize.execute({}))));
    } finally {
      // Ends the extended query, failed or not, as query() does.
      messages.push(...(await exchange(serialize.sync())));
    }
    return parse.parseResults(messages, db.parsers)[0];
  };

  return {
    async run<R>(name: string, text: string, params: readonly unknown[], inTransaction: boolean): Promise<Results<R>> {
      const known = texts.get(name);
      if (known === undefined) texts.set(name, text);
      else if (known !== text) throw new Error(`statement name "${name}" is already used for another text`);
      await db._checkReady();
      if (inTransaction) return (await db._runExclusiveQuery(() => execute(name, text, params))) as Results<R>;
      // Outside a transaction, also wait for any transaction to end: PGlite's one session is shared.
      const result = await db._runExclusiveTransaction(() =>
        db._runExclusiveQuery(async () => {
          const answer = await execute(name, text, params);
          await db.syncToFs();
          return answer;
        }),
      );
      return result as Results<R>;
    },
  };
}
