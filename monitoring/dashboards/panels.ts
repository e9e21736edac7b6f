// The few panel shapes the ACGS dashboards are made of, built with the Grafana Foundation SDK. Each
// panel has a unit, a legend (legendFormat on every query, a visible legend on graphs) and queries
// against the provisioned Prometheus data source.
import {
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  DashboardBuilder,
  DashboardCursorSync,
  type Dashboard,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { PROMETHEUS_DATASOURCE_UID } from "../grafana-provisioning";

export const DATASOURCE = { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID };

export interface Query {
  readonly expr: string;
  /** legendFormat: "{{service}}" or a fixed name. */
  readonly legend: string;
}

export interface PanelOptions {
  readonly description?: string;
  /** Grid columns (of 24). */
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  /** Value above which the panel turns red (below, for `lowIsBad`). */
  readonly threshold?: number;
  readonly lowIsBad?: boolean;
  /** Shows 0 as "down" and 1 as "up". */
  readonly upDown?: boolean;
}

export type PanelSpec =
  | ({ readonly kind: "timeseries"; readonly title: string; readonly unit: string; readonly queries: readonly Query[] } & PanelOptions)
  | ({ readonly kind: "stat"; readonly title: string; readonly unit: string; readonly queries: readonly Query[] } & PanelOptions)
  | { readonly kind: "row"; readonly title: string };

export const timeseries = (title: string, unit: string, queries: readonly Query[], options: PanelOptions = {}): PanelSpec => ({
  kind: "timeseries",
  title,
  unit,
  queries,
  ...options,
});

export const stat = (title: string, unit: string, queries: readonly Query[], options: PanelOptions = {}): PanelSpec => ({
  kind: "stat",
  title,
  unit,
  queries,
  ...options,
});

export const row = (title: string): PanelSpec => ({ kind: "row", title });

function thresholds(options: PanelOptions): ThresholdsConfigBuilder {
  const steps: Threshold[] =
    options.threshold === undefined
      ? [{ value: null, color: "green" }]
      : options.lowIsBad
        ? [
            { value: null, color: "red" },
            { value: options.threshold, color: "green" },
          ]
        : [
            { value: null, color: "green" },
            { value: options.threshold, color: "red" },
          ];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

function targets(queries: readonly Query[]): DataqueryBuilder[] {
  return queries.map((q, i) =>
    new DataqueryBuilder()
      .datasource(DATASOURCE)
      .refId(String.fromCharCode(65 + i))
      .expr(q.expr)
      .legendFormat(q.legend),
  );
}

const UP_DOWN = [
  {
    type: MappingType.ValueToText as const,
    options: { "0": { text: "down", color: "red", index: 0 }, "1": { text: "up", color: "green", index: 1 } },
  },
];

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags?: readonly string[];
  /** A `service` selector fed from the services' own metrics. */
  readonly serviceVariable?: { readonly multi: boolean };
  readonly panels: readonly PanelSpec[];
}

/** Builds the dashboard; panel ids and positions follow the order of `panels`, so the JSON is stable. */
export function buildDashboard(spec: DashboardSpec): Dashboard {
  const dashboard = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(["acgs", `constitutional_hash:${CONSTITUTIONAL_HASH}`, ...(spec.tags ?? [])])
    .timezone("utc")
    .time({ from: "now-1h", to: "now" })
    .refresh("30s")
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly();
  if (spec.serviceVariable) {
    const variable = new QueryVariableBuilder("service")
      .label("Service")
      .datasource(DATASOURCE)
      .query("label_values(acgs_requests_total, service)")
      .definition("label_values(acgs_requests_total, service)")
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(spec.serviceVariable.multi);
    dashboard.withVariable(spec.serviceVariable.multi ? variable.includeAll(true).allValue(".+") : variable);
  }
  let id = 0;
  for (const panel of spec.panels) {
    id += 1;
    if (panel.kind === "row") {
      dashboard.withRow(new RowBuilder(panel.title).id(id));
      continue;
    }
    const common = <T extends TimeseriesPanelBuilder | StatPanelBuilder>(builder: T): T => {
      builder
        .id(id)
        .title(panel.title)
        .datasource(DATASOURCE)
        .unit(panel.unit)
        .thresholds(thresholds(panel))
        .span(panel.width ?? 12)
        .height(panel.height ?? 8)
        .targets(targets(panel.queries));
      if (panel.description) builder.description(panel.description);
      if (panel.min !== undefined) builder.min(panel.min);
      if (panel.max !== undefined) builder.max(panel.max);
      if (panel.decimals !== undefined) builder.decimals(panel.decimals);
      if (panel.upDown) builder.mappings(UP_DOWN);
      return builder;
    };
    if (panel.kind === "timeseries") {
      dashboard.withPanel(
        common(new TimeseriesPanelBuilder())
          .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
          .fillOpacity(10),
      );
    } else {
      dashboard.withPanel(common(new StatPanelBuilder()).reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"])));
    }
  }
  return dashboard.build();
}

/** JSON with keys sorted at every level: the same dashboard is the same bytes on any machine. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => typeof (v as Record<string, unknown>)[k] !== "function" && (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}
