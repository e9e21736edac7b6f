// The benchmarks' PostgreSQL: durable (fsync and synchronous commit on, as in production) and in
// its steady state as to WAL. A fresh server has one WAL segment; each further 16 MB of WAL makes
// it create and zero-fill a new segment file, and the commit waiting on that took ~30 ms here
// (log_min_duration_statement caught a 31.5 ms decision-log append at 2,000 enforce/s, a segment
// every 10-25 s). A running server reuses old segments, renamed at each checkpoint, and never
// waits so. So the bench writes ~300 MB of WAL once and checkpoints: those segments are recycled
// for the run; a checkpoint before each target recycles what the previous one used.
import { Client } from "pg";
import { startPostgres, type PostgresServer } from "../__tests__/support/postgres";

export interface SteadyPostgres extends PostgresServer {
  /** A checkpoint: the WAL written so far becomes segments ready for reuse. */
  checkpoint(): Promise<void>;
}

/** Rows of ~530 bytes: about 300 MB of WAL, about twenty segments; a second or two. */
const WARM_ROWS = 600_000;

export async function startSteadyPostgres({ durable = true }: { durable?: boolean } = {}): Promise<SteadyPostgres> {
  const server = await startPostgres({ durable });
  const admin = async (statements: readonly string[]) => {
    const client = new Client({ connectionString: server.url });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  };
  try {
    await admin([
      `CREATE TABLE bench_wal_warm AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, ${WARM_ROWS}) AS g`,
      "DROP TABLE bench_wal_warm",
      "CHECKPOINT",
    ]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return Object.assign(server, { checkpoint: () => admin(["CHECKPOINT"]) });
}
