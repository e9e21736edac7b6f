// acgs-performance: one service (the `service` variable) in depth: routes, latency, statuses, cache,
// and the Node.js process behind it.
import type { Environment } from "../../environments";
import { SERVICE_METRICS as M } from "../promql";
import { RECORDED } from "../recording-rules";
import { buildDashboard, stat, timeseries } from "./panels";

export const PERFORMANCE_UID = "acgs-performance";

const S = 'service="$service"';
// prom-client's process metrics carry no service label; the scrape job is named after the service.
const J = 'job="$service"';

export function performanceDashboard(env: Environment) {
  const { objectives } = env;
  const quantile = (q: number, by: string) =>
    `histogram_quantile(${q}, sum by (${by}) (rate(${M.requestDuration}_bucket{${S}}[$__rate_interval])))`;
  return buildDashboard({
    uid: PERFORMANCE_UID,
    title: `ACGS service performance (${env.name})`,
    description: "Request rate, latency, statuses and cache of one ACGS service, and its Node.js process.",
    serviceVariable: { multi: false },
    panels: [
      stat("P99 latency (API, 5m)", "s", [{ expr: `${RECORDED.latencyP99}{${S}}`, legend: "P99" }], {
        width: 6,
        height: 5,
        threshold: objectives.latencyP99Seconds,
      }),
      stat("Requests per second (API, 5m)", "reqps", [{ expr: `${RECORDED.requestRate}{${S}}`, legend: "requests/s" }], {
        width: 6,
        height: 5,
      }),
      stat("5xx ratio (API, 5m)", "percentunit", [{ expr: `${RECORDED.errorRatio}{${S}}`, legend: "5xx" }], {
        width: 6,
        height: 5,
        threshold: 0.01,
        decimals: 2,
      }),
      stat("Cache hit ratio (5m)", "percentunit", [{ expr: `${RECORDED.cacheHitRatio}{${S}}`, legend: "hit ratio" }], {
        width: 6,
        height: 5,
        threshold: objectives.cacheHitRatio,
        lowIsBad: true,
        decimals: 1,
      }),
      timeseries("Latency P50 and P99", "s", [
        { expr: quantile(0.5, "le"), legend: "P50" },
        { expr: quantile(0.99, "le"), legend: "P99" },
      ], { min: 0, threshold: objectives.latencyP99Seconds }),
      timeseries("P99 latency by route", "s", [{ expr: quantile(0.99, "le, route"), legend: "{{route}}" }], {
        min: 0,
        threshold: objectives.latencyP99Seconds,
      }),
      timeseries("Requests by route", "reqps", [
        { expr: `sum by (method, route) (rate(${M.requests}{${S}}[$__rate_interval]))`, legend: "{{method}} {{route}}" },
      ], { min: 0 }),
      timeseries("Responses by status", "reqps", [
        { expr: `sum by (status) (rate(${M.requests}{${S}}[$__rate_interval]))`, legend: "{{status}}" },
      ], { min: 0 }),
      timeseries("Cache hit ratio", "percentunit", [
        { expr: `${RECORDED.cacheHitRatio}{${S}}`, legend: "last 5m" },
        { expr: `${M.cacheHitRate}{${S}}`, legend: "since start ({{instance}})" },
      ], { min: 0, max: 1, threshold: objectives.cacheHitRatio, lowIsBad: true }),
      timeseries("Cache lookups", "ops", [
        { expr: `sum(rate(${M.cacheRequests}{${S}}[$__rate_interval]))`, legend: "lookups" },
        { expr: `sum(rate(${M.cacheHits}{${S}}[$__rate_interval]))`, legend: "hits" },
      ], { min: 0 }),
      timeseries("Resident memory", "bytes", [{ expr: `process_resident_memory_bytes{${J}}`, legend: "{{instance}}" }], { min: 0 }),
      timeseries("CPU", "percentunit", [{ expr: `rate(process_cpu_seconds_total{${J}}[$__rate_interval])`, legend: "{{instance}}" }], {
        min: 0,
      }),
      timeseries("Event loop lag P99", "s", [{ expr: `nodejs_eventloop_lag_p99_seconds{${J}}`, legend: "{{instance}}" }], { min: 0 }),
      timeseries("Heap used", "bytes", [{ expr: `sum by (instance) (nodejs_heap_size_used_bytes{${J}})`, legend: "{{instance}}" }], {
        min: 0,
      }),
    ],
  });
}
