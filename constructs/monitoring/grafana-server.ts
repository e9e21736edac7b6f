import { Password } from "@cdktf/provider-random/lib/password";
import { Construct } from "constructs";
import type { Environment } from "../../environments";
import { IMAGES } from "../../environments/images";
import {
  GRAFANA_DASHBOARDS_DIR,
  grafanaDashboardProviderYaml,
  grafanaDatasourcesYaml,
} from "../../monitoring/grafana-provisioning";
import { httpHealthCheck } from "../platform/http-health-check";
import type { Platform, WorkloadAddress } from "../platform/workload";

export interface GrafanaServerProps {
  readonly platform: Platform;
  readonly env: Environment;
  readonly prometheus: WorkloadAddress;
  /** Dashboard JSON by file name, provisioned into the ACGS folder. */
  readonly dashboards?: Readonly<Record<string, string>>;
}

/** Grafana provisioned with the Prometheus data source; its admin password is generated. */
export class GrafanaServer extends Construct {
  static readonly PORT = 3000;
  readonly address: WorkloadAddress;
  readonly adminPassword: string;
  /** The dashboards as uploaded, by file name. */
  readonly dashboards: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: GrafanaServerProps) {
    super(scope, id);
    const { platform, env, prometheus } = props;
    this.adminPassword = new Password(this, "admin-password", { length: 32, special: false }).result;
    const dashboards = Object.entries(props.dashboards ?? {}).sort(([a], [b]) => a.localeCompare(b));
    this.dashboards = Object.fromEntries(dashboards);
    this.address = platform.deploy({
      component: "grafana",
      image: { kind: "registry", ref: IMAGES.grafana },
      port: GrafanaServer.PORT,
      publishedPort: env.monitoring.grafanaPort,
      replicas: 1,
      env: {
        GF_SECURITY_ADMIN_USER: "admin",
        GF_USERS_ALLOW_SIGN_UP: "false",
        GF_ANALYTICS_REPORTING_ENABLED: "false",
        GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
        GF_PATHS_DATA: "/var/lib/grafana",
      },
      secretEnv: { GF_SECURITY_ADMIN_PASSWORD: this.adminPassword },
      healthCheck: httpHealthCheck(GrafanaServer.PORT, "/api/health", 30),
      memoryMb: 512,
      cpus: 0.5,
      user: "472:0", // grafana in the official image
      scratchPaths: ["/tmp"],
      volumes: [{ name: "grafana-data", mountPath: "/var/lib/grafana" }],
      files: [
        {
          path: "/etc/grafana/provisioning/datasources/acgs.yml",
          content: grafanaDatasourcesYaml(`http://${prometheus.host}:${prometheus.port}`),
        },
        { path: "/etc/grafana/provisioning/dashboards/acgs.yml", content: grafanaDashboardProviderYaml() },
        ...dashboards.map(([name, content]) => ({ path: `${GRAFANA_DASHBOARDS_DIR}/${name}`, content })),
      ],
    });
  }
}
