// Named (prepared) statements of the kit's Database: the same scenario on a real PostgreSQL 15
// (one pooled connection, so that pg_prepared_statements shows that session's statements) and on
// embedded PGlite, with the same expected report.
import path from "node:path";
import { silentLogger } from "../../../services/kit/logger";
import { createPostgresDatabase } from "../../../services/kit/postgres-database";
import { runEmbeddedFixture } from "../../support/embedded-fixture";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { EXPECTED_REPORT, runNamedStatementScenario } from "./named-statements-scenario";

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
    expect(await runEmbeddedFixture(path.join(__dirname, "fixtures/pglite-named-statements.ts"))).toEqual(EXPECTED_REPORT);
  }, 60_000);
});
