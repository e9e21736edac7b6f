// The metric names the system really exports, from real scrapes: a service app of the kit (after a
// request, a cache lookup and a compliance failure, so every series exists), and Debian's node,
// PostgreSQL and Redis exporters pointed at a real PostgreSQL and Redis. No hand-kept list.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import { createServiceMetrics } from "../../services/kit/metrics";
import { createServiceApp } from "../../services/kit/service-app";
import { freePort } from "../support/free-port";
import { startPostgres } from "../support/postgres";
import { startRedis } from "../support/redis";
import { spawnServer, type ServerProcess } from "../support/server-process";
import { waitUntil } from "../support/wait-until";

/** Series Prometheus makes itself: `up` for every target, ALERTS for every alert. */
export const PROMETHEUS_SYNTHETIC = ["up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"];

export const EXPORTER_BINARIES = {
  node: process.env.NODE_EXPORTER_BIN ?? "/usr/bin/prometheus-node-exporter",
  postgres: process.env.POSTGRES_EXPORTER_BIN ?? "/usr/bin/prometheus-postgres-exporter",
  redis: process.env.REDIS_EXPORTER_BIN ?? "/usr/bin/prometheus-redis-exporter",
};

/** Metric names in a Prometheus text exposition. */
export function metricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (match) names.add(match[1]);
  }
  return names;
}

/** What a service of the kit exposes on /metrics once it has served traffic. */
export async function scrapeKitService(): Promise<Set<string>> {
  const config = loadConfig("constitutional-ai", { HASH_STRICT: "true" });
  const metrics = createServiceMetrics(config.service.name);
  const app = createServiceApp({ config, metrics, logger: silentLogger });
  await app.request("/health");
  await app.request("/api/v1/anything", { method: "POST", headers: { "X-Constitutional-Hash": "0000000000000000" } });
  metrics.recordCacheLookup(true);
  metrics.recordCacheLookup(false);
  const response = await app.request("/metrics");
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return metricNames(await response.text());
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.text();
}

export interface ExporterScrapes {
  readonly node: Set<string>;
  readonly postgres: Set<string>;
  readonly redis: Set<string>;
}

/** Starts PostgreSQL, Redis and the three exporters on loopback, scrapes each once, stops everything. */
export async function scrapeExporters(): Promise<ExporterScrapes> {
  const dir = mkdtempSync(join(tmpdir(), "acgs-exporters-"));
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const processes: ServerProcess[] = [];
  try {
    const start = async (
      name: keyof ExporterScrapes,
      args: (port: number) => string[],
      ready: (text: string) => boolean,
      environment: Record<string, string> = {},
    ) => {
      const port = await freePort();
      const logFile = join(dir, `${name}.log`);
      // Through env(1): spawnServer passes no environment of its own, and jest's process.env is not the process's.
      const proc = spawnServer(
        "/usr/bin/env",
        [...Object.entries(environment).map(([k, v]) => `${k}=${v}`), EXPORTER_BINARIES[name], ...args(port)],
        { cwd: dir, logFile },
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
      return metricNames(text);
    };
    const [node, pg, rd] = await Promise.all([
      start("node", (p) => [`--web.listen-address=127.0.0.1:${p}`], (t) => t.includes("node_cpu_seconds_total")),
      // The postgres exporter reads its connection string from the environment, like the deployed one.
      start("postgres", (p) => [`--web.listen-address=127.0.0.1:${p}`], (t) => /^pg_up 1$/m.test(t), {
        DATA_SOURCE_NAME: `${postgres.url}?sslmode=disable`,
      }),
      start("redis", (p) => [`-web.listen-address=127.0.0.1:${p}`, `-redis.addr=${redis.url}`], (t) => /^redis_up 1$/m.test(t)),
    ]);
    return { node, postgres: pg, redis: rd };
  } finally {
    await Promise.all(processes.map((p) => p.stop("SIGTERM", 5000)));
    await Promise.all([postgres.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
