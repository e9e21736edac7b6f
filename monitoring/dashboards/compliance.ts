// acgs-compliance: is every request made under the constitution in force (SPEC §3 "Constitutional hash")?
import type { Environment } from "../../environments";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { ALERTS } from "../alert-rules";
import { num, SERVICE_METRICS as M } from "../promql";
import { RECORDED } from "../recording-rules";
import { buildDashboard, stat, timeseries } from "./panels";

export const COMPLIANCE_UID = "acgs-compliance";

export function complianceDashboard(env: Environment) {
  const target = env.objectives.complianceRatio;
  return buildDashboard({
    uid: COMPLIANCE_UID,
    title: `ACGS constitutional compliance (${env.name})`,
    description: `Requests under /api/ checked against the constitutional hash ${CONSTITUTIONAL_HASH}; objective ${num(target * 100)} %.`,
    panels: [
      stat("Compliance (5m)", "percent", [
        { expr: `sum(rate(${M.complianceSuccess}[5m])) / sum(rate(${M.compliance}[5m])) * 100`, legend: "compliant %" },
      ], { width: 8, height: 5, threshold: Number(num(target * 100)), lowIsBad: true, decimals: 2 }),
      stat("Failures (1h)", "short", [
        { expr: `sum(increase(${M.compliance}[1h])) - sum(increase(${M.complianceSuccess}[1h]))`, legend: "failures" },
      ], { width: 8, height: 5, threshold: 1, decimals: 0 }),
      stat("Violation alerts firing", "short", [
        { expr: `count(ALERTS{alertname="${ALERTS.complianceViolation}", alertstate="firing"}) or vector(0)`, legend: "firing" },
      ], { width: 8, height: 5, threshold: 1, decimals: 0 }),
      timeseries("Compliance ratio by service (5m)", "percentunit", [{ expr: RECORDED.complianceRatio, legend: "{{service}}" }], {
        max: 1,
        threshold: target,
        lowIsBad: true,
      }),
      timeseries("Compliance ratio since start", "percentunit", [{ expr: M.complianceRate, legend: "{{service}} {{instance}}" }], {
        max: 1,
        threshold: target,
        lowIsBad: true,
      }),
      timeseries("Failures by service", "reqps", [
        {
          expr: `sum by (service) (rate(${M.compliance}[$__rate_interval])) - sum by (service) (rate(${M.complianceSuccess}[$__rate_interval]))`,
          legend: "{{service}}",
        },
      ], { min: 0 }),
      timeseries("Checked requests by service", "reqps", [
        { expr: `sum by (service) (rate(${M.compliance}[$__rate_interval]))`, legend: "{{service}}" },
      ], { min: 0 }),
      timeseries("Refused requests (403) by service and route", "reqps", [
        { expr: `sum by (service, route) (rate(${M.requests}{status="403"}[$__rate_interval]))`, legend: "{{service}} {{route}}" },
      ], { min: 0, width: 24 }),
    ],
  });
}
