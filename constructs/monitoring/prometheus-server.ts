import { Construct } from "constructs";
import type { Environment } from "../../environments";
import { IMAGES } from "../../environments/images";
import { prometheusYaml, type ScrapeJob } from "../../monitoring/prometheus-config";
import { RULE_FILES_GLOB } from "../../monitoring/rule-files";
import { httpHealthCheck } from "../platform/http-health-check";
import type { Platform, WorkloadAddress } from "../platform/workload";

export interface PrometheusServerProps {
  readonly platform: Platform;
  readonly env: Environment;
  readonly jobs: readonly ScrapeJob[];
  readonly alertmanager: WorkloadAddress;
  /** Rule files by name (rules/<name>), shipped next to prometheus.yml. */
  readonly ruleFiles?: Readonly<Record<string, string>>;
}

/** Prometheus with the generated scrape configuration and rules uploaded into it. */
export class PrometheusServer extends Construct {
  static readonly PORT = 9090;
  static readonly CONFIG_DIR = "/etc/prometheus";
  readonly address: WorkloadAddress;
  readonly configYaml: string;
  /** The rule files as uploaded, by name. */
  readonly ruleFiles: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: PrometheusServerProps) {
    super(scope, id);
    const { platform, env } = props;
    const self = platform.addressOf("prometheus", PrometheusServer.PORT, 1);
    const rules = Object.entries(props.ruleFiles ?? {}).sort(([a], [b]) => a.localeCompare(b));
    this.ruleFiles = Object.fromEntries(rules);
    this.configYaml = prometheusYaml({
      env,
      jobs: [{ job: "prometheus", targets: self.replicaTargets }, ...props.jobs],
      alertmanagers: props.alertmanager.replicaTargets,
      // Relative to prometheus.yml: the same file works in the container and in a rendered directory.
      ruleFiles: [RULE_FILES_GLOB],
    });
    this.address = platform.deploy({
      component: "prometheus",
      image: { kind: "registry", ref: IMAGES.prometheus },
      port: PrometheusServer.PORT,
      publishedPort: env.monitoring.prometheusPort,
      replicas: 1,
      command: [
        `--config.file=${PrometheusServer.CONFIG_DIR}/prometheus.yml`,
        "--storage.tsdb.path=/prometheus",
        `--storage.tsdb.retention.time=${env.monitoring.retention}`,
        "--web.enable-lifecycle",
      ],
      env: {},
      healthCheck: httpHealthCheck(PrometheusServer.PORT, "/-/ready", 20),
      memoryMb: 1024,
      cpus: 1,
      user: "65534:65534",
      scratchPaths: ["/tmp"],
      volumes: [{ name: "prometheus-data", mountPath: "/prometheus" }],
      files: [
        { path: `${PrometheusServer.CONFIG_DIR}/prometheus.yml`, content: this.configYaml },
        ...rules.map(([name, content]) => ({ path: `${PrometheusServer.CONFIG_DIR}/rules/${name}`, content })),
      ],
    });
  }
}
