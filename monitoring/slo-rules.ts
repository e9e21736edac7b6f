// The availability objective of each service as Sloth would generate it: SLI error ratios over every
// window the alerts need, the objective and budget as series, and multi-window multi-burn-rate
// alerts (Google SRE workbook, ch. 5) derived from env.objectives.availability.
import type { Environment } from "../environments";
import { CONSTITUTIONAL_HASH, SERVICES } from "../services/catalog";
import { API_TRAFFIC, duration, num, percent, ratioByService, SERVER_ERRORS, SERVICE_METRICS as M } from "./promql";
import type { AlertingRule, RecordingRule, RuleGroup, Severity } from "./rule-types";

export const SLO_NAME = "availability";
/** The period the error budget is spent over. */
export const SLO_PERIOD_DAYS = 30;
export const BURN_RATE_ALERT = "ACGS_ErrorBudgetBurn";

export interface BurnRateWindow {
  /** How many times faster than sustainable the budget burns. */
  readonly factor: number;
  readonly longSeconds: number;
  readonly shortSeconds: number;
  readonly severity: Extract<Severity, "critical" | "warning">;
}

/** Sloth's defaults: page on 2 % of the budget in 1 h or 5 % in 6 h, ticket on 10 % in 1 d or 10 % in 3 d. */
export const BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { factor: 14.4, longSeconds: 3600, shortSeconds: 300, severity: "critical" },
  { factor: 6, longSeconds: 6 * 3600, shortSeconds: 1800, severity: "critical" },
  { factor: 3, longSeconds: 86400, shortSeconds: 7200, severity: "warning" },
  { factor: 1, longSeconds: 3 * 86400, shortSeconds: 6 * 3600, severity: "warning" },
];

/** slo:sli_error:ratio_rate<window> */
export function sliErrorRatio(windowSeconds: number): string {
  return `slo:sli_error:ratio_rate${duration(windowSeconds)}`;
}

export const SLO_RECORDED = {
  objective: "slo:objective:ratio",
  errorBudget: "slo:error_budget:ratio",
  periodErrorRatio: `slo:sli_error:ratio_rate${SLO_PERIOD_DAYS}d`,
  budgetRemaining: "slo:period_error_budget_remaining:ratio",
  currentBurnRate: "slo:current_burn_rate:ratio",
  periodBurnRate: "slo:period_burn_rate:ratio",
} as const;

export function errorBudget(env: Environment): number {
  return Number(num(1 - env.objectives.availability));
}

function sliWindows(): number[] {
  const windows = new Set<number>();
  for (const w of BURN_RATE_WINDOWS) windows.add(w.longSeconds).add(w.shortSeconds);
  return [...windows].sort((a, b) => a - b);
}

export function renderSloRecordingRules(env: Environment): RuleGroup {
  const budget = errorBudget(env);
  const slo = { slo: SLO_NAME };
  const sli: RecordingRule[] = sliWindows().map((seconds) => ({
    record: sliErrorRatio(seconds),
    expr: ratioByService(`${M.requests}{${SERVER_ERRORS},${API_TRAFFIC}}`, `${M.requests}{${API_TRAFFIC}}`, duration(seconds)),
    labels: slo,
  }));
  // One series per catalog service, so the SLO dashboard shows the objective even before traffic.
  const metadata: RecordingRule[] = SERVICES.flatMap((s) => [
    { record: SLO_RECORDED.objective, expr: `vector(${num(env.objectives.availability)})`, labels: { service: s.name, ...slo } },
    { record: SLO_RECORDED.errorBudget, expr: `vector(${num(budget)})`, labels: { service: s.name, ...slo } },
  ]);
  const fiveMinutes = `${sliErrorRatio(300)}{slo="${SLO_NAME}"}`;
  const period: RecordingRule[] = [
    // Averaging the 5-minute ratio (which is absent, not NaN, while idle) keeps this cheap over 30 days.
    { record: SLO_RECORDED.periodErrorRatio, expr: `avg_over_time(${fiveMinutes}[${SLO_PERIOD_DAYS}d])`, labels: slo },
    { record: SLO_RECORDED.currentBurnRate, expr: `${fiveMinutes} / ${num(budget)}`, labels: slo },
    { record: SLO_RECORDED.periodBurnRate, expr: `${SLO_RECORDED.periodErrorRatio}{slo="${SLO_NAME}"} / ${num(budget)}`, labels: slo },
    {
      record: SLO_RECORDED.budgetRemaining,
      expr: `1 - ${SLO_RECORDED.periodErrorRatio}{slo="${SLO_NAME}"} / ${num(budget)}`,
      labels: slo,
    },
  ];
  return { name: "acgs-slo-sli", rules: [...sli, ...metadata, ...period] };
}

export function burnRateExpr(env: Environment, w: BurnRateWindow): string {
  const threshold = num(w.factor * errorBudget(env));
  const selector = `{slo="${SLO_NAME}"}`;
  return `${sliErrorRatio(w.longSeconds)}${selector} > ${threshold} and ${sliErrorRatio(w.shortSeconds)}${selector} > ${threshold}`;
}

export function renderBurnRateAlerts(env: Environment): RuleGroup {
  const objective = percent(env.objectives.availability);
  const rules: AlertingRule[] = BURN_RATE_WINDOWS.map((w) => ({
    alert: BURN_RATE_ALERT,
    expr: burnRateExpr(env, w),
    labels: {
      severity: w.severity,
      constitutional_hash: CONSTITUTIONAL_HASH,
      environment: env.name,
      slo: SLO_NAME,
      long_window: duration(w.longSeconds),
      short_window: duration(w.shortSeconds),
      burn_rate: num(w.factor),
    },
    annotations: {
      summary: `{{ $labels.service }} is burning its ${objective} availability error budget ${num(w.factor)}x too fast`,
      description:
        `The 5xx ratio of {{ $labels.service }} in ${env.name} is above ${num(w.factor)}x the error budget ` +
        `(${percent(w.factor * errorBudget(env))}) over both ${duration(w.longSeconds)} and ${duration(w.shortSeconds)}; ` +
        `at this rate ${percent((w.factor * w.longSeconds) / (SLO_PERIOD_DAYS * 86400))} of the ${SLO_PERIOD_DAYS}-day budget is gone within ${duration(w.longSeconds)}.`,
    },
  }));
  return { name: "acgs-slo-alerts", rules };
}
