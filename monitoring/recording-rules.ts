// Recording rules per service (level:metric:operations naming): request rate, error ratio, P50 and
// P99 latency, cache hit ratio and compliance ratio over 5 minutes. Alerts and dashboards read these.
import { API_TRAFFIC, ratioByService, SERVER_ERRORS, SERVICE_METRICS as M } from "./promql";
import type { RecordingRule, RuleGroup } from "./rule-types";

export const RECORDED = {
  requestRate: "service:acgs_requests:rate5m",
  errorRatio: "service:acgs_requests_errors:ratio_rate5m",
  latencyP50: "service:acgs_request_duration_seconds:p50_rate5m",
  latencyP99: "service:acgs_request_duration_seconds:p99_rate5m",
  cacheHitRatio: "service:acgs_cache_hits:ratio_rate5m",
  complianceRatio: "service:acgs_constitutional_compliance:ratio_rate5m",
} as const;

const quantile = (q: number) =>
  `histogram_quantile(${q}, sum by (service, le) (rate(${M.requestDuration}_bucket{${API_TRAFFIC}}[5m])))`;

export function renderRecordingRules(): RuleGroup {
  const rules: RecordingRule[] = [
    { record: RECORDED.requestRate, expr: `sum by (service) (rate(${M.requests}{${API_TRAFFIC}}[5m]))` },
    {
      record: RECORDED.errorRatio,
      expr: ratioByService(`${M.requests}{${SERVER_ERRORS},${API_TRAFFIC}}`, `${M.requests}{${API_TRAFFIC}}`, "5m"),
    },
    { record: RECORDED.latencyP50, expr: quantile(0.5) },
    { record: RECORDED.latencyP99, expr: quantile(0.99) },
    { record: RECORDED.cacheHitRatio, expr: ratioByService(M.cacheHits, M.cacheRequests, "5m") },
    { record: RECORDED.complianceRatio, expr: ratioByService(M.complianceSuccess, M.compliance, "5m") },
  ];
  return { name: "acgs-service-sli", rules };
}
