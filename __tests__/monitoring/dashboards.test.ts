// The dashboards: the five uids, every panel with a unit, a legend and queries; every query parses
// as PromQL (lezer-promql, the parser of Prometheus' own UI); and every metric a query or a rule
// reads is exported by a service (a real /metrics of the kit), an exporter (a real scrape), Prometheus
// itself, or recorded by a rule of the same environment.
import { parser } from "@prometheus-io/lezer-promql";
import { ENVIRONMENTS } from "../../environments";
import { dashboardFiles } from "../../monitoring/dashboard-files";
import { PROMETHEUS_DATASOURCE_UID } from "../../monitoring/grafana-provisioning";
import { SERVICE_METRICS } from "../../monitoring/promql";
import { renderRuleFiles } from "../../monitoring/rule-files";
import { isAlertingRule } from "../../monitoring/rule-types";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { type ExporterScrapes, PROMETHEUS_SYNTHETIC, scrapeExporters, scrapeKitService } from "./exported-metrics";

const UIDS = ["acgs-overview", "acgs-performance", "acgs-compliance", "acgs-infrastructure", "acgs-slo"];

/** Grafana's variables, replaced as Grafana would before the query reaches Prometheus. */
function interpolate(expr: string): string {
  return expr
    .replace(/\$__rate_interval/g, "1m")
    .replace(/\$__interval/g, "15s")
    .replace(/\$__range/g, "1h")
    .replace(/\$service/g, "auth");
}

interface Parsed {
  readonly errors: string[];
  readonly metrics: string[];
}

/** Parse errors and the metric names of every vector selector. */
function parsePromql(expr: string): Parsed {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metrics: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
      if (node.name === "VectorSelector") {
        const first = node.node.firstChild;
        if (first?.name === "Identifier") metrics.push(expr.slice(first.from, first.to));
      }
    },
  });
  return { errors, metrics };
}

interface Panel {
  type: string;
  title: string;
  fieldConfig?: { defaults?: { unit?: string } };
  options?: { legend?: { showLegend?: boolean } };
  datasource?: { uid?: string };
  targets?: { expr?: string; legendFormat?: string; datasource?: { uid?: string } }[];
}

const envs = Object.values(ENVIRONMENTS);
let kit: Set<string>;
let exporters: ExporterScrapes;

beforeAll(async () => {
  [kit, exporters] = await Promise.all([scrapeKitService(), scrapeExporters()]);
}, 90_000);

describe("the scrapes the checks rely on", () => {
  it("find the SPEC's metric names on a real service's /metrics", () => {
    for (const name of Object.values(SERVICE_METRICS)) {
      const exposed = name === SERVICE_METRICS.requestDuration ? `${name}_bucket` : name;
      expect({ name, exposed: kit.has(exposed) }).toEqual({ name, exposed: true });
    }
  });
});

describe.each(envs)("dashboards of $name", (env) => {
  const files = dashboardFiles(env);
  const dashboards = Object.values(files).map((json) => JSON.parse(json));
  const panels = dashboards.flatMap((d) => (d.panels as Panel[]).filter((p) => p.type !== "row").map((p) => ({ uid: d.uid as string, ...p })));
  const rules = Object.values(renderRuleFiles(env)).flatMap((f) => f.groups.flatMap((g) => g.rules));
  const recorded = new Set(rules.flatMap((r) => (isAlertingRule(r) ? [] : [r.record])));
  const exported = () =>
    new Set([...kit, ...exporters.node, ...exporters.postgres, ...exporters.redis, ...PROMETHEUS_SYNTHETIC, ...recorded]);

  it("are the five dashboards of SPEC §5, one file each, named by uid", () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual([...UIDS].sort());
    expect(Object.keys(files).sort()).toEqual(UIDS.map((u) => `${u}.json`).sort());
    for (const d of dashboards) expect(d.tags).toContain(`constitutional_hash:${CONSTITUTIONAL_HASH}`);
  });

  it("give every panel a unit, a legend, and queries on the ACGS Prometheus data source", () => {
    expect(panels.length).toBeGreaterThan(40);
    for (const p of panels) {
      const where = `${p.uid} / ${p.title}`;
      expect({ where, unit: p.fieldConfig?.defaults?.unit }).toEqual({ where, unit: expect.stringMatching(/\S/) });
      expect({ where, targets: p.targets?.length ?? 0 }).toEqual({ where, targets: expect.any(Number) });
      expect(p.targets!.length).toBeGreaterThan(0);
      expect({ where, datasource: p.datasource?.uid }).toEqual({ where, datasource: PROMETHEUS_DATASOURCE_UID });
      for (const t of p.targets!) {
        expect({ where, expr: t.expr, legend: t.legendFormat, ds: t.datasource?.uid }).toEqual({
          where,
          expr: expect.stringMatching(/\S/),
          legend: expect.stringMatching(/\S/),
          ds: PROMETHEUS_DATASOURCE_UID,
        });
      }
      if (p.type === "timeseries") expect({ where, legend: p.options?.legend?.showLegend }).toEqual({ where, legend: true });
    }
  });

  it("template the performance and SLO dashboards by service, from a metric the services export", () => {
    for (const uid of ["acgs-performance", "acgs-slo"]) {
      const variable = dashboards.find((d) => d.uid === uid).templating.list.find((v: { name: string }) => v.name === "service");
      expect(variable.query).toBe("label_values(acgs_requests_total, service)");
      expect(kit.has("acgs_requests_total")).toBe(true);
    }
  });

  it("parse every panel query as PromQL", () => {
    for (const p of panels) {
      for (const t of p.targets!) {
        const { errors } = parsePromql(interpolate(t.expr!));
        expect({ where: `${p.uid} / ${p.title}`, expr: t.expr, errors }).toEqual({ where: `${p.uid} / ${p.title}`, expr: t.expr, errors: [] });
      }
    }
  });

  it("query only metrics that a service, an exporter or Prometheus exports, or a rule records", () => {
    const known = exported();
    for (const p of panels) {
      for (const t of p.targets!) {
        const unknown = parsePromql(interpolate(t.expr!)).metrics.filter((m) => !known.has(m));
        expect({ where: `${p.uid} / ${p.title}`, unknown }).toEqual({ where: `${p.uid} / ${p.title}`, unknown: [] });
      }
    }
  });

  it("use recording rules whose own queries read only exported metrics (rules parse too)", () => {
    const known = exported();
    for (const rule of rules) {
      const name = isAlertingRule(rule) ? rule.alert : rule.record;
      const { errors, metrics } = parsePromql(rule.expr);
      expect({ name, errors, unknown: metrics.filter((m) => !known.has(m)) }).toEqual({ name, errors: [], unknown: [] });
    }
  });

  it("are deterministic JSON: sorted keys, same bytes every time, nothing Terraform would interpolate", () => {
    expect(dashboardFiles(env)).toEqual(files);
    for (const [file, json] of Object.entries(files)) {
      const sorted = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(sorted)
          : v && typeof v === "object"
            ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
            : v;
      expect({ file, same: `${JSON.stringify(sorted(JSON.parse(json)), null, 2)}\n` === json }).toEqual({ file, same: true });
      expect(json).not.toMatch(/[$%]\{/);
    }
  });
});

describe("the query checks themselves", () => {
  it("catch a syntax error and an unknown metric", () => {
    expect(parsePromql("sum(rate(acgs_requests_total[5m])").errors).not.toEqual([]);
    expect(parsePromql('sum by (service) (rate(acgs_request_total{status=~"5.."}[5m]))').metrics).toEqual(["acgs_request_total"]);
    expect(kit.has("acgs_request_total")).toBe(false);
  });
});
