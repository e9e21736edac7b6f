// evolutionary-computation's SQL: background search jobs, their progress and their results. A job
// whose process stopped stops sending heartbeats and is reported failed, so a poller never waits
// forever; submitting it again gives the same answer (the search is seeded).
import type { Database } from "../kit/database";
import type { Migration } from "../kit/migrations";
import { schemaReady } from "../kit/schema-ready";

const MIGRATIONS: readonly Migration[] = [
  {
    id: "001-create-evolution-jobs",
    sql: `CREATE TABLE evolution_jobs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
            request jsonb NOT NULL,
            generations integer NOT NULL,
            generation integer NOT NULL DEFAULT 0,
            best jsonb,
            result jsonb,
            error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
          )`,
  },
];

/** Without a heartbeat for this long, a running job's process is taken to be gone. */
export const HEARTBEAT_TIMEOUT_SECONDS = 30;

export type JobStatus = "running" | "succeeded" | "failed";

export interface Job {
  readonly job_id: string;
  readonly status: JobStatus;
  readonly generation: number;
  readonly generations: number;
  readonly best: unknown;
  readonly result?: unknown;
  readonly error?: string;
  readonly request: unknown;
  readonly created_at: string;
  readonly updated_at: string;
  readonly finished_at: string | null;
}

export interface EvolutionStore {
  ready(): Promise<void>;
  createJob(request: unknown, generations: number): Promise<Job>;
  progress(id: string, generation: number, best: unknown): Promise<void>;
  finish(id: string, outcome: { result: unknown } | { error: string }): Promise<void>;
  job(id: string): Promise<Job | undefined>;
}

interface JobRow {
  id: string;
  status: JobStatus;
  request: unknown;
  generations: number;
  generation: number;
  best: unknown;
  result: unknown;
  error: string | null;
  created_at: Date | string;
  heartbeat_at: Date | string;
  finished_at: Date | string | null;
}

export function openEvolutionStore(database: Database): EvolutionStore {
  const ready = schemaReady(database, "evolutionary-computation", MIGRATIONS);
  return {
    ready,
    async createJob(request, generations) {
      await ready();
      const { rows } = await database.query<JobRow>(
        "INSERT INTO evolution_jobs (status, request, generations) VALUES ('running', $1, $2) RETURNING *",
        [JSON.stringify(request), generations],
      );
      return toJob(rows[0]);
    },
    async progress(id, generation, best) {
      await database.query(
        "UPDATE evolution_jobs SET generation = $2, best = $3, heartbeat_at = now() WHERE id = $1 AND status = 'running'",
        [id, generation, JSON.stringify(best)],
      );
    },
    async finish(id, outcome) {
      // Unconditional: a result that arrives after the job was given up for lost still wins.
      await database.query(
        `UPDATE evolution_jobs
            SET status = $2, result = $3, error = $4, heartbeat_at = now(), finished_at = now(),
                generation = CASE WHEN $2 = 'succeeded' THEN generations ELSE generation END
          WHERE id = $1`,
        "result" in outcome ? [id, "succeeded", JSON.stringify(outcome.result), null] : [id, "failed", null, outcome.error],
      );
    },
    async job(id) {
      await ready();
      const { rows } = await database.query<JobRow>(
        `UPDATE evolution_jobs
            SET status = 'failed', finished_at = now(),
                error = 'interrupted: the process running it stopped; submit it again (same seed, same answer)'
          WHERE id = $1 AND status = 'running' AND heartbeat_at < now() - make_interval(secs => $2)
         RETURNING *`,
        [id, HEARTBEAT_TIMEOUT_SECONDS],
      );
      if (rows.length > 0) return toJob(rows[0]);
      const found = await database.query<JobRow>("SELECT * FROM evolution_jobs WHERE id = $1", [id]);
      return found.rows[0] ? toJob(found.rows[0]) : undefined;
    },
  };
}

function toJob(row: JobRow): Job {
  return {
    job_id: row.id,
    status: row.status,
    generation: row.generation,
    generations: row.generations,
    best: row.best,
    ...(row.result !== null ? { result: row.result } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    request: row.request,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.heartbeat_at).toISOString(),
    finished_at: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  };
}
