import { servicesFromCatalog } from "./catalog-services";
import { defineEnvironment } from "./schema";

/** Production's shape at smaller scale: strict hash, auth required, alerts to chat. */
export const staging = defineEnvironment({
  name: "staging",
  // SPEC §4 says kubernetes; it synthesizes on Docker until the Kubernetes platform lands.
  platform: "docker",
  hashStrict: true,
  authRequired: true,
  services: servicesFromCatalog("production", { replicas: 2, memoryMb: 384, cpus: 0.5 }),
  autoscaling: null,
  limits: { bodyBytes: 1_048_576, rateLimitPerMinute: 1000, rateLimitBurst: 200 },
  postgres: { port: 5439, version: "15", database: "acgs", user: "acgs" },
  redis: { port: 6389, version: "7" },
  monitoring: {
    prometheusPort: 9090,
    alertmanagerPort: 9093,
    grafanaPort: 3000,
    nodeExporterPort: 9100,
    postgresExporterPort: 9187,
    redisExporterPort: 9121,
    scrapeInterval: "15s",
    evaluationInterval: "15s",
    retention: "15d",
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
    receivers: [{ name: "chat", kind: "chat", channel: "#acgs-staging-alerts", secretVariable: "chat_webhook_url" }],
    defaultReceiver: "chat",
    routes: [
      { severity: "critical", receiver: "chat" },
      { severity: "warning", receiver: "chat" },
    ],
    deadMansSwitchReceiver: "chat",
  },
  stateBackend: { kind: "s3", key: "acgs/staging/terraform.tfstate" },
});
