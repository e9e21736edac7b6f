// Baseline: the least a route that stores something durably can cost here. node:http reads the
// POST body and inserts it as one row through a `pg` pool of 10 (the services' size), one
// autocommit INSERT per request, and answers once PostgreSQL has flushed the commit (fsync and
// synchronous_commit on, as in production; PostgreSQL flushes concurrent commits together). No
// framework, no validation, no hash chain: what a service's write route costs above this is its own.
import { createServer } from "node:http";
import { Pool } from "pg";

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const INSERT = { name: "durable-insert", text: "INSERT INTO bench_durable_insert (body) VALUES ($1) RETURNING id" };

async function main(): Promise<void> {
  await pool.query("CREATE TABLE IF NOT EXISTS bench_durable_insert (id bigserial PRIMARY KEY, body jsonb NOT NULL)");
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      pool.query({ ...INSERT, values: [Buffer.concat(chunks).toString()] }).then(
        ({ rows }) => {
          res.writeHead(201, { "Content-Type": "application/json", "X-Constitutional-Hash": "cdd01ef066bc6cf2" });
          res.end(`{"id":${rows[0].id}}`);
        },
        (error: Error) => {
          res.writeHead(503, { "Content-Type": "application/json", "Retry-After": "1" });
          res.end(JSON.stringify({ error: error.message }));
        },
      );
    });
  }).listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("ready\n"));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
// An orderly exit, so that --cpu-prof writes its profile.
process.once("SIGTERM", () => process.exit(0));
