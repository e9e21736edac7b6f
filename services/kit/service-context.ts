// Everything a service's routes use besides the request: configuration, logger, metrics, the
// database, the cache and the dependencies /health reports. Opened once per running service.
import { cacheDependency, openCache, type Cache } from "./cache";
import type { ServiceConfig } from "./config";
import { databaseDependency, openDatabase, type Database } from "./database";
import type { Dependency } from "./dependency";
import { createLogger, type Logger } from "./logger";
import { createServiceMetrics, type ServiceMetrics } from "./metrics";
import { serviceDependency } from "./service-dependency";
import type { ServiceName } from "../catalog";

export interface ServiceContext {
  readonly config: ServiceConfig;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Present when the catalog says the service keeps state in PostgreSQL. */
  readonly database?: Database;
  readonly cache: Cache;
  readonly dependencies: readonly Dependency[];
  /** Resolves once the database (if any) can take queries. */
  opened(): Promise<void>;
  /** Closes the database pool and the cache connection. */
  close(): Promise<void>;
}

export interface ServiceContextOptions {
  readonly logger?: Logger;
  readonly metrics?: ServiceMetrics;
  /** Replaces the database the configuration would open (tests). */
  readonly database?: Database;
  /** Replaces the cache the configuration would open (tests); counted all the same. */
  readonly cache?: Cache;
}

export function openServiceContext(config: ServiceConfig, options: ServiceContextOptions = {}): ServiceContext {
  const service = config.service;
  const logger = options.logger ?? createLogger({ service: service.name, level: config.logLevel });
  const metrics = options.metrics ?? createServiceMetrics(service.name);
  const database = options.database ?? (service.postgres ? openDatabase(config, logger) : undefined);
  const cache = openCache(config, metrics, logger, options.cache);

  const dependencies: Dependency[] = [];
  if (database) dependencies.push(databaseDependency(database, service.postgres));
  if (cache.kind === "redis") dependencies.push(cacheDependency(cache));
  for (const [name, url] of Object.entries(config.serviceUrls) as [ServiceName, string][]) {
    dependencies.push(serviceDependency(name, url));
  }

  let closing: Promise<void> | undefined;
  return {
    config,
    logger,
    metrics,
    database,
    cache,
    dependencies,
    opened: () => database?.opened() ?? Promise.resolve(),
    close() {
      closing ??= Promise.allSettled([database?.close(), cache.close()]).then((results) => {
        for (const r of results) {
          if (r.status === "rejected") logger.warn("error while closing", { error: String(r.reason) });
        }
      });
      return closing;
    },
  };
}
