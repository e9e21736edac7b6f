// A real redis-server for tests: no persistence, on 127.0.0.1 on a free port, working directory
// in a fresh temp directory.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./free-port";
import { spawnServer, type ServerProcess } from "./server-process";
import { waitUntil } from "./wait-until";

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server";

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server, keeping its port (data is gone: no persistence). */
  halt(): Promise<void>;
  /** Starts it again after halt(), on the same port. */
  resume(): Promise<void>;
  /** Stops it and removes the directory. */
  stop(): Promise<void>;
  log(): string;
}

/** True when a PING on a fresh connection gets +PONG within a second. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

export async function startRedis({ startTimeoutMs = 10_000 } = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`redis-server not found at ${REDIS_SERVER} (set REDIS_SERVER_BIN)`);
  const dir = mkdtempSync(path.join(tmpdir(), "acgs-redis-"));
  const logFile = path.join(dir, "redis.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const port = await freePort();

  let server: ServerProcess | undefined;
  const up = async () => {
    const proc = spawnServer(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"],
      { cwd: dir, logFile },
    );
    server = proc;
    try {
      await waitUntil(`redis-server on port ${port}`, () => ping(port), {
        timeoutMs: startTimeoutMs,
        intervalMs: 50,
        abandon: () => proc.exitReason(),
      });
    } catch (error) {
      await proc.stop("SIGKILL");
      throw new Error(`${(error as Error).message}\n--- redis.log ---\n${log()}`);
    }
  };
  const down = async () => {
    await server?.stop("SIGTERM", 5000);
    server = undefined;
  };

  try {
    await up();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
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
