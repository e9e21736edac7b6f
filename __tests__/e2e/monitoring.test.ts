// End to end on one machine: the real services, PostgreSQL, Redis, exporters, and a real
// Prometheus and Alertmanager fed with the files the dev stack ships. Every target is up, every
// dashboard panel's query returns data, the operations guide's queries return numbers, and the
// alerts fire and reach the dev webhook receiver with the labels the SPEC promises.
import { CONSTITUTIONAL_HASH, SERVICES } from "../../services/catalog";
import { startMonitoredSystem, type MonitoredSystem } from "./monitored-system";
import { waitUntil } from "../support/wait-until";

const OPERATIONS_GUIDE_QUERIES = [
  "histogram_quantile(0.99, rate(acgs_request_duration_seconds_bucket[5m]))",
  "sum(rate(acgs_requests_total[5m]))",
  "sum(rate(acgs_cache_hits_total[5m])) / sum(rate(acgs_cache_requests_total[5m])) * 100",
  "sum(rate(acgs_constitutional_compliance_success_total[5m])) / sum(rate(acgs_constitutional_compliance_total[5m])) * 100",
  'sum(rate(acgs_requests_total{status=~"5.."}[5m])) / sum(rate(acgs_requests_total[5m])) * 100',
];

let system: MonitoredSystem;
let traffic: { stop(): Promise<void>; statuses: Map<string, number> };

/** What each round of background traffic sends: every service's API, so rates are never flat. */
function trafficRound(): Promise<number>[] {
  return SERVICES.map((s) => call(s.name, "/api/v1/e2e-probe"));
}

/** Sends a round every 200 ms until stopped: counters must move between scrapes for rate() to see them. */
function startTraffic(): typeof traffic {
  const statuses = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const status of await Promise.all(trafficRound().map((p) => p.then(String, () => "refused")))) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    statuses,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function call(service: string, path: string, init: { method?: string; body?: unknown; hash?: string } = {}): Promise<number> {
  const response = await fetch(`${system.serviceUrl(service as never)}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { "X-Constitutional-Hash": init.hash ?? CONSTITUTIONAL_HASH, "Content-Type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  await response.arrayBuffer();
  return response.status;
}

async function firingAlerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
  const body = (await (await fetch(`${system.prometheusUrl}/api/v1/alerts`)).json()) as any;
  return body.data.alerts;
}

beforeAll(async () => {
  system = await startMonitoredSystem();
  traffic = startTraffic();
}, 240_000);

afterAll(async () => {
  await traffic?.stop();
  await system?.stop();
}, 60_000);

describe("a real Prometheus and Alertmanager watching the real services", () => {
  it("scrapes every service, exporter, Prometheus and Alertmanager as up", async () => {
    const jobs = [...SERVICES.map((s) => s.name), "prometheus", "alertmanager", "node-exporter", "postgres-exporter", "redis-exporter"];
    await waitUntil(
      "every target up",
      async () => {
        const up = await system.query("up == 1");
        return jobs.every((job) => up.some((r) => r.metric.job === job));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const down = await system.query("up == 0");
    expect(down.map((r) => r.metric.job)).toEqual([]);
  }, 60_000);

  it("serves API traffic that every service counts", async () => {
    await waitUntil(
      "API traffic recorded for every service",
      async () => (await system.query("service:acgs_requests:rate5m > 0")).length === SERVICES.length,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }, 60_000);

  it("fires the compliance alert on one request with a wrong hash and delivers it to the webhook", async () => {
    expect(await call("integrity", "/api/v1/e2e-probe", { hash: "0000000000000000" })).toBe(403);
    await waitUntil(
      "compliance alert delivered",
      async () =>
        system.deliveries.some((d) => d.alerts.some((a) => a.labels.alertname === "ACGS_ConstitutionalComplianceViolation" && a.status === "firing")),
      { timeoutMs: 45_000, intervalMs: 500 },
    );
    const alert = system.deliveries
      .flatMap((d) => d.alerts)
      .find((a) => a.labels.alertname === "ACGS_ConstitutionalComplianceViolation")!;
    expect(alert.labels).toMatchObject({ severity: "critical", service: "integrity", constitutional_hash: CONSTITUTIONAL_HASH, environment: "dev" });
  }, 60_000);

  it("fires ACGS_ServiceDown when a service stops and delivers it to the webhook", async () => {
    await system.stopService("blackboard");
    await waitUntil(
      "service-down alert delivered",
      async () => system.deliveries.some((d) => d.alerts.some((a) => a.labels.alertname === "ACGS_ServiceDown" && a.status === "firing")),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const alert = system.deliveries.flatMap((d) => d.alerts).find((a) => a.labels.alertname === "ACGS_ServiceDown")!;
    expect(alert.labels).toMatchObject({ severity: "critical", service: "blackboard", constitutional_hash: CONSTITUTIONAL_HASH, environment: "dev" });
    expect((await firingAlerts()).some((a) => a.labels.alertname === "ACGS_ServiceDown" && a.state === "firing")).toBe(true);
  }, 90_000);

  it("answers the operations guide's queries with numbers", async () => {
    for (const expr of OPERATIONS_GUIDE_QUERIES) {
      const result = await system.query(expr);
      expect({ expr, samples: result.length }).toEqual({ expr, samples: expect.any(Number) });
      // Per-series answers of an idle series are NaN by Prometheus' semantics; traffic must give numbers.
      expect({ expr, numbers: result.some((r) => Number.isFinite(Number(r.value[1]))) }).toEqual({ expr, numbers: true });
    }
  });

  it("returns data for every dashboard panel's query", async () => {
    const empty: string[] = [];
    for (const [file, json] of Object.entries(system.files).filter(([f]) => f.startsWith("dashboards/"))) {
      for (const panel of JSON.parse(json).panels) {
        for (const target of panel.targets ?? []) {
          const expr = String(target.expr).replaceAll("$__rate_interval", "1m").replaceAll("$service", "constitutional-ai");
          if ((await system.query(expr)).length === 0) empty.push(`${file} "${panel.title}": ${expr}`);
        }
      }
    }
    expect(empty).toEqual([]);
  });
});
