// Named (prepared) statements of the kit's Database: the same scenario on a real PostgreSQL 15
// (one pooled connection, so that pg_prepared_statements shows that session's statements) and on
// embedded PGlite, with the same expected report.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { silentLogger } from "../../../services/kit/logger";
import { createPostgresDatabase } from "../../../services/kit/postgres-database";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { EXPECTED_REPORT, runNamedStatementScenario } from "./named-statements-scenario";

const root = path.resolve(__dirname, "../../..");

describe("named statements", () => {
  let postgres: PostgresServer;

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    await postgres?.stop();
  });

  it("on PostgreSQL: prepared once per connection, same answers as unnamed, in and out of transactions", async () => {
    const db = createPostgresDatabase({ url: postgres.url, applicationName: "named-statements-test", logger: silentLogger, maxConnections: 1 });
    try {
      expect(await runNamedStatementScenario(db)).toEqual(EXPECTED_REPORT);
    } finally {
      await db.close();
    }
  });

  it("on PGlite: the same", async () => {
    const env = { ...process.env };
    for (const name of ["DATABASE_URL", "REDIS_URL", "PGLITE_DATA_DIR"]) delete env[name];
    const { stdout } = await promisify(execFile)(
      path.join(root, "node_modules/.bin/tsx"),
      [path.join(__dirname, "fixtures/pglite-named-statements.ts")],
      { cwd: root, env, timeout: 45_000 },
    );
    expect(JSON.parse(stdout)).toEqual(EXPECTED_REPORT);
  }, 60_000);
});
