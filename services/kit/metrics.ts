// The metrics every service exposes. Names and labels are a contract with the dashboards, alerts
// and the operations guide (SPEC "The contract every service keeps"): rename nothing here lightly.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Fine enough to see a 5 ms P99. */
export const REQUEST_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface ServiceMetrics {
  /** This app's own registry (not prom-client's global one), so one process can host many apps. */
  readonly registry: Registry;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  recordCompliance(compliant: boolean): void;
  recordCacheLookup(hit: boolean): void;
}

export interface MetricsOptions {
  /** prom-client's Node.js process metrics (default true). */
  readonly processMetrics?: boolean;
}

interface RequestSeries {
  readonly duration: { observe(value: number): void };
  readonly count: { inc(): void };
}

export function createServiceMetrics(service: string, { processMetrics = true }: MetricsOptions = {}): ServiceMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });

  const labelNames = ["service", "route", "method", "status"] as const;
  const duration = new Histogram({
    name: "acgs_request_duration_seconds",
    help: "Duration of HTTP requests in seconds, by route pattern.",
    labelNames,
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [registry],
  });
  const requests = new Counter({
    name: "acgs_requests_total",
    help: "HTTP requests answered, by route pattern and status code.",
    labelNames,
    registers: [registry],
  });

  let cacheRequests = 0;
  let cacheHits = 0;
  const cacheRequestsTotal = new Counter({
    name: "acgs_cache_requests_total",
    help: "Cache lookups.",
    labelNames: ["service"],
    registers: [registry],
  }).labels(service);
  const cacheHitsTotal = new Counter({
    name: "acgs_cache_hits_total",
    help: "Cache lookups that found a value.",
    labelNames: ["service"],
    registers: [registry],
  }).labels(service);
  new Gauge({
    name: "acgs_cache_hit_rate",
    help: "Share of cache lookups that hit since start (0..1); absent before the first lookup.",
    labelNames: ["service"],
    registers: [registry],
    // Computed at scrape time: no per-request cost.
    collect() {
      if (cacheRequests === 0) this.reset();
      else this.labels(service).set(cacheHits / cacheRequests);
    },
  });

  let complianceTotal = 0;
  let complianceSuccess = 0;
  const complianceTotalCounter = new Counter({
    name: "acgs_constitutional_compliance_total",
    help: "Requests under /api/ checked for the constitutional hash.",
    labelNames: ["service"],
    registers: [registry],
  }).labels(service);
  const complianceSuccessCounter = new Counter({
    name: "acgs_constitutional_compliance_success_total",
    help: "Requests under /api/ that carried an acceptable constitutional hash.",
    labelNames: ["service"],
    registers: [registry],
  }).labels(service);
  new Gauge({
    name: "acgs_constitutional_compliance_rate",
    help: "Share of checked requests that were compliant since start (0..1); absent before the first check.",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      if (complianceTotal === 0) this.reset();
      else this.labels(service).set(complianceSuccess / complianceTotal);
    },
  });
  // Series exist from start at 0, so rate() and increase() see the first event.
  cacheRequestsTotal.inc(0);
  cacheHitsTotal.inc(0);
  complianceTotalCounter.inc(0);
  complianceSuccessCounter.inc(0);

  // prom-client hashes the label object on every call; keep the bound children instead.
  const series = new Map<string, RequestSeries>();

  return {
    registry,
    observeRequest(route, method, status, seconds) {
      const key = `${status} ${method} ${route}`;
      let s = series.get(key);
      if (s === undefined) {
        const labels = [service, route, method, String(status)];
        s = { duration: duration.labels(...labels), count: requests.labels(...labels) };
        series.set(key, s);
      }
      s.duration.observe(seconds);
      s.count.inc();
    },
    recordCompliance(compliant) {
      complianceTotal++;
      complianceTotalCounter.inc();
      if (compliant) {
        complianceSuccess++;
        complianceSuccessCounter.inc();
      }
    },
    recordCacheLookup(hit) {
      cacheRequests++;
      cacheRequestsTotal.inc();
      if (hit) {
        cacheHits++;
        cacheHitsTotal.inc();
      }
    },
  };
}
