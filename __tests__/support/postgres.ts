// A real PostgreSQL 15 for tests: initdb in a fresh temp directory, listening on 127.0.0.1 on a
// free port (unix socket in the temp directory too). PostgreSQL refuses to run as root, so as
// root the server runs as the "postgres" system user.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { freePort } from "./free-port";
import { startRestartableServer, type RestartableServer } from "./restartable-server";
import { spawnServer } from "./server-process";

const BIN = process.env.POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresServer extends RestartableServer {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
}

export interface PostgresOptions {
  readonly startTimeoutMs?: number;
  /**
   * Commits wait for the WAL to reach the disk, as in production (the benchmarks want that).
   * Default false: test data need not survive a power cut, and tests start and write faster.
   */
  readonly durable?: boolean;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

export async function startPostgres({ startTimeoutMs = 20_000, durable = false }: PostgresOptions = {}): Promise<PostgresServer> {
  if (!existsSync(path.join(BIN, "postgres"))) throw new Error(`PostgreSQL binaries not found in ${BIN} (set POSTGRES_BIN)`);
  const dir = mkdtempSync(path.join(tmpdir(), "acgs-pg-"));
  const user = postgresUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  const port = await freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;

  try {
    execFileSync(
      path.join(BIN, "initdb"),
      ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
      { cwd: dir, stdio: "pipe", uid: user?.uid, gid: user?.gid },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`initdb failed: ${(error as Error).message}\n${stderr}`);
  }

  const durability = durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
  const logFile = path.join(dir, "postgres.log");
  const server = await startRestartableServer({
    description: `PostgreSQL on port ${port}`,
    dir,
    logFile,
    spawn: () =>
      spawnServer(
        path.join(BIN, "postgres"),
        ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", ...durability],
        { cwd: dir, logFile, uid: user?.uid, gid: user?.gid },
      ),
    answers: async () => {
      const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.query("SELECT 1");
        return true;
      } finally {
        await client.end().catch(() => {});
      }
    },
    startTimeoutMs,
    pollIntervalMs: 100,
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, data stays consistent.
    stopSignal: "SIGINT",
    stopTimeoutMs: 10_000,
  });
  return { ...server, url, port, dir };
}

/** A fresh, empty database on the same server: for tests that need "first start", or benchmarks that must not read each other's data. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
