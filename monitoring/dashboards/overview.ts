// acgs-overview: the whole platform at a glance, with the operations guide's queries (SPEC §5).
import type { Environment } from "../../environments";
import { num, SERVICE_JOBS, SERVICE_METRICS as M } from "../promql";
import { RECORDED } from "../recording-rules";
import { buildDashboard, stat, timeseries } from "./panels";

export const OVERVIEW_UID = "acgs-overview";

export function overviewDashboard(env: Environment) {
  const { objectives } = env;
  return buildDashboard({
    uid: OVERVIEW_UID,
    title: `ACGS overview (${env.name})`,
    description: "Throughput, errors, latency, cache and constitutional compliance of every ACGS service.",
    panels: [
      stat("Requests per second", "reqps", [{ expr: `sum(rate(${M.requests}[5m]))`, legend: "requests/s" }], {
        width: 4,
        height: 5,
        threshold: objectives.expectsLoad ? objectives.minRequestsPerSecond : undefined,
        lowIsBad: true,
      }),
      stat("Error rate", "percent", [
        { expr: `sum(rate(${M.requests}{status=~"5.."}[5m])) / sum(rate(${M.requests}[5m])) * 100`, legend: "5xx %" },
      ], { width: 4, height: 5, threshold: 1, decimals: 2 }),
      stat("P99 latency (all requests)", "s", [
        { expr: `histogram_quantile(0.99, sum by (le) (rate(${M.requestDuration}_bucket[5m])))`, legend: "P99" },
      ], { width: 4, height: 5, threshold: objectives.latencyP99Seconds }),
      stat("Cache hit rate", "percent", [
        { expr: `sum(rate(${M.cacheHits}[5m])) / sum(rate(${M.cacheRequests}[5m])) * 100`, legend: "hit %" },
      ], { width: 4, height: 5, threshold: objectives.cacheHitRatio * 100, lowIsBad: true, decimals: 1 }),
      stat("Constitutional compliance", "percent", [
        { expr: `sum(rate(${M.complianceSuccess}[5m])) / sum(rate(${M.compliance}[5m])) * 100`, legend: "compliant %" },
      ], { width: 4, height: 5, threshold: Number(num(objectives.complianceRatio * 100)), lowIsBad: true, decimals: 2 }),
      stat("Service targets up", "short", [
        { expr: `sum(up{${SERVICE_JOBS}})`, legend: "up" },
        { expr: `count(up{${SERVICE_JOBS}})`, legend: "expected" },
      ], { width: 4, height: 5 }),
      timeseries("Request rate by service (API traffic)", "reqps", [{ expr: RECORDED.requestRate, legend: "{{service}}" }], { min: 0 }),
      timeseries("P99 latency by service (API traffic)", "s", [{ expr: RECORDED.latencyP99, legend: "{{service}}" }], {
        min: 0,
        threshold: objectives.latencyP99Seconds,
      }),
      timeseries("5xx ratio by service (API traffic)", "percentunit", [{ expr: RECORDED.errorRatio, legend: "{{service}}" }], { min: 0 }),
      timeseries("Firing alerts", "short", [
        { expr: 'sum by (alertname, severity) (ALERTS{alertstate="firing"})', legend: "{{alertname}} ({{severity}})" },
      ], { min: 0 }),
    ],
  });
}
