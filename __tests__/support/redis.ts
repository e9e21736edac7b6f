// A real redis-server for tests: no persistence, on 127.0.0.1 on a free port, working directory
// in a fresh temp directory.
import { existsSync, mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./free-port";
import { startRestartableServer, type RestartableServer } from "./restartable-server";
import { spawnServer } from "./server-process";

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server";

export interface RedisServer extends RestartableServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
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
  const port = await freePort();
  // No persistence: halt() loses the data, as a restarted cache would.
  const server = await startRestartableServer({
    description: `redis-server on port ${port}`,
    dir,
    logFile,
    spawn: () =>
      spawnServer(
        REDIS_SERVER,
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"],
        { cwd: dir, logFile },
      ),
    answers: () => ping(port),
    startTimeoutMs,
    pollIntervalMs: 50,
    stopSignal: "SIGTERM",
    stopTimeoutMs: 5000,
  });
  return { ...server, url: `redis://127.0.0.1:${port}`, port, dir };
}
