// The four services on the embedded defaults (no DATABASE_URL, no REDIS_URL), as `npm run dev`
// runs them on a bare machine: validate, enforce and synthesize work end to end. Run in a child
// process (see fixtures/embedded-flows.ts).
import path from "node:path";
import { runEmbeddedFixture } from "../../support/embedded-fixture";

describe("validate, enforce and synthesize on the embedded defaults", () => {
  it("work on PGlite and the in-process cache", async () => {
    const report = await runEmbeddedFixture(path.join(__dirname, "fixtures/embedded-flows.ts"), 100_000);
    expect(report.databases).toEqual(["pglite", "pglite"]);
    expect(report.caches).toEqual(["memory", "memory"]);
    expect(report.validate.map((v: { status: number; body: { compliant: boolean; cached: boolean } }) => [v.status, v.body.compliant, v.body.cached])).toEqual([
      [200, false, false],
      [200, false, true],
    ]);
    expect(report.validate[0].body.violations[0].principle_id).toBe("no-destructive-without-approval");
    expect(report.created).toEqual({ status: 201, active: true });
    expect(report.enforce.map((e: { body: { decision: string; cached: boolean } }) => [e.body.decision, e.body.cached])).toEqual([
      ["allow", false],
      ["allow", true],
    ]);
    expect(report.decisions.decisions.map((d: { id: number }) => d.id)).toEqual(report.enforce.map((e: { body: { decision_id: number } }) => e.body.decision_id));
    expect(report.synthesize.status).toBe(200);
    expect(report.synthesize.body).toMatchObject({ approved: true, validation: { compliant: true }, verification: { valid: true } });
  }, 120_000);
});
