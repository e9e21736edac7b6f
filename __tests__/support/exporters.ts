// Debian's node, PostgreSQL and Redis exporters on loopback, pointed at a real PostgreSQL and Redis.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port";
import { spawnServer, type ServerProcess } from "./server-process";
import { waitUntil } from "./wait-until";

export const EXPORTER_BINARIES = {
  node: process.env.NODE_EXPORTER_BIN ?? "/usr/bin/prometheus-node-exporter",
  postgres: process.env.POSTGRES_EXPORTER_BIN ?? "/usr/bin/prometheus-postgres-exporter",
  redis: process.env.REDIS_EXPORTER_BIN ?? "/usr/bin/prometheus-redis-exporter",
};

export type ExporterName = keyof typeof EXPORTER_BINARIES;

export interface RunningExporter {
  readonly port: number;
  /** The first scrape, once the exporter reported its target up. */
  readonly firstScrape: string;
}

export interface Exporters {
  readonly node: RunningExporter;
  readonly postgres: RunningExporter;
  readonly redis: RunningExporter;
  stop(): Promise<void>;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.text();
}

/** Starts the three exporters (logs in `dir`) and waits until each reports its target up. */
export async function startExporters(options: { postgresUrl: string; redisUrl: string; dir: string }): Promise<Exporters> {
  const processes: ServerProcess[] = [];
  const stop = () => Promise.all(processes.map((p) => p.stop("SIGTERM", 5000))).then(() => undefined);
  const start = async (
    name: ExporterName,
    args: (port: number) => string[],
    ready: (text: string) => boolean,
    environment: Record<string, string> = {},
  ): Promise<RunningExporter> => {
    const port = await freePort();
    const logFile = join(options.dir, `${name}-exporter.log`);
    // Through env(1): spawnServer passes no environment of its own, and jest's process.env is not the process's.
    const proc = spawnServer(
      "/usr/bin/env",
      [...Object.entries(environment).map(([k, v]) => `${k}=${v}`), EXPORTER_BINARIES[name], ...args(port)],
      { cwd: options.dir, logFile },
    );
    processes.push(proc);
    let text = "";
    try {
      await waitUntil(
        `${name} exporter`,
        async () => {
          text = await scrape(`http://127.0.0.1:${port}/metrics`);
          return ready(text);
        },
        { timeoutMs: 15_000, intervalMs: 100, abandon: () => proc.exitReason() },
      );
    } catch (error) {
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      throw new Error(`${(error as Error).message}\n--- ${name} exporter log ---\n${log}`);
    }
    return { port, firstScrape: text };
  };
  try {
    const [node, postgres, redis] = await Promise.all([
      start("node", (p) => [`--web.listen-address=127.0.0.1:${p}`], (t) => t.includes("node_cpu_seconds_total")),
      // The postgres exporter reads its connection string from the environment, like the deployed one.
      start("postgres", (p) => [`--web.listen-address=127.0.0.1:${p}`], (t) => /^pg_up 1$/m.test(t), {
        DATA_SOURCE_NAME: `${options.postgresUrl}?sslmode=disable`,
      }),
      start("redis", (p) => [`-web.listen-address=127.0.0.1:${p}`, `-redis.addr=${options.redisUrl}`], (t) => /^redis_up 1$/m.test(t)),
    ]);
    return { node, postgres, redis, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
