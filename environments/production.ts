import { servicesFromCatalog } from "./catalog-services";
import { defineEnvironment } from "./schema";

/** Three replicas autoscaled, critical alerts page, warnings go to chat. */
export const production = defineEnvironment({
  name: "production",
  // SPEC §4 says kubernetes; it synthesizes on Docker until the Kubernetes platform lands.
  platform: "docker",
  hashStrict: true,
  authRequired: true,
  services: servicesFromCatalog("production", { replicas: 3, memoryMb: 512, cpus: 1 }),
  autoscaling: { minReplicas: 3, maxReplicas: 10, targetCpuPercent: 70 },
  limits: { bodyBytes: 1_048_576, rateLimitPerMinute: 1000, rateLimitBurst: 200 },
  postgres: { port: 5440, version: "15", database: "acgs", user: "acgs" },
  redis: { port: 6390, version: "7" },
  monitoring: {
    prometheusPort: 9091,
    alertmanagerPort: 9093,
    grafanaPort: 3001,
    nodeExporterPort: 9100,
    postgresExporterPort: 9187,
    redisExporterPort: 9121,
    scrapeInterval: "15s",
    evaluationInterval: "15s",
    retention: "30d",
  },
  objectives: {
    latencyP99Seconds: 0.005,
    minRequestsPerSecond: 100,
    expectsLoad: true,
    cacheHitRatio: 0.85,
    complianceRatio: 1,
    availability: 0.999,
  },
  alerting: {
    receivers: [
      { name: "pager", kind: "pager", secretVariable: "pager_routing_key" },
      { name: "chat", kind: "chat", channel: "#acgs-production-alerts", secretVariable: "chat_webhook_url" },
      { name: "deadmans-switch", kind: "pager", secretVariable: "deadmans_switch_routing_key" },
    ],
    defaultReceiver: "chat",
    routes: [
      { severity: "critical", receiver: "pager" },
      { severity: "warning", receiver: "chat" },
    ],
    deadMansSwitchReceiver: "deadmans-switch",
  },
  stateBackend: { kind: "s3", key: "acgs/production/terraform.tfstate" },
});
