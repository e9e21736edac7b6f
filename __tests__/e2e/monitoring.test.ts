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

const VALIDATE = { agent_id: "e2e-agent", action: { type: "read", target: "repository/README.md", risk_level: "low" } };
const ENFORCE = { subject: "agent:e2e", action: "read", resource: "repository/README.md" };
const COORDINATE = { task_type: "review", user_id: "e2e-user", constitutional_hash: CONSTITUTIONAL_HASH };

/**
 * What each round of background traffic sends: every service's API (a route it does not have is
 * still counted), the same validation and enforcement again (cache hits), and a coordination that
 * posts on the blackboard (503 once the blackboard is stopped).
 */
function trafficRound(): Promise<number>[] {
  return [
    ...SERVICES.map((s) => call(s.name, "/api/v1/e2e-probe")),
    call("constitutional-ai", "/api/v1/validate", { body: VALIDATE }),
    call("policy-governance", "/api/v1/enforce", { body: ENFORCE }),
    call("coordinator", "/api/v1/coordinate", { body: COORDINATE }),
  ];
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
  const agent = await call("coordinator", "/api/v1/agents", { body: { agent_id: "e2e-agent", capabilities: ["review"], capacity: 10_000 } });
  if (agent !== 201) throw new Error(`registering the coordinator's agent answered ${agent}`);
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

  it("answers validate, enforce and coordinate, with repeated validations and enforcements from the cache", async () => {
    expect(await call("constitutional-ai", "/api/v1/validate", { body: VALIDATE })).toBe(200);
    expect(await call("policy-governance", "/api/v1/enforce", { body: ENFORCE })).toBe(200);
    expect(await call("coordinator", "/api/v1/coordinate", { body: COORDINATE })).toBe(200);
    await waitUntil(
      "cache hits recorded",
      async () => (await system.query('service:acgs_cache_hits:ratio_rate5m{service=~"constitutional-ai|policy-governance"} > 0.5')).length === 2,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }, 60_000);

  it("fires ACGS_ServiceDown when a service stops, delivers it to the webhook, and its callers answer 503", async () => {
    await system.stopService("blackboard");
    expect(await call("coordinator", "/api/v1/coordinate", { body: COORDINATE })).toBe(503);
    await waitUntil(
      "service-down alert delivered",
      async () => system.deliveries.some((d) => d.alerts.some((a) => a.labels.alertname === "ACGS_ServiceDown" && a.status === "firing")),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const down = system.deliveries.flatMap((d) => d.alerts).filter((a) => a.labels.alertname === "ACGS_ServiceDown");
    expect(new Set(down.map((a) => a.labels.service))).toEqual(new Set(["blackboard"]));
    expect(down[0].labels).toMatchObject({ severity: "critical", service: "blackboard", constitutional_hash: CONSTITUTIONAL_HASH, environment: "dev" });
    expect((await firingAlerts()).some((a) => a.labels.alertname === "ACGS_ServiceDown" && a.state === "firing")).toBe(true);
  }, 90_000);

  it("answers the operations guide's queries with numbers", async () => {
    // The 5xx series exist since the blackboard stopped; rate() needs two scrapes of them.
    await waitUntil("5xx counted", async () => (await system.query(OPERATIONS_GUIDE_QUERIES[4])).length > 0, { timeoutMs: 15_000, intervalMs: 250 });
    for (const expr of OPERATIONS_GUIDE_QUERIES) {
      const result = await system.query(expr);
      expect({ expr, samples: result.length }).toEqual({ expr, samples: expect.any(Number) });
      // Per-series answers of an idle series are NaN by Prometheus' semantics; traffic must give numbers.
      expect({ expr, numbers: result.some((r) => Number.isFinite(Number(r.value[1]))) }).toEqual({ expr, numbers: true });
    }
  });

  it("pages on the coordinator's error budget burning while its blackboard is down", async () => {
    await waitUntil(
      "burn-rate alert firing for the coordinator",
      async () => (await firingAlerts()).some((a) => a.labels.alertname === "ACGS_ErrorBudgetBurn" && a.labels.service === "coordinator" && a.state === "firing"),
      { timeoutMs: 45_000, intervalMs: 500 },
    );
    const burning = (await firingAlerts()).filter((a) => a.labels.alertname === "ACGS_ErrorBudgetBurn" && a.state === "firing");
    expect(burning.map((a) => a.labels.service)).not.toContain("constitutional-ai");
  }, 60_000);

  it("returns data for every dashboard panel's query", async () => {
    // The templated dashboards, shown for the service that exercises them: the cache for performance,
    // the error budget (burning since the blackboard stopped) for the SLO dashboard.
    const serviceFor: Record<string, string> = { "dashboards/acgs-performance.json": "constitutional-ai", "dashboards/acgs-slo.json": "coordinator" };
    const empty: string[] = [];
    for (const [file, json] of Object.entries(system.files).filter(([f]) => f.startsWith("dashboards/"))) {
      for (const panel of JSON.parse(json).panels) {
        for (const target of panel.targets ?? []) {
          const expr = String(target.expr).replaceAll("$__rate_interval", "1m").replaceAll("$service", serviceFor[file] ?? "");
          if ((await system.query(expr)).length === 0) empty.push(`${file} "${panel.title}": ${expr}`);
        }
      }
    }
    expect(empty).toEqual([]);
  });
});
