// integrity on the embedded default (PGlite, no DATABASE_URL), as `npm run dev` runs it: the batch
// writes (optimistic and locked) and named statements on PGlite. Run in a child process (see
// fixtures/embedded-audit.ts). In-process PGlite answers before the next request is read, so
// batches there mostly hold one append.
import path from "node:path";
import { runEmbeddedFixture } from "../../support/embedded-fixture";

describe("integrity on embedded PGlite", () => {
  it("chains concurrent appends, and the chain verifies", async () => {
    const report = await runEmbeddedFixture(path.join(__dirname, "fixtures/embedded-audit.ts"));
    expect(report.databaseKind).toBe("pglite");
    expect(report.statuses).toEqual(Array(31).fill(201));
    expect(report.sequences).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(report.listed).toEqual(report.acknowledged);
    expect(report.verify).toMatchObject({ valid: true, length: 31, verified: 31 });
  }, 60_000);
});
