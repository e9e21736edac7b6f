// Third-party images every environment runs, pinned by tag so a plan only changes when this file does.
export const IMAGES = {
  postgres: "postgres:15.10-alpine",
  redis: "redis:7.4.1-alpine",
  prometheus: "prom/prometheus:v2.55.1",
  alertmanager: "prom/alertmanager:v0.27.0",
  grafana: "grafana/grafana:11.3.1",
  nodeExporter: "prom/node-exporter:v1.8.2",
  postgresExporter: "quay.io/prometheuscommunity/postgres-exporter:v0.16.0",
  redisExporter: "oliver006/redis_exporter:v1.66.0",
} as const;
