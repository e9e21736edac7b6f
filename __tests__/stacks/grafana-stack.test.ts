import { Testing } from "cdktf";
import { ENVIRONMENTS } from "../../environments";
import { dashboardFiles } from "../../monitoring/dashboard-files";
import { PROMETHEUS_DATASOURCE_UID } from "../../monitoring/grafana-provisioning";
import { GRAFANA_FOLDER_UID, GrafanaStack } from "../../stacks/grafana-stack";

describe.each(Object.values(ENVIRONMENTS))("GrafanaStack acgs-grafana-$name", (env) => {
  const stack = new GrafanaStack(Testing.app(), { env });
  const json = Testing.synth(stack);
  const config = JSON.parse(json);

  it("matches the snapshot (read the assertions beside it to judge a change)", () => {
    expect(json).toMatchSnapshot();
  });

  it("is named acgs-grafana-<env> and keeps its state beside the platform's", () => {
    expect(stack.node.id).toBe(`acgs-grafana-${env.name}`);
    expect(config.terraform.backend).toEqual(
      env.stateBackend.kind === "local"
        ? { local: { path: `terraform.acgs-${env.name}.grafana.tfstate` } }
        : { s3: { encrypt: true, key: `acgs/${env.name}/terraform.grafana.tfstate` } },
    );
  });

  it("reaches Grafana at a URL and with credentials from variables, the credentials sensitive", () => {
    expect(config.provider.grafana).toEqual([{ url: "${var.grafana_url}", auth: "${var.grafana_auth}" }]);
    expect(config.variable.grafana_auth).toMatchObject({ type: "string", sensitive: true });
    expect(config.variable.grafana_url.sensitive).toBeFalsy();
    expect(config.terraform.required_providers.grafana.source).toBe("grafana/grafana");
  });

  it("pushes the Prometheus data source under the uid the dashboards query", () => {
    const [source] = Object.values<any>(config.resource.grafana_data_source);
    expect(source).toMatchObject({ uid: PROMETHEUS_DATASOURCE_UID, type: "prometheus", url: "${var.prometheus_url}", access_mode: "proxy" });
  });

  it("pushes the five dashboards, exactly as rendered, into the ACGS folder", () => {
    const folder = Object.entries<any>(config.resource.grafana_folder);
    expect(folder).toHaveLength(1);
    expect(folder[0][1].uid).toBe(GRAFANA_FOLDER_UID);
    const dashboards = Object.values<any>(config.resource.grafana_dashboard);
    expect(dashboards.map((d) => d.config_json).sort()).toEqual(Object.values(dashboardFiles(env)).sort());
    for (const d of dashboards) {
      expect(d.folder).toBe(`\${grafana_folder.${folder[0][0]}.uid}`);
      expect(d.overwrite).toBe(true);
    }
  });
});
