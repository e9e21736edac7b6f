// The Grafana dashboards of one environment, by file name, as the JSON both the in-cluster Grafana
// (provisioned from files) and an external one (grafana_dashboard) receive.
import type { Environment } from "../environments";
import { complianceDashboard } from "./dashboards/compliance";
import { infrastructureDashboard } from "./dashboards/infrastructure";
import { overviewDashboard } from "./dashboards/overview";
import { stableJson } from "./dashboards/panels";
import { performanceDashboard } from "./dashboards/performance";
import { sloDashboard } from "./dashboards/slo";

export function renderDashboards(env: Environment) {
  return [
    overviewDashboard(env),
    performanceDashboard(env),
    complianceDashboard(env),
    infrastructureDashboard(env),
    sloDashboard(env),
  ];
}

/** `<uid>.json` → JSON text. */
export function dashboardFiles(env: Environment): Record<string, string> {
  const files: Record<string, string> = {};
  for (const dashboard of renderDashboards(env)) {
    const json = stableJson(dashboard);
    // Terraform would read these as its own interpolation when the JSON is shipped in a plan.
    const interpolation = /[$%]\{/.exec(json);
    if (interpolation) throw new Error(`dashboard ${dashboard.uid}: contains "${interpolation[0]}", which Terraform would interpolate`);
    files[`${dashboard.uid}.json`] = json;
  }
  return files;
}
