// The metrics every service exposes. Names and labels are a contract with the dashboards, alerts
// and the operations guide (SPEC "The contract every service keeps"): rename nothing here lightly.
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { createRequestHistogram, type HistogramSeries } from "./request-histogram";

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

export function createServiceMetrics(service: string, { processMetrics = true }: MetricsOptions = {}): ServiceMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });

  const requestHistogram = createRequestHistogram({
    registry,
    name: "acgs_request_duration_seconds",
    help: "Duration of HTTP requests in seconds, by route pattern.",
    buckets: REQUEST_DURATION_BUCKETS,
    counter: { name: "acgs_requests_total", help: "HTTP requests answered, by route pattern and status code." },
  });

  // Per-request counts are plain numbers, handed to prom-client when scraped: a prom-client
  // counter hashes its labels on every inc().
  const serviceCounter = (name: string, help: string, read: () => number) => scrapedCounter(registry, service, name, help, read);
  let cacheRequests = 0;
  let cacheHits = 0;
  serviceCounter("acgs_cache_requests_total", "Cache lookups.", () => cacheRequests);
  serviceCounter("acgs_cache_hits_total", "Cache lookups that found a value.", () => cacheHits);
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
  serviceCounter("acgs_constitutional_compliance_total", "Requests under /api/ checked for the constitutional hash.", () => complianceTotal);
  serviceCounter(
    "acgs_constitutional_compliance_success_total",
    "Requests under /api/ that carried an acceptable constitutional hash.",
    () => complianceSuccess,
  );
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

  // One series per (route, method, status). Nested maps: the route and method strings are the
  // same objects on every request, so their hashes are cached and no key string is built.
  const series = new Map<string, Map<string, Map<number, HistogramSeries>>>();

  return {
    registry,
    observeRequest(route, method, status, seconds) {
      let byMethod = series.get(route);
      if (byMethod === undefined) series.set(route, (byMethod = new Map()));
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
      let s = byStatus.get(status);
      if (s === undefined) byStatus.set(status, (s = requestHistogram.series({ service, route, method, status: String(status) })));
      s.observe(seconds);
    },
    recordCompliance(compliant) {
      complianceTotal++;
      if (compliant) complianceSuccess++;
    },
    recordCacheLookup(hit) {
      cacheRequests++;
      if (hit) cacheHits++;
    },
  };
}

/** A counter labelled by service whose value is read when /metrics is scraped, so nothing is done per event. */
export function scrapedCounter(registry: Registry, service: string, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      this.labels(service).inc(read());
    },
  });
}
