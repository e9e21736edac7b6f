// Grafana provisioning files: the Prometheus data source and the dashboard provider.
import { yamlDocument } from "./yaml-document";

export const GRAFANA_DASHBOARDS_DIR = "/etc/grafana/dashboards";
export const PROMETHEUS_DATASOURCE_UID = "acgs-prometheus";

export function grafanaDatasourcesYaml(prometheusUrl: string): string {
  return yamlDocument("monitoring/grafana-provisioning.ts", {
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: PROMETHEUS_DATASOURCE_UID,
        type: "prometheus",
        access: "proxy",
        url: prometheusUrl,
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: "15s" },
      },
    ],
  });
}

export function grafanaDashboardProviderYaml(): string {
  return yamlDocument("monitoring/grafana-provisioning.ts", {
    apiVersion: 1,
    providers: [
      {
        name: "acgs",
        folder: "ACGS",
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: GRAFANA_DASHBOARDS_DIR },
      },
    ],
  });
}
