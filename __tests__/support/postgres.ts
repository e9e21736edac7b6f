// A real PostgreSQL 15 for tests: initdb in a fresh temp directory, listening on 127.0.0.1 on a
// free port (unix socket in the temp directory too). PostgreSQL refuses to run as root, so as
// root the server runs as the "postgres" system user.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { freePort } from "./free-port";
import { spawnServer, type ServerProcess } from "./server-process";
import { waitUntil } from "./wait-until";

const BIN = process.env.POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server (fast shutdown), keeping its data and port. */
  halt(): Promise<void>;
  /** Starts it again after halt(), on the same port and data. */
  resume(): Promise<void>;
  /** Stops it and removes the directory. */
  stop(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

export async function startPostgres({ startTimeoutMs = 20_000 } = {}): Promise<PostgresServer> {
  if (!existsSync(path.join(BIN, "postgres"))) throw new Error(`PostgreSQL binaries not found in ${BIN} (set POSTGRES_BIN)`);
  const dir = mkdtempSync(path.join(tmpdir(), "acgs-pg-"));
  const user = postgresUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  const logFile = path.join(dir, "postgres.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
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

  let server: ServerProcess | undefined;
  const up = async () => {
    const proc = spawnServer(
      path.join(BIN, "postgres"),
      [
        "-D", data,
        "-p", String(port),
        "-k", dir,
        "-c", "listen_addresses=127.0.0.1",
        // Test data need not survive a power cut; this makes startup and writes fast.
        "-c", "fsync=off",
        "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off",
      ],
      { cwd: dir, logFile, uid: user?.uid, gid: user?.gid },
    );
    server = proc;
    try {
      await waitUntil(
        `PostgreSQL on port ${port}`,
        async () => {
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
        { timeoutMs: startTimeoutMs, intervalMs: 100, abandon: () => proc.exitReason() },
      );
    } catch (error) {
      await proc.stop("SIGKILL");
      throw new Error(`${(error as Error).message}\n--- postgres.log ---\n${log()}`);
    }
  };
  const down = async () => {
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, data stays consistent.
    await server?.stop("SIGINT", 10_000);
    server = undefined;
  };

  try {
    await up();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url,
    port,
    dir,
    halt: down,
    resume: up,
    async stop() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
    log,
  };
}
