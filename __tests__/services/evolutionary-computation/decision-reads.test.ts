// evolutionary-computation keeps the decisions it read and only asks policy-governance for newer
// ones: these tests prove a long-lived process answers exactly what a fresh process (a full read)
// answers, as decisions are recorded, when the log is replaced, past MAX_DECISIONS, and that a
// broken answer is a 502 that leaves nothing half-read behind. policy-governance is a stand-in
// (startTestService) serving GET /api/v1/decisions from tables of a real PostgreSQL 15.
import { createHash } from "node:crypto";
import { Client } from "pg";
import { MAX_DECISIONS } from "../../../services/evolutionary-computation/decision-source";
import { evolutionRoutes, type EvolutionOptions } from "../../../services/evolutionary-computation/routes";
import { policyGovernanceRoutes } from "../../../services/policy-governance/routes";
import type { ServiceApp } from "../../../services/kit/service-app";
import type { ServiceContext } from "../../../services/kit/service-context";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { apiCall, type Answer } from "../../support/api-call";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startTestService } from "../../support/test-service";
import { waitUntil } from "../../support/wait-until";

type Json = any;
interface Row {
  id: number;
  subject: string;
  action: string;
  resource: string;
  decision: "allow" | "deny";
}

const PARAMETERS = [
  { name: "threshold", min: 0, max: 1 },
  { name: "action:delete", min: 0, max: 1 },
  { name: "resource:secrets/*", min: 0, max: 1 },
];
const SEARCH = { seed: 3, generations: 8, population: 12, parameters: PARAMETERS };

/** The digest as DecisionSet documents it, computed here from the rows. */
const digestOf = (rows: Row[]) => {
  const hash = createHash("sha256");
  for (const r of rows) hash.update(`${JSON.stringify([r.id, r.subject, r.action, r.resource, r.decision])}\n`);
  return hash.digest("hex");
};

/** Accuracy of the tuned policy on `rows`, from the model's definition (decision-fitness.ts). */
const accuracy = (parameters: Record<string, number>, rows: Row[]) => {
  let right = 0;
  for (const r of rows) {
    const score = (r.action === "delete" ? parameters["action:delete"] : 0) + (r.resource.startsWith("secrets/") ? parameters["resource:secrets/*"] : 0);
    if ((score > parameters.threshold ? "deny" : "allow") === r.decision) right++;
  }
  return right / rows.length;
};

interface Page {
  decisions: Json[];
  next_since: number;
  has_more: boolean;
}
/** What the stand-in answers instead of `real()`, the page it would serve (undefined: that page; a Response: as is). */
type Intercept = (since: number, real: () => Promise<Page>) => Promise<unknown> | unknown;

describe("evolutionary-computation's incremental read of the recorded decisions", () => {
  let postgres: PostgresServer;
  let db: Client;
  const started: ServiceHandle[] = [];
  let tables = 0;

  beforeAll(async () => {
    postgres = await startPostgres();
    db = new Client({ connectionString: postgres.url });
    await db.connect();
  }, 60_000);

  afterAll(async () => {
    await db?.end().catch(() => {});
    await Promise.all(started.map((s) => s.shutdown()));
    await postgres?.stop();
  });

  /** A new decision log; `record(n)` appends n decisions (a fixed mix) and returns the whole log. */
  const decisionLog = async () => {
    const table = `decisions_${++tables}`;
    await db.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, subject text, action text, resource text, decision text, decided_at timestamptz DEFAULT clock_timestamp())`);
    const record = async (n: number, shift = 0) => {
      await db.query(
        `INSERT INTO ${table} (subject, action, resource, decision)
         SELECT 'agent-' || (i % 3), (ARRAY['read', 'write', 'delete'])[1 + (i + ${shift}) % 3], (ARRAY['docs/a', 'secrets/b'])[1 + (i / 3) % 2],
                CASE WHEN (i + ${shift}) % 3 = 2 OR (i / 3) % 2 = 1 THEN 'deny' ELSE 'allow' END
         FROM generate_series(1, $1) AS i`,
        [n],
      );
      return rows();
    };
    const rows = async (): Promise<Row[]> =>
      (await db.query(`SELECT id, subject, action, resource, decision FROM ${table} ORDER BY id`)).rows.map((r) => ({ ...r, id: Number(r.id) }));
    /** Starts the log afresh (a recreated database): ids begin at 1 again. */
    const replace = async () => db.query(`TRUNCATE ${table} RESTART IDENTITY`);
    return { table, record, rows, replace };
  };

  const startGovernance = async (table: string, intercept: { current?: Intercept } = {}) => {
    const handle = await startTestService(
      "policy-governance",
      (app, context) => {
        app.get("/api/v1/decisions", async (c) => {
          const since = Number(c.req.query("since") ?? 0);
          const limit = Math.min(Number(c.req.query("limit") ?? 100), 1000);
          const real = async (): Promise<Page> => {
            const { rows } = await context.database!.query<Json>(
              `SELECT id, subject, action, resource, decision, decided_at FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`,
              [since, limit + 1],
            );
            const decisions = rows.slice(0, limit).map((r: Json) => ({ ...r, id: Number(r.id), decided_at: r.decided_at.toISOString() }));
            return { decisions, next_since: decisions.at(-1)?.id ?? since, has_more: rows.length > limit };
          };
          const instead = await intercept.current?.(since, real);
          if (instead instanceof Response) return instead;
          return c.json(instead ?? (await real()));
        });
      },
      { DATABASE_URL: postgres.url },
    );
    started.push(handle);
    return handle;
  };
  /** `arrived` counts the evolve requests that reached the service (before their handler runs). */
  const startEvolution = async (governanceUrl: string, options: EvolutionOptions = {}, arrived = { count: 0 }) => {
    const routes = (app: ServiceApp, context: ServiceContext) => {
      app.use("/api/v1/evolve", async (_c, next) => {
        arrived.count++;
        await next();
      });
      evolutionRoutes(app, context, options);
    };
    const handle = await startTestService("evolutionary-computation", routes, {
      DATABASE_URL: postgres.url,
      SERVICE_URL_POLICY_GOVERNANCE: governanceUrl,
    });
    started.push(handle);
    return handle;
  };
  const evolve = (url: string, body: Record<string, unknown> = {}): Promise<Answer> => apiCall(url, "/api/v1/evolve", { body: { ...SEARCH, ...body } });
  /** The answer a fresh process gives (its first read is a full read). */
  const fresh = async (governanceUrl: string) => evolve((await startEvolution(governanceUrl)).url);

  it("extends its decisions with those recorded since, to the answer a full read gives", async () => {
    const log = await decisionLog();
    const governance = await startGovernance(log.table);
    const evolution = await startEvolution(governance.url);

    let rows = await log.record(40);
    const first = await evolve(evolution.url);
    expect(first.status).toBe(200);
    expect(first.body.decisions).toEqual({ count: 40, first_id: 1, last_id: 40, truncated: false, digest: digestOf(rows) });

    rows = await log.record(25, 1); // another mix: the best parameters and fitness move
    const second = await evolve(evolution.url);
    expect(second.body.decisions).toEqual({ count: 65, first_id: 1, last_id: 65, truncated: false, digest: digestOf(rows) });
    expect(second.body.best.fitness).toBe(accuracy(second.body.best.parameters, rows));
    expect(second.body.decisions.digest).not.toBe(first.body.decisions.digest);
    // Same request, same decisions: the same answer as a process that read all 65 at once.
    expect(second.body).toEqual((await fresh(governance.url)).body);

    // Nothing new: the same set again, the same answer.
    expect((await evolve(evolution.url)).body).toEqual(second.body);
  });

  it("includes a decision recorded while an earlier read was under way", async () => {
    const log = await decisionLog();
    await log.record(10);
    const intercept: { current?: Intercept } = {};
    const governance = await startGovernance(log.table, intercept);
    const arrived = { count: 0 };
    const evolution = await startEvolution(governance.url, {}, arrived);
    expect((await evolve(evolution.url)).body.decisions.count).toBe(10);

    // Hold the next read at policy-governance until a decision is recorded and a second request sent.
    let reading!: () => void;
    const readStarted = new Promise<void>((resolve) => (reading = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    intercept.current = async (_since, real) => {
      intercept.current = undefined;
      const stale = await real(); // read before the decision below is recorded
      reading();
      await released;
      return stale;
    };
    const early = evolve(evolution.url);
    await readStarted;
    const rows = await log.record(1);
    const late = evolve(evolution.url);
    await waitUntil("the late request reaches the service", async () => arrived.count === 3, { timeoutMs: 5000 });
    release();
    const [earlyAnswer, lateAnswer] = await Promise.all([early, late]);
    // The held read was made before the decision: it answers the request that started it...
    expect(earlyAnswer.body.decisions.count).toBe(10);
    // ...but not the one sent after the decision was recorded, which waits for the next read.
    expect(lateAnswer.body.decisions).toMatchObject({ count: 11, last_id: 11, digest: digestOf(rows) });
  });

  it("reads the log again from the start when it was replaced", async () => {
    const log = await decisionLog();
    const governance = await startGovernance(log.table);
    const evolution = await startEvolution(governance.url);
    await log.record(30);
    expect((await evolve(evolution.url)).body.decisions.count).toBe(30);

    // A recreated log, longer and with other decisions under the same ids.
    await log.replace();
    let rows = await log.record(35, 2);
    const after = await evolve(evolution.url);
    expect(after.body.decisions).toEqual({ count: 35, first_id: 1, last_id: 35, truncated: false, digest: digestOf(rows) });
    expect(after.body).toEqual((await fresh(governance.url)).body);

    // Recreated again, now shorter than what was held: the last id held no longer exists.
    await log.replace();
    rows = await log.record(12, 1);
    const shorter = await evolve(evolution.url);
    expect(shorter.body.decisions).toEqual({ count: 12, first_id: 1, last_id: 12, truncated: false, digest: digestOf(rows) });
  });

  it(`keeps the first ${MAX_DECISIONS} decisions and says when later ones were left out`, async () => {
    const log = await decisionLog();
    const governance = await startGovernance(log.table);
    const evolution = await startEvolution(governance.url);
    let rows = await log.record(MAX_DECISIONS - 1);
    expect((await evolve(evolution.url)).body.decisions).toMatchObject({ count: MAX_DECISIONS - 1, truncated: false });

    rows = await log.record(1); // exactly MAX_DECISIONS: nothing left out yet
    const full = await evolve(evolution.url);
    expect(full.body.decisions).toEqual({ count: MAX_DECISIONS, first_id: 1, last_id: MAX_DECISIONS, truncated: false, digest: digestOf(rows) });

    rows = await log.record(3);
    const truncated = await evolve(evolution.url);
    const kept = rows.slice(0, MAX_DECISIONS);
    expect(truncated.body.decisions).toEqual({ count: MAX_DECISIONS, first_id: 1, last_id: MAX_DECISIONS, truncated: true, digest: digestOf(kept) });
    expect(truncated.body.best.fitness).toBe(accuracy(truncated.body.best.parameters, kept));
    expect(truncated.body).toEqual((await fresh(governance.url)).body);
  }, 60_000);

  it("answers 502 for a broken page and keeps what it had: the next good read completes the set", async () => {
    const log = await decisionLog();
    await log.record(20);
    const intercept: { current?: Intercept } = {};
    const governance = await startGovernance(log.table, intercept);
    const evolution = await startEvolution(governance.url);
    expect((await evolve(evolution.url)).body.decisions.count).toBe(20);

    const rows = await log.record(5);
    // Each page starts with the last decision held (the log is unchanged); what follows is broken.
    const broken: [string, Intercept][] = [
      ["decisions.2.decision", async (_since, real) => {
        const page = await real();
        page.decisions[2].decision = "maybe";
        return page;
      }],
      ["decisions.1.id", async (_since, real) => {
        const page = await real();
        delete page.decisions[1].id;
        return page;
      }],
      ["ids not increasing", async (_since, real) => {
        const page = await real();
        page.decisions[3].id = page.decisions[2].id;
        return page;
      }],
      ["decisions", () => ({ items: [] })],
      ["answered 404", () => Response.json({ error: "not found" }, { status: 404 })],
    ];
    for (const [detail, answer] of broken) {
      intercept.current = answer;
      const refused = await evolve(evolution.url);
      expect(refused.status).toBe(502);
      expect(refused.body.detail).toContain(detail);
    }
    intercept.current = undefined;
    const healed = await evolve(evolution.url);
    expect(healed.body.decisions).toEqual({ count: 25, first_id: 1, last_id: 25, truncated: false, digest: digestOf(rows) });
    expect(healed.body).toEqual((await fresh(governance.url)).body);
  });

  it("with the real policy-governance: each read asks only for what follows the last decision held", async () => {
    const reads: number[] = []; // the `since` of every GET /api/v1/decisions
    const governance = await startTestService(
      "policy-governance",
      (app, context) => {
        app.use("/api/v1/decisions", async (c, next) => {
          reads.push(Number(c.req.query("since")));
          await next();
        });
        policyGovernanceRoutes(app, context);
      },
      { DATABASE_URL: postgres.url },
    );
    started.push(governance);
    const created = await apiCall(governance.url, "/api/v1/policies", {
      body: { name: "secrets", activate: true, rules: [{ id: "deny-secrets", effect: "deny", resource: "secrets/*" }, { id: "allow-rest", effect: "allow" }] },
    });
    expect(created.status).toBe(201);
    const enforce = async (n: number, from: number) => {
      for (let i = from; i < from + n; i++) {
        const res = await apiCall(governance.url, "/api/v1/enforce", { body: { subject: `agent-${i % 4}`, action: i % 3 === 0 ? "delete" : "read", resource: i % 2 ? "secrets/x" : "docs/y" } });
        expect(res.status).toBe(200);
      }
    };
    const evolution = await startEvolution(governance.url);
    await enforce(12, 0);
    const first = await evolve(evolution.url);
    expect(first.body.decisions).toMatchObject({ count: 12, truncated: false });
    await enforce(7, 12);
    const second = await evolve(evolution.url);
    expect(second.body.decisions).toMatchObject({ count: 19, last_id: first.body.decisions.last_id + 7 });
    expect(second.body.best.fitness).toBeGreaterThan(0.99); // "secrets/*" alone explains every decision

    // One full read, then only what follows the last decision held (asked from the one before it,
    // which must come back unchanged: a changed one would have meant a full read again).
    expect(reads).toEqual([0, first.body.decisions.last_id - 1]);
    expect(second.body).toEqual((await fresh(governance.url)).body);
  });

  it("runs a background job on the decisions it was accepted with, even when more arrive meanwhile", async () => {
    const log = await decisionLog();
    const governance = await startGovernance(log.table);
    const evolution = await startEvolution(governance.url, { inlineLimit: 100 });
    const rows = await log.record(50);
    const accepted = await evolve(evolution.url, { generations: 300, population: 30 });
    expect(accepted.status).toBe(202);
    await log.record(20, 1);
    expect((await evolve(evolution.url, { generations: 2, population: 2 })).body.decisions.count).toBe(70);
    let job: Answer;
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await apiCall(evolution.url, accepted.body.poll);
    } while (job.body.status === "running");
    expect(job.body.result.decisions).toEqual({ count: 50, first_id: 1, last_id: 50, truncated: false, digest: digestOf(rows) });
    expect(job.body.result.best.fitness).toBe(accuracy(job.body.result.best.parameters, rows));
  }, 60_000);
});
