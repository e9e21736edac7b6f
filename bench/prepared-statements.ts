// What a named (prepared) statement saves over an unnamed one, through the kit's Database: small
// statements run one after another, unnamed and named in alternating rounds, on a real PostgreSQL
// 15 (one pooled connection, so that its server process's CPU time can be read) and on PGlite.
//   flock /tmp/acgs-bench.lock npx tsx bench/prepared-statements.ts     BENCH_QUERIES=<per round> (5000)
// Prints per query: wall time, this process's CPU time, and (PostgreSQL) the server backend's.
import { readFileSync } from "node:fs";
import type { Database } from "../services/kit/database";
import { silentLogger } from "../services/kit/logger";
import { createPgliteDatabase } from "../services/kit/pglite-database";
import { createPostgresDatabase } from "../services/kit/postgres-database";
import { startPostgres } from "../__tests__/support/postgres";

const QUERIES = Number(process.env.BENCH_QUERIES ?? 5000);
const ROUNDS = 3;

const STATEMENTS = [
  { label: "point SELECT", sql: "SELECT id, body, created_at FROM bench_notes WHERE id = $1", params: (i: number) => [1 + (i % 1000)] },
  { label: "one-row INSERT", sql: "INSERT INTO bench_log (note_id, body) VALUES ($1, $2)", params: (i: number) => [1 + (i % 1000), `entry ${i}`] },
];

interface Figures {
  wallMicros: number;
  clientCpuMicros: number;
  serverCpuMicros: number;
}

/** utime + stime of a process in microseconds (Linux /proc; 0 elsewhere). */
function processCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}

async function round(db: Database, sql: string, params: (i: number) => unknown[], name: string | undefined, serverPid?: number): Promise<Figures> {
  const options = name === undefined ? undefined : { name };
  const cpu = process.cpuUsage();
  const server = processCpuMicros(serverPid);
  const start = performance.now();
  for (let i = 0; i < QUERIES; i++) await db.query(sql, params(i), options);
  const wall = (performance.now() - start) * 1000;
  const used = process.cpuUsage(cpu);
  return {
    wallMicros: wall / QUERIES,
    clientCpuMicros: (used.user + used.system) / QUERIES,
    serverCpuMicros: (processCpuMicros(serverPid) - server) / QUERIES,
  };
}

async function measure(title: string, db: Database, serverPid?: number): Promise<void> {
  await db.query("CREATE TABLE bench_notes (id int PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
  await db.query("INSERT INTO bench_notes (id, body) SELECT g, 'note ' || g FROM generate_series(1, 1000) g");
  await db.query("CREATE TABLE bench_log (id bigserial PRIMARY KEY, note_id int NOT NULL, body text NOT NULL)");
  console.log(`\n${title}: ${QUERIES} queries a round, best of ${ROUNDS} rounds each (µs per query)`);
  console.log(`${"statement".padEnd(16)} ${"".padEnd(8)} ${"wall".padStart(8)} ${"client CPU".padStart(11)} ${serverPid ? "server CPU".padStart(11) : ""}`);
  for (const { label, sql, params } of STATEMENTS) {
    const best: Record<"unnamed" | "named", Figures | undefined> = { unnamed: undefined, named: undefined };
    // Warm-up (JIT, plan caches), then alternating rounds so that a busy moment hits both alike.
    await round(db, sql, params, undefined, serverPid);
    await round(db, sql, params, `bench-${label}`, serverPid);
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of ["unnamed", "named"] as const) {
        const figures = await round(db, sql, params, kind === "named" ? `bench-${label}` : undefined, serverPid);
        if (best[kind] === undefined || figures.wallMicros < best[kind]!.wallMicros) best[kind] = figures;
      }
    }
    for (const kind of ["unnamed", "named"] as const) {
      const f = best[kind]!;
      const server = serverPid ? f.serverCpuMicros.toFixed(1).padStart(11) : "";
      console.log(`${label.padEnd(16)} ${kind.padEnd(8)} ${f.wallMicros.toFixed(1).padStart(8)} ${f.clientCpuMicros.toFixed(1).padStart(11)} ${server}`);
    }
  }
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const pg = createPostgresDatabase({ url: postgres.url, applicationName: "bench-prepared", logger: silentLogger, maxConnections: 1 });
  try {
    const { rows } = await pg.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    await measure("PostgreSQL 15 through pg (one connection)", pg, rows[0].pid);
  } finally {
    await pg.close();
    await postgres.stop();
  }
  const lite = createPgliteDatabase({ logger: silentLogger });
  try {
    await lite.opened();
    await measure("PGlite (in process: its CPU is the client's)", lite);
  } finally {
    await lite.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
