// The embedded defaults: no DATABASE_URL and no REDIS_URL give PGlite and an in-process cache,
// so a service runs on a bare machine. Run in a child process (see fixtures/embedded-defaults.ts).
import path from "node:path";
import { runEmbeddedFixture } from "../support/embedded-fixture";

describe("embedded defaults", () => {
  it("serve /health ok on PGlite, with queries, transactions and the in-process cache working", async () => {
    const report = await runEmbeddedFixture(path.join(__dirname, "fixtures/embedded-defaults.ts"));
    expect(report.databaseKind).toBe("pglite");
    expect(report.cacheKind).toBe("memory");
    expect(report.health.status).toBe(200);
    expect(report.health.body).toMatchObject({
      status: "ok",
      service: "integrity",
      dependencies: [{ name: "postgres", status: "ok", latencyMs: expect.any(Number), required: true }],
    });
    expect(report.ready).toBe(200);
    expect(report.insertedRowCount).toBe(2);
    expect(report.rolledBack).toBe("abort");
    expect(report.committed).toEqual([{ id: 4 }]);
    expect(report.selected).toEqual([{ body: "a" }, { body: "b" }, { body: "d" }]);
    expect(report.selectedRowCount).toBe(3);
    expect(report.cached).toBe("v");
  }, 60_000);
});
