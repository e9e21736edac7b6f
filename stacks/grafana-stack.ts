import { Aspects, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { Dashboard } from "../.gen/providers/grafana/dashboard";
import { DataSource } from "../.gen/providers/grafana/data-source";
import { Folder } from "../.gen/providers/grafana/folder";
import { GrafanaProvider } from "../.gen/providers/grafana/provider";
import { PlatformPolicy } from "../constructs/policy/platform-policy";
import type { Environment } from "../environments";
import { dashboardFiles } from "../monitoring/dashboard-files";
import { PROMETHEUS_DATASOURCE_UID } from "../monitoring/grafana-provisioning";
import { configureStateBackend } from "./platform-stack";

export interface GrafanaStackProps {
  readonly env: Environment;
}

export const GRAFANA_FOLDER_UID = "acgs";

/**
 * The environment's dashboards, their folder and the Prometheus data source, pushed to an external
 * Grafana through the Grafana provider (named acgs-grafana-<env>). The dashboards are the very files
 * the in-cluster Grafana is provisioned with.
 */
export class GrafanaStack extends TerraformStack {
  readonly dashboards: Readonly<Record<string, string>>;

  constructor(scope: Construct, { env }: GrafanaStackProps) {
    super(scope, `acgs-grafana-${env.name}`);
    configureStateBackend(this, env.stateBackend, "grafana");

    const variable = (name: string, description: string, sensitive = false) => {
      const v = new TerraformVariable(this, name, { type: "string", description, sensitive });
      v.overrideLogicalId(name);
      return v;
    };
    const url = variable("grafana_url", `Base URL of the external Grafana for ${env.name} (set TF_VAR_grafana_url).`);
    const auth = variable(
      "grafana_auth",
      `Service account token, or "user:password", of the external Grafana for ${env.name} (set TF_VAR_grafana_auth).`,
      true,
    );
    const prometheusUrl = variable(
      "prometheus_url",
      `URL at which the external Grafana reaches ${env.name}'s Prometheus (set TF_VAR_prometheus_url).`,
    );

    new GrafanaProvider(this, "grafana", { url: url.stringValue, auth: auth.stringValue });

    const folder = new Folder(this, "folder", { uid: GRAFANA_FOLDER_UID, title: `ACGS (${env.name})` });
    // The dashboards' queries name this data source by uid, as in the in-cluster provisioning.
    new DataSource(this, "prometheus", {
      name: `ACGS Prometheus (${env.name})`,
      uid: PROMETHEUS_DATASOURCE_UID,
      type: "prometheus",
      url: prometheusUrl.stringValue,
      accessMode: "proxy",
      isDefault: false,
      jsonDataEncoded: JSON.stringify({ httpMethod: "POST", timeInterval: env.monitoring.scrapeInterval }),
    });
    this.dashboards = dashboardFiles(env);
    for (const [file, json] of Object.entries(this.dashboards)) {
      new Dashboard(this, `dashboard-${file.replace(/\.json$/, "")}`, {
        folder: folder.uid,
        configJson: json,
        overwrite: true,
        message: "Managed by the ACGS repository (cdktf); changes made in Grafana are overwritten.",
      });
    }
    new TerraformOutput(this, "folder_url", { value: `${url.stringValue}/dashboards/f/${GRAFANA_FOLDER_UID}` });

    Aspects.of(this).add(new PlatformPolicy());
  }
}
