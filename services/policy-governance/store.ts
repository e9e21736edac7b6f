// policy-governance's SQL: policies with their versions, the generation counter that every change
// bumps (decision cache keys carry it, so all replicas stop using old decisions at once), and the
// log of decisions that evolutionary-computation reads.
import { randomUUID } from "node:crypto";
import type { Database, Queryable } from "../kit/database";
import { migrate } from "../kit/migrations";
import type { PolicyRule } from "../policy-model/policy-rule";
import type { Decision } from "./decide";

const MIGRATIONS = [
  {
    id: "001-policies",
    sql: `CREATE TABLE policies (
            id text PRIMARY KEY,
            name text NOT NULL UNIQUE,
            latest_version integer NOT NULL,
            active_version integer,
            created_by text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
  {
    id: "002-policy-versions",
    sql: `CREATE TABLE policy_versions (
            policy_id text NOT NULL REFERENCES policies (id),
            version integer NOT NULL CHECK (version > 0),
            description text NOT NULL DEFAULT '',
            rules jsonb NOT NULL,
            created_by text,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (policy_id, version)
          )`,
  },
  {
    id: "003-policy-state",
    sql: "CREATE TABLE policy_state (id integer PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL)",
  },
  {
    // Starts at the creation time in ms: a recreated database never reuses the generations (and
    // so the cache keys) of the one before it.
    id: "004-policy-state-row",
    sql: "INSERT INTO policy_state (id, generation) VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
  },
  {
    id: "005-policy-decisions",
    sql: `CREATE TABLE policy_decisions (
            id bigserial PRIMARY KEY,
            decided_at timestamptz NOT NULL DEFAULT now(),
            subject text NOT NULL,
            action text NOT NULL,
            resource text NOT NULL,
            decision text NOT NULL CHECK (decision IN ('allow', 'deny')),
            policy_id text,
            policy_version integer,
            rule_id text,
            reason text NOT NULL,
            is_default boolean NOT NULL,
            generation bigint NOT NULL,
            cached boolean NOT NULL
          )`,
  },
];

export interface PolicyVersion {
  readonly version: number;
  readonly description: string;
  readonly rules: PolicyRule[];
  readonly created_by: string | null;
  readonly created_at: string;
}

export interface PolicySummary {
  readonly id: string;
  readonly name: string;
  readonly latest_version: number;
  readonly active_version: number | null;
  readonly active: boolean;
  readonly created_by: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface PolicyDetail extends PolicySummary {
  readonly versions: PolicyVersion[];
}

/** The active policies as of one generation, read in one snapshot. */
export interface ActivePolicies {
  readonly generation: number;
  readonly policies: { id: string; name: string; version: number; rules: PolicyRule[] }[];
}

/**
 * One decision to append: the generation it was made under, and its row of the log as JSON text,
 * built by `decisionRow` (a cached decision's part of it is built once, not once per request).
 */
export interface DecisionToRecord {
  readonly generation: number;
  readonly row: string;
}

/** The decision's own columns, as the JSON array text that `decisionRow` takes. */
export function decisionColumns(decision: Decision): string {
  return JSON.stringify([decision.decision, decision.policy?.id ?? null, decision.policy?.version ?? null, decision.rule_id, decision.reason, decision.default]);
}

/**
 * A row of the decision log: `request` is the JSON array [subject, action, resource], `columns`
 * what `decisionColumns` gave. Its order is the one recordDecisions reads.
 */
export function decisionRow(request: string, generation: number, columns: string, cached: boolean): string {
  return `[${request.slice(1, -1)},${generation},${columns.slice(1, -1)},${cached}]`;
}

export interface RecordedDecision extends Omit<Decision, "policy"> {
  readonly subject: string;
  readonly action: string;
  readonly resource: string;
  readonly generation: number;
  readonly cached: boolean;
  readonly id: number;
  readonly decided_at: string;
  readonly policy_id: string | null;
  readonly policy_version: number | null;
}

export type Mutation =
  | { readonly status: "ok"; readonly policy: PolicyDetail; readonly generation: number }
  | { readonly status: "not_found" }
  | { readonly status: "name_taken" }
  | { readonly status: "version_conflict"; readonly latest_version: number }
  | { readonly status: "no_such_version"; readonly latest_version: number };

export interface NewVersion {
  readonly description: string;
  readonly rules: readonly PolicyRule[];
  readonly activate: boolean;
  readonly createdBy: string | null;
}

export interface PolicyStore {
  /** Migrates once; a failure (database down at start) is retried by the next call. */
  ready(): Promise<void>;
  create(name: string, first: NewVersion): Promise<Mutation>;
  addVersion(id: string, next: NewVersion, expectedVersion?: number): Promise<Mutation>;
  /** `version` undefined: the latest; null: deactivate. */
  setActive(id: string, version: number | null | undefined): Promise<Mutation>;
  get(id: string): Promise<PolicyDetail | undefined>;
  list(active?: boolean): Promise<PolicySummary[]>;
  activePolicies(): Promise<ActivePolicies>;
  /**
   * Appends the decisions made under the current generation, in one statement, and says which
   * generation is current: a decision made under an older one is not recorded (its caller decides again).
   */
  recordDecisions(batch: readonly DecisionToRecord[]): Promise<{ generation: number; ids: number[] }>;
  decisions(since: number, limit: number): Promise<RecordedDecision[]>;
}

const iso = (value: unknown) => new Date(value as string).toISOString();

interface PolicyRow {
  id: string;
  name: string;
  latest_version: number;
  active_version: number | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

function summary(row: PolicyRow): PolicySummary {
  return {
    id: row.id,
    name: row.name,
    latest_version: row.latest_version,
    active_version: row.active_version,
    active: row.active_version !== null,
    created_by: row.created_by,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

async function detail(q: Queryable, id: string): Promise<PolicyDetail | undefined> {
  const policy = (await q.query<PolicyRow>("SELECT * FROM policies WHERE id = $1", [id])).rows[0];
  if (!policy) return undefined;
  const { rows } = await q.query<PolicyVersion & { created_at: Date }>(
    "SELECT version, description, rules, created_by, created_at FROM policy_versions WHERE policy_id = $1 ORDER BY version",
    [id],
  );
  return { ...summary(policy), versions: rows.map((v) => ({ ...v, created_at: iso(v.created_at) })) };
}

// Every change moves the generation, so no replica can serve a decision made before it.
async function nextGeneration(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ generation: string }>("UPDATE policy_state SET generation = generation + 1 WHERE id = 1 RETURNING generation");
  return Number(rows[0].generation);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}

export function createPolicyStore(database: Database): PolicyStore {
  let preparing: Promise<void> | undefined;
  const ready = () => {
    preparing ??= migrate(database, "policy-governance", MIGRATIONS).then(
      () => undefined,
      (error) => {
        preparing = undefined;
        throw error;
      },
    );
    return preparing;
  };

  const insertVersion = (q: Queryable, id: string, version: number, v: NewVersion) =>
    q.query("INSERT INTO policy_versions (policy_id, version, description, rules, created_by) VALUES ($1, $2, $3, $4, $5)", [
      id,
      version,
      v.description,
      JSON.stringify(v.rules),
      v.createdBy,
    ]);

  return {
    ready,

    async create(name, first) {
      await ready();
      const id = randomUUID();
      try {
        return await database.transaction(async (tx) => {
          await tx.query("INSERT INTO policies (id, name, latest_version, active_version, created_by) VALUES ($1, $2, 1, $3, $4)", [
            id,
            name,
            first.activate ? 1 : null,
            first.createdBy,
          ]);
          await insertVersion(tx, id, 1, first);
          const generation = await nextGeneration(tx);
          return { status: "ok", policy: (await detail(tx, id))!, generation } as const;
        });
      } catch (error) {
        if (isUniqueViolation(error)) return { status: "name_taken" };
        throw error;
      }
    },

    async addVersion(id, next, expectedVersion) {
      await ready();
      return database.transaction(async (tx): Promise<Mutation> => {
        const current = (await tx.query<{ latest_version: number }>("SELECT latest_version FROM policies WHERE id = $1 FOR UPDATE", [id])).rows[0];
        if (!current) return { status: "not_found" };
        if (expectedVersion !== undefined && expectedVersion !== current.latest_version) {
          return { status: "version_conflict", latest_version: current.latest_version };
        }
        const version = current.latest_version + 1;
        await insertVersion(tx, id, version, next);
        await tx.query(
          `UPDATE policies SET latest_version = $2, active_version = CASE WHEN $3 THEN $2 ELSE active_version END, updated_at = now()
           WHERE id = $1`,
          [id, version, next.activate],
        );
        const generation = await nextGeneration(tx);
        return { status: "ok", policy: (await detail(tx, id))!, generation };
      });
    },

    async setActive(id, version) {
      await ready();
      return database.transaction(async (tx): Promise<Mutation> => {
        const current = (await tx.query<{ latest_version: number }>("SELECT latest_version FROM policies WHERE id = $1 FOR UPDATE", [id])).rows[0];
        if (!current) return { status: "not_found" };
        const target = version === undefined ? current.latest_version : version;
        if (target !== null && (target < 1 || target > current.latest_version)) {
          return { status: "no_such_version", latest_version: current.latest_version };
        }
        await tx.query("UPDATE policies SET active_version = $2, updated_at = now() WHERE id = $1", [id, target]);
        const generation = await nextGeneration(tx);
        return { status: "ok", policy: (await detail(tx, id))!, generation };
      });
    },

    async get(id) {
      await ready();
      return detail(database, id);
    },

    async list(active) {
      await ready();
      const filter = active === undefined ? "" : active ? "WHERE active_version IS NOT NULL" : "WHERE active_version IS NULL";
      const { rows } = await database.query<PolicyRow>(`SELECT * FROM policies ${filter} ORDER BY name`);
      return rows.map(summary);
    },

    async activePolicies() {
      await ready();
      // One statement, one snapshot: the generation and the policies it names belong together.
      const { rows } = await database.query<{ generation: string; id: string | null; name: string; version: number; rules: PolicyRule[] }>(
        `SELECT s.generation, p.id, p.name, v.version, v.rules
         FROM policy_state s
         LEFT JOIN policies p ON p.active_version IS NOT NULL
         LEFT JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.active_version
         WHERE s.id = 1
         ORDER BY p.name`,
      );
      return {
        generation: Number(rows[0].generation),
        policies: rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, name: r.name, version: r.version, rules: r.rules })),
      };
    },

    async recordDecisions(batch) {
      await ready();
      // Identical rows (a hot request answered from the cache) travel once, with their count.
      const groups = new Map<string, number[]>();
      batch.forEach((d, i) => {
        const same = groups.get(d.row);
        if (same === undefined) groups.set(d.row, [i]);
        else same.push(i);
      });
      const param = `[${Array.from(groups, ([row, indexes]) => `[${indexes.length},${row.slice(1)}`).join(",")}]`;
      // The advisory lock orders appends across replicas: ids become visible in increasing order,
      // so a reader paging with ?since= never skips a decision committed late. The batch travels
      // as one JSON array of [count, ...row]: far cheaper for the client than eleven parameter
      // arrays, and for the server than objects matched by key name; prepared, it is planned once.
      // Rows are inserted group by group, so the ids in order go to the groups in order.
      const { rows } = await database.query<{ generation: string; ids: (string | number)[] }>(
        `WITH state AS (SELECT generation FROM policy_state WHERE id = 1),
              ordered AS (SELECT pg_advisory_xact_lock(hashtext('acgs-policy-decisions')) AS locked),
              inserted AS (
                INSERT INTO policy_decisions
                  (subject, action, resource, generation, decision, policy_id, policy_version, rule_id, reason, is_default, cached)
                SELECT g ->> 1, g ->> 2, g ->> 3, (g ->> 4)::bigint, g ->> 5, g ->> 6, (g ->> 7)::integer, g ->> 8, g ->> 9,
                       (g ->> 10)::boolean, (g ->> 11)::boolean
                FROM jsonb_array_elements($1::jsonb) AS g
                  CROSS JOIN LATERAL generate_series(1, (g ->> 0)::integer)
                  CROSS JOIN state CROSS JOIN ordered
                WHERE (g ->> 4)::bigint = state.generation
                RETURNING id
              )
         SELECT (SELECT generation FROM state) AS generation,
                COALESCE((SELECT array_agg(id ORDER BY id) FROM inserted), '{}') AS ids`,
        [param],
        { name: "policy-governance-record-decisions" },
      );
      const generation = Number(rows[0].generation);
      const inserted = rows[0].ids;
      const byIndex: number[] = [];
      let next = 0;
      for (const indexes of groups.values()) {
        if (batch[indexes[0]].generation !== generation) continue;
        for (const i of indexes) byIndex[i] = Number(inserted[next++]);
      }
      if (next !== inserted.length) throw new Error(`decision log inserted ${inserted.length} rows for ${next} decisions`);
      // In batch order, the decisions of the current generation only.
      return { generation, ids: batch.flatMap((d, i) => (d.generation === generation ? [byIndex[i]] : [])) };
    },

    async decisions(since, limit) {
      await ready();
      const { rows } = await database.query<Record<string, unknown>>(
        `SELECT id, decided_at, subject, action, resource, decision, policy_id, policy_version, rule_id, reason, is_default,
                generation, cached
         FROM policy_decisions WHERE id > $1 ORDER BY id LIMIT $2`,
        [since, limit],
        // Prepared: evolutionary-computation asks for the decisions after its last one on every read.
        { name: "policy-governance-decisions-page" },
      );
      return rows.map((r) => ({
        id: Number(r.id),
        decided_at: iso(r.decided_at),
        subject: r.subject as string,
        action: r.action as string,
        resource: r.resource as string,
        decision: r.decision as "allow" | "deny",
        policy_id: r.policy_id as string | null,
        policy_version: r.policy_version as number | null,
        rule_id: r.rule_id as string | null,
        reason: r.reason as string,
        default: r.is_default as boolean,
        generation: Number(r.generation),
        cached: r.cached as boolean,
      }));
    },
  };
}
