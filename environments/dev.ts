import { servicesFromCatalog } from "./catalog-services";
import { defineEnvironment } from "./schema";

/** A workstation with Docker: everything local, nothing strict, alerts to a local webhook. */
export const dev = defineEnvironment({
  name: "dev",
  platform: "docker",
  hashStrict: false,
  authRequired: false,
  services: servicesFromCatalog("dev", { replicas: 1, memoryMb: 256, cpus: 0.5 }),
  autoscaling: null,
  limits: { bodyBytes: 1_048_576, rateLimitPerMinute: 1000, rateLimitBurst: 200 },
  postgres: { port: 5432, version: "15", database: "acgs", user: "acgs" },
  redis: { port: 6379, version: "7" },
  monitoring: {
    prometheusPort: 9090,
    alertmanagerPort: 9093,
    grafanaPort: 3000,
    nodeExporterPort: 9100,
    postgresExporterPort: 9187,
    redisExporterPort: 9121,
    scrapeInterval: "15s",
    evaluationInterval: "15s",
    retention: "7d",
  },
  objectives: {
    latencyP99Seconds: 0.005,
    minRequestsPerSecond: 100,
    expectsLoad: false,
    cacheHitRatio: 0.85,
    complianceRatio: 1,
    availability: 0.999,
  },
  alerting: {
    receivers: [
      { name: "local-webhook", kind: "webhook", url: "http://host.docker.internal:5001/alerts" },
      { name: "blackhole", kind: "none" },
    ],
    defaultReceiver: "local-webhook",
    routes: [
      { severity: "critical", receiver: "local-webhook" },
      { severity: "warning", receiver: "local-webhook" },
    ],
    deadMansSwitchReceiver: "blackhole",
  },
  stateBackend: { kind: "local", path: "terraform.acgs-dev.tfstate" },
});
