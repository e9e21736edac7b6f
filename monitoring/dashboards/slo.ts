// acgs-slo: the availability objective of each service, the error budget left and how fast it burns.
import type { Environment } from "../../environments";
import { duration, num } from "../promql";
import {
  BURN_RATE_ALERT,
  BURN_RATE_WINDOWS,
  errorBudget,
  SLO_NAME,
  SLO_PERIOD_DAYS,
  SLO_RECORDED as R,
  sliErrorRatio,
} from "../slo-rules";
import { buildDashboard, stat, timeseries } from "./panels";

export const SLO_UID = "acgs-slo";

const SEL = `slo="${SLO_NAME}", service=~"$service"`;

export function sloDashboard(env: Environment) {
  const budget = errorBudget(env);
  const windows = [...new Set(BURN_RATE_WINDOWS.flatMap((w) => [w.shortSeconds, w.longSeconds]))].sort((a, b) => a - b);
  return buildDashboard({
    uid: SLO_UID,
    title: `ACGS SLO: availability (${env.name})`,
    description:
      `Availability objective ${num(env.objectives.availability * 100)} % of API requests answered without a 5xx, over ` +
      `${SLO_PERIOD_DAYS} days; burn rates against the ${num(budget * 100)} % error budget.`,
    serviceVariable: { multi: true },
    panels: [
      stat("Objective", "percentunit", [{ expr: `max(${R.objective}{${SEL}})`, legend: "objective" }], {
        width: 6,
        height: 5,
        decimals: 3,
      }),
      stat(`Error budget left (${SLO_PERIOD_DAYS}d)`, "percentunit", [{ expr: `${R.budgetRemaining}{${SEL}}`, legend: "{{service}}" }], {
        width: 18,
        height: 5,
        threshold: 0.25,
        lowIsBad: true,
        decimals: 1,
      }),
      timeseries("Burn rate (5m)", "suffix:x", [{ expr: `${R.currentBurnRate}{${SEL}}`, legend: "{{service}}" }], {
        min: 0,
        threshold: BURN_RATE_WINDOWS[0].factor,
      }),
      timeseries(`Burn rate (${SLO_PERIOD_DAYS}d)`, "suffix:x", [{ expr: `${R.periodBurnRate}{${SEL}}`, legend: "{{service}}" }], {
        min: 0,
        threshold: 1,
      }),
      timeseries(
        "Error ratio by window",
        "percentunit",
        windows.map((w) => ({ expr: `max(${sliErrorRatio(w)}{${SEL}})`, legend: `worst service, ${duration(w)}` })),
        { min: 0, threshold: budget },
      ),
      timeseries("Error budget left over time", "percentunit", [{ expr: `${R.budgetRemaining}{${SEL}}`, legend: "{{service}}" }], {
        max: 1,
        threshold: 0.25,
        lowIsBad: true,
      }),
      timeseries("Burn-rate alerts firing", "short", [
        {
          expr: `ALERTS{alertname="${BURN_RATE_ALERT}", alertstate="firing", service=~"$service"}`,
          legend: "{{service}} {{long_window}}/{{short_window}} ({{severity}})",
        },
      ], { min: 0, width: 24 }),
    ],
  });
}
