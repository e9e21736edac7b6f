// The metric names the system really exports, from real scrapes: a service app of the kit (after a
// request, a cache lookup and a compliance failure, so every series exists), and Debian's node,
// PostgreSQL and Redis exporters pointed at a real PostgreSQL and Redis. No hand-kept list.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import { createServiceMetrics } from "../../services/kit/metrics";
import { createServiceApp } from "../../services/kit/service-app";
import { startExporters } from "../support/exporters";
import { startPostgres } from "../support/postgres";
import { startRedis } from "../support/redis";

/** Series Prometheus makes itself: `up` for every target, ALERTS for every alert. */
export const PROMETHEUS_SYNTHETIC = ["up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"];

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

export interface ExporterScrapes {
  readonly node: Set<string>;
  readonly postgres: Set<string>;
  readonly redis: Set<string>;
}

/** Starts PostgreSQL, Redis and the three exporters on loopback, scrapes each once, stops everything. */
export async function scrapeExporters(): Promise<ExporterScrapes> {
  const dir = mkdtempSync(join(tmpdir(), "acgs-exporters-"));
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  try {
    const exporters = await startExporters({ postgresUrl: postgres.url, redisUrl: redis.url, dir });
    await exporters.stop();
    return {
      node: metricNames(exporters.node.firstScrape),
      postgres: metricNames(exporters.postgres.firstScrape),
      redis: metricNames(exporters.redis.firstScrape),
    };
  } finally {
    await Promise.all([postgres.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
