// The PromQL vocabulary shared by the rules and the dashboards: the SPEC's metric names (a contract
// with the services' kit), the selectors and the numbers as they are written into expressions.
import { SERVICES } from "../services/catalog";

/** SPEC §3 "Metrics": the names every service exports. */
export const SERVICE_METRICS = {
  requestDuration: "acgs_request_duration_seconds",
  requests: "acgs_requests_total",
  cacheRequests: "acgs_cache_requests_total",
  cacheHits: "acgs_cache_hits_total",
  cacheHitRate: "acgs_cache_hit_rate",
  compliance: "acgs_constitutional_compliance_total",
  complianceSuccess: "acgs_constitutional_compliance_success_total",
  complianceRate: "acgs_constitutional_compliance_rate",
} as const;

/** Probes and scrapes are not traffic: they would dilute the latency and error SLIs. */
export const PROBE_ROUTES = ["/health", "/ready", "/metrics"] as const;
export const API_TRAFFIC = `route!~"${PROBE_ROUTES.join("|")}"`;
export const SERVER_ERRORS = 'status=~"5.."';

/** Scrape jobs are named after the catalog's services (see PlatformStack). */
export const SERVICE_JOBS = `job=~"${SERVICES.map((s) => s.name).join("|")}"`;
export const EXPORTER_JOBS = ["node-exporter", "postgres-exporter", "redis-exporter"] as const;

/** A number as it is written into an expression: no floating-point noise (0.0144, not 0.014400000000000001). */
export function num(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** Seconds as a Prometheus duration ("5m", "1h", "3d"). */
export function duration(seconds: number): string {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Milliseconds for annotations ("5ms"). */
export function milliseconds(seconds: number): string {
  return `${num(seconds * 1000)}ms`;
}

export function percent(ratio: number): string {
  return `${num(ratio * 100)}%`;
}

/**
 * Ratio of two counters' rates per service. The denominator is kept only where it is above zero, so
 * an idle service has no value (not NaN, which would poison averages over time); a missing
 * numerator (no 5xx ever) counts as zero.
 */
export function ratioByService(numerator: string, denominator: string, window: string): string {
  const num = `sum by (service) (rate(${numerator}[${window}]))`;
  const den = `sum by (service) (rate(${denominator}[${window}]))`;
  return `(${num} or ${den} * 0) / (${den} > 0)`;
}
