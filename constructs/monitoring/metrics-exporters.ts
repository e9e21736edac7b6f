import { Construct } from "constructs";
import type { Environment } from "../../environments";
import { IMAGES } from "../../environments/images";
import type { ScrapeJob } from "../../monitoring/prometheus-config";
import type { PostgresDatabase } from "../data/postgres-database";
import type { RedisCache } from "../data/redis-cache";
import { httpHealthCheck } from "../platform/http-health-check";
import type { Platform, WorkloadAddress } from "../platform/workload";

export interface MetricsExportersProps {
  readonly platform: Platform;
  readonly env: Environment;
  readonly database: PostgresDatabase;
  readonly cache: RedisCache;
}

/** The node, PostgreSQL and Redis exporters every environment runs. */
export class MetricsExporters extends Construct {
  readonly nodeExporter: WorkloadAddress;
  readonly postgresExporter: WorkloadAddress;
  readonly redisExporter: WorkloadAddress;

  constructor(scope: Construct, id: string, { platform, env, database, cache }: MetricsExportersProps) {
    super(scope, id);
    const { monitoring } = env;
    const common = { replicas: 1, memoryMb: 128, cpus: 0.25, user: "65534:65534", scratchPaths: ["/tmp"] } as const;
    this.nodeExporter = platform.deploy({
      ...common,
      component: "node-exporter",
      image: { kind: "registry", ref: IMAGES.nodeExporter },
      port: 9100,
      publishedPort: monitoring.nodeExporterPort,
      command: ["--path.rootfs=/host", "--path.procfs=/host/proc", "--path.sysfs=/host/sys"],
      env: {},
      hostMounts: [{ hostPath: "/", mountPath: "/host" }],
      healthCheck: httpHealthCheck(9100, "/metrics", 5, 30),
    });
    this.postgresExporter = platform.deploy({
      ...common,
      component: "postgres-exporter",
      image: { kind: "registry", ref: IMAGES.postgresExporter },
      port: 9187,
      publishedPort: monitoring.postgresExporterPort,
      env: {},
      secretEnv: { DATA_SOURCE_NAME: `${database.url}?sslmode=disable` },
      healthCheck: httpHealthCheck(9187, "/metrics", 5, 30),
    });
    // redis_exporter's image is FROM scratch: no shell or wget for a health check; Prometheus' `up` watches it.
    this.redisExporter = platform.deploy({
      ...common,
      component: "redis-exporter",
      image: { kind: "registry", ref: IMAGES.redisExporter },
      port: 9121,
      publishedPort: monitoring.redisExporterPort,
      env: { REDIS_ADDR: `redis://${cache.address.host}:${cache.address.port}` },
      secretEnv: { REDIS_PASSWORD: cache.password },
    });
  }

  get scrapeJobs(): ScrapeJob[] {
    return [
      { job: "node-exporter", targets: this.nodeExporter.replicaTargets },
      { job: "postgres-exporter", targets: this.postgresExporter.replicaTargets },
      { job: "redis-exporter", targets: this.redisExporter.replicaTargets },
    ];
  }
}
